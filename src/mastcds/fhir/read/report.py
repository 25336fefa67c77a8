"""DiagnosticReport -> the bone-marrow biopsy date; the report's results are read as the Observations they are."""

from __future__ import annotations

from typing import Any

from mastcds.fhir import codes, fields
from mastcds.fhir.dates import partial_date
from mastcds.fhir.read.context import ImportContext, code_label

BONE_MARROW_REPORT = fields.BONE_MARROW_REPORT


def reports(ctx: ImportContext, case: dict[str, Any]) -> None:
    for resource in ctx.by_type.get("DiagnosticReport", []):
        if not ctx.usable(resource):
            continue
        if not BONE_MARROW_REPORT.in_codings(codes.codings_of(resource.get("code"))):
            ctx.out.unmapped[f"DiagnosticReport {code_label(resource.get('code'))} (its results read one by one)"] += 1
            continue
        ctx.out.read["DiagnosticReport"] += 1
        date = partial_date(resource.get("effectiveDateTime"))
        if date is None and ctx.unreadable(resource, "effectiveDateTime", resource.get("effectiveDateTime")):
            continue
        marrow = case.setdefault("bone_marrow", {})
        if date is not None:
            marrow["biopsy_date"] = date
