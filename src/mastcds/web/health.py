"""``GET /health``: a liveness probe for load balancers and orchestrators, with no login and no patient data.

It answers as soon as the process serves requests and reads no database, so a
probe never waits on one; the application version tells which release answers.
"""

from __future__ import annotations

from fastapi import APIRouter

from mastcds import __version__

router = APIRouter(tags=["health"])


@router.get("/health", include_in_schema=False)
async def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}
