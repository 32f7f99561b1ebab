"""``GET /api/v1/health``: whether the service is up (no token needed, no data shown)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from immunoprecise.service.deps import State
from immunoprecise.service.errors import error_responses

__all__ = ["router"]

router = APIRouter(tags=["health"], responses=error_responses(500))


@router.get("/health", summary="Health check")
def health(state: State) -> dict[str, Any]:
    """``{"status": "ok"}`` with the software and knowledge-base versions."""
    from immunoprecise import __version__

    return {
        "status": "ok",
        "version": __version__,
        "knowledge_base": state.knowledge_base.version,
    }
