"""The JSON API under /api/v1: programs authenticate with an API token (``Authorization: Bearer``)."""

from __future__ import annotations

from fastapi import APIRouter

from mastcds.web.api import admin, patients, tools

API_PREFIX = "/api/v1"

router = APIRouter(prefix=API_PREFIX)
router.include_router(tools.router)
router.include_router(patients.router)
router.include_router(admin.router)
