"""Screening rules: which patients in an export may have a missed clonal mast-cell disease.

Each rule is a function of one :class:`PatientRecord` returning a :class:`Finding` (fired, with
its evidence) or None. The tryptase, REMA, HαT and hypotension logic is the engine's own
(``mastcds.rules``), called here, never re-implemented. A rule fires only on recorded facts: an
unknown finding never counts for or against a patient. Patients with a recorded mastocytosis
diagnosis are not screened (the worklist is of *missed* cases).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mastcds.rules.anaphylaxis.findings import below_age_limit
from mastcds.rules.anaphylaxis.wao2020 import systolic_limit_mmhg
from mastcds.rules.mediators.hat import hat_adjusted_tryptase
from mastcds.rules.logic import MET
from mastcds.rules.anaphylaxis.rema import REMA_CLONAL_CUTOFF, rema_score
from mastcds.rules.mediators.tryptase import rise_meets_20_plus_2
from mastcds.screen.records import Episode, PatientRecord

_CRITERIA = "docs/criteria-reference.md"

# Two or more episodes make anaphylaxis recurrent (issue 6 screening definition); recurrent or
# severe unexplained anaphylaxis calls for a basal tryptase first (ECNM algorithm, Valent et al.,
# Am J Blood Res 2013, https://pmc.ncbi.nlm.nih.gov/articles/PMC3649810/figure/fig01; §6.1).
RECURRENT_EPISODES = 2
# WHO 2016/2022 and ICC minor criterion: basal tryptase > 20 ng/mL, HαT-adjusted when the genotype
# is known (WHO 2022; JACI Pract 2022;10:1964-73 Table 1; §1.3).
BASAL_TRYPTASE_LIMIT_NG_ML = 20.0

PRIORITY_HIGH, PRIORITY_MEDIUM, PRIORITY_LOW = 1, 2, 3


@dataclass(frozen=True)
class ScreeningRule:
    id: str
    title: str
    priority: int
    source: str


RULES = {
    rule.id: rule
    for rule in (
        ScreeningRule("recurrent-anaphylaxis-no-baseline-tryptase",
                      "Recurrent anaphylaxis, or anaphylaxis with hypotension or syncope without urticaria or "
                      "angioedema, and no basal tryptase on record", PRIORITY_LOW,
                      f"ECNM algorithm (Valent, Am J Blood Res 2013, PMC3649810 fig 1); Zanotti 2015 ({_CRITERIA} §6.1-6.2)"),
        ScreeningRule("baseline-tryptase-above-limit-no-sm",
                      "Basal tryptase above 20 ng/mL (HαT-adjusted when the genotype is known), no mastocytosis "
                      "diagnosis", PRIORITY_HIGH,
                      f"WHO 2022 minor criterion with HαT adjustment; JACI Pract 2022;10:1964-73 T1 ({_CRITERIA} §1.3)"),
        ScreeningRule("rema-2-or-more", f"REMA score >= {REMA_CLONAL_CUTOFF} in anaphylaxis", PRIORITY_MEDIUM,
                      f"REMA (Álvarez-Twose, JACI 2010); cut-off McMurray, Blood 2024 ({_CRITERIA} §5.5, §6.2)"),
        ScreeningRule("event-tryptase-20-plus-2-no-workup",
                      "Event tryptase above 1.2 x basal + 2 ng/mL, no mast-cell work-up", PRIORITY_HIGH,
                      f"ECNM consensus 20% + 2 (Valent 2019, PMC7115850; {_CRITERIA} §4.1)"),
        ScreeningRule("venom-anaphylaxis-with-hypotension",
                      "Hymenoptera-venom anaphylaxis with hypotension", PRIORITY_MEDIUM,
                      f"ECNM algorithm; Bonadonna 2009; Zanotti 2015 ({_CRITERIA} §6.1-6.2)"),
    )
}


@dataclass
class Finding:
    rule: str
    evidence: list[str] = field(default_factory=list)


def _episode_words(episode: Episode) -> str:
    words = [f"anaphylaxis {episode.day} ({', '.join(sorted(set(episode.codes)))})"]
    for name in ("urticaria", "angioedema", "syncope"):
        value = getattr(episode, name)
        if value is not None:
            words.append(f"{name} {'present' if value else 'absent'}")
    if episode.systolic_min is not None:
        words.append(f"systolic {episode.systolic_min:g} mmHg")
    if episode.venom_codes:
        words.append(f"venom {', '.join(episode.venom_codes)}")
    return "; ".join(words)


def episode_hypotension(record: PatientRecord, episode: Episode) -> bool:
    """Hypotension recorded for the episode: SBP below the WAO 2020 age limit, or coded I95.9."""
    if episode.hypotension_coded:
        return True
    low, high = record.age_range_years(episode.onset)
    return below_age_limit(episode.systolic_min, low, high, systolic_limit_mmhg) is MET


def _skin_free(episode: Episode) -> bool:
    return episode.urticaria is False and episode.angioedema is False


def recurrent_anaphylaxis_no_baseline(record: PatientRecord) -> Finding | None:
    if record.baselines:
        return None
    severe = [e for e in record.episodes
              if (episode_hypotension(record, e) or e.syncope is True) and _skin_free(e)]
    if len(record.episodes) < RECURRENT_EPISODES and not severe:
        return None
    evidence = [f"{len(record.episodes)} anaphylaxis episode(s); no basal tryptase on record"]
    evidence += [_episode_words(e) for e in record.episodes]
    return Finding("recurrent-anaphylaxis-no-baseline-tryptase", evidence)


def baseline_tryptase_above_limit(record: PatientRecord) -> Finding | None:
    if not record.baselines:
        return None
    latest = record.baselines[-1]
    copies = record.extra_alpha_copies
    compared = latest.value_ng_ml if copies is None else hat_adjusted_tryptase(latest.value_ng_ml, copies)
    if compared is None or not compared > BASAL_TRYPTASE_LIMIT_NG_ML:
        return None
    when = latest.when.date().isoformat() if latest.when else "date unknown"
    words = f"basal tryptase {latest.value_ng_ml:g} ng/mL on {when} (Observation/{latest.observation_id})"
    if copies is not None:
        words += f"; {copies} extra alpha copies: adjusted {compared:.4g} ng/mL"
    return Finding("baseline-tryptase-above-limit-no-sm", [words + f" > {BASAL_TRYPTASE_LIMIT_NG_ML:g}"])


def rema_two_or_more(record: PatientRecord) -> Finding | None:
    if not record.episodes:
        return None
    skin = [e.urticaria is True or e.angioedema is True for e in record.episodes]
    skin_known = all(e.urticaria is not None and e.angioedema is not None for e in record.episodes)
    urticaria_or_angioedema = True if any(skin) else (False if skin_known else None)
    syncope = [e.syncope for e in record.episodes]
    presyncope_or_syncope = True if any(s is True for s in syncope) else (
        False if all(s is False for s in syncope) else None)
    baseline = record.baselines[-1].value_ng_ml if record.baselines else None
    result = rema_score(record.sex, urticaria_or_angioedema, presyncope_or_syncope, baseline)
    if result.clonal_likely is not True:
        return None
    shown = result.score if result.score is not None else f"{result.min} to {result.max}"
    return Finding("rema-2-or-more", [f"REMA {shown}: " + "; ".join(item.reason for item in result.items)])


def event_tryptase_rise_no_workup(record: PatientRecord) -> Finding | None:
    if record.workup:
        return None
    baselines = record.baselines
    for acute in (t for t in record.tryptase if t.context == "acute"):
        if not baselines:
            return None
        nearest = min(baselines, key=lambda b: abs((b.when - acute.when).total_seconds()) if b.when and acute.when else 0)
        verdict = rise_meets_20_plus_2(acute.value_ng_ml, nearest.value_ng_ml, acute.minutes_after_onset)
        if verdict.status is MET:
            return Finding("event-tryptase-20-plus-2-no-workup", [
                f"acute Observation/{acute.observation_id}, basal Observation/{nearest.observation_id}: {verdict.reason}",
                "no KIT D816V test, bone-marrow study or mast-cell diagnosis on record"])
    return None


def venom_anaphylaxis_with_hypotension(record: PatientRecord) -> Finding | None:
    hits = [e for e in record.episodes if e.venom_codes and episode_hypotension(record, e)]
    if not hits:
        return None
    return Finding("venom-anaphylaxis-with-hypotension", [_episode_words(e) for e in hits])


RULE_FUNCTIONS = (
    recurrent_anaphylaxis_no_baseline,
    baseline_tryptase_above_limit,
    rema_two_or_more,
    event_tryptase_rise_no_workup,
    venom_anaphylaxis_with_hypotension,
)


def screen_record(record: PatientRecord) -> list[Finding]:
    """Every rule that fires for this patient, in rule order; none when mastocytosis is diagnosed."""
    if record.mastocytosis:
        return []
    return [finding for rule in RULE_FUNCTIONS if (finding := rule(record)) is not None]


def priority(findings: list[Finding]) -> int:
    """The most urgent priority among the fired rules (1 = review first)."""
    return min(RULES[f.rule].priority for f in findings)
