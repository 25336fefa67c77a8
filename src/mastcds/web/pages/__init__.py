"""The HTML pages, rendered on the server; forms carry CSRF tokens, the session is a cookie."""

from __future__ import annotations

from fastapi import APIRouter

from mastcds.web.pages import account, admin, auth, patients, tools

router = APIRouter(include_in_schema=False)
for _module in (auth, patients, tools, admin, account):
    router.include_router(_module.router)
