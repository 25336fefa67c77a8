"""``mastcds dose omalizumab`` and ``mastcds dose epinephrine`` through Typer's runner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mastcds.cli import app
from mastcds.rules.dosing.epinephrine import epinephrine_autoinjector
from mastcds.rules.dosing.omalizumab import omalizumab_dose

runner = CliRunner()
DOSE_KEYS = {"dose_mg", "interval_weeks", "table", "within_table", "nearest_cell", "injections", "warnings"}


def run(*args: str):
    return runner.invoke(app, ["dose", *args])


def test_json_prints_the_dose_object() -> None:
    done = run("omalizumab", "--ige", "25", "--weight", "106", "--format", "json")
    assert done.exit_code == 0, done.output
    body = json.loads(done.stdout)
    assert DOSE_KEYS <= set(body)
    assert body == omalizumab_dose(25, 106, indication_off_label=True).as_dict()
    assert body["nearest_cell"] == {"dose_mg": 300, "interval_weeks": 4}


def test_asthma_indication_and_us_table() -> None:
    done = run("omalizumab", "--ige", "250", "--weight", "65", "--table", "us-pi-asthma", "--indication", "asthma", "-f", "json")
    body = json.loads(done.stdout)
    assert (body["dose_mg"], body["interval_weeks"], body["table"]) == (225, 2, "us-pi-asthma")
    assert not any("off-label" in w for w in body["warnings"])


def test_text_output_is_a_table_with_the_warnings() -> None:
    done = run("omalizumab", "--ige", "25", "--weight", "106")
    assert done.exit_code == 0
    for fragment in ("Omalizumab, eu-smpc-asthma", "nearest cell", "300 mg every 4 weeks", "2 x 150 mg", "off-label"):
        assert fragment in done.stdout
    inside = run("omalizumab", "--ige", "650", "--weight", "85", "--age", "40", "--syringes", "75-150-300")
    assert "525 mg every 2 weeks" in inside.stdout and "1 x 300 mg" in inside.stdout


def test_csu_needs_no_ige_or_weight() -> None:
    done = run("omalizumab", "--indication", "csu", "-f", "json")
    body = json.loads(done.stdout)
    assert (body["dose_mg"], body["interval_weeks"], body["table"]) == (300, 4, "eu-smpc-csu")
    us = run("omalizumab", "--indication", "csu", "--table", "us-pi-asthma")
    assert "150 mg, 300 mg" in us.stdout


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--ige", "abc", "--weight", "70"], ["--ige", "'abc'", "0-100000", "IU/mL"]),
        (["--ige", "-5", "--weight", "70"], ["--ige", "'-5'", "0-100000"]),
        (["--ige", "nan", "--weight", "70"], ["--ige", "'nan'"]),
        (["--ige", "100", "--weight", "0"], ["--weight", "'0'", "0.5-400", "kg"]),
        (["--ige", "100", "--weight", "70", "--age", "200"], ["--age", "'200'", "0-120"]),
        (["--weight", "70"], ["--ige", "required"]),
        (["--ige", "100"], ["--weight", "required"]),
    ],
)
def test_bad_numbers_exit_2_naming_the_field_value_and_range(args: list[str], fragments: list[str]) -> None:
    done = run("omalizumab", *args)
    assert done.exit_code == 2
    assert "Traceback" not in done.output
    for fragment in fragments:
        assert fragment in done.stderr


def test_unknown_table_choice_exits_2() -> None:
    assert run("omalizumab", "--ige", "100", "--weight", "70", "--table", "jp").exit_code == 2


def test_epinephrine_json_and_text() -> None:
    done = run("epinephrine", "--weight", "106", "--format", "json")
    assert done.exit_code == 0
    assert json.loads(done.stdout) == epinephrine_autoinjector(106, None).as_dict()
    text = run("epinephrine", "--weight", "20", "--jurisdiction", "us")
    assert "0.15 mg, 2 devices" in text.stdout
    infant = run("epinephrine", "--weight", "6")
    assert "no device" in infant.stdout and "specialist decision" in infant.stdout
    by_age = json.loads(run("epinephrine", "--age", "8", "-f", "json").stdout)
    assert by_age["dose_mg"] == 0.3


def test_epinephrine_bad_weight_exits_2() -> None:
    done = run("epinephrine", "--weight", "-1")
    assert done.exit_code == 2 and "--weight" in done.stderr and "0.5-400" in done.stderr
