"""The JSON API under /api/v1: programs authenticate with an API token (``Authorization: Bearer``)."""

from __future__ import annotations

from fastapi import APIRouter

from mastcds.web.api import admin, patients, tools

# Each module's router carries the whole prefix itself, so that a route's
# ``path`` is the full template the access log prints.
router = APIRouter()
router.include_router(tools.router)
router.include_router(patients.router)
router.include_router(admin.router)
