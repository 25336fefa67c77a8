"""Omalizumab (Xolair) dose from the label dosing tables, never extrapolated.

The labels dose omalizumab from baseline total IgE and body weight with a
printed grid, and say that patients outside the grid should not be given it.
Use in mastocytosis is off-label (no label indication for mastocytosis,
idiopathic anaphylaxis or MCAS), and clinicians borrow the asthma grid by
analogy, as the seed case report did. So this module reads the grid exactly as
printed (tables/*.json: each cites its label by bibliography key and section;
``provenance`` records which copies of the label were read and is never shown),
reports a cell only when the inputs fall inside it, and otherwise
shows the nearest printed cell for reference, flagged, never a dose outside
the label's range (maximum 600 mg every 2 weeks).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from mastcds.rules.dosing.inputs import (
    AGE_PLAUSIBLE_YEARS,
    IGE_PLAUSIBLE_IU_ML,
    WEIGHT_PLAUSIBLE_KG,
    DoseInputError,
    checked_number,
)
from mastcds.rules.logic import fmt
from mastcds.rules.references import Citation, cite, reference_dicts

EU_ASTHMA = "eu-smpc-asthma"
US_ASTHMA = "us-pi-asthma"
_TABLE_FILES = {
    EU_ASTHMA: "omalizumab_eu_smpc_asthma.json",
    US_ASTHMA: "omalizumab_us_pi_asthma.json",
}
TABLES = tuple(_TABLE_FILES)

# Syringe choices: the table's own label conversion, only 75/150 mg syringes
# (EU SmPC Table 1, the evaluation contract's INJECTION), or with 300 mg devices.
SYRINGES_LABEL = "label"
SYRINGES_75_150 = "75-150"
SYRINGES_WITH_300 = "75-150-300"
SYRINGE_CHOICES = (SYRINGES_LABEL, SYRINGES_75_150, SYRINGES_WITH_300)
_SYRINGE_TABLES = {SYRINGES_75_150: "eu-smpc-table1", SYRINGES_WITH_300: "us-pi"}

CSU_LABELS = ("eu", "us")

OFF_LABEL_WARNING = (
    "off-label: omalizumab has no label indication for mastocytosis, idiopathic anaphylaxis or MCAS "
    "(Xolair EU SmPC section 4.1, US PI section 1); the asthma dosing table is used by analogy"
)


@dataclass(frozen=True)
class Band:
    """One printed band: '>lower-upper' (lower excluded) or '>=lower-upper'; the upper edge is included."""

    label: str
    lower: float
    lower_inclusive: bool
    upper: float

    def contains(self, value: float) -> bool:
        above = value >= self.lower if self.lower_inclusive else value > self.lower
        return above and value <= self.upper


@dataclass(frozen=True)
class Regimen:
    """A printed cell: so many mg every so many weeks."""

    dose_mg: int
    interval_weeks: int

    @property
    def mg_per_4_weeks(self) -> int:
        return self.dose_mg * 4 // self.interval_weeks

    def as_dict(self) -> dict[str, int]:
        return {"dose_mg": self.dose_mg, "interval_weeks": self.interval_weeks}

    def __str__(self) -> str:
        return f"{self.dose_mg} mg every {self.interval_weeks} weeks"


@dataclass(frozen=True)
class Injection:
    syringe_mg: int
    count: int

    def as_dict(self) -> dict[str, int]:
        return {"syringe_mg": self.syringe_mg, "count": self.count}


@dataclass(frozen=True)
class DoseTable:
    """One label grid, read from its data file; ``cells[i][j]`` is ``None`` where the label gives no dose."""

    id: str
    title: str
    citation: Mapping[str, Any]  # {"refs": [bibliography keys], "where": "Table 2 ..."}
    ige_bands: tuple[Band, ...]
    weight_bands: tuple[Band, ...]
    cells: tuple[tuple[Regimen | None, ...], ...]
    no_dose_text: str
    outside_rule: str
    minimum_age_years: float
    syringes: str
    low_ige_below: float | None
    low_ige_below_children: float | None
    children_below_years: float | None
    low_ige_source: str | None
    edge_notes: tuple[tuple[float, str], ...]
    cells_to_check: frozenset[tuple[str, str]]

    @property
    def ige_limits(self) -> tuple[float, float]:
        return self.ige_bands[0].lower, self.ige_bands[-1].upper

    @property
    def weight_limits(self) -> tuple[float, float]:
        return self.weight_bands[0].lower, self.weight_bands[-1].upper

    def cell_index(self, ige: float, weight: float) -> tuple[int, int] | None:
        row = _band_index(self.ige_bands, ige)
        column = _band_index(self.weight_bands, weight)
        if row is None or column is None:
            return None
        return row, column


def _cite(*specs: Mapping[str, Any]) -> Citation:
    """One citation for several table specs: their keys once each, their places joined."""
    keys = tuple(dict.fromkeys(key for spec in specs for key in spec["refs"]))
    return cite(*keys, where="; ".join(spec["where"] for spec in specs))


def _band_index(bands: tuple[Band, ...], value: float) -> int | None:
    for index, band in enumerate(bands):
        if band.contains(value):
            return index
    return None


def _regimen(text: str) -> Regimen | None:
    """'375 q2w' → Regimen(375, 2); 'DNA' / 'DND' (no dose printed) → None."""
    if text in {"DNA", "DND"}:
        return None
    dose, interval = text.split()
    return Regimen(int(dose), int(interval.removeprefix("q").removesuffix("w")))


@cache
def _read(name: str) -> Any:
    return json.loads(resources.files("mastcds.rules.dosing").joinpath("tables", name).read_text(encoding="utf-8"))


@cache
def dose_table(table: str) -> DoseTable:
    """The grid named ``table`` (one of :data:`TABLES`)."""
    if table not in _TABLE_FILES:
        raise DoseInputError("table", table, ", ".join(TABLES))
    data = _read(_TABLE_FILES[table])

    def bands(key: str) -> tuple[Band, ...]:
        return tuple(Band(**band) for band in data[key])

    return DoseTable(
        id=data["id"],
        title=data["title"],
        citation=data["source"],
        ige_bands=bands("ige_bands"),
        weight_bands=bands("weight_bands"),
        cells=tuple(tuple(_regimen(cell) for cell in row) for row in data["cells"]),
        no_dose_text=data["no_dose_text"],
        outside_rule=data["outside_rule"],
        minimum_age_years=data["minimum_age_years"],
        syringes=data["syringes"],
        low_ige_below=data.get("low_ige_warning_below_iu_ml"),
        low_ige_below_children=data.get("low_ige_warning_below_iu_ml_children"),
        children_below_years=data.get("children_below_years"),
        low_ige_source=data.get("low_ige_source"),
        edge_notes=tuple((note["weight_kg"], note["note"]) for note in data["edge_notes"]),
        cells_to_check=frozenset((cell["ige_band"], cell["weight_band"]) for cell in data["cells_to_check"]),
    )


@cache
def syringe_split(conversion: str) -> dict[int, tuple[Injection, ...]]:
    """A label's conversion table from dose (mg) to syringes, zero counts left out."""
    data = _read("omalizumab_syringes.json")[conversion]
    return {
        int(dose): tuple(
            Injection(int(size), count) for size, count in sorted(split.items(), key=lambda item: int(item[0])) if count
        )
        for dose, split in data["split"].items()
    }


def syringe_citation(conversion: str) -> Mapping[str, Any]:
    """The citation spec ({"refs", "where"}) of a syringe conversion table."""
    return _read("omalizumab_syringes.json")[conversion]["source"]


@dataclass(frozen=True)
class Dose:
    """The contract's DOSE object (docs/evaluation-contract.md), plus the cell, its source and mg per 4 weeks.

    ``injections`` splits ``dose_mg`` when there is one, else the nearest cell
    shown for reference (so a clinician sees what that cell would take), else nothing.
    ``cell`` names the printed bands behind ``dose_mg`` or ``nearest_cell``.
    """

    dose_mg: int | None
    interval_weeks: int | None
    table: str
    within_table: bool
    nearest_cell: Regimen | None
    injections: tuple[Injection, ...]
    warnings: tuple[str, ...]
    cell: tuple[str, str] | None
    source: str
    dose_options_mg: tuple[int, ...] | None = None
    summary: str = ""
    references: tuple[str, ...] = ()

    @property
    def mg_per_4_weeks(self) -> int | None:
        if self.dose_mg is None or self.interval_weeks is None:
            return None
        return Regimen(self.dose_mg, self.interval_weeks).mg_per_4_weeks

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "dose_mg": self.dose_mg,
            "interval_weeks": self.interval_weeks,
            "table": self.table,
            "within_table": self.within_table,
            "nearest_cell": self.nearest_cell.as_dict() if self.nearest_cell else None,
            "injections": [injection.as_dict() for injection in self.injections],
            "warnings": list(self.warnings),
            "cell": {"ige_band": self.cell[0], "weight_band": self.cell[1]} if self.cell else None,
            "mg_per_4_weeks": self.mg_per_4_weeks,
            "source": self.source,
            "summary": self.summary,
            "references": reference_dicts(self.references),
        }
        if self.dose_options_mg is not None:
            result["dose_options_mg"] = list(self.dose_options_mg)
        return result


_SHORT_TITLES = {EU_ASTHMA: "EU SmPC asthma dosing table", US_ASTHMA: "US prescribing information asthma dosing table"}


def _outside_warning(what: str, value: float, unit: str, limits: tuple[float, float], table: DoseTable) -> str:
    low, high = limits
    side = "below" if value < low else "above"
    return (
        f"{what} {fmt(value, unit)} is {side} the {table.id} table ({what} {low:g}-{high:g} {unit}): "
        f"outside the label table; {table.outside_rule}"
    )


def _clamp(value: float, limits: tuple[float, float]) -> float:
    return min(max(value, limits[0]), limits[1])


def omalizumab_dose(
    ige_iu_ml: float | None,
    weight_kg: float | None,
    table: str = EU_ASTHMA,
    *,
    indication_off_label: bool = False,
    syringes: str = SYRINGES_LABEL,
    age_years: float | None = None,
) -> Dose | None:
    """The label dose for a baseline total IgE and body weight, or ``None`` when either is missing.

    Outside the table: ``within_table`` false, no dose, and ``nearest_cell`` the
    cell after clamping IgE and weight to the table limits (``None`` when that
    cell has no printed dose). Inside but in a 'do not administer' cell: no dose.
    """
    grid = dose_table(table)
    if syringes not in SYRINGE_CHOICES:
        raise DoseInputError("syringes", syringes, ", ".join(SYRINGE_CHOICES))
    if ige_iu_ml is None or weight_kg is None:
        return None
    ige = checked_number("IgE", ige_iu_ml, IGE_PLAUSIBLE_IU_ML, "IU/mL")
    weight = checked_number("weight", weight_kg, WEIGHT_PLAUSIBLE_KG, "kg")
    if age_years is not None:
        age_years = checked_number("age", age_years, AGE_PLAUSIBLE_YEARS, "years")

    warnings: list[str] = []
    if indication_off_label:
        warnings.append(OFF_LABEL_WARNING)
    if age_years is not None and age_years < grid.minimum_age_years:
        warnings.append(
            f"age {fmt(age_years, 'years')}: the {grid.id} table is for patients aged "
            f"{grid.minimum_age_years:g} years and older"
        )

    index = grid.cell_index(ige, weight)
    within = index is not None
    if index is None:
        if ige != _clamp(ige, grid.ige_limits):
            warnings.append(_outside_warning("IgE", ige, "IU/mL", grid.ige_limits, grid))
        if weight != _clamp(weight, grid.weight_limits):
            warnings.append(_outside_warning("weight", weight, "kg", grid.weight_limits, grid))
        index = grid.cell_index(_clamp(ige, grid.ige_limits), _clamp(weight, grid.weight_limits))
        assert index is not None  # clamped values lie on the (inclusive) outer band edges
    row, column = index
    cell = (grid.ige_bands[row].label, grid.weight_bands[column].label)
    regimen = grid.cells[row][column]

    if regimen is None:
        where = "" if within else "nearest "
        warnings.append(
            f"the {where}cell (IgE {cell[0]} IU/mL, weight {cell[1]} kg) of the {grid.id} table is "
            f"'{grid.no_dose_text}': no dose is given"
        )
    elif not within:
        warnings.append(
            f"nearest cell (IgE {cell[0]} IU/mL, weight {cell[1]} kg) = {regimen}, shown for reference only: "
            "it is not a label dose for these values and nothing is extrapolated"
        )
    if regimen is not None and cell in grid.cells_to_check:
        warnings.append(
            f"cell (IgE {cell[0]} IU/mL, weight {cell[1]} kg) = {regimen} is not yet confirmed against the "
            "official label PDF (one transcription plus the table's own dosing principle): verify before use"
        )
    for edge_weight, note in grid.edge_notes:
        if weight == edge_weight:
            warnings.append(f"weight {fmt(weight, 'kg')}: {note}")
    if grid.low_ige_below is not None:
        child = (
            age_years is not None
            and grid.children_below_years is not None
            and grid.minimum_age_years <= age_years < grid.children_below_years
        )
        threshold = grid.low_ige_below_children if child else grid.low_ige_below
        if threshold is not None and ige < threshold:
            warnings.append(
                f"IgE {fmt(ige, 'IU/mL')} < {threshold:g} IU/mL: benefit less likely; in asthma the label asks for "
                f"unequivocal in vitro reactivity to a perennial allergen ({grid.low_ige_source})"
            )

    conversion = grid.syringes if syringes == SYRINGES_LABEL else _SYRINGE_TABLES[syringes]
    injections = syringe_split(conversion)[regimen.dose_mg] if regimen is not None else ()
    values = f"IgE {fmt(ige, 'IU/mL')}, weight {fmt(weight, 'kg')}"
    name = _SHORT_TITLES.get(grid.id, f"{grid.id} table")
    if within and regimen is not None:
        summary = f"Omalizumab {regimen} by the {name} ({values})"
    elif within:
        summary = f"Omalizumab: no dose; the {name} says '{grid.no_dose_text}' for {values}"
    else:
        nearest = f"; the nearest cell, {regimen}, is shown for reference only" if regimen is not None else ""
        summary = f"Omalizumab: no label dose; {values} lie outside the {name}, and nothing is extrapolated{nearest}"
    summary += ". Off-label: no label indication for mastocytosis, idiopathic anaphylaxis or MCAS." if indication_off_label else "."
    source, references = _cite(grid.citation, syringe_citation(conversion))
    return Dose(
        dose_mg=regimen.dose_mg if within and regimen else None,
        interval_weeks=regimen.interval_weeks if within and regimen else None,
        table=grid.id,
        within_table=within,
        nearest_cell=regimen if not within else None,
        injections=injections,
        warnings=tuple(warnings),
        cell=cell,
        source=source,
        references=references,
        summary=summary,
    )


def omalizumab_csu_dose(label: str = "eu", *, syringes: str = SYRINGES_LABEL) -> Dose:
    """The fixed chronic-spontaneous-urticaria dose (independent of IgE and weight).

    The US PI allows 150 or 300 mg; ``dose_mg`` is 300 mg, the dose both labels
    share, and ``dose_options_mg`` lists every label option.
    """
    if label not in CSU_LABELS:
        raise DoseInputError("label", label, ", ".join(CSU_LABELS))
    if syringes not in SYRINGE_CHOICES:
        raise DoseInputError("syringes", syringes, ", ".join(SYRINGE_CHOICES))
    data = _read("omalizumab_csu.json")[label]
    options = tuple(data["dose_options_mg"])
    dose = max(options)
    conversion = data["syringes"] if syringes == SYRINGES_LABEL else _SYRINGE_TABLES[syringes]
    warnings = [f"{data['title']}: {data['note']}"]
    source, references = _cite(data["source"], syringe_citation(conversion))
    return Dose(
        dose_mg=dose,
        interval_weeks=data["interval_weeks"],
        table=data["id"],
        within_table=True,
        nearest_cell=None,
        injections=syringe_split(conversion)[dose],
        warnings=tuple(warnings),
        cell=None,
        source=source,
        dose_options_mg=options,
        references=references,
    )
