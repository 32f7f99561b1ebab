"""``/api/v1/kb``: the knowledge base, read-only (therapies, strategies, rules, references,
and a text search over them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import AfterValidator, BaseModel

from immunoprecise.errors import KnowledgeBaseError
from immunoprecise.knowledge import EntryKind, search_knowledge_base
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


@router.get("/strategies", summary="List strategies")
def list_strategies(
    state: State, caller: Anyone, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> dict[str, Any]:
    """The strategies (sequences and combinations of therapies proposed as one plan) with their
    steps, evidence and references, in the knowledge base's order: ``total`` counts them all,
    ``strategies`` holds the page ``limit`` and ``offset`` select."""
    return _listed(state, "strategies", state.knowledge_base.strategies, limit, offset)


@router.get("/strategies/{strategy_id}", summary="One strategy", responses=error_responses(404))
def get_strategy(state: State, caller: Anyone, strategy_id: str) -> dict[str, Any]:
    """One strategy by id (e.g. ``ball_debulk_lymphodeplete_car_t``), with the timing windows
    its steps name and the references it cites."""
    kb = state.knowledge_base
    try:
        strategy = kb.strategy(strategy_id)
    except KnowledgeBaseError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    windows = dict.fromkeys(step.window for step in strategy.steps if step.window)
    return {
        "knowledge_base": _about(state),
        "strategy": strategy.model_dump(mode="json"),
        "timing_windows": [kb.timing_window(w).model_dump(mode="json") for w in windows],
        "references": [kb.reference(r).model_dump(mode="json") for r in strategy.references],
    }


def _search_text(value: str) -> str:
    """The search text without its outer spaces; refused when nothing is left."""
    if not value.strip():
        raise ValueError(f"expected a word or part of one to search for, e.g. CD19; got {value!r}")
    return value.strip()


SearchText = Annotated[
    str,
    AfterValidator(_search_text),
    Query(
        min_length=1,
        max_length=200,
        description="Text to look for, in any letter case (1 to 200 characters), e.g. CD19.",
    ),
]


@router.get("/search", summary="Search the knowledge base")
def search(
    state: State,
    caller: Anyone,
    q: SearchText,
    kind: Annotated[
        EntryKind | None,
        Query(description="Only entries of this kind: therapy, strategy, rule or reference."),
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Therapies, strategies, rules and references whose id, name, mechanism, rationale,
    target antigens, disease codes or (references) title or authors contain ``q``, ignoring
    letter case. Each match gives its ``kind``, ``id``, ``name`` and the ``fields`` ``q`` was
    found in; ``total`` counts them all (0 when nothing matches), ``matches`` holds the page
    ``limit`` and ``offset`` select."""
    found = search_knowledge_base(state.knowledge_base, q, kind=kind)
    listed = _listed(state, "matches", found, limit, offset)
    return {"query": q, **listed}


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
