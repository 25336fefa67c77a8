"""The evaluation as a terminal report a clinician reads top to bottom.

By default one screen (40 lines at 80 columns for the seed case): the bottom
line per guideline with the test that would separate the open categories,
the key findings, the next tests. ``details`` adds every criterion with its
reason. Sources are cited by number (``[2]``) and listed once at the end.

It renders the contract object only (never the case), so what the terminal
shows is exactly what integrators receive as JSON.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mastcds.report.citations import Citations
from mastcds.report.reading import EDITION_TITLES, bottom_line_text, rema_caveat, separating_tests

STATUS_STYLE = {"met": ("met", "bold green"), "not_met": ("not met", "red"), "unknown": ("unknown", "yellow")}
LABEL_WIDTH = 11
REMA_VERDICTS = {True: "clonal mast cell disease likely (≥ 2)", False: "clonal disease unlikely (< 2)", None: "undetermined"}


def _status(value: str | None) -> Text:
    label, style = STATUS_STYLE.get(value or "unknown", (str(value), ""))
    return Text(label, style=style)


def _heading(console: Console, title: str) -> None:
    console.print(Text(title.upper(), style="bold"))


def _rows(console: Console, rows: Iterable[tuple[str, Text | str]]) -> None:
    """``label  value`` lines; a long value wraps under itself, not under the label."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=LABEL_WIDTH, no_wrap=True)
    grid.add_column(ratio=1, overflow="fold")
    for label, value in rows:
        grid.add_row(Text(label, style="bold"), value)
    console.print(grid)


def _cited(text: str | Text, source: str | None, citations: Citations) -> Text:
    line = Text(text) if isinstance(text, str) else text.copy()
    mark = citations.mark(source)
    if mark:
        line.append(f" {mark}", style="dim")
    return line


# ---------------------------------------------------------------- the bottom line


def _verdict(guideline: dict[str, Any]) -> Text:
    """The engine's one-line summary when it gives one, else SM criteria and category, in the words of every surface."""
    return Text(bottom_line_text(guideline), style="" if guideline.get("category") or guideline.get("summary") else "yellow")


def _bottom_lines(console: Console, result: dict[str, Any], citations: Citations) -> None:
    """The engine's summary first; each edition's line after it unless they all say the same."""
    guidelines = result["guidelines"]
    lines = {edition: bottom_line_text(g) for edition, g in guidelines.items()}
    marks = " ".join(citations.mark(g.get("source")) for g in guidelines.values() if g.get("source"))
    if result.get("summary") and len(set(lines.values())) == 1:
        console.print(_cited(result["summary"], None, citations).append(f" {marks}", style="dim"))
    else:
        if result.get("summary"):
            console.print(result["summary"])
        _rows(console, [(EDITION_TITLES.get(e, e), _cited(_verdict(g), g.get("source"), citations)) for e, g in guidelines.items()])
    tests = separating_tests(result)
    if tests:
        line = Text("Separating test: ", style="bold")
        line.append(tests[0]["test"])
        console.print(line)


# ---------------------------------------------------------------- key findings


def _skin(cutaneous: dict[str, Any]) -> Text:
    line = Text("mastocytosis in the skin ")
    line.append_text(_status(cutaneous["status"]))
    if cutaneous.get("subtype"):
        line.append(f" ({cutaneous['subtype']})")
    if cutaneous.get("diagnosis"):
        line.append(f"; {cutaneous['diagnosis']}")
    return line


def _mcas(mcas: dict[str, Any]) -> Text:
    if mcas.get("summary"):
        return Text(mcas["summary"])
    line = _status(mcas["status"])
    if mcas.get("variant"):
        line.append(f", {mcas['variant']}")
    open_criteria = [_criterion_name(c["id"]) for c in mcas.get("criteria") or [] if c["status"] == "unknown"]
    if open_criteria:
        line.append(f"; open: {', '.join(open_criteria)}")
    return line


def _criterion_name(criterion_id: str) -> str:
    """``mcas.b_tryptase_rise`` → ``criterion B (tryptase rise)``."""
    letter, _, words = criterion_id.split(".")[-1].partition("_")
    return f"criterion {letter.upper()} ({words.replace('_', ' ')})" if len(letter) == 1 else criterion_id


def _tryptase(tryptase: dict[str, Any]) -> str:
    line = f"baseline {_number(tryptase['baseline_ng_ml'], 'ng/mL')}"
    if tryptase.get("hat_adjusted_baseline_ng_ml") is not None:
        line += f"; HαT-adjusted {_number(tryptase['hat_adjusted_baseline_ng_ml'], 'ng/mL')}"
    return line


def _episodes(result: dict[str, Any]) -> str:
    episodes = result["episodes"]
    wao = sum(1 for e in episodes if e["anaphylaxis_wao2020"] == "met")
    grades: dict[str, int] = {}
    for episode in episodes:
        grade = episode.get("severity_brown") or "grade undetermined"
        grades[grade] = grades.get(grade, 0) + 1
    rises = [r for r in result["tryptase"]["episodes"] if r["status"] == "met"]
    line = f"{len(episodes)}; anaphylaxis (WAO 2020) in {wao}; Brown " + ", ".join(f"{n} {g}" for g, n in grades.items())
    return line + f"; 20% + 2 rise shown in {len(rises)}"


def _rema(result: dict[str, Any]) -> Text:
    rema = result["rema"]
    if rema.get("summary"):
        return Text(rema["summary"])
    line = Text(str(rema["score"]) if rema["score"] is not None else f"between {rema['min']} and {rema['max']}", style="bold")
    line.append(f": {REMA_VERDICTS[rema['clonal_likely']]}")
    caveat = rema_caveat(result)
    if caveat:
        line.append(f". {caveat}", style="yellow")
    return line


def _dose(dose: dict[str, Any] | None) -> Text:
    if dose is None:
        return Text("needs baseline total IgE and body weight", style="dim")
    if dose.get("summary"):
        return Text(dose["summary"])
    text = Text()
    if dose["dose_mg"] is not None:
        text.append(f"{dose['dose_mg']} mg every {dose['interval_weeks']} weeks", style="bold")
    else:
        text.append("no dose from the table", style="yellow")
    text.append(f" ({dose['table']})")
    if not dose["within_table"]:
        text.append("; outside the label table", style="bold red")
        nearest = dose.get("nearest_cell")
        if nearest:
            text.append(f"; nearest cell {nearest['dose_mg']} mg every {nearest['interval_weeks']} weeks, for reference only")
    if any(w.startswith("off-label") for w in dose.get("warnings") or []):
        text.append("; off-label", style="yellow")
    return text


def _adrenaline(result: dict[str, Any]) -> str:
    mg = result["epinephrine_autoinjector_mg"]
    return "specialist decision (prescribe two)" if mg is None else f"{mg:g} mg auto-injector; prescribe two, carry both"


def _treatment(plan: dict[str, Any]) -> Text:
    am = plan["anti_mediator"]
    line = Text(f"{plan['label']}: now step {am['current_step']} ({am['current_step_name'] or 'none recorded'})"
                if am.get("current_step") is not None else f"{plan['label']}: no anti-mediator therapy recorded")
    if am.get("next_options"):
        first = am["next_options"][0]
        line.append(f"; next: {first['name']}")
    return line


def _key_findings(console: Console, result: dict[str, Any], citations: Citations) -> None:
    _heading(console, "Key findings")
    rows: list[tuple[str, Text | str]] = [
        ("Skin", _skin(result["cutaneous"])),
        ("MCAS", _mcas(result["mcas"])),
        ("Tryptase", _tryptase(result["tryptase"])),
    ]
    if result["episodes"]:
        rows.append(("Episodes", _episodes(result)))
    rows.append(("REMA", _rema(result)))
    rows.append(("Omalizumab", _dose(result["omalizumab"])))
    rows.append(("Adrenaline", _adrenaline(result)))
    prognosis = result.get("prognosis") or {}
    for name in ("mars", "ipsm"):
        if prognosis.get(name):
            rows.append((name.upper(), _score(prognosis[name])))
    if result.get("treatment"):
        rows.append(("Treatment", _treatment(result["treatment"])))
    _rows(console, rows)


def _next_tests(console: Console, result: dict[str, Any]) -> None:
    """The tests after the separating one (shown under the bottom line)."""
    tests = separating_tests(result)[1:]
    if not tests:
        return
    _heading(console, "Next tests")
    for item in tests:
        line = Text(f"• {item['test']}", style="bold")
        line.append(f" ({', '.join(item['editions'])})", style="dim")
        console.print(line)


SECONDARY = " [secondary source"


def _short(source: str) -> str:
    """A source without its verification note (what the secondary source is), which --details prints whole."""
    head, sep, _ = source.partition(SECONDARY)
    return f"{head}{SECONDARY}]" if sep else source


def _bibliography(console: Console, citations: Citations, *, details: bool = True) -> None:
    if not citations.items:
        return
    _heading(console, "Sources")
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(ratio=1, overflow="fold")
    for number, source in enumerate(citations.items, start=1):
        grid.add_row(f"[{number}]", Text(source if details else _short(source), style="dim"))
    console.print(grid)


# ---------------------------------------------------------------- details


def _criteria_table(title: str, criteria: list[dict[str, Any]], citations: Citations) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", expand=True, pad_edge=False, show_edge=False)
    table.add_column("criterion", ratio=2, overflow="fold")
    table.add_column("status", no_wrap=True)
    table.add_column("reason", ratio=6, overflow="fold")
    table.add_column("src", no_wrap=True, style="dim")
    for item in criteria:
        # the id's words wrap between words in a narrow column
        table.add_row(item["id"].replace("_", " "), _status(item["status"]), item["reason"], citations.mark(item.get("source")))
    return table


def _guideline_details(console: Console, edition: str, guideline: dict[str, Any], citations: Citations) -> None:
    title = Text(f"{EDITION_TITLES.get(edition, edition)}: ", style="bold")
    title.append_text(_verdict(guideline))
    console.rule(title, align="left")
    for key, caption in (("criteria", "Major and minor criteria"), ("b_findings", "B-findings"),
                         ("c_findings", "C-findings"), ("variant_criteria", "Variant criteria")):
        if guideline.get(key):
            console.print(_criteria_table(caption, guideline[key], citations))
    for note in guideline.get("notes") or []:
        console.print(Text(f"note: {note}", style="cyan"))
    for item in guideline.get("next_tests") or []:
        console.print(Text(f"next test: {item['test']} — {item['why']}"))


def _episodes_table(result: dict[str, Any], citations: Citations) -> Table:
    thresholds = {item["episode_id"]: item for item in result["tryptase"]["episodes"]}
    table = Table(title="Episodes", title_justify="left", title_style="bold", expand=True, pad_edge=False, show_edge=False)
    for column in ("episode", "date", "WAO 2020", "NIAID 2006", "Brown", "20%+2 limit", "rise"):
        table.add_column(column, overflow="fold")
    for episode in result["episodes"]:
        rise = thresholds.get(episode["episode_id"], {})
        threshold = rise.get("threshold_ng_ml")
        table.add_row(
            episode["episode_id"],
            str(episode.get("date") or "—"),
            _status(episode["anaphylaxis_wao2020"]),
            _status(episode["anaphylaxis_niaid2006"]),
            _cited(episode["severity_brown"] or "undetermined", episode.get("severity_source"), citations),
            "—" if threshold is None else f"{threshold:.2f} ng/mL",
            _status(rise.get("status")),
        )
    return table


def _treatment_details(console: Console, plan: dict[str, Any], citations: Citations) -> None:
    console.rule(Text(f"Treatment: {plan['label']}", style="bold"), align="left")
    console.print(Text(plan["note"], style="dim"))
    table = Table(title="Anti-mediator steps", title_justify="left", title_style="bold", expand=True, pad_edge=False, show_edge=False)
    table.add_column("step", no_wrap=True)
    table.add_column("option", ratio=3, overflow="fold")
    table.add_column("status", ratio=1, overflow="fold")
    table.add_column("src", no_wrap=True, style="dim")
    for step in plan["anti_mediator"]["steps"]:
        for option in step["options"]:
            table.add_row(str(step["step"]), option["name"], option["status"].replace("_", " "), citations.mark(option.get("source")))
    console.print(table)
    for option in plan["anti_mediator"].get("next_options") or []:
        line = Text(f"next (step {option['step']}): {option['name']}")
        if option.get("dose"):
            line.append(f" — {option['dose']}", style="dim")
        console.print(_cited(line, option.get("source"), citations))
    cytoreduction = plan.get("cytoreduction") or {}
    for option in cytoreduction.get("options") or []:
        console.print(_cited(f"cytoreductive option: {option.get('name', option.get('drug'))}", option.get("source"), citations))
    if cytoreduction.get("note"):
        console.print(Text(cytoreduction["note"], style="dim"))
    venom = plan.get("venom_immunotherapy")
    if venom:
        console.print(_cited(f"venom immunotherapy: {venom.get('advice', '')}", venom.get("source"), citations))


def _details(console: Console, result: dict[str, Any], citations: Citations) -> None:
    for edition, guideline in result["guidelines"].items():
        _guideline_details(console, edition, guideline, citations)
    console.rule(Text("Skin, MCAS, episodes, REMA", style="bold"), align="left")
    console.print(_criteria_table("Mastocytosis in the skin", result["cutaneous"]["criteria"], citations))
    console.print(_criteria_table("Mast cell activation syndrome", result["mcas"]["criteria"], citations))
    if result["episodes"]:
        console.print(_episodes_table(result, citations))
    console.print(_criteria_table("REMA items", result["rema"]["items"], citations))
    dose = result["omalizumab"]
    if dose:
        console.print(_cited(Text("omalizumab: ").append_text(_dose(dose)), dose.get("source"), citations))
        for warning in dose["warnings"]:
            console.print(Text(f"  ! {warning}", style="yellow"))
    prognosis = result.get("prognosis") or {}
    for name, why in (prognosis.get("not_computed") or {}).items():  # free text: no Rich markup
        console.print(Text(f"Prognosis {name.upper()} not computed: {why}", style="dim"))
    if result.get("treatment"):
        _treatment_details(console, result["treatment"], citations)
    if result["warnings"]:
        _heading(console, "Warnings")
        for warning in result["warnings"]:
            console.print(Text(f"• {warning}", style="yellow"))


def print_evaluation(console: Console, result: dict[str, Any], *, details: bool = False) -> None:
    """The bottom lines, key findings and next tests; with ``details`` every criterion and warning."""
    citations = Citations()
    _bottom_lines(console, result, citations)
    _key_findings(console, result, citations)
    _next_tests(console, result)
    if details:
        _details(console, result, citations)
    about = f"case {result['case_id'] or '(no id)'}"
    if result.get("evaluation_date"):
        about += f" ({result['evaluation_date']})"
    about += f" · mastcds {result['engine_version']}"
    if not details and result["warnings"]:
        count = len(result["warnings"])
        about = f"{count} warning{'s' if count != 1 else ''}, every criterion: --details · {about}"
    console.print(Text(about, style="yellow" if not details and result["warnings"] else "dim"))
    _bibliography(console, citations, details=details)


def _number(value: float | None, unit: str) -> str:
    return "not recorded" if value is None else f"{value:g} {unit}"


def _score(score: dict[str, Any]) -> str:
    """A prognostic score, or its range and the risk groups still possible."""
    if score.get("summary"):
        return str(score["summary"])
    value = f"score {score['score']}" if score.get("score") is not None else f"score between {score.get('min')} and {score.get('max')}"
    group = score.get("risk_group") or " or ".join(score.get("possible_risk_groups") or []) or "undetermined"
    return f"{value}; risk group {group}"
