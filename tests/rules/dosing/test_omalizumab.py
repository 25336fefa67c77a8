"""Omalizumab label tables, cell by cell and edge by edge, from the printed grids.

The expected grids below are typed from docs/anaphylaxis-treatment-reference.md
§5.2 (EU SmPC Tables 2-3) and §5.4 (US PI), independently of the data files
the module reads, so a transcription slip in either shows up here.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mastcds.rules.dosing.inputs import DoseInputError
from mastcds.rules.dosing.omalizumab import (
    EU_ASTHMA,
    US_ASTHMA,
    Injection,
    Regimen,
    dose_table,
    omalizumab_csu_dose,
    omalizumab_dose,
    syringe_split,
)

EU_IGE = [(30, 100), (100, 200), (200, 300), (300, 400), (400, 500), (500, 600), (600, 700), (700, 800),
          (800, 900), (900, 1000), (1000, 1100), (1100, 1200), (1200, 1300), (1300, 1500)]
EU_WEIGHT = [(20, 25), (25, 30), (30, 40), (40, 50), (50, 60), (60, 70), (70, 80), (80, 90), (90, 125), (125, 150)]
EU_GRID = """
75/4  75/4  75/4  150/4 150/4 150/4 150/4 150/4 300/4 300/4
150/4 150/4 150/4 300/4 300/4 300/4 300/4 300/4 450/4 600/4
150/4 150/4 225/4 300/4 300/4 450/4 450/4 450/4 600/4 375/2
225/4 225/4 300/4 450/4 450/4 450/4 600/4 600/4 450/2 525/2
225/4 300/4 450/4 450/4 600/4 600/4 375/2 375/2 525/2 600/2
300/4 300/4 450/4 600/4 600/4 375/2 450/2 450/2 600/2 DNA
300/4 225/2 450/4 600/4 375/2 450/2 450/2 525/2 DNA   DNA
225/2 225/2 300/2 375/2 450/2 450/2 525/2 600/2 DNA   DNA
225/2 225/2 300/2 375/2 450/2 525/2 600/2 DNA   DNA   DNA
225/2 300/2 375/2 450/2 525/2 600/2 DNA   DNA   DNA   DNA
225/2 300/2 375/2 450/2 600/2 DNA   DNA   DNA   DNA   DNA
300/2 300/2 450/2 525/2 600/2 DNA   DNA   DNA   DNA   DNA
300/2 375/2 450/2 525/2 DNA   DNA   DNA   DNA   DNA   DNA
300/2 375/2 525/2 600/2 DNA   DNA   DNA   DNA   DNA   DNA
"""
US_IGE = [(30, 100), (100, 200), (200, 300), (300, 400), (400, 500), (500, 600), (600, 700)]
US_WEIGHT = [(30, 60), (60, 70), (70, 90), (90, 150)]
US_GRID = """
150/4 150/4 150/4 300/4
300/4 300/4 300/4 225/2
300/4 225/2 225/2 300/2
225/2 225/2 300/2 DND
300/2 300/2 375/2 DND
300/2 375/2 DND   DND
375/2 DND   DND   DND
"""


def parse(grid: str) -> list[list[tuple[int, int] | None]]:
    rows = []
    for line in grid.strip().splitlines():
        cells = []
        for cell in line.split():
            if cell in {"DNA", "DND"}:
                cells.append(None)
            else:
                dose, interval = cell.split("/")
                cells.append((int(dose), int(interval)))
        rows.append(cells)
    return rows


EU_CELLS = parse(EU_GRID)
US_CELLS = parse(US_GRID)
TABLES = {EU_ASTHMA: (EU_IGE, EU_WEIGHT, EU_CELLS), US_ASTHMA: (US_IGE, US_WEIGHT, US_CELLS)}


def all_cells(table: str) -> list[tuple[str, int, int]]:
    ige, weight, _ = TABLES[table]
    return [(table, i, j) for i in range(len(ige)) for j in range(len(weight))]


def test_expected_grids_have_the_printed_shape_and_dna_count() -> None:
    assert len(EU_CELLS) == 14 and all(len(row) == 10 for row in EU_CELLS)
    assert sum(cell is None for row in EU_CELLS for cell in row) == 34  # 106 dosed cells, 34 DNA
    assert len(US_CELLS) == 7 and all(len(row) == 4 for row in US_CELLS)


def expect(dose, cell: tuple[int, int] | None) -> None:
    assert dose.within_table is True
    assert dose.nearest_cell is None
    if cell is None:
        assert dose.dose_mg is None and dose.interval_weeks is None and dose.injections == ()
        assert any("do not" in warning for warning in dose.warnings), dose.warnings
    else:
        assert (dose.dose_mg, dose.interval_weeks) == cell
        assert sum(i.syringe_mg * i.count for i in dose.injections) == cell[0]


@pytest.mark.parametrize(("table", "i", "j"), all_cells(EU_ASTHMA) + all_cells(US_ASTHMA))
def test_every_cell_at_its_middle_and_its_inclusive_upper_corner(table: str, i: int, j: int) -> None:
    ige_bands, weight_bands, cells = TABLES[table]
    (ige_low, ige_high), (weight_low, weight_high) = ige_bands[i], weight_bands[j]
    for ige, weight in (
        ((ige_low + ige_high) / 2, (weight_low + weight_high) / 2),
        (ige_high, weight_high),  # upper edges belong to the band
        (ige_low + 1e-4, weight_low + 1e-4),
    ):
        expect(omalizumab_dose(ige, weight, table), cells[i][j])


@pytest.mark.parametrize("table", [EU_ASTHMA, US_ASTHMA])
def test_a_lower_edge_belongs_to_the_band_below_except_the_first_band(table: str) -> None:
    ige_bands, weight_bands, cells = TABLES[table]
    for i in range(1, len(ige_bands)):
        dose = omalizumab_dose(ige_bands[i][0], weight_bands[0][1], table)
        expect(dose, cells[i - 1][0])
    for j in range(1, len(weight_bands)):
        dose = omalizumab_dose(ige_bands[0][1], weight_bands[j][0], table)
        expect(dose, cells[0][j - 1])
    expect(omalizumab_dose(ige_bands[0][0], weight_bands[0][0], table), cells[0][0])  # '>=30', '>=20' / '30-60'


@pytest.mark.parametrize(
    ("ige", "weight", "expected"),
    [
        (30, 20, (75, 4)),  # exactly the lower limits: '>=30-100' x '>=20-25'
        (100, 25, (75, 4)),
        (100.0001, 25, (150, 4)),
        (100, 25.0001, (75, 4)),
        (1500, 20, (300, 2)),
        (1500, 50, (600, 2)),
        (1300.0001, 50, (600, 2)),
        (1300, 50, (525, 2)),
        (90, 150, (300, 4)),
        (600.0001, 25.0001, (225, 2)),  # the isolated 2-weekly cell between two 4-weekly cells
        (600, 25.0001, (300, 4)),
        (700, 30.0001, (450, 4)),
    ],
)
def test_eu_band_edges(ige: float, weight: float, expected: tuple[int, int]) -> None:
    expect(omalizumab_dose(ige, weight), expected)


@pytest.mark.parametrize(
    ("ige", "weight", "which"),
    [(29.9999, 50, "IgE"), (1500.1, 50, "IgE"), (100, 19.9999, "weight"), (100, 150.1, "weight")],
)
def test_eu_just_outside_the_limits_gives_no_dose(ige: float, weight: float, which: str) -> None:
    dose = omalizumab_dose(ige, weight)
    assert dose.within_table is False and dose.dose_mg is None and dose.interval_weeks is None
    assert any(warning.startswith(which) and "outside the label table" in warning for warning in dose.warnings)
    assert any("30-1500 IU/mL" in w or "20-150 kg" in w for w in dose.warnings)


def test_exactly_20_kg_is_inside_and_flagged_because_the_2015_smpc_printed_more_than_20() -> None:
    dose = omalizumab_dose(50, 20)
    assert (dose.dose_mg, dose.within_table) == (75, True)
    assert any("2015" in warning for warning in dose.warnings)
    assert not any("2015" in warning for warning in omalizumab_dose(50, 20.0001).warnings)


@pytest.mark.parametrize(
    ("ige", "weight", "expected"),
    [(30, 30, (150, 4)), (29.99, 45, None), (700, 30, (375, 2)), (700.1, 30, None), (100, 150, (300, 4)),
     (100, 150.1, None), (100, 29.99, None), (300, 60, (300, 4)), (300, 60.0001, (225, 2))],
)
def test_us_band_edges(ige: float, weight: float, expected: tuple[int, int] | None) -> None:
    dose = omalizumab_dose(ige, weight, US_ASTHMA)
    if expected is None:
        assert dose.within_table is False and dose.dose_mg is None
    else:
        expect(dose, expected)


def test_seed_case_is_outside_both_tables_with_the_nearest_cell_the_authors_gave() -> None:
    dose = omalizumab_dose(25, 106, indication_off_label=True)
    body = dose.as_dict()
    assert body["within_table"] is False
    assert body["dose_mg"] is None and body["interval_weeks"] is None
    assert body["nearest_cell"] == {"dose_mg": 300, "interval_weeks": 4}
    assert body["injections"] == [{"syringe_mg": 150, "count": 2}]
    assert body["table"] == "eu-smpc-asthma"
    assert body["cell"] == {"ige_band": ">=30-100", "weight_band": ">90-125"}
    assert any("IgE 25 IU/mL is below" in w for w in body["warnings"])
    assert any(w.startswith("off-label") for w in body["warnings"])
    assert any("< 76 IU/mL" in w for w in body["warnings"])
    us = omalizumab_dose(25, 106, US_ASTHMA)
    assert us.nearest_cell == Regimen(300, 4) and us.injections == (Injection(300, 1),)


def test_contract_keys_are_exactly_present() -> None:
    body = omalizumab_dose(250, 65).as_dict()
    for key in ("dose_mg", "interval_weeks", "table", "within_table", "nearest_cell", "injections", "warnings"):
        assert key in body
    assert body["dose_mg"] == 450 and body["interval_weeks"] == 4 and body["mg_per_4_weeks"] == 450
    assert omalizumab_dose(250, 65, US_ASTHMA).as_dict()["mg_per_4_weeks"] == 450  # 225 q2w, same monthly amount


def test_dna_inside_the_table() -> None:
    dose = omalizumab_dose(1000, 100)
    assert dose.within_table is True and dose.dose_mg is None and dose.nearest_cell is None
    assert any("do not administer" in warning for warning in dose.warnings)


def test_outside_the_table_where_the_clamped_cell_is_dna_gives_no_nearest_cell() -> None:
    dose = omalizumab_dose(2000, 140)
    assert dose.within_table is False and dose.nearest_cell is None and dose.injections == ()
    assert any("nearest cell" in warning and "do not administer" in warning for warning in dose.warnings)


def test_outside_by_weight_only_clamps_weight() -> None:
    dose = omalizumab_dose(50, 170)
    assert dose.nearest_cell == Regimen(300, 4) and dose.cell == (">=30-100", ">125-150")
    assert [w for w in dose.warnings if w.startswith("weight 170 kg is above")]
    assert not [w for w in dose.warnings if w.startswith("IgE") and "outside" in w]
    both = omalizumab_dose(10, 10)
    assert both.nearest_cell == Regimen(75, 4)
    assert sum("outside the label table" in w for w in both.warnings) == 2


@pytest.mark.parametrize(("ige", "warned"), [(75.9999, True), (76, False), (30, True), (25, True)])
def test_low_ige_warning_below_76_in_the_eu_table(ige: float, warned: bool) -> None:
    assert any("< 76 IU/mL" in w for w in omalizumab_dose(ige, 60).warnings) is warned
    assert not any("< 76" in w for w in omalizumab_dose(ige, 60, US_ASTHMA).warnings)


@pytest.mark.parametrize(("age", "ige", "threshold"), [(8, 199.9, 200), (11.9, 150, 200), (12, 150, None), (8, 200, None)])
def test_children_6_to_12_are_warned_below_200(age: float, ige: float, threshold: int | None) -> None:
    warnings = omalizumab_dose(ige, 30, age_years=age).warnings
    assert any("< 200 IU/mL" in w for w in warnings) is (threshold is not None)


@pytest.mark.parametrize(("table", "age", "warned"), [(EU_ASTHMA, 5.9, True), (EU_ASTHMA, 6, False), (US_ASTHMA, 11.9, True), (US_ASTHMA, 12, False)])
def test_age_below_the_table_range_is_warned(table: str, age: float, warned: bool) -> None:
    warnings = omalizumab_dose(100, 40, table, age_years=age).warnings
    assert any("aged" in w for w in warnings) is warned


def test_missing_ige_or_weight_gives_none() -> None:
    assert omalizumab_dose(None, 70) is None
    assert omalizumab_dose(100, None) is None
    assert omalizumab_dose(None, None, US_ASTHMA) is None


@pytest.mark.parametrize(
    ("ige", "weight", "field"),
    [(-1, 70, "IgE"), (math.nan, 70, "IgE"), (math.inf, 70, "IgE"), (100000.1, 70, "IgE"), (True, 70, "IgE"),
     (100, 0.4, "weight"), (100, -70, "weight"), (100, 400.1, "weight"), (100, "70", "weight")],
)
def test_impossible_inputs_raise_naming_the_field_the_value_and_the_range(ige, weight, field: str) -> None:
    with pytest.raises(DoseInputError) as error:
        omalizumab_dose(ige, weight)
    assert error.value.field == field
    assert str(error.value).startswith(field) and repr(error.value.value) in str(error.value)
    assert "-" in error.value.accepted


def test_unknown_table_syringes_or_label_raise() -> None:
    with pytest.raises(DoseInputError, match="eu-smpc-asthma, us-pi-asthma"):
        omalizumab_dose(100, 70, "jp-asthma")
    with pytest.raises(DoseInputError, match="syringes"):
        omalizumab_dose(100, 70, syringes="200")
    with pytest.raises(DoseInputError, match="label"):
        omalizumab_csu_dose("jp")
    with pytest.raises(DoseInputError, match="syringes"):
        omalizumab_csu_dose("eu", syringes="1")


EU_TABLE_1 = {75: {75: 1}, 150: {150: 1}, 225: {75: 1, 150: 1}, 300: {150: 2}, 375: {75: 1, 150: 2},
              450: {150: 3}, 525: {75: 1, 150: 3}, 600: {150: 4}}
US_SYRINGES = {75: {75: 1}, 150: {150: 1}, 225: {75: 1, 150: 1}, 300: {300: 1}, 375: {75: 1, 300: 1},
               450: {150: 1, 300: 1}, 525: {75: 1, 150: 1, 300: 1}, 600: {300: 2}}


@pytest.mark.parametrize(("conversion", "expected"), [("eu-smpc-table1", EU_TABLE_1), ("us-pi", US_SYRINGES)])
def test_every_row_of_the_syringe_tables(conversion: str, expected: dict[int, dict[int, int]]) -> None:
    split = syringe_split(conversion)
    assert set(split) == set(expected)
    for dose, counts in expected.items():
        assert {i.syringe_mg: i.count for i in split[dose]} == counts
        assert sum(size * count for size, count in counts.items()) == dose


def test_syringe_choices() -> None:
    assert omalizumab_dose(1400, 45, syringes="75-150-300").injections == (Injection(300, 2),)
    assert omalizumab_dose(1400, 45).injections == (Injection(150, 4),)
    assert omalizumab_dose(1300, 45, syringes="75-150-300").injections == (Injection(75, 1), Injection(150, 1), Injection(300, 1))
    assert omalizumab_dose(450, 80, US_ASTHMA, syringes="75-150").injections == (Injection(75, 1), Injection(150, 2))


def test_csu_fixed_doses() -> None:
    eu = omalizumab_csu_dose("eu").as_dict()
    assert (eu["dose_mg"], eu["interval_weeks"], eu["within_table"], eu["table"]) == (300, 4, True, "eu-smpc-csu")
    assert eu["injections"] == [{"syringe_mg": 150, "count": 2}] and eu["dose_options_mg"] == [300]
    us = omalizumab_csu_dose("us").as_dict()
    assert (us["dose_mg"], us["dose_options_mg"], us["injections"]) == (300, [150, 300], [{"syringe_mg": 300, "count": 1}])
    assert any("150 mg or 300 mg" in w for w in us["warnings"])


def test_the_three_unconfirmed_cells_carry_a_warning_and_others_do_not() -> None:
    for ige in (550, 650, 750):
        assert any("not yet confirmed" in w for w in omalizumab_dose(ige, 85).warnings)
    assert not any("not yet confirmed" in w for w in omalizumab_dose(550, 75).warnings)


# The dosing principle (S: docs §5.1): >= 0.016 mg/kg per IU/mL per 4 weeks at a cell's upper corner.
PRINCIPLE_MG_PER_KG_PER_IU = 0.016
# The US grid's wide >90-150 kg column falls short of it at 150 kg in two printed cells.
US_CELLS_BELOW_PRINCIPLE = {(">100-200", ">90-150"), (">200-300", ">90-150")}


@pytest.mark.parametrize(
    ("table", "maximum_per_4_weeks", "exceptions"),
    [(EU_ASTHMA, 1200, set()), (US_ASTHMA, 750, US_CELLS_BELOW_PRINCIPLE)],
)
def test_the_grid_follows_its_dosing_principle(table: str, maximum_per_4_weeks: int, exceptions: set) -> None:
    """Every dosed cell gives the principle's amount at its upper corner and every no-dose cell would need more than
    the table's maximum: an independent check of the transcription, including the three unconfirmed EU cells."""
    grid = dose_table(table)
    below = set()
    for i, ige_band in enumerate(grid.ige_bands):
        for j, weight_band in enumerate(grid.weight_bands):
            needed = PRINCIPLE_MG_PER_KG_PER_IU * ige_band.upper * weight_band.upper
            cell = grid.cells[i][j]
            if cell is None:
                assert needed > maximum_per_4_weeks, (ige_band.label, weight_band.label)
            elif cell.mg_per_4_weeks < needed:
                below.add((ige_band.label, weight_band.label))
    assert below == exceptions


def per_4_weeks(dose) -> float:
    return math.inf if dose.dose_mg is None else dose.dose_mg * 4 / dose.interval_weeks


PRINTED = {
    EU_ASTHMA: {cell for row in EU_CELLS for cell in row if cell},
    US_ASTHMA: {cell for row in US_CELLS for cell in row if cell},
}
inside_ige = st.floats(min_value=30, max_value=1500, allow_nan=False)
inside_weight = st.floats(min_value=20, max_value=150, allow_nan=False)


@given(st.sampled_from([EU_ASTHMA, US_ASTHMA]), inside_ige, inside_ige, inside_weight, inside_weight)
def test_in_table_doses_are_printed_values_and_monotone(table: str, ige_a: float, ige_b: float, w_a: float, w_b: float) -> None:
    low_ige, high_ige = sorted((ige_a, ige_b))
    low_w, high_w = sorted((w_a, w_b))
    base = omalizumab_dose(low_ige, low_w, table)
    more_ige = omalizumab_dose(high_ige, low_w, table)
    more_weight = omalizumab_dose(low_ige, high_w, table)
    for dose in (base, more_ige, more_weight):
        if dose.within_table and dose.dose_mg is not None:
            assert (dose.dose_mg, dose.interval_weeks) in PRINTED[table]
    if all(d.within_table for d in (base, more_ige, more_weight)):
        assert per_4_weeks(base) <= per_4_weeks(more_ige)
        assert per_4_weeks(base) <= per_4_weeks(more_weight)


@given(
    st.sampled_from([EU_ASTHMA, US_ASTHMA]),
    st.floats(min_value=0, max_value=100000, allow_nan=False),
    st.floats(min_value=0.5, max_value=400, allow_nan=False),
)
def test_never_extrapolates(table: str, ige: float, weight: float) -> None:
    dose = omalizumab_dose(ige, weight, table, indication_off_label=True)
    grid = dose_table(table)
    inside = grid.ige_limits[0] <= ige <= grid.ige_limits[1] and grid.weight_limits[0] <= weight <= grid.weight_limits[1]
    assert dose.within_table is inside
    if not inside:
        assert dose.dose_mg is None and dose.interval_weeks is None
        if dose.nearest_cell is not None:
            assert (dose.nearest_cell.dose_mg, dose.nearest_cell.interval_weeks) in PRINTED[table]
    assert dose.dose_mg is None or dose.dose_mg <= 600
    assert dose.warnings[0].startswith("off-label")
