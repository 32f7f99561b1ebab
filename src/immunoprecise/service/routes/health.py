"""``GET /api/v1/health``: whether the service is up (no token needed, no data shown)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from immunoprecise.service.deps import State

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/health", summary="Health check")
def health(state: State) -> dict[str, Any]:
    """``{"status": "ok"}`` with the software and knowledge-base versions."""
    from immunoprecise import __version__

    return {
        "status": "ok",
        "version": __version__,
        "knowledge_base": state.knowledge_base.version,
    }
