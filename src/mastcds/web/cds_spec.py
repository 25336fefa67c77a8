"""The JSON shapes of HL7 CDS Hooks 2.0 (https://cds-hooks.hl7.org/2.0/) as mastcds reads and writes them.

Requests (hook calls, feedback) are checked against these models, with
bounds on every string and list a hostile caller could inflate; cards are
written as plain JSON by :mod:`mastcds.web.cds_cards` and the tests validate
every answer against :class:`CardsResponse`.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson
from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

# Bounds of what a caller may send (none is reached by a real EHR: ids are UUIDs, tokens a few kB).
MAX_ID_CHARS = 128
MAX_URL_CHARS = 2048
MAX_ACCESS_TOKEN_CHARS = 16_384
MAX_FEEDBACK_ITEMS = 100
MAX_FEEDBACK_BYTES = 64 * 1024
MAX_COMMENT_CHARS = 1000
MAX_SUGGESTIONS = 20



def _id() -> Any:
    return Field(max_length=MAX_ID_CHARS)


class _Spec(BaseModel):
    model_config = ConfigDict(extra="allow")


class FhirAuthorization(_Spec):
    access_token: str = Field(max_length=MAX_ACCESS_TOKEN_CHARS)
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str = Field(max_length=MAX_URL_CHARS)
    subject: str = Field(max_length=MAX_URL_CHARS)
    patient: str | None = Field(default=None, max_length=MAX_ID_CHARS)


class HookRequest(_Spec):
    hook: str = _id()
    hookInstance: str = _id()
    fhirServer: str | None = Field(default=None, max_length=MAX_URL_CHARS)
    fhirAuthorization: FhirAuthorization | None = None
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None


class Coding(BaseModel):
    system: str = Field(max_length=MAX_URL_CHARS)
    code: str = _id()
    display: str | None = Field(default=None, max_length=MAX_COMMENT_CHARS)


class Source(BaseModel):
    label: str
    url: str | None = None
    icon: str | None = None
    topic: Coding | None = None


class Action(BaseModel):
    type: Literal["create", "update", "delete"]
    description: str
    resource: dict[str, Any] | None = None
    resourceId: str | None = None


class Suggestion(BaseModel):
    label: str
    uuid: str | None = None
    isRecommended: bool | None = None
    actions: list[Action] | None = None


class Link(BaseModel):
    label: str
    url: str
    type: Literal["absolute", "smart"]
    appContext: str | None = None


class Card(BaseModel):
    uuid: str | None = None
    summary: str = Field(max_length=139)
    detail: str | None = None
    indicator: Literal["info", "warning", "critical"]
    source: Source
    suggestions: list[Suggestion] | None = None
    selectionBehavior: Literal["at-most-one", "any"] | None = None
    overrideReasons: list[Coding] | None = None
    links: list[Link] | None = None


class CardsResponse(BaseModel):
    """The specification's answer to a service call (the tests validate every answer against it)."""

    cards: list[Card]


class Service(BaseModel):
    hook: str
    title: str | None = None
    description: str
    id: str
    prefetch: dict[str, str] | None = None
    usageRequirements: str | None = None


class Discovery(BaseModel):
    services: list[Service]


class AcceptedSuggestion(BaseModel):
    id: str = _id()


class OverrideReason(BaseModel):
    reason: Coding | None = None
    userComment: str | None = Field(default=None, max_length=MAX_COMMENT_CHARS)


class FeedbackItem(BaseModel):
    card: str = _id()
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] | None = Field(default=None, max_length=MAX_SUGGESTIONS)
    overrideReason: OverrideReason | None = None
    outcomeTimestamp: str = Field(max_length=64)


class Feedback(BaseModel):
    feedback: list[FeedbackItem] = Field(max_length=MAX_FEEDBACK_ITEMS)


_JSON_TYPES = ("application/json",)


async def read_json(request: Request, model: type[BaseModel], max_bytes: int | None = None) -> Any:
    """The request's JSON body, parsed by orjson and checked by ``model``.

    Read here rather than declared as a FastAPI body parameter: an EHR's
    prefetch (tens of kB) comes with every call, and FastAPI's generic body
    and dependency handling cost about a tenth of the call's CPU. Errors keep
    FastAPI's shape: 422 with ``detail`` naming the JSON error or each invalid
    element (``loc`` from ``body``); another content type is a 415, a body over
    ``max_bytes`` a 413 (the application caps every body too).
    """
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not (media_type in _JSON_TYPES or media_type.endswith("+json")):
        raise HTTPException(415, f"content type {media_type or '(none)'!r}: a CDS Hooks call is application/json")
    if max_bytes is None:
        body = await request.body()
    else:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise HTTPException(413, f"the body is larger than {max_bytes:,} bytes")
            chunks.append(chunk)
        body = b"".join(chunks)
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body", error.pos), "msg": "JSON decode error",
                                       "input": {}, "ctx": {"error": error.msg}}]) from None
    try:
        return model.model_validate(document)
    except ValidationError as error:
        raise RequestValidationError([{**item, "loc": ("body", *item["loc"])}
                                      for item in error.errors(include_url=False)], body=document) from None
