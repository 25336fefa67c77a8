"""The evaluation as a terminal report a clinician reads top to bottom.

It renders the contract object only (never the case), so what the terminal
shows is exactly what integrators receive as JSON.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

STATUS_STYLE = {"met": ("MET", "bold green"), "not_met": ("not met", "red"), "unknown": ("unknown", "yellow")}
EDITION_TITLES = {"who2022": "WHO 2022", "icc2022": "ICC 2022", "who2016": "WHO 2016"}


def _status(value: str | None) -> Text:
    label, style = STATUS_STYLE.get(value or "unknown", (str(value), ""))
    return Text(label, style=style)


def _criteria_table(title: str, criteria: list[dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left", expand=True, show_lines=False, pad_edge=False)
    table.add_column("criterion", ratio=2, overflow="fold")
    table.add_column("status", width=8)
    table.add_column("reason", ratio=5)
    table.add_column("source", ratio=3, style="dim", overflow="fold")
    for item in criteria:
        table.add_row(item["id"], _status(item["status"]), item["reason"], item["source"])
    return table


def _verdict_line(result: dict[str, Any]) -> Text:
    line = Text("SM criteria: ")
    line.append_text(_status(result["sm_criteria"]))
    line.append("   category: ")
    if result["category"]:
        line.append(result["category"], style="bold")
    else:
        line.append("undetermined — possible: " + ", ".join(result["possible_categories"]), style="yellow")
    return line


def _guideline_panel(edition: str, result: dict[str, Any]) -> Panel:
    parts: list[Any] = [_verdict_line(result)]
    parts.append(_criteria_table("Major and minor criteria", result["criteria"]))
    parts.append(_criteria_table("B-findings", result["b_findings"]))
    parts.append(_criteria_table("C-findings", result["c_findings"]))
    for note in result.get("notes", []) or []:
        parts.append(Text(f"note: {note}", style="cyan"))
    if result["next_tests"]:
        tests = Table(title="Next tests", title_justify="left", expand=True)
        tests.add_column("test", ratio=2)
        tests.add_column("why", ratio=5)
        for item in result["next_tests"]:
            tests.add_row(item["test"], item["why"])
        parts.append(tests)
    return Panel(Group(*parts), title=EDITION_TITLES.get(edition, edition), title_align="left")


def _episodes_table(result: dict[str, Any]) -> Table:
    thresholds = {item["episode_id"]: item for item in result["tryptase"]["episodes"]}
    table = Table(title="Episodes", title_justify="left", expand=True)
    for column in ("episode", "date", "WAO 2020", "NIAID 2006", "Brown", "20% + 2 threshold", "20% + 2"):
        table.add_column(column)
    for episode in result["episodes"]:
        rise = thresholds.get(episode["episode_id"], {})
        threshold = rise.get("threshold_ng_ml")
        table.add_row(
            episode["episode_id"],
            str(episode.get("date") or "—"),
            _status(episode["anaphylaxis_wao2020"]),
            _status(episode["anaphylaxis_niaid2006"]),
            episode["severity_brown"] or "undetermined",
            "—" if threshold is None else f"{threshold:.2f} ng/mL",
            _status(rise.get("status")),
        )
    return table


def _dose_text(dose: dict[str, Any] | None) -> Text:
    if dose is None:
        return Text("omalizumab: needs baseline total IgE and body weight", style="dim")
    text = Text(f"omalizumab ({dose['table']}): ")
    if dose["dose_mg"] is not None:
        text.append(f"{dose['dose_mg']} mg every {dose['interval_weeks']} weeks", style="bold")
    else:
        text.append("no dose from the table", style="yellow")
    if not dose["within_table"]:
        text.append("  — input outside the label table", style="bold red")
        nearest = dose.get("nearest_cell")
        if nearest:
            text.append(f"; nearest cell {nearest['dose_mg']} mg every {nearest['interval_weeks']} weeks")
    if dose["injections"]:
        text.append("  injections: " + ", ".join(f"{i['count']} × {i['syringe_mg']} mg" for i in dose["injections"]))
    for warning in dose["warnings"]:
        text.append(f"\n  ! {warning}", style="yellow")
    return text


def print_evaluation(console: Console, result: dict[str, Any]) -> None:
    """Print the whole evaluation: guidelines, skin, MCAS, episodes, REMA, doses, warnings."""
    header = f"mastcds {result['engine_version']} — case {result['case_id'] or '(no id)'}"
    console.rule(header)
    for edition, guideline in result["guidelines"].items():
        console.print(_guideline_panel(edition, guideline))
    cutaneous = result["cutaneous"]
    skin = Text("Skin (mastocytosis in the skin): ")
    skin.append_text(_status(cutaneous["status"]))
    if cutaneous.get("subtype"):
        skin.append(f"  subtype {cutaneous['subtype']}")
    if cutaneous.get("diagnosis"):
        skin.append(f"  — {cutaneous['diagnosis']}")
    console.print(Panel(Group(skin, _criteria_table("Criteria", cutaneous["criteria"])), title="Cutaneous", title_align="left"))
    mcas = result["mcas"]
    mcas_line = Text("MCAS: ")
    mcas_line.append_text(_status(mcas["status"]))
    if mcas.get("variant"):
        mcas_line.append(f"  variant {mcas['variant']}")
    console.print(Panel(Group(mcas_line, _criteria_table("Criteria", mcas["criteria"])), title="Mast cell activation syndrome", title_align="left"))
    tryptase = result["tryptase"]
    line = Text(f"Baseline tryptase: {_number(tryptase['baseline_ng_ml'], 'ng/mL')}")
    if tryptase["hat_adjusted_baseline_ng_ml"] is not None:
        line.append(f"   HαT-adjusted: {_number(tryptase['hat_adjusted_baseline_ng_ml'], 'ng/mL')}")
    console.print(line)
    if result["episodes"]:
        console.print(_episodes_table(result))
    rema = result["rema"]
    rema_line = Text("REMA score: ")
    if rema["score"] is not None:
        rema_line.append(str(rema["score"]), style="bold")
    else:
        rema_line.append(f"between {rema['min']} and {rema['max']}", style="yellow")
    verdict = {True: "clonal mast cell disease likely (≥ 2)", False: "clonal disease unlikely (< 2)", None: "undetermined"}
    rema_line.append(f" — {verdict[rema['clonal_likely']]}")
    console.print(Group(rema_line, _criteria_table("REMA items", rema["items"])))
    console.print(_dose_text(result["omalizumab"]))
    epinephrine = result["epinephrine_autoinjector_mg"]
    console.print(f"Adrenaline auto-injector: {'specialist decision' if epinephrine is None else f'{epinephrine:g} mg'} (prescribe two)")
    prognosis = result.get("prognosis") or {}
    for name in ("mars", "ipsm"):
        if prognosis.get(name):
            console.print(f"Prognosis {name.upper()}: {_summary(prognosis[name])}")
    for name, why in (prognosis.get("not_computed") or {}).items():  # free text: no Rich markup
        console.print(f"Prognosis {name.upper()} not computed: {why}", style="dim", markup=False, highlight=False)
    shown = set((result["omalizumab"] or {}).get("warnings", []))
    # the dose's own warnings are printed beside the dose; the engine also lists them, prefixed
    remaining = [w for w in result["warnings"] if not any(w.endswith(d) for d in shown)]
    if remaining:
        console.print(Panel("\n".join(f"• {w}" for w in remaining), title="Warnings", title_align="left", style="yellow"))


def _number(value: float | None, unit: str) -> str:
    return "not recorded" if value is None else f"{value:g} {unit}"


def _summary(score: dict[str, Any]) -> str:
    keys = ("score", "points", "risk_group", "median_os")
    return ", ".join(f"{k} {score[k]}" for k in keys if score.get(k) is not None) or "see JSON"
