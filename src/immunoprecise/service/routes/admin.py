"""``/api/v1/tokens`` and ``/api/v1/audit``: token management and the audit log (admins)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from immunoprecise.registry.models import AuditQuery
from immunoprecise.service.auth import TOKEN_NAME_PATTERN, TOKEN_NAME_RULE, ApiToken, Role
from immunoprecise.service.deps import Admin, AuthorizedRoute, State
from immunoprecise.service.errors import error_responses
from immunoprecise.service.paging import DEFAULT_LIMIT, Limit, Offset, page

__all__ = ["NewToken", "TokenList", "router"]

router = APIRouter(
    route_class=AuthorizedRoute,
    tags=["administration"],
    responses=error_responses(401, 403, 429, 500),
)


class NewToken(BaseModel):
    """A token to make."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        description=f"Who will hold it: {TOKEN_NAME_RULE}.",
        json_schema_extra={"pattern": TOKEN_NAME_PATTERN.pattern},
    )
    role: Role

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not TOKEN_NAME_PATTERN.fullmatch(value):
            raise ValueError(
                f"expected a token name of {TOKEN_NAME_RULE} (e.g. a user name such as 'ann.lee')"
            )
        return value


class MadeToken(BaseModel):
    """A new token: ``token`` is shown this once and cannot be read again."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    token: str
    info: ApiToken


class TokenList(BaseModel):
    """A page of the tokens, oldest first."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    total: int = Field(ge=0, description="Tokens in all (valid and revoked).")
    tokens: list[ApiToken] = Field(description="The page that limit and offset select.")


@router.get("/tokens", summary="List tokens")
def list_tokens(
    state: State, caller: Admin, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> TokenList:
    """The tokens (valid and revoked) without secrets, oldest first: ``total`` counts them all,
    ``tokens`` holds the page ``limit`` and ``offset`` select."""
    every = state.tokens.list()
    return TokenList(total=len(every), tokens=page(every, limit=limit, offset=offset))


@router.post(
    "/tokens",
    summary="Make a token",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 409),
)
def create_token(state: State, caller: Admin, request: NewToken) -> MadeToken:
    """Make a token; its secret is in the answer only (the database keeps its SHA-256)."""
    info, secret = state.tokens.create(request.name, request.role, created_by=caller.name)
    return MadeToken(token=secret, info=info)


@router.post("/tokens/{name}/revoke", summary="Revoke a token", responses=error_responses(404))
def revoke_token(state: State, caller: Admin, name: str) -> ApiToken:
    """Revoke a token: it stops working at once (its row stays, for the audit log)."""
    return state.tokens.revoke(name)


@router.get("/audit", summary="Read the audit log")
def read_audit(
    state: State,
    caller: Admin,
    patient_id: str | None = None,
    actor: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Who read or wrote which patient's data: ``total`` counts the entries that match, and
    ``entries`` holds, oldest first, the latest ``limit`` of them after the ``offset`` newest
    are skipped (``offset=0``: the latest entries; ``offset=1000``: the 1,000 before them)."""
    wanted = AuditQuery(
        patient_id=patient_id, actor=actor, newest_first=True, limit=limit, offset=offset
    )
    found = state.registry.audit_page(wanted)  # one snapshot: total and page agree
    shown = found.entries[::-1]  # the page is read in SQL, newest first
    return {"total": found.total, "entries": [e.model_dump(mode="json") for e in shown]}
