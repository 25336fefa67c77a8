"""``mastcds rema``: the score, its caveat beside it, and each item given one way, the other, or not at all."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from mastcds.cli import app


def rema(*args: str):
    return CliRunner().invoke(app, ["rema", *args], env={"COLUMNS": "100"})


def test_the_seed_patient_scores_7_with_the_population_caveat_under_the_score() -> None:
    done = rema("--sex", "male", "--no-urticaria-angioedema", "--syncope", "--tryptase", "50.9")
    assert done.exit_code == 0, done.output
    first, second = done.output.splitlines()[:2]
    assert "REMA score 7" in first and "without skin lesions" in second


def test_an_item_given_neither_way_is_unknown_and_the_score_a_range() -> None:
    body = json.loads(rema("--sex", "male", "--tryptase", "50.9", "-f", "json").output)
    assert body["score"] is None and body["min"] < body["max"]
    given = json.loads(rema("--sex", "male", "--urticaria-angioedema", "--no-syncope", "--tryptase", "10", "-f", "json").output)
    assert given["score"] is not None


def test_an_item_given_both_ways_is_refused() -> None:
    done = rema("--syncope", "--no-syncope")
    assert done.exit_code == 2 and "--syncope and --no-syncope" in done.stderr
