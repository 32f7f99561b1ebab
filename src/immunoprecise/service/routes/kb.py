"""``/api/v1/kb``: the knowledge base, read-only (therapies, rules, references)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status

from immunoprecise.errors import KnowledgeBaseError
from immunoprecise.service.deps import Anyone, AuthorizedRoute, State
from immunoprecise.service.errors import error_responses

__all__ = ["router"]

router = APIRouter(
    route_class=AuthorizedRoute,
    prefix="/kb",
    tags=["knowledge base"],
    responses=error_responses(401, 429, 500),
)


def _about(state: State) -> dict[str, Any]:
    kb = state.knowledge_base
    return {"version": kb.version, "sha256": kb.sha256}


@router.get("/therapies", summary="List therapies")
def list_therapies(state: State, caller: Anyone) -> dict[str, Any]:
    """Every therapy of the knowledge base with its class, evidence and references."""
    therapies = [t.model_dump(mode="json") for t in state.knowledge_base.therapies]
    return {"knowledge_base": _about(state), "therapies": therapies}


@router.get("/therapies/{therapy_id}", summary="One therapy", responses=error_responses(404))
def get_therapy(state: State, caller: Anyone, therapy_id: str) -> dict[str, Any]:
    """One therapy by id (e.g. ``pembrolizumab``), with the references it cites."""
    kb = state.knowledge_base
    try:
        therapy = kb.therapy(therapy_id)
    except KnowledgeBaseError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    refs = [kb.reference(r).model_dump(mode="json") for r in getattr(therapy, "references", ())]
    return {
        "knowledge_base": _about(state),
        "therapy": therapy.model_dump(mode="json"),
        "references": refs,
    }


@router.get("/rules", summary="List biomarker rules")
def list_rules(state: State, caller: Anyone) -> dict[str, Any]:
    """Every rule that matches profiles to therapies, with its evidence level and references."""
    rules = [r.model_dump(mode="json") for r in state.knowledge_base.rules]
    return {"knowledge_base": _about(state), "rules": rules}


@router.get("/references", summary="List references")
def list_references(state: State, caller: Anyone) -> dict[str, Any]:
    """Every literature reference the knowledge base cites."""
    refs = [r.model_dump(mode="json") for r in state.knowledge_base.references]
    return {"knowledge_base": _about(state), "references": refs}
