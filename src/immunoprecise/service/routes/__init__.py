"""The REST resources, one router per resource, mounted under ``/api/v1``."""

from fastapi import APIRouter

from immunoprecise.service.routes import (
    admin,
    cohorts,
    evaluate,
    health,
    kb,
    patients,
    simulate,
    trials,
)

__all__ = ["api_router"]

api_router = APIRouter(prefix="/api/v1")
for _module in (health, patients, evaluate, simulate, trials, cohorts, kb, admin):
    api_router.include_router(_module.router)
