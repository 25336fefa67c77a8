"""Invariants over any partly recorded episode: a determinate verdict holds for every completion."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from mastcds.rules.anaphylaxis import niaid2006 as niaid
from mastcds.rules.anaphylaxis import wao2020 as wao
from mastcds.rules.logic import MET, NOT_MET, UNKNOWN, any_of
from tests.rules.anaphylaxis.episodes import completion, partial_findings


@settings(max_examples=400)
@given(st.data())
def test_determinate_verdicts_survive_every_completion(data: st.DataObject) -> None:
    f = data.draw(partial_findings())
    done = data.draw(completion(f))
    for guideline in (wao, niaid):
        partial, complete = guideline.anaphylaxis(f), guideline.anaphylaxis(done)
        for before, after in zip(partial.criteria, complete.criteria):
            if before.status is not UNKNOWN:
                assert after.status is before.status, (guideline.__name__, before, after)


@given(partial_findings())
def test_verdict_is_the_or_of_the_criteria_and_every_criterion_is_explained(f) -> None:
    for guideline in (wao, niaid):
        result = guideline.anaphylaxis(f)
        assert result.status is any_of(*(c.status for c in result.criteria))
        assert all(c.reason and c.source for c in result.criteria)


@given(partial_findings())
def test_no_trigger_identified_leaves_only_criterion_1(f) -> None:
    idiopathic = replace(f, trigger="none_identified")
    assert wao.anaphylaxis(idiopathic).status is wao.criterion_1(idiopathic).status
    assert niaid.anaphylaxis(idiopathic).status is niaid.criterion_1(idiopathic).status


@given(partial_findings())
def test_criterion_1_needs_the_skin(f) -> None:
    no_skin = replace(f, urticaria=False, angioedema=False, flushing=False, pruritus=False)
    assert wao.criterion_1(no_skin).status is NOT_MET
    assert niaid.criterion_1(no_skin).status is NOT_MET
    # NIAID criterion 1 is WAO criterion 1 without the gastrointestinal route
    if niaid.criterion_1(f).status is MET:
        assert wao.criterion_1(f).status is MET
