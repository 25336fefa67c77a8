"""summarize_facts pauses the cyclic garbage collector while the rules run, and gives it back as it found it."""

from __future__ import annotations

import gc

import pytest

from mastcds.screen.patients import summarize_facts
from mastcds.screen.types import KIND_PATIENT, Fact


def _rows(patients: int) -> list[tuple]:
    return [tuple(Fact(f"p{n}", KIND_PATIENT, f"p{n}", gender="female")) for n in range(patients)]


@pytest.fixture
def collector_state():
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_paused_while_the_rules_run_and_enabled_after(collector_state):
    gc.enable()
    states = [gc.isenabled() for _ in summarize_facts(_rows(3))]
    assert states == [False, False, False]
    assert gc.isenabled()


def test_a_run_stopped_early_gives_the_collector_back(collector_state):
    gc.enable()
    summaries = summarize_facts(_rows(3))
    next(summaries)
    summaries.close()
    assert gc.isenabled()


def test_a_caller_who_paused_the_collector_finds_it_paused(collector_state):
    gc.disable()
    assert len(list(summarize_facts(_rows(2)))) == 2
    assert not gc.isenabled()
