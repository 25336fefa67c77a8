"""The shapes of the JSON API's answers, as they appear in the OpenAPI document.

Case documents and their parts are not redefined here: the OpenAPI document
carries the published JSON Schema (mastcds-case/1) itself, see
:func:`mastcds.web.openapi.case_components`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from mastcds.web.accounts import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, USERNAME_PATTERN

Role = Literal["admin", "clinician", "viewer"]


class ProblemOut(BaseModel):
    path: str = Field(description="the field, as a path in the request (e.g. `lab_results[0].unit`)")
    value: Any = Field(description="the value given")
    message: str = Field(description="what is wrong and what is accepted")


class ProblemsOut(BaseModel):
    detail: str
    problems: list[ProblemOut]


class DetailOut(BaseModel):
    detail: str


class PatientCreated(BaseModel):
    key: str


class PatientSummaryOut(BaseModel):
    key: str
    version: int
    created_at: datetime
    updated_at: datetime
    episodes: int
    lab_results: int
    treatments: int
    evaluations: int


class ItemOut(BaseModel):
    record_id: int = Field(description="names the item in corrections and deletions")
    document: dict[str, Any]


class PatientOut(BaseModel):
    key: str
    version: int = Field(description="number of changes so far; each write adds one")
    created_at: datetime
    updated_at: datetime
    case: dict[str, Any] = Field(description="the current record as a mastcds-case/1 document")
    episodes: list[ItemOut]
    lab_results: list[ItemOut]
    treatments: list[ItemOut]
    evaluations: int


class VersionOut(BaseModel):
    version: int


class RecordWritten(BaseModel):
    record_id: int


class EditOut(BaseModel):
    record_id: int
    kind: str
    path: str
    before: Any
    after: Any
    created: bool
    deleted: bool


class ChangeOut(BaseModel):
    version: int
    recorded_at: datetime
    actor: str
    action: str
    summary: str
    reason: str | None
    edits: list[EditOut]


class EvaluationSummaryOut(BaseModel):
    id: int
    patient_key: str
    patient_version: int
    created_at: datetime
    actor: str
    engine_version: str
    categories: dict[str, str | None] = Field(description="the category per guideline edition (null: undetermined)")


class EvaluationOut(EvaluationSummaryOut):
    editions: dict[str, Any]
    case_document: dict[str, Any]
    result: dict[str, Any] = Field(description="the evaluation object (mastcds-evaluation/1) as it was given")


class UserOut(BaseModel):
    username: str
    role: Role
    active: bool
    created_at: datetime


class UserIn(BaseModel):
    username: str = Field(pattern=USERNAME_PATTERN.pattern)
    password: str = Field(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH)
    role: Role


class UserPatch(BaseModel):
    role: Role | None = None
    active: bool | None = None
    password: str | None = Field(default=None, min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH)


class TokenOut(BaseModel):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None = Field(description="null while the token is live")


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    patient_key: str | None
    detail: str


class ReferenceOut(BaseModel):
    """One cited work (docs/evaluation-contract.md REFERENCE): its citation and a link a clinician can follow."""

    key: str
    citation: str
    doi: str | None
    pmid: str | None
    url: str | None
    secondary: bool
    verified_against: str | None


class RemaItemOut(BaseModel):
    id: str
    status: Literal["met", "not_met", "unknown"]
    reason: str
    source: str
    references: list[ReferenceOut] = []


class RemaOut(BaseModel):
    score: int | None
    min: int
    max: int
    clonal_likely: bool | None
    items: list[RemaItemOut]
