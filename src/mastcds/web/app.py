"""The web application: pages for clinicians, a JSON API for programs, one process on one database.

``create_app()`` with no arguments serves the default database (SQLite in the
user's data directory, migrated on opening) with settings from the
environment; tests pass their own settings and store.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from mastcds import __version__
from mastcds.store.database import Store
from mastcds.web import api, health, pages
from mastcds.web.cds_settings import CdsSettings
from mastcds.web.cds_hooks import add_cds_hooks
from mastcds.web.errors import install_error_handlers
from mastcds.web.middleware import SecurityMiddleware
from mastcds.web.openapi import API_PREFIX, install_openapi
from mastcds.web.pages.render import render_error
from mastcds.web.settings import WebSettings, load_settings
from mastcds.web.throttle import LoginThrottle

DESCRIPTION = (
    "Clinical decision support for systemic mastocytosis and recurrent anaphylaxis. "
    "Authenticate with an API token (`mastcds user token NAME` or the account page) sent as "
    "`Authorization: Bearer <token>`. Roles: `viewer` reads, `clinician` reads and writes patients, "
    "`admin` manages users and reads the audit log. Decision support only: not a substitute for clinical judgement."
)


# A case with hundreds of episodes and results is well under a megabyte; the
# case form posts a little more. Anything far beyond is not a case.
MAX_BODY_BYTES = 8 * 1024 * 1024
# FastAPI's native OpenTelemetry, off: once an operator installs an OpenTelemetry SDK for the
# hospital's other services, it would export every request's path (patient keys), its body to span
# processors, and "exception messages and stack traces" (FastAPI's TelemetryConfig): patient data
# outside the audited store. Left on, it also read three environment variables on every request to
# find no provider (bench/cds_hooks_instructions.py: README "Figures").
TELEMETRY_OFF = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False, "auto_configure": False}


def create_app(settings: WebSettings | None = None, store: Store | None = None, cds: CdsSettings | None = None) -> FastAPI:
    """The application; ``cds`` configures the CDS Hooks service (default: ``MASTCDS_CDS_*`` variables)."""
    settings = settings or load_settings()
    store = store or Store(settings.database_url)
    app = FastAPI(
        title="mastcds",
        version=__version__,
        description=DESCRIPTION,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # Swagger UI loads scripts from a CDN: not on a clinical network
        redoc_url=None,
        max_body_size=MAX_BODY_BYTES,
        telemetry=TELEMETRY_OFF,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.throttle = LoginThrottle(settings.login_max_failures, settings.login_window.total_seconds())
    app.add_middleware(SecurityMiddleware, force_secure_cookies=settings.force_secure_cookies)
    install_error_handlers(app, render_error)
    # Routes are matched in order, and FastAPI's included routers cost about 2 us per route passed over:
    # the CDS Hooks service, whose caller (an EHR opening a chart) waits on every call, comes first
    # (after the 60 routes of the API and the pages it took 0.11 of 0.58 ms per patient-view call),
    # its service call on the application's own router (see add_cds_hooks).
    # No page or API path starts with /cds-services or /cds-evaluations, so the order changes no answer.
    add_cds_hooks(app, store, cds)  # authenticates EHRs by their signed JWT, not by our logins
    app.include_router(health.router)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(packages=[("mastcds.web", "static")]), name="static")
    install_openapi(app)
    return app
