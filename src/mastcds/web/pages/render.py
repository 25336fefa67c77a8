"""Rendering pages: the template environment and what every page knows (user, CSRF token, version)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.datastructures import FormData

from mastcds import __version__
from mastcds.report.reading import EDITION_TITLES, bottom_line_text
from mastcds.web.auth import ADMIN, READ, WRITE
from mastcds.web.csrf import CSRF_FIELD, check_csrf, csrf_token

STATUS_LABELS = {"met": "met", "not_met": "not met", "unknown": "unknown"}

environment = Environment(
    loader=PackageLoader("mastcds.web", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.globals.update(
    app_version=__version__, status_labels=STATUS_LABELS, edition_titles=EDITION_TITLES, csrf_field=CSRF_FIELD
)


def _number(value: Any, digits: int = 3) -> str:
    """A number as a clinician writes it: no trailing zeros, no float noise."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:.{digits}g}" if isinstance(value, float) and not float(value).is_integer() else f"{value:g}"


# The end of the first clause: ". " or "; " before a new thought, not after "e.g." or "i.e.".
_CLAUSE_END = re.compile(r"(?<!e\.g)(?<!i\.e)(?:\.|;)\s+(?=\S)")


def _first_sentence(text: str | None) -> str:
    """The hint under a field: the data dictionary's first clause (the whole text is the label's tooltip)."""
    if not text or text.startswith("ISO 8601"):
        return ""
    match = _CLAUSE_END.search(text)
    return text[: match.start()] + "." if match else text


def _input_id(name: str) -> str:
    return "f-" + name.replace("[", "-").replace("].", "-").replace(".", "-")


environment.filters.update(number=_number, first_sentence=_first_sentence, input_id=_input_id, bottom_line=bottom_line_text)


def render(request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    settings = request.app.state.settings
    page = {
        "request": request,
        "principal": principal,
        "can_read": principal is not None and principal.role in READ,
        "can_write": principal is not None and principal.role in WRITE,
        "is_admin": principal is not None and principal.role in ADMIN,
        "csrf_token": csrf_token(request, settings.secret_key),
        "path": request.url.path,
    }
    page.update(context or {})
    html = environment.get_template(template).render(**page)
    return HTMLResponse(html, status_code=status)


def render_error(request: Request, status: int, title: str, messages: list[str]) -> HTMLResponse:
    return render(request, "error.html", {"status": status, "title": title, "messages": messages}, status=status)


# A case form with MAX_ROWS rows of the longest section stays below this.
FORM_MAX_FIELDS = 25_000


async def checked_form(request: Request) -> FormData:
    """The submitted form, once its CSRF token is verified (:class:`CsrfError` otherwise).

    A dependency: the route itself can stay synchronous (store calls block).
    """
    form = await request.form(max_files=0, max_fields=FORM_MAX_FIELDS)
    check_csrf(request, request.app.state.settings.secret_key, form.get(CSRF_FIELD))
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


def redirect(url: str) -> RedirectResponse:
    """After a successful POST: 303 See Other, so that reloading does not submit again."""
    return RedirectResponse(url, status_code=303)
