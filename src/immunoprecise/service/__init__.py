"""The REST service: FastAPI (OpenAPI docs at ``/docs``), bearer tokens with roles, rate limits.

Build the application with :func:`create_app` and serve it with uvicorn, or run
``immunoprecise serve``. See ``docs/service.md`` for the endpoints, roles and pseudonymization.
"""

from immunoprecise.service.app import create_app
from immunoprecise.service.auth import ApiToken, Role, TokenStore
from immunoprecise.service.jobs import Job, JobManager, JobRun, JobStatus
from immunoprecise.service.pseudonymize import Pseudonymizer
from immunoprecise.service.ratelimit import (
    DEFAULT_RATE_LIMIT,
    RateLimit,
    RateLimiter,
    SharedRateLimiter,
)

__all__ = [
    "DEFAULT_RATE_LIMIT",
    "ApiToken",
    "Job",
    "JobManager",
    "JobRun",
    "JobStatus",
    "Pseudonymizer",
    "RateLimit",
    "RateLimiter",
    "Role",
    "SharedRateLimiter",
    "TokenStore",
    "create_app",
]
