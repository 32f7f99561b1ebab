"""``/api/v1/kb``: the knowledge base, read-only (therapies, rules, references)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel

from immunoprecise.errors import KnowledgeBaseError
from immunoprecise.service.deps import Anyone, AuthorizedRoute, State
from immunoprecise.service.errors import error_responses
from immunoprecise.service.paging import DEFAULT_LIMIT, Limit, Offset, page

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


def _listed(
    state: State, name: str, items: Sequence[BaseModel], limit: int, offset: int
) -> dict[str, Any]:
    """A list answer: the knowledge base's version, ``total`` and the page of ``items``."""
    shown = [item.model_dump(mode="json") for item in page(items, limit=limit, offset=offset)]
    return {"knowledge_base": _about(state), "total": len(items), name: shown}


@router.get("/therapies", summary="List therapies")
def list_therapies(
    state: State, caller: Anyone, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> dict[str, Any]:
    """The therapies of the knowledge base with their class, evidence and references, in the
    knowledge base's order: ``total`` counts them all, ``therapies`` holds the page ``limit``
    and ``offset`` select."""
    return _listed(state, "therapies", state.knowledge_base.therapies, limit, offset)


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
def list_rules(
    state: State, caller: Anyone, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> dict[str, Any]:
    """The rules that match profiles to therapies, with their evidence level and references,
    in the knowledge base's order: ``total`` counts them all, ``rules`` holds the page
    ``limit`` and ``offset`` select."""
    return _listed(state, "rules", state.knowledge_base.rules, limit, offset)


@router.get("/references", summary="List references")
def list_references(
    state: State, caller: Anyone, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> dict[str, Any]:
    """The literature references the knowledge base cites, in its order: ``total`` counts them
    all, ``references`` holds the page ``limit`` and ``offset`` select."""
    return _listed(state, "references", state.knowledge_base.references, limit, offset)
