"""``mastcds dose``: the omalizumab label-table dose and the adrenaline auto-injector strength, without a case file."""

from __future__ import annotations

import json
import math
from enum import Enum
from typing import Any

import typer
from rich.table import Table

from mastcds.cli.app import app
from mastcds.cli.output import TerminalConsole, fail
from mastcds.rules.dosing.inputs import (
    AGE_PLAUSIBLE_YEARS,
    IGE_PLAUSIBLE_IU_ML,
    WEIGHT_PLAUSIBLE_KG,
    DoseInputError,
)
from mastcds.rules.dosing.epinephrine import epinephrine_autoinjector
from mastcds.rules.dosing.omalizumab import Dose, omalizumab_csu_dose, omalizumab_dose

stdout = TerminalConsole()
dose_app = typer.Typer(
    help="Doses: omalizumab from the label tables, adrenaline auto-injector strength.", no_args_is_help=True
)
app.add_typer(dose_app, name="dose")


class Format(str, Enum):
    text = "text"
    json = "json"


class TableName(str, Enum):
    eu = "eu-smpc-asthma"
    us = "us-pi-asthma"


class Indication(str, Enum):
    mastocytosis = "mastocytosis"
    asthma = "asthma"
    csu = "csu"


class Syringes(str, Enum):
    label = "label"
    small = "75-150"
    with_300 = "75-150-300"


class Jurisdiction(str, Enum):
    eu = "eu"
    us = "us"
    au = "au"


def _number(option: str, text: str | None, plausible: tuple[float, float], unit: str, what: str) -> float | None:
    """The option's value as a number, or exit 2 naming the option, the value and the accepted range."""
    if text is None:
        return None
    low, high = plausible
    try:
        value = float(text.strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high:
        fail([f"{option}: {text!r} is not accepted; accepted: {what} in {unit}, a number {low:g}-{high:g}"])
    return value


def _print_dose(dose: Dose) -> None:
    table = Table(title=f"Omalizumab, {dose.table}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    if dose.dose_mg is not None:
        every = f"{dose.dose_mg} mg every {dose.interval_weeks} weeks"
        table.add_row("dose", f"{every} ({dose.mg_per_4_weeks} mg per 4 weeks)")
    else:
        table.add_row("dose", "none (see warnings)")
    table.add_row("within the label table", "yes" if dose.within_table else "no")
    if dose.cell is not None:
        table.add_row("cell", f"IgE {dose.cell[0]} IU/mL, weight {dose.cell[1]} kg")
    if dose.nearest_cell is not None:
        table.add_row("nearest cell (reference only)", str(dose.nearest_cell))
    if dose.dose_options_mg is not None:
        table.add_row("label options", ", ".join(f"{mg} mg" for mg in dose.dose_options_mg))
    if dose.injections:
        table.add_row("injections", " + ".join(f"{i.count} x {i.syringe_mg} mg" for i in dose.injections))
    stdout.print(table)
    for warning in dose.warnings:
        stdout.print(f"warning: {warning}", markup=False)
    stdout.print(f"source: {dose.source}", markup=False)


def _emit(body: dict[str, Any], output_format: Format) -> bool:
    if output_format is Format.json:
        typer.echo(json.dumps(body, indent=2, ensure_ascii=False))
        return True
    return False


@dose_app.command("omalizumab")
def omalizumab(
    ige: str = typer.Option(None, "--ige", metavar="NUMBER", help="baseline total serum IgE before treatment, IU/mL (= kU/L)"),
    weight: str = typer.Option(None, "--weight", metavar="NUMBER", help="body weight, kg"),
    table: TableName = typer.Option(TableName.eu, "--table", help="label dosing table"),
    indication: Indication = typer.Option(
        Indication.mastocytosis,
        "--indication",
        help="mastocytosis, anaphylaxis or MCAS (off-label: the asthma table by analogy), asthma, or csu (fixed dose)",
    ),
    age: str = typer.Option(None, "--age", metavar="NUMBER", help="age in years (checks the table's age range)"),
    syringes: Syringes = typer.Option(Syringes.label, "--syringes", help="syringe sizes for the injections"),
    output_format: Format = typer.Option(Format.text, "--format", "-f", help="text table or the DOSE JSON object"),
) -> None:
    """Omalizumab dose from the EU SmPC or US PI table; outside the table no dose, only the nearest cell."""
    age_years = _number("--age", age, AGE_PLAUSIBLE_YEARS, "years", "age")
    try:
        if indication is Indication.csu:
            dose = omalizumab_csu_dose("us" if table is TableName.us else "eu", syringes=syringes.value)
        else:
            missing = [name for name, value in (("--ige", ige), ("--weight", weight)) if value is None]
            if missing:
                fail([f"{name}: required for the {table.value} table" for name in missing])
            found = omalizumab_dose(
                _number("--ige", ige, IGE_PLAUSIBLE_IU_ML, "IU/mL", "baseline total IgE"),
                _number("--weight", weight, WEIGHT_PLAUSIBLE_KG, "kg", "body weight"),
                table.value,
                indication_off_label=indication is Indication.mastocytosis,
                syringes=syringes.value,
                age_years=age_years,
            )
            assert found is not None  # both inputs were given
            dose = found
    except DoseInputError as error:
        fail([str(error)])
    if not _emit(dose.as_dict(), output_format):
        _print_dose(dose)


@dose_app.command("epinephrine")
def epinephrine(
    weight: str = typer.Option(None, "--weight", metavar="NUMBER", help="body weight, kg"),
    age: str = typer.Option(None, "--age", metavar="NUMBER", help="age in years (used only when the weight is not given)"),
    jurisdiction: Jurisdiction = typer.Option(
        Jurisdiction.eu, "--jurisdiction", help="eu (UK/EU practice), us (device labels), au (ASCIA)"
    ),
    output_format: Format = typer.Option(Format.text, "--format", "-f"),
) -> None:
    """Adrenaline (epinephrine) auto-injector strength; always prescribe two."""
    device = epinephrine_autoinjector(
        _number("--weight", weight, WEIGHT_PLAUSIBLE_KG, "kg", "body weight"),
        _number("--age", age, AGE_PLAUSIBLE_YEARS, "years", "age"),
        jurisdiction.value,
    )
    if _emit(device.as_dict(), output_format):
        return
    strength = f"{device.dose_mg:g} mg, {device.devices} devices" if device.dose_mg is not None else "no device"
    stdout.print(f"Adrenaline auto-injector ({device.jurisdiction}): {strength}", markup=False)
    stdout.print(f"why: {device.reason}", markup=False)
    for warning in device.warnings:
        stdout.print(f"warning: {warning}", markup=False)
    stdout.print(f"source: {device.source}", markup=False)
