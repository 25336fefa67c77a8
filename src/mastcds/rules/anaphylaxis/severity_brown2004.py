"""Severity of a reaction by Brown's grading (mild / moderate / severe), graded by the worst feature.

Brown SGA. Clinical features and severity grading of anaphylaxis. J Allergy
Clin Immunol 2004;114:371-6 (bibliography key ``brown2004``):
severe = hypoxia, hypotension or neurological compromise (confusion,
collapse, unconsciousness, incontinence); moderate = respiratory,
cardiovascular or gastrointestinal involvement (dyspnoea, stridor, wheeze,
nausea, vomiting, presyncope, diaphoresis, chest/throat tightness, abdominal
pain); mild = skin and subcutaneous tissue only (erythema, urticaria,
angioedema). Hypoxia as SpO2 <= 92% or cyanosis is how the case schema's
``hypoxaemia`` field is defined (Brown's marker as a clinical-algorithm
summary quotes it; the paper's table was not read).

Hypotension is "SBP < 90 mmHg in adults" as Brown's table is usually quoted
(the table itself was not read); for children, whom the adult cut-off does not
fit, the WAO 2020 age-specific limit is used (it is 90 mmHg from age 10).

Confusion, incontinence, nausea, diaphoresis and chest tightness have no
field in mastcds-case/1: the grade is read from the features the schema
records. A grade is given only when no unrecorded field could change it.
"""

from __future__ import annotations

from dataclasses import dataclass

from mastcds.rules.anaphylaxis.findings import EpisodeFindings, describe_age
from mastcds.rules.anaphylaxis.wao2020 import low_systolic
from mastcds.rules.logic import MET, UNKNOWN, Status, fmt, from_bool
from mastcds.rules.references import cite

CITATION = cite("brown2004", where="Brown 2004 severity grade")
SOURCE = CITATION.text
GRADES = ("mild", "moderate", "severe")

SEVERE_SIGNS = {
    "hypoxaemia": "hypoxaemia (SpO2 <= 92% or cyanosis)",
    "loss_of_consciousness": "loss of consciousness",
    "cardiac_arrest": "cardiac/respiratory arrest (collapse)",
}
MODERATE_SIGNS = {
    "presyncope": "presyncope",
    "dyspnoea_wheeze_bronchospasm": "dyspnoea/wheeze",
    "stridor_or_laryngeal_oedema": "stridor",
    "abdominal_pain_vomiting_diarrhoea": "abdominal pain/vomiting",
}
MILD_SIGNS = {
    "urticaria": "urticaria",
    "angioedema": "angioedema",
    "flushing": "generalised erythema/flushing",
    "pruritus": "generalised itch",
}


@dataclass(frozen=True)
class BrownGrade:
    grade: str | None
    reason: str
    source: str = SOURCE
    references: tuple[str, ...] = CITATION.keys


def _features(f: EpisodeFindings, names: dict[str, str]) -> dict[str, Status]:
    return {label: from_bool(getattr(f, field)) for field, label in names.items()}


def _hypotension(f: EpisodeFindings) -> tuple[Status, str]:
    status = low_systolic(f)
    label = (
        f"hypotension (systolic {fmt(f.systolic_bp_mmhg, 'mmHg')}, {describe_age(f)})"
        if f.systolic_bp_mmhg is not None
        else "hypotension (systolic BP)"
    )
    return status, label


def severity(f: EpisodeFindings) -> BrownGrade:
    """The worst grade the recorded features reach, or ``None`` when it is open."""
    severe = _features(f, SEVERE_SIGNS)
    status, label = _hypotension(f)
    severe[label] = status
    tiers = (("severe", None), ("moderate", MODERATE_SIGNS), ("mild", MILD_SIGNS))
    for grade, names in tiers:  # a tier's features are read only when the worse tiers did not decide
        features = severe if names is None else _features(f, names)
        present = [label for label, s in features.items() if s is MET]
        if present:
            return BrownGrade(grade, f"{grade.capitalize()}: {', '.join(present)}.")
        unknown = [label for label, s in features.items() if s is UNKNOWN]
        if unknown:
            return BrownGrade(
                None,
                f"Not graded: no {grade} feature recorded present, but these are not recorded or "
                f"undetermined: {', '.join(unknown)}; any of them would make the reaction {grade}.",
            )
    return BrownGrade(None, "Not graded: no skin, respiratory, cardiovascular, gastrointestinal or neurological feature recorded present.")
