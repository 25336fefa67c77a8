"""The case form page, shared by new patients, edits and unsaved evaluations."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from mastcds.case import Problem
from mastcds.store.settings import PATIENT_KEY_RULE
from mastcds.web.case_form import FormState, form_sections
from mastcds.web.pages.render import render


def form_page(
    request: Request,
    state: FormState,
    *,
    key: str | None,
    problems: list[Problem] = (),  # type: ignore[assignment]
    version: int | None = None,
    reason: str = "",
    focus: str | None = None,
    status: int = 200,
    action: str,
    title: str,
) -> Response:
    errors: dict[str, list[str]] = {}
    for problem in problems:
        errors.setdefault(problem.path, []).append(problem.message)
    field_names = set(_all_field_names(state))
    general = [p for p in problems if p.path not in field_names]
    context = {
        "sections": form_sections(),
        "state": state,
        "errors": errors,
        "general_problems": general,
        "problem_count": len(problems),
        "key": key,
        "version": version,
        "reason": reason,
        "focus": focus,
        "action": action,
        "title": title,
        "key_rule": PATIENT_KEY_RULE,
    }
    return render(request, "case_form.html", context, status=status)


def _all_field_names(state: FormState) -> list[str]:
    names = []
    for section in form_sections():
        if section.repeated:
            for index in range(len(state.rows[section.key])):
                names += [f"{section.key}[{index}].{f.name}" for f in section.fields]
        else:
            names += [f"{section.key}.{f.name}" if section.key else f.name for f in section.fields]
            if section.presence_label:
                names.append(section.key)
    return names


def apply_row_action(state: FormState, action: str) -> str | None:
    """Apply an add/remove-row button; the input (or button) to focus afterwards, by name."""
    parts = action.split(":")
    sections = {section.key: section for section in form_sections() if section.repeated}
    if parts[0] == "add" and len(parts) == 2 and parts[1] in sections:
        state.add_row(parts[1])
        first = sections[parts[1]].fields[0].name
        return f"{parts[1]}[{len(state.rows[parts[1]]) - 1}].{first}"
    if parts[0] == "remove" and len(parts) == 3 and parts[1] in sections and parts[2].isdigit():
        state.remove_row(parts[1], int(parts[2]))
        return f"add:{parts[1]}"
    return None
