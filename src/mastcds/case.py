"""The case model: the one way a patient's findings enter mastcds.

``data/case.schema.json`` (mastcds-case/1) is the published contract and the
source of truth; the pydantic models below accept exactly the documents valid
under it (tests check both directions). :func:`load_case` then adds what a
schema cannot say: real calendar dates, convertible units, plausible lab
values, an end date not before its start, acute results that point at an
episode that exists.
"""

from __future__ import annotations

import calendar
import datetime
import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictStr, ValidationError
from pydantic_core import PydanticCustomError

from mastcds.rules.mastocytosis.common import (
    ATYPICAL_MORPHOLOGY_MINOR,
    MAJOR_AGGREGATE_MAST_CELLS,
    counts_abnormality_status,
    lineage_agrees,
)
from mastcds.rules.mastocytosis.findings import sample_kit_result
from mastcds.units import LAB_SPECS, UnitError, accepted_units, to_canonical

CASE_SCHEMA_ID = "mastcds-case/1"


def _json_integer(value: Any) -> Any:
    # JSON Schema counts 3.0 as an integer; pydantic's strict int would not.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Number = Annotated[float, Field(strict=True)]
DatePattern = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"
PartialDate = Annotated[StrictStr, Field(pattern=DatePattern)]


# Free text is text that every store keeps and every output encodes: PostgreSQL holds no U+0000
# in text, and a lone UTF-16 surrogate (JSON's "\ud800") has no UTF-8 form, so each later page,
# report or export of it would fail. The schema states the same rule as TEXT_PATTERN; pydantic
# refuses the surrogates itself wherever a length is checked (error type "string_unicode").
TEXT_PATTERN = "^[^\\u0000\\ud800-\\udfff]*$"
NUL_MESSAGE = "text must not contain the NUL character (U+0000)"
SURROGATE_MESSAGE = "text must not contain a lone UTF-16 surrogate (U+D800-U+DFFF): it has no UTF-8 form"

# Lengths no real record reaches (and, where the store keeps a typed column, its width).
SHORT_MAX_LENGTH = 64
NAME_MAX_LENGTH = 128
UNIT_MAX_LENGTH = 32
TEXT_MAX_LENGTH = 2_000
NOTES_MAX_LENGTH = 20_000
# Lists no real patient's record reaches: an episode a week for twenty years, a lab result a
# week for a hundred years, a new treatment course every month for sixteen years. A case is
# evaluated, drawn and stored whole on every call, so these also bound what a caller can make
# the server do (a 7.5 MB case of 420,000 episodes took 119 s and answered 1.8 GB).
MAX_EPISODES = 1_000
MAX_LAB_RESULTS = 5_000
MAX_TREATMENTS = 200


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_text(text: str) -> str | None:
    """Why ``text`` cannot be stored and shown (the free-text rule above), or None when it can."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    return NUL_MESSAGE if found.group() == "\x00" else SURROGATE_MESSAGE


def _storable(text: str) -> str:
    problem = unstorable_text(text)
    if problem is not None:
        raise PydanticCustomError("unstorable_text", problem)
    return text


def _text(max_length: int) -> Any:
    """Free text of at most ``max_length`` characters that every store and output can carry."""
    return Annotated[StrictStr, Field(max_length=max_length), AfterValidator(_storable)]


ShortText = _text(SHORT_MAX_LENGTH)
NameText = _text(NAME_MAX_LENGTH)
UnitText = _text(UNIT_MAX_LENGTH)
FreeText = _text(TEXT_MAX_LENGTH)
NotesText = _text(NOTES_MAX_LENGTH)


def _bounded(low: float, high: float) -> Any:
    return Annotated[float, Field(ge=low, le=high, strict=True)] | None


def _bounded_int(low: int, high: int) -> Any:
    return Annotated[int, BeforeValidator(_json_integer), Field(ge=low, le=high, strict=True)] | None


class _Section(BaseModel):
    """A part of a case. Frozen: the rules read a case and never change it, and an
    absent section can then be one shared empty instance (building five empty
    sections per case was half the model's validation time in a CDS Hooks call)."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_default=False, frozen=True)


class Patient(_Section):
    sex: Literal["male", "female"] | None = None
    age_years: _bounded(0, 120) = None
    birth_date: PartialDate | None = None
    weight_kg: _bounded(0.5, 400) = None


class Skin(_Section):
    lesions: (
        Literal[
            "none",
            "maculopapular_monomorphic",
            "maculopapular_polymorphic",
            "maculopapular_unspecified",
            "diffuse",
            "mastocytoma",
        ]
        | None
    ) = None
    darier_sign: StrictBool | None = None
    biopsy_mast_cell_infiltrates: StrictBool | None = None
    kit_mutation_in_lesional_skin: StrictBool | None = None


class BoneMarrow(_Section):
    biopsy_date: PartialDate | None = None
    multifocal_dense_infiltrates: StrictBool | None = None
    largest_aggregate_mast_cells: _bounded_int(0, 100000) = None
    infiltration_percent: _bounded(0, 100) = None
    atypical_morphology_over_25_percent: StrictBool | None = None
    spindle_atypical_mast_cells_percent: _bounded(0, 100) = None
    aspirate_mast_cells_percent: _bounded(0, 100) = None
    immature_atypical_morphology: StrictBool | None = None
    round_well_differentiated_mast_cells: StrictBool | None = None
    cd25: StrictBool | None = None
    cd2: StrictBool | None = None
    cd30: StrictBool | None = None
    dysplasia_or_myeloproliferation: StrictBool | None = None
    cytopenia_or_cytosis: StrictBool | None = None
    cytopenia_or_cytosis_reactive_cause_excluded: StrictBool | None = None
    cytopenia_caused_by_mast_cells: StrictBool | None = None


class OtherExtracutaneousOrgan(_Section):
    organ: NameText | None = None
    multifocal_dense_infiltrates: StrictBool | None = None
    atypical_morphology_over_25_percent: StrictBool | None = None
    cd25_cd2_cd30: StrictBool | None = None
    destructive_sarcoma: StrictBool | None = None


KitResult = Literal["detected", "not_detected"]
KitSample = Literal["bone_marrow", "peripheral_blood", "other_extracutaneous", "skin"]
# The per-sample fields of each sample the single kit_d816v/kit_d816v_sample pair can name: (result, VAF or None)
KIT_SAMPLE_FIELDS: dict[str, tuple[str, str | None]] = {
    "bone_marrow": ("kit_d816v_bone_marrow", "kit_d816v_bone_marrow_vaf_percent"),
    "peripheral_blood": ("kit_d816v_peripheral_blood", "kit_d816v_peripheral_blood_vaf_percent"),
    "skin": ("kit_d816v_lesional_skin", "kit_d816v_lesional_skin_vaf_percent"),
    "other_extracutaneous": ("kit_d816v_other_extracutaneous", None),
}


@dataclass(frozen=True)
class KitSampleResult:
    """One sample's KIT D816V result and VAF, from its own fields or from the single kit_d816v pair."""

    result: str | None
    vaf_percent: float | None


class Molecular(_Section):
    kit_d816v: KitResult | None = None
    kit_d816v_sample: KitSample | None = None
    kit_d816v_vaf_percent: _bounded(0, 100) = None
    kit_d816v_bone_marrow: KitResult | None = None
    kit_d816v_bone_marrow_vaf_percent: _bounded(0, 100) = None
    kit_d816v_peripheral_blood: KitResult | None = None
    kit_d816v_peripheral_blood_vaf_percent: _bounded(0, 100) = None
    kit_d816v_lesional_skin: KitResult | None = None
    kit_d816v_lesional_skin_vaf_percent: _bounded(0, 100) = None
    kit_d816v_other_extracutaneous: KitResult | None = None
    other_activating_kit_mutation: NameText | None = None
    other_activating_kit_mutation_sample: KitSample | None = None
    tpsab1_extra_alpha_copies: _bounded_int(0, 10) = None
    srsf2_asxl1_runx1_mutated: StrictBool | None = None

    def kit_d816v_in(self, sample: str) -> KitSampleResult:
        """The result of one sample: its own fields, else the single kit_d816v pair when it names that sample.

        ``load_case`` has refused a document where the two disagree.
        """
        result_field, vaf_field = KIT_SAMPLE_FIELDS[sample]
        vaf = getattr(self, vaf_field) if vaf_field is not None else None
        return KitSampleResult(*sample_kit_result(
            sample, getattr(self, result_field), vaf, self.kit_d816v, self.kit_d816v_sample, self.kit_d816v_vaf_percent
        ))

    def kit_d816v_unplaced(self) -> KitSampleResult | None:
        """A kit_d816v result recorded without its sample: it cannot count for one sample or another."""
        if self.kit_d816v is None or self.kit_d816v_sample is not None:
            return None
        return KitSampleResult(self.kit_d816v, self.kit_d816v_vaf_percent)


class Labs(_Section):
    baseline_tryptase_ng_ml: _bounded(0, 100000) = None
    ige_total_iu_ml: _bounded(0, 100000) = None
    hemoglobin_g_dl: _bounded(0, 30) = None
    platelets_10e9_l: _bounded(0, 5000) = None
    neutrophils_10e9_l: _bounded(0, 500) = None
    leukocytes_10e9_l: _bounded(0, 1000) = None
    eosinophils_10e9_l: _bounded(0, 500) = None
    monocytes_10e9_l: _bounded(0, 500) = None
    circulating_mast_cells_percent: _bounded(0, 100) = None
    alkaline_phosphatase_u_l: _bounded(0, 10000) = None
    albumin_g_l: _bounded(0, 100) = None
    beta2_microglobulin_mg_l: _bounded(0, 100) = None
    urine_n_methylhistamine_ug_g_creatinine: _bounded(0, 100000) = None
    urine_11b_pgf2a_ng_g_creatinine: _bounded(0, 1000000) = None
    urine_lte4_pg_mg_creatinine: _bounded(0, 1000000) = None


class Organs(_Section):
    hepatomegaly: StrictBool | None = None
    liver_dysfunction: StrictBool | None = None
    splenomegaly: StrictBool | None = None
    hypersplenism: StrictBool | None = None
    lymphadenopathy_max_cm: _bounded(0, 50) = None
    osteolysis_max_cm: _bounded(0, 100) = None
    large_osteolysis: StrictBool | None = None
    pathologic_fracture: StrictBool | None = None
    osteoporosis: StrictBool | None = None
    malabsorption_with_weight_loss: StrictBool | None = None
    other_organ_damage: FreeText | None = None


class MediatorSymptoms(_Section):
    skin: StrictBool | None = None
    gastrointestinal: StrictBool | None = None
    cardiovascular: StrictBool | None = None
    respiratory: StrictBool | None = None
    nasal_ocular: StrictBool | None = None
    responds_to_mediator_therapy: StrictBool | None = None


class AllergyWorkup(_Section):
    ige_mediated_allergy: StrictBool | None = None
    other_reactive_disorder: StrictBool | None = None


Trigger = Literal[
    "none_identified",
    "hymenoptera_venom",
    "drug",
    "food",
    "heat",
    "exercise",
    "alcohol",
    "infection",
    "procedure",
    "other",
]


class Episode(_Section):
    id: ShortText = None  # absent is allowed, null is not
    date: PartialDate | None = None
    trigger: Trigger | None = None
    trigger_detail: FreeText | None = None
    onset_minutes: _bounded(0, 10080) = None
    systolic_bp_mmhg: _bounded(0, 300) = None
    baseline_systolic_bp_mmhg: _bounded(40, 300) = None
    loss_of_consciousness: StrictBool | None = None
    presyncope: StrictBool | None = None
    urticaria: StrictBool | None = None
    angioedema: StrictBool | None = None
    flushing: StrictBool | None = None
    pruritus: StrictBool | None = None
    dyspnoea_wheeze_bronchospasm: StrictBool | None = None
    dyspnoea: StrictBool | None = None
    wheeze_bronchospasm: StrictBool | None = None
    stridor_or_laryngeal_oedema: StrictBool | None = None
    hypoxaemia: StrictBool | None = None
    abdominal_pain_vomiting_diarrhoea: StrictBool | None = None
    cardiac_arrest: StrictBool | None = None
    acute_tryptase_ng_ml: _bounded(0, 100000) = None
    acute_tryptase_minutes_after_onset: _bounded(0, 10080) = None
    acute_urine_n_methylhistamine_ug_g_creatinine: _bounded(0, 100000) = None
    acute_urine_11b_pgf2a_ng_g_creatinine: _bounded(0, 1000000) = None
    acute_urine_lte4_pg_mg_creatinine: _bounded(0, 1000000) = None
    epinephrine_doses: _bounded_int(0, 50) = None
    hospital_admission: StrictBool | None = None
    icu_admission: StrictBool | None = None


LabTest = Literal[
    "tryptase",
    "ige_total",
    "hemoglobin",
    "platelets",
    "neutrophils",
    "alkaline_phosphatase",
    "albumin",
    "beta2_microglobulin",
    "kit_d816v_vaf",
    "weight",
    "ldh",
    "leukocytes",
    "eosinophils",
    "monocytes",
    "urine_n_methylhistamine",
    "urine_11b_pgf2a",
    "urine_lte4",
]


class LabResult(_Section):
    test: LabTest
    value: Number
    unit: UnitText
    date: PartialDate
    context: Literal["baseline", "acute", "unknown"] | None = None
    episode_id: ShortText | None = None

    @property
    def canonical_unit(self) -> str:
        return LAB_SPECS[self.test].canonical

    @property
    def canonical_value(self) -> float:
        """The value in the test's canonical unit (``load_case`` has checked the unit)."""
        return to_canonical(self.test, self.value, self.unit)


class Treatment(_Section):
    drug: NameText
    dose_mg: _bounded(0, 100000) = None
    interval: ShortText | None = None
    start_date: PartialDate
    end_date: PartialDate | None = None
    indication: FreeText | None = None


class Case(_Section):
    """One patient's findings; every finding may be unknown (``None``)."""

    # absent is allowed, null is not (the schema gives these no null type)
    schema_: Literal["mastcds-case/1"] = Field(default=None, alias="schema")
    id: ShortText = None
    notes: NotesText = None
    evaluation_date: PartialDate = None
    patient: Patient
    skin: Skin = Skin()
    bone_marrow: BoneMarrow = BoneMarrow()
    other_extracutaneous_organ: OtherExtracutaneousOrgan = None
    associated_hematologic_neoplasm: NameText | None = None
    associated_hematologic_neoplasm_lineage: Literal["myeloid", "lymphoid"] | None = None
    molecular: Molecular = Molecular()
    labs: Labs = Labs()
    organs: Organs = Organs()
    mediator_symptoms: MediatorSymptoms = MediatorSymptoms()
    allergy_workup: AllergyWorkup = AllergyWorkup()
    episodes: list[Episode] = Field(default_factory=list, max_length=MAX_EPISODES)
    lab_results: list[LabResult] = Field(default_factory=list, max_length=MAX_LAB_RESULTS)
    treatments: list[Treatment] = Field(default_factory=list, max_length=MAX_TREATMENTS)

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    def to_document(self) -> dict[str, Any]:
        """The case as a mastcds-case/1 document, with exactly the fields it was given."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


# ---------------------------------------------------------------- errors


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, in words a user can act on."""

    path: str
    value: Any
    message: str

    def __str__(self) -> str:
        shown = printable_text(json.dumps(self.value, ensure_ascii=False, default=str))
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return f"{self.path or '(document)'}: {self.message} (got {shown})"


def printable_text(text: str) -> str:
    """``text`` with any lone surrogate written as an escape, so that a message quoting refused input can be printed."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class CaseError(ValueError):
    """The input is not a usable case; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def _path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in {"function-before[_json_integer(), int]", "constrained-str", "str"}:
            continue
        elif str(item).startswith(("function-", "literal[", "lax-or-strict", "json-or-python")):
            continue
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


_PYDANTIC_MESSAGES = {
    "extra_forbidden": "unknown field; the case schema (mastcds-case/1) does not define it",
    "missing": "required field is missing",
    "string_unicode": SURROGATE_MESSAGE,
}


def _problems_from_validation(error: ValidationError) -> list[Problem]:
    problems: dict[str, Problem] = {}
    for item in error.errors(include_url=False):
        path = _path(tuple(item["loc"]))
        message = _PYDANTIC_MESSAGES.get(item["type"], item["msg"])
        if item["type"] == "string_pattern_mismatch":
            message = "expected a date as YYYY-MM-DD, YYYY-MM or YYYY"
        elif item["type"] == "literal_error":
            message = "not an accepted value; " + item["msg"].lower()
        # a field with several alternatives (null or number...) yields one
        # error per alternative; the first says enough
        problems.setdefault(path, Problem(path, item.get("input"), message))
    return list(problems.values())


# A date outside these years is a typing error in a clinical record (and
# beyond what date arithmetic downstream can place on a timeline).
EARLIEST_YEAR = 1900
LATEST_YEAR = 2100


@lru_cache(maxsize=4096)
def calendar_problem(text: str) -> str | None:
    """Why a date matching DatePattern is not a real calendar date within the years above, or None when it is one.

    The one date check: the FHIR import applies it too, so that a date it
    passes on is one :func:`load_case` accepts. Remembered for the last few
    thousand dates: a patient's dates come back on every CDS Hooks call.
    """
    parts = text.split("-")
    year = int(parts[0])
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        return f"year must be {EARLIEST_YEAR}-{LATEST_YEAR}"
    if len(parts) >= 2:
        month = int(parts[1])
        if not 1 <= month <= 12:
            return "month must be 01-12"
        if len(parts) == 3:
            last = calendar.monthrange(year, month)[1]
            if not 1 <= int(parts[2]) <= last:
                return f"day must be 01-{last:02d} in that month"
    return None


def _check_date(problems: list[Problem], text: str | None, path: str, *index: int) -> bool:
    """Whether an absent date or one matching DatePattern is a real calendar date; if not, a problem says why.

    ``path`` is formatted with ``index`` only for a problem, not for each of a
    case's dates on every CDS Hooks call.
    """
    if text is None:
        return True
    problem = calendar_problem(text)
    if problem is not None:
        problems.append(Problem(path.format(*index), text, problem))
        return False
    return True


def date_key(text: str) -> tuple[int, int, int]:
    """A partial date's earliest possible day, for ordering (2011 → 2011-01-01)."""
    parts = list(map(int, text.split("-"))) + [1, 1]
    return parts[0], parts[1], parts[2]


def after_today(text: str, today: datetime.date) -> bool:
    """Whether a (partial) date lies wholly after ``today``: 2027 on 2026-12-07 does, 2026-12 does not."""
    return datetime.date(*date_key(text)) > today


def date_key_latest(text: str) -> tuple[int, int, int]:
    """A partial date's latest possible day (2011 → 2011-12-31)."""
    parts = list(map(int, text.split("-")))
    year = parts[0]
    month = parts[1] if len(parts) > 1 else 12
    day = parts[2] if len(parts) > 2 else calendar.monthrange(year, month)[1]
    return year, month, day


def _semantic_problems(case: Case) -> list[Problem]:
    # the models' fields are read once each into locals: an attribute of a
    # pydantic model costs several times a local's (BaseModel.__getattr__)
    problems: list[Problem] = []
    _check_date(problems, case.evaluation_date, "evaluation_date")
    _check_date(problems, case.patient.birth_date, "patient.birth_date")
    _check_date(problems, case.bone_marrow.biopsy_date, "bone_marrow.biopsy_date")
    episode_ids: set[str] = set()
    for i, episode in enumerate(case.episodes):
        _check_date(problems, episode.date, "episodes[{}].date", i)
        episode_id = episode.id
        if episode_id is not None:
            if episode_id in episode_ids:
                problems.append(Problem(f"episodes[{i}].id", episode_id, "episode ids must be unique"))
            episode_ids.add(episode_id)
    for i, lab in enumerate(case.lab_results):
        test, given, unit = lab.test, lab.value, lab.unit
        _check_date(problems, lab.date, "lab_results[{}].date", i)
        spec = LAB_SPECS[test]
        try:
            value = to_canonical(test, given, unit)
        except UnitError:
            problems.append(
                Problem(
                    f"lab_results[{i}].unit",
                    unit,
                    f"unit not accepted for {test}; accepted: {', '.join(accepted_units(test))}",
                )
            )
            continue
        if not spec.low <= value <= spec.high:
            problems.append(
                Problem(
                    f"lab_results[{i}].value",
                    given,
                    f"{test} must lie in {spec.low:g}-{spec.high:g} {spec.canonical}"
                    + ("" if unit == spec.canonical else f" (after conversion from {unit})"),
                )
            )
        episode_id = lab.episode_id
        if episode_id is not None and episode_id not in episode_ids:
            problems.append(Problem(f"lab_results[{i}].episode_id", episode_id, "no episode in this case has that id"))
    for i, treatment in enumerate(case.treatments):
        start, end = treatment.start_date, treatment.end_date
        start_valid = _check_date(problems, start, "treatments[{}].start_date", i)
        end_valid = _check_date(problems, end, "treatments[{}].end_date", i)
        if end is not None and start_valid and end_valid and date_key_latest(end) < date_key(start):
            problems.append(Problem(f"treatments[{i}].end_date", end, f"end date is before the start date {start}"))
    contradictions(case, problems)
    return problems


@cache
def _date_layout(model: type[BaseModel]) -> tuple[tuple[str, str, Any], ...]:
    """The model's fields that hold dates, sections or lists of items: (name, kind, model)."""
    layout = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        annotation = info.annotation
        if DatePattern in f"{annotation!r} {info.metadata!r}":
            layout.append((key, "date", None))
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            layout.append((key, "section", annotation))
        elif getattr(annotation, "__origin__", None) is list and issubclass(annotation.__args__[0], BaseModel):
            layout.append((key, "list", annotation.__args__[0]))
    return tuple(layout)


def _raw_date_problems(document: Any, model: type[BaseModel] = Case, path: str = "") -> list[Problem]:
    """Calendar problems of a document the schema refused, so that both are reported in one pass."""
    problems: list[Problem] = []
    if not isinstance(document, dict):
        return problems
    for key, kind, inner in _date_layout(model):
        value, where = document.get(key), f"{path}{key}"
        if kind == "date" and isinstance(value, str) and _DATE.match(value):
            _check_date(problems, value, where)
        elif kind == "section":
            problems += _raw_date_problems(value, inner, f"{where}.")
        elif kind == "list" and isinstance(value, list):
            for index, item in enumerate(value):
                problems += _raw_date_problems(item, inner, f"{where}[{index}].")
    return problems


_DATE = re.compile(DatePattern)


def contradictions(case: Case, problems: list[Problem]) -> None:
    """Fields that say the same thing twice and disagree: refused, as no rule can know which one is right.

    Only pairs where at least one field is new in this revision of mastcds-case/1 are refused; older
    documents keep their warnings (``findings_warnings``), so that they stay valid.
    """
    molecular = case.molecular
    if molecular.kit_d816v_sample is not None:
        result_field, vaf_field = KIT_SAMPLE_FIELDS[molecular.kit_d816v_sample]
        per_sample = getattr(molecular, result_field)
        if molecular.kit_d816v is not None and per_sample is not None and per_sample != molecular.kit_d816v:
            problems.append(Problem(
                "molecular.kit_d816v", molecular.kit_d816v,
                f"disagrees with molecular.{result_field} ({per_sample}) for the same sample; record the sample's result once",
            ))
        vaf = getattr(molecular, vaf_field) if vaf_field is not None else None
        if molecular.kit_d816v_vaf_percent is not None and vaf is not None and vaf != molecular.kit_d816v_vaf_percent:
            problems.append(Problem(
                "molecular.kit_d816v_vaf_percent", molecular.kit_d816v_vaf_percent,
                f"disagrees with molecular.{vaf_field} ({vaf:g}) for the same sample; record the sample's VAF once",
            ))
    for result_field, vaf_field in KIT_SAMPLE_FIELDS.values():
        vaf = getattr(molecular, vaf_field) if vaf_field is not None else None
        if getattr(molecular, result_field) == "not_detected" and vaf:
            problems.append(Problem(f"molecular.{vaf_field}", vaf, f"a VAF above 0 with molecular.{result_field} = not_detected"))
    marrow = case.bone_marrow
    largest = marrow.largest_aggregate_mast_cells
    if largest is not None and largest < MAJOR_AGGREGATE_MAST_CELLS and marrow.multifocal_dense_infiltrates:
        problems.append(Problem(
            "bone_marrow.largest_aggregate_mast_cells", largest,
            f"multifocal dense infiltrates need aggregates of >= {MAJOR_AGGREGATE_MAST_CELLS} mast cells, "
            "but bone_marrow.multifocal_dense_infiltrates is true",
        ))
    spindle, atypical = marrow.spindle_atypical_mast_cells_percent, marrow.atypical_morphology_over_25_percent
    if spindle is not None and atypical is not None and ATYPICAL_MORPHOLOGY_MINOR.holds(spindle) != atypical:
        problems.append(Problem(
            "bone_marrow.spindle_atypical_mast_cells_percent", spindle,
            f"disagrees with bone_marrow.atypical_morphology_over_25_percent ({str(atypical).lower()}): "
            f"the criterion is {ATYPICAL_MORPHOLOGY_MINOR.text()}",
        ))
    if marrow.cytopenia_or_cytosis is not None:
        labs = case.labs
        counts = counts_abnormality_status(
            labs.hemoglobin_g_dl,
            labs.platelets_10e9_l,
            labs.neutrophils_10e9_l,
            labs.leukocytes_10e9_l,
            labs.eosinophils_10e9_l,
            labs.monocytes_10e9_l,
            case.patient.sex,
        )
        if counts.value != "unknown" and (counts.value == "met") != marrow.cytopenia_or_cytosis:
            problems.append(Problem(
                "bone_marrow.cytopenia_or_cytosis", marrow.cytopenia_or_cytosis,
                "disagrees with the blood counts in labs, which "
                + ("show" if counts.value == "met" else "show no")
                + " cytopenia or cytosis by the limits of ICC 2022's myeloid neoplasms; record the reading only where the counts are missing",
            ))
    lineage = case.associated_hematologic_neoplasm_lineage
    if lineage is not None:
        name = case.associated_hematologic_neoplasm
        if name is None or name.strip().lower() == "none":
            problems.append(Problem(
                "associated_hematologic_neoplasm_lineage", lineage,
                "a lineage needs an associated neoplasm named in associated_hematologic_neoplasm",
            ))
        elif not lineage_agrees(name, lineage):
            problems.append(Problem(
                "associated_hematologic_neoplasm_lineage", lineage,
                "contradicts the neoplasm named in associated_hematologic_neoplasm, whose lineage its name says",
            ))
    organs = case.organs
    if organs.large_osteolysis and organs.osteolysis_max_cm == 0:
        problems.append(Problem("organs.large_osteolysis", True, "a large osteolysis with organs.osteolysis_max_cm = 0 (none)"))
    for i, episode in enumerate(case.episodes):
        lumped = episode.dyspnoea_wheeze_bronchospasm
        apart = (episode.dyspnoea, episode.wheeze_bronchospasm)
        if lumped is False and True in apart:
            problems.append(Problem(
                f"episodes[{i}].dyspnoea_wheeze_bronchospasm", False,
                "false (none of dyspnoea, wheeze, bronchospasm) but dyspnoea or wheeze_bronchospasm is true",
            ))
        elif lumped is True and apart == (False, False):
            problems.append(Problem(
                f"episodes[{i}].dyspnoea_wheeze_bronchospasm", True,
                "true, but dyspnoea and wheeze_bronchospasm are both false",
            ))


def load_case(document: Any) -> Case:
    """A checked :class:`Case` from a parsed JSON document, or :class:`CaseError`.

    When the schema refuses the document, its impossible dates are reported
    with the schema's problems, not after those are fixed.
    """
    if not isinstance(document, dict):
        raise CaseError([Problem("", type(document).__name__, "a case must be a JSON object")])
    try:
        case = Case.model_validate(document)
    except ValidationError as error:
        problems = _problems_from_validation(error)
        seen = {p.path for p in problems}
        raise CaseError(problems + [p for p in _raw_date_problems(document) if p.path not in seen]) from None
    problems = _semantic_problems(case)
    if problems:
        raise CaseError(problems)
    return case


def load_case_text(text: str) -> Case:
    """A checked :class:`Case` from JSON text (strict JSON: see :mod:`mastcds.json_input`)."""
    from mastcds.json_input import JsonInputError, parse_json

    try:
        document = parse_json(text)
    except JsonInputError as error:
        raise CaseError(error.problems) from None
    return load_case(document)


@cache
def case_schema() -> dict[str, Any]:
    """The published input contract, as shipped in the package."""
    text = resources.files("mastcds.data").joinpath("case.schema.json").read_text(encoding="utf-8")
    return json.loads(text)
