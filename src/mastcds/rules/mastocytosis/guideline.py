"""One edition's guideline result: the criteria with their reasons and sources, the B- and C-findings,
the variant criteria, the possible categories, the next tests and notes; and the warnings on the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mastcds.rules.logic import (
    MET,
    NOT_MET,
    UNKNOWN,
    Criterion,
    Status,
    all_of,
    fmt,
    from_bool,
)
from mastcds.rules.mastocytosis.common import (
    ATYPICAL_MORPHOLOGY_MINOR,
    CYTOPENIA_LIMITS,
    ICC_ANAEMIA_G_DL,
    ICC_EOSINOPHILIA,
    ICC_LEUKOCYTOSIS,
    ICC_MONOCYTOSIS,
    ICC_MONOCYTOSIS_FRACTION,
    ICC_NEUTROPENIA,
    ICC_THROMBOCYTOPENIA,
    ICC_THROMBOCYTOSIS,
    KIT_EXTRACUTANEOUS_SAMPLES,
    LINEAGE_NONE,
    MAJOR_AGGREGATE_MAST_CELLS,
    MCL,
    MCL_LEUKAEMIC,
    MYELOID,
    UNCLASSIFIED,
    Atoms,
    EditionRules,
    Threshold,
    ahn_lineage,
    atoms,
    blood_count_abnormality_status,
    classify,
    cytopenia_status,
    hat_scale,
    kit_result,
    major_status,
    marrow_immunophenotype_status,
    morphology_status,
    ordered,
    other_kit_counts,
    other_kit_sample,
    other_organ_status,
    recorded_lineage,
    shared_atoms,
    status_of,
    values,
)
from mastcds.rules.mastocytosis.findings import NO_SKIN_LESIONS, SMFindings
from mastcds.rules.mastocytosis.next_tests import NextTest, consistent, next_tests
from mastcds.rules.mastocytosis.summary import category_summary, sm_sentence
from mastcds.rules.mediators.hat import hat_adjusted_tryptase
from mastcds.rules.references import reference_dicts

_SAMPLE_WORDS = {
    "bone_marrow": "bone marrow",
    "peripheral_blood": "peripheral blood",
    "other_extracutaneous": "an extracutaneous organ",
    "skin": "skin",
}


def _said(value: bool | None, yes: str, no: str, unknown: str) -> str:
    return unknown if value is None else (yes if value else no)


def _other_organ_name(f: SMFindings) -> str:
    return f.other_organ or "the other extracutaneous organ"


def _major_text(f: SMFindings) -> str:
    marrow = _said(
        f.multifocal_dense_infiltrates,
        f"bone marrow: multifocal dense mast cell aggregates (>= {MAJOR_AGGREGATE_MAST_CELLS} cells)",
        "bone marrow: no multifocal dense mast cell aggregates",
        "bone marrow histology not recorded" if f.largest_aggregate_mast_cells is None else "bone marrow: multifocality not recorded",
    )
    if f.largest_aggregate_mast_cells is not None:
        marrow += f" (largest aggregate {fmt(f.largest_aggregate_mast_cells)} mast cells; the criterion counts aggregates of >= {MAJOR_AGGREGATE_MAST_CELLS})"
    parts = [marrow]
    if f.other_organ_biopsied:
        parts.append(
            _said(
                f.other_organ_multifocal_dense_infiltrates,
                f"{_other_organ_name(f)}: multifocal dense mast cell aggregates",
                f"{_other_organ_name(f)}: no such aggregates",
                f"{_other_organ_name(f)}: aggregates not recorded",
            )
        )
    return "; ".join(parts)


def _morphology_text(f: SMFindings) -> str:
    if f.spindle_atypical_mast_cells_percent is not None:
        marrow = (
            f"{fmt(f.spindle_atypical_mast_cells_percent, '%')} of bone marrow mast cells spindle-shaped or atypical "
            f"(criterion {ATYPICAL_MORPHOLOGY_MINOR.text()})"
        )
    else:
        marrow = _said(
            f.atypical_morphology_over_25_percent,
            "> 25% of bone marrow mast cells spindle-shaped or atypical",
            "bone marrow mast cells not atypical in > 25%",
            "bone marrow mast cell morphology not recorded",
        )
    parts = [marrow]
    if f.other_organ_biopsied:
        parts.append(
            _said(
                f.other_organ_atypical_morphology_over_25_percent,
                f"{_other_organ_name(f)}: > 25% atypical mast cells",
                f"{_other_organ_name(f)}: mast cells not atypical in > 25%",
                f"{_other_organ_name(f)}: morphology not recorded",
            )
        )
    return "; ".join(parts)


def _cytopenia_text(f: SMFindings) -> str:
    limits = CYTOPENIA_LIMITS
    judgement = _said(
        f.cytopenia_caused_by_mast_cells,
        "cytopenia caused by mast cell infiltration",
        "no cytopenia caused by mast cells",
        "not judged whether a cytopenia is caused by mast cells",
    )
    return (
        f"{judgement}; Hb {fmt(f.hemoglobin_g_dl, 'g/dL')} (C1 if {limits['hemoglobin_g_dl'].text()}), "
        f"platelets {fmt(f.platelets_10e9_l, 'x10^9/L')} ({limits['platelets_10e9_l'].text()}), "
        f"neutrophils {fmt(f.neutrophils_10e9_l, 'x10^9/L')} ({limits['neutrophils_10e9_l'].text()})"
    )


def _sarcoma_text(f: SMFindings) -> str:
    if not f.other_organ_biopsied:
        text = "no biopsy of an extracutaneous organ other than bone marrow"
    else:
        text = _said(
            f.destructive_sarcoma,
            f"{_other_organ_name(f)}: localized destructive tumour of highly atypical mast cells",
            f"{_other_organ_name(f)}: no destructive mast cell tumour",
            f"{_other_organ_name(f)}: destructive growth not assessed",
        )
    return text + " (MCS only when SM criteria are not met)"


def shared_reasons(f: SMFindings) -> dict[str, tuple[Status, str]]:
    """Status and reason of the criteria every edition states alike; only their sources differ."""
    return {
        "major": (status_of(values(major_status(f))), _major_text(f)),
        "minor_morphology": (morphology_status(f), _morphology_text(f)),
        "c1_cytopenia": (cytopenia_status(f), _cytopenia_text(f)),
        "c2_liver": (
            all_of(from_bool(f.hepatomegaly), from_bool(f.liver_dysfunction)),
            _said(f.hepatomegaly, "hepatomegaly", "no hepatomegaly", "liver size not recorded")
            + "; "
            + _said(f.liver_dysfunction, "liver dysfunction from mast cells", "no liver dysfunction", "liver function not recorded"),
        ),
        "c3_spleen": (
            all_of(from_bool(f.splenomegaly), from_bool(f.hypersplenism)),
            _said(f.splenomegaly, "splenomegaly", "no splenomegaly", "spleen size not recorded")
            + "; "
            + _said(f.hypersplenism, "hypersplenism", "no hypersplenism", "hypersplenism not assessed"),
        ),
        "c5_malabsorption": (
            from_bool(f.malabsorption_with_weight_loss),
            _said(
                f.malabsorption_with_weight_loss,
                "malabsorption with weight loss from gut mast cell infiltrates",
                "no malabsorption with weight loss",
                "malabsorption not assessed",
            ),
        ),
        "mcs_destructive_tumour": (other_organ_status(f, f.destructive_sarcoma), _sarcoma_text(f)),
    }


_SOURCE_KEYS = {
    "major": "major",
    "minor_morphology": "minor_morphology",
    "c1_cytopenia": "c1",
    "c2_liver": "c2",
    "c3_spleen": "c3",
    "c5_malabsorption": "c5",
    "mcs_destructive_tumour": "mcs",
}


def _shared(reasons: Mapping[str, tuple[Status, str]], criterion: str, rules: EditionRules, note: str | None = None) -> Criterion:
    status, text = reasons[criterion]
    return Criterion(criterion, status, f"{text}; {note}" if note else text, *rules.sources[_SOURCE_KEYS[criterion]])


def _kit_sample_text(f: SMFindings, sample: str) -> str | None:
    result, vaf = kit_result(f, sample)
    if result is None:
        return None
    text = f"KIT D816V {'detected' if result == 'detected' else 'not detected'} in {_SAMPLE_WORDS[sample]}"
    return text + (f" (VAF {fmt(vaf, '%')})" if vaf is not None else "")


def _kit(f: SMFindings, rules: EditionRules, a: Atoms) -> Criterion:
    parts = [text for sample in ("bone_marrow", "peripheral_blood", "other_extracutaneous") if (text := _kit_sample_text(f, sample))]
    marrow, _ = kit_result(f, "bone_marrow")
    if f.kit_d816v is not None and f.kit_d816v_sample is None:
        parts.append("a KIT D816V result without its sample (skin does not count, so it cannot count)")
    if f.kit_d816v_sample == "skin" and f.kit_d816v is not None:
        parts.append("a result from lesional skin counts for CM, not for SM")
    if not parts:
        parts.append("KIT D816V not tested in blood, bone marrow or another extracutaneous organ")
    elif marrow is None and not any(kit_result(f, s)[0] == "detected" for s in ("peripheral_blood", "other_extracutaneous")):
        parts.append("not tested in the marrow: a negative result elsewhere does not exclude the mutation there")
    mutation = f.other_activating_kit_mutation
    if mutation is not None:
        if mutation.strip().lower() == "none":
            parts.append("no other activating KIT mutation found")
        elif not other_kit_counts(mutation, rules.any_activating_kit):
            parts.append(f"other KIT mutation {mutation} is not at codon 816, which {rules.title} requires")
        elif other_kit_sample(f) not in KIT_EXTRACUTANEOUS_SAMPLES:
            parts.append(f"other activating KIT mutation {mutation}, sample not recorded as extracutaneous")
        else:
            parts.append(f"other activating KIT mutation {mutation} in {_SAMPLE_WORDS[other_kit_sample(f) or '']}")
    status = status_of(kit for kit, _, _ in a.kit)
    return Criterion("minor_kit", status, "; ".join(parts), *rules.sources["minor_kit"])


def _immunophenotype(f: SMFindings, rules: EditionRules, a: Atoms) -> Criterion:
    words = {True: "positive", False: "negative", None: "not tested"}
    parts = [f"{marker} {words[getattr(f, marker.lower())]}" for marker in rules.immunophenotype_markers]
    text = "bone marrow mast cells: " + ", ".join(parts)
    if "CD30" not in rules.immunophenotype_markers and f.cd30:
        text += f" (CD30 is not a criterion in {rules.title})"
    if f.other_organ_biopsied:
        text += "; " + _said(
            f.other_organ_cd25_cd2_cd30,
            f"{_other_organ_name(f)}: CD25, CD2 or CD30 expressed",
            f"{_other_organ_name(f)}: none of CD25, CD2, CD30",
            f"{_other_organ_name(f)}: immunophenotype not recorded",
        )
    if rules.cd2_alone_note and f.cd2 and not f.cd25 and marrow_immunophenotype_status(f, rules) is MET:
        text += f"; {rules.cd2_alone_note}"
    return Criterion(
        "minor_immunophenotype", status_of(m for m, _ in a.immunophenotype), text, *rules.sources["minor_immunophenotype"]
    )


def _tryptase_text(f: SMFindings, rules: EditionRules) -> str:
    bst = f.baseline_tryptase_ng_ml
    if bst is None:
        return "basal serum tryptase not recorded"
    text = f"basal serum tryptase {fmt(bst, 'ng/mL')}"
    copies = f.tpsab1_extra_alpha_copies
    if rules.hat_adjusted:
        if copies is None:
            text += " (TPSAB1 genotype unknown: raw value compared)"
        elif copies > 0:
            adjusted = hat_adjusted_tryptase(bst, copies) or 0.0
            text += f", HaT-adjusted {fmt(round(adjusted, 2), 'ng/mL')} ({copies} extra alpha copies)"
    elif copies:
        text += f" (raw value compared: {rules.title} adjustment for {copies} extra alpha copies not applied)"
    return text


def _tryptase(f: SMFindings, rules: EditionRules, a: Atoms) -> Criterion:
    scale = hat_scale(f, rules)
    parts = [f"{_tryptase_text(f, rules)}; limit {rules.tryptase_minor.text()}" + (" (adjusted value)" if scale > 1 else "")]
    lineage = recorded_lineage(f)
    if lineage == MYELOID:
        parts.append("not counted: an associated myeloid neoplasm is present")
    elif lineage is None:
        parts.append("an associated myeloid neoplasm, which would void this criterion, is not excluded")
    elif lineage == UNCLASSIFIED:
        parts.append("the associated neoplasm's lineage is not recognised; if myeloid, this criterion does not count")
    status = status_of(minor for minor, _, _, _ in a.tryptase)
    return Criterion("minor_tryptase", status, "; ".join(parts), *rules.sources["minor_tryptase"])


def _b1(f: SMFindings, rules: EditionRules, a: Atoms) -> Criterion:
    scale = hat_scale(f, rules)
    infiltration = f"bone marrow infiltration {fmt(f.infiltration_percent, '%')} (limit {rules.b1_infiltration.text()})"
    tryptase = f"{_tryptase_text(f, rules)} (limit {rules.b1_tryptase.text()}{' adjusted' if scale > 1 else ''})"
    routes = [infiltration, tryptase]
    if rules.b1_vaf is not None:
        vafs = []
        for sample in ("bone_marrow", "peripheral_blood"):
            result, vaf = kit_result(f, sample)
            if result == "not_detected":
                vafs.append(f"not detected in {_SAMPLE_WORDS[sample]}")
            elif result == "detected":
                vafs.append(f"{fmt(vaf, '%')} in {_SAMPLE_WORDS[sample]}")
        routes.append(
            f"KIT D816V VAF in bone marrow or blood ({'; '.join(vafs) or 'neither tested'}; limit {rules.b1_vaf.text()})"
        )
    joiner = " AND " if rules.b1_all_required else " and/or "
    status = status_of(
        rules.b1_join(infiltration_route, tryptase_high, vaf_high)
        for infiltration_route in a.infiltration
        for _, tryptase_high, _, _ in a.tryptase
        for _, vaf_high, _ in a.kit
    )
    return Criterion("b1_mast_cell_burden", status, "needs " + joiner.join(routes), *rules.sources["b1"])


def _blood_count_text(f: SMFindings) -> str:
    if f.cytopenia_or_cytosis is not None:
        reading = _said(f.cytopenia_or_cytosis, "a cytopenia or cytosis on the blood count", "no cytopenia or cytosis on the blood count", "")
        return reading + " (the haematologist's reading)"
    anaemia = ICC_ANAEMIA_G_DL.get(f.sex or "")
    anaemia_text = anaemia.text() if anaemia is not None else "< 13 g/dL (men) / < 12 g/dL (women)"
    counts = [
        f"Hb {fmt(f.hemoglobin_g_dl, 'g/dL')} (anaemia {anaemia_text})",
        f"platelets {fmt(f.platelets_10e9_l, 'x10^9/L')} ({ICC_THROMBOCYTOPENIA.text()} or {ICC_THROMBOCYTOSIS.text()})",
        f"neutrophils {fmt(f.neutrophils_10e9_l, 'x10^9/L')} ({ICC_NEUTROPENIA.text()})",
        f"leukocytes {fmt(f.leukocytes_10e9_l, 'x10^9/L')} ({ICC_LEUKOCYTOSIS.text()})",
        f"monocytes {fmt(f.monocytes_10e9_l, 'x10^9/L')} ({ICC_MONOCYTOSIS.text()} and {ICC_MONOCYTOSIS_FRACTION.text()})",
        f"eosinophils {fmt(f.eosinophils_10e9_l, 'x10^9/L')} ({ICC_EOSINOPHILIA.text()})",
    ]
    found = {MET: "abnormal", NOT_MET: "no cytopenia or cytosis", UNKNOWN: "not settled"}[blood_count_abnormality_status(f)]
    return f"blood count {found}: " + ", ".join(counts) + " (ICC names no limits: those of its myeloid neoplasms)"


def _b2(f: SMFindings, rules: EditionRules, a: Atoms) -> Criterion:
    if rules.b2_blood_counts:
        text = _blood_count_text(f) + "; " + _said(
            f.cytopenia_or_cytosis_reactive_cause_excluded,
            "reactive causes excluded",
            "a reactive cause explains it",
            "reactive causes not yet excluded",
        )
    else:
        text = _said(
            f.dysplasia_or_myeloproliferation,
            "dysplasia or myeloproliferation in non-mast-cell lineages without an associated neoplasm",
            "no dysplasia or myeloproliferation",
            "dysplasia/myeloproliferation not assessed",
        )
    return Criterion("b2_other_lineages", status_of(a.b2), text, *rules.sources["b2"])


def _b3(f: SMFindings, rules: EditionRules, a: Atoms) -> Criterion:
    liver = _said(f.hepatomegaly, "hepatomegaly", "no hepatomegaly", "liver size not recorded")
    if f.hepatomegaly:
        liver += _said(f.liver_dysfunction, " with liver dysfunction (C2, not B3)", " without dysfunction", ", liver function not recorded")
    spleen = _said(f.splenomegaly, "splenomegaly", "no splenomegaly", "spleen size not recorded")
    if f.splenomegaly:
        spleen += _said(f.hypersplenism, " with hypersplenism (C3, not B3)", " without hypersplenism", ", hypersplenism not assessed")
    # WHO 2016 names no size (B3_LYMPH_NODE > 0 cm): "limit > 0 cm" would read as a typing error
    limit = f"limit {rules.b3_lymph_node.text()}" if rules.b3_lymph_node.value else "any size: no limit stated"
    node = f"largest lymph node {fmt(f.lymphadenopathy_max_cm, 'cm')} ({limit})"
    status = status_of(organ_b3 or node_route for organ_b3, _ in a.organs for node_route in a.lymph_node)
    return Criterion("b3_organomegaly", status, "; ".join([liver, spleen, node]), *rules.sources["b3"])


def _c4(f: SMFindings, rules: EditionRules, a: Atoms) -> Criterion:
    text = f"largest osteolysis {fmt(f.osteolysis_max_cm, 'cm')}; " + _said(
        f.pathologic_fracture, "pathological fracture", "no pathological fracture", "fracture not recorded"
    )
    if rules.c4_osteolysis is not None:
        text += f" (needs osteolysis {rules.c4_osteolysis.text()} with a pathological fracture)"
    elif f.large_osteolysis is not None:
        text += "; " + _said(f.large_osteolysis, "judged large", "judged not large", "") + f" ({rules.title} names no size)"
    elif status_of(a.bone) is UNKNOWN:
        text += f" ({rules.title} names no size: whether the osteolysis is 'large' is a clinical judgement)"
    return Criterion("c4_bone", status_of(a.bone), text, *rules.sources["c4"])


def _mcl(f: SMFindings, rules: EditionRules, a: Atoms) -> Criterion:
    if f.aspirate_mast_cells_percent is None:
        text = "mast cell percentage in aspirate smears not recorded"
    else:
        text = f"mast cells {fmt(f.aspirate_mast_cells_percent, '%')} of nucleated cells in aspirate smears"
    text += f" (MCL if {rules.mcl_smear.text()})"
    if rules.mcl_immature_only:
        text += "; " + _said(
            f.immature_atypical_morphology,
            "immature/atypical mast cells",
            "no immature/atypical mast cells (ICC counts only those)",
            "immature morphology not recorded (ICC counts only immature/atypical mast cells)",
        )
    return Criterion("mcl_smear", status_of(a.mcl), text, *rules.sources["mcl"])


def _ahn(f: SMFindings, rules: EditionRules, a: Atoms) -> Criterion:
    lineage = recorded_lineage(f)
    counted = " and ".join(sorted(rules.ahn_lineages))
    if lineage is None:
        text = "associated haematological neoplasm not assessed"
    elif lineage == LINEAGE_NONE:
        text = "no associated haematological neoplasm"
    elif lineage == UNCLASSIFIED:
        text = "associated neoplasm recorded; its lineage (myeloid or lymphoid) is not recognised from its name"
    else:
        text = f"associated {lineage} neoplasm recorded"
    text += f" ({rules.ahn_code} counts {counted} neoplasms)"
    status = status_of(ahn for _, _, _, ahn in a.tryptase)
    return Criterion("associated_neoplasm", status, text, *rules.sources["ahn"])


def _bmm(f: SMFindings, rules: EditionRules, a: Atoms, b_findings: list[Criterion], limit: Threshold) -> Criterion:
    lesions = from_bool(f.lesions == NO_SKIN_LESIONS) if f.lesions is not None else UNKNOWN
    no_b = NOT_MET if any(b.status is MET for b in b_findings) else (
        MET if all(b.status is NOT_MET for b in b_findings) else UNKNOWN
    )
    tryptase = status_of(bmm for _, _, bmm, _ in a.tryptase)
    marrow = status_of(
        major or morphology or phenotype or kit
        for _, major in a.major
        for _, morphology in a.morphology
        for _, phenotype in a.immunophenotype
        for _, _, kit in a.kit
    )
    marrow_text = {
        MET: "SM findings in the bone marrow",
        NOT_MET: "no SM finding in the bone marrow (SM shown elsewhere is not BMM)",
        UNKNOWN: "bone marrow involvement not established",
    }[marrow]
    text = (
        marrow_text
        + "; "
        + _said(None if f.lesions is None else f.lesions == NO_SKIN_LESIONS, "no skin lesions", "skin lesions present", "skin not examined")
        + f"; B-findings: {'none' if no_b is MET else 'present' if no_b is NOT_MET else 'not all assessed'}"
        + f"; basal tryptase {fmt(f.baseline_tryptase_ng_ml, 'ng/mL')} (limit {limit.text()}, raw value)"
    )
    return Criterion("bmm_conditions", all_of(marrow, lesions, no_b, tryptase), text, *rules.sources["bmm"])


# ------------------------------------------------------------------ result


@dataclass(frozen=True)
class GuidelineResult:
    """One edition's verdict: the contract's GUIDELINE object plus edition, title, source and notes."""

    edition: str
    title: str
    source: str
    references: tuple[str, ...]
    sm_criteria: Status
    possible_categories: tuple[str, ...]
    criteria: tuple[Criterion, ...]
    b_findings: tuple[Criterion, ...]
    c_findings: tuple[Criterion, ...]
    variant_criteria: tuple[Criterion, ...]
    next_tests: tuple[NextTest, ...]
    notes: tuple[str, ...]

    @property
    def category(self) -> str | None:
        return self.possible_categories[0] if len(self.possible_categories) == 1 else None

    @property
    def summary(self) -> str:
        """The bottom line: the SM criteria, the category or those still possible, and the separating test."""
        return f"{sm_sentence(self.sm_criteria)}. {category_summary(self.possible_categories, self.next_tests)}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "edition": self.edition,
            "title": self.title,
            "source": self.source,
            "references": reference_dicts(self.references),
            "summary": self.summary,
            "sm_criteria": self.sm_criteria.value,
            "category": self.category,
            "possible_categories": list(self.possible_categories),
            "criteria": [c.as_dict() for c in self.criteria],
            "b_findings": [c.as_dict() for c in self.b_findings],
            "c_findings": [c.as_dict() for c in self.c_findings],
            "variant_criteria": [c.as_dict() for c in self.variant_criteria],
            "next_tests": [t.as_dict() for t in self.next_tests],
            "notes": list(self.notes),
        }


def shared_work(f: SMFindings) -> dict[str, Any]:
    """What all editions compute alike (atoms and reasons), done once when several are evaluated."""
    return {"atoms": shared_atoms(f), "reasons": shared_reasons(f)}


def evaluate_guideline(f: SMFindings, rules: EditionRules, shared: Mapping[str, Any] | None = None) -> GuidelineResult:
    """Criteria, B/C-findings, the possible categories and the next tests of one edition.

    ``shared`` (from :func:`shared_work`) saves recomputing what all editions share.
    """
    if shared is None:
        shared = shared_work(f)
    a = atoms(f, rules, shared["atoms"])
    reasons = shared["reasons"]
    sm_values, categories = classify(a, rules)
    b_findings = [_b1(f, rules, a), _b2(f, rules, a), _b3(f, rules, a)]
    variant = [_mcl(f, rules, a), _ahn(f, rules, a)]
    if rules.bmm_tryptase is not None:
        variant.append(_bmm(f, rules, a, b_findings, rules.bmm_tryptase))
    variant.append(_shared(reasons, "mcs_destructive_tumour", rules))
    possible = ordered(categories)
    return GuidelineResult(
        edition=rules.key,
        title=rules.title,
        source=rules.source.text,
        references=rules.source.keys,
        sm_criteria=status_of(sm_values),
        possible_categories=possible,
        criteria=(
            _shared(reasons, "major", rules, rules.major_note),
            _shared(reasons, "minor_morphology", rules),
            _kit(f, rules, a),
            _immunophenotype(f, rules, a),
            _tryptase(f, rules, a),
        ),
        b_findings=tuple(b_findings),
        c_findings=(
            _shared(reasons, "c1_cytopenia", rules),
            _shared(reasons, "c2_liver", rules),
            _shared(reasons, "c3_spleen", rules),
            _c4(f, rules, a),
            _shared(reasons, "c5_malabsorption", rules),
        ),
        variant_criteria=tuple(variant),
        next_tests=tuple(next_tests(f, rules, a, categories, len(sm_values) == 1)),
        notes=tuple(_common_notes(f, rules, a, possible) + rules.notes(f, possible)),
    )


def _common_notes(f: SMFindings, rules: EditionRules, a: Atoms, possible: tuple[str, ...]) -> list[str]:
    notes = []
    if possible == (MCL,):
        c_any = status_of(
            organ_c or c1 or c4 or c5
            for _, organ_c in a.organs
            for c1 in a.cytopenia
            for c4 in a.bone
            for c5 in a.malabsorption
        )
        qualifier = {MET: "acute MCL (C-findings present)", NOT_MET: "chronic MCL (no C-findings)"}.get(c_any)
        if qualifier:
            notes.append(qualifier + "; ECNM 2014 consensus qualifier")
    if MCL in possible and f.circulating_mast_cells_percent is not None:
        leukaemic = MCL_LEUKAEMIC.holds(f.circulating_mast_cells_percent)
        notes.append(
            f"circulating mast cells {fmt(f.circulating_mast_cells_percent, '%')} of leukocytes: "
            + ("leukaemic" if leukaemic else "aleukaemic")
            + f" MCL if MCL ({MCL_LEUKAEMIC.text()} is leukaemic)"
        )
    if possible == (rules.ahn_code,):
        notes.append(f"{rules.ahn_code}: the associated neoplasm is a concomitant diagnosis; name the SM component (ISM/SSM/ASM) with it")
    return notes


# ----------------------------------------------------------------- warnings


def findings_warnings(f: SMFindings) -> list[str]:
    """Inconsistent or incomplete records the SM rules noticed; free text is never echoed."""
    warnings = []
    if f.other_organ_damage:
        warnings.append(
            "SM: other organ damage is recorded; it is not one of the listed C-findings and does not change the SM "
            "category: review it clinically"
        )
    if f.kit_d816v is not None and f.kit_d816v_sample is None:
        warnings.append(
            "SM: the sample of the KIT D816V test is not recorded; a result counts for SM only from marrow, blood or "
            "another extracutaneous organ: record it per sample (molecular.kit_d816v_bone_marrow, ...)"
        )
    if f.kit_d816v == "not_detected" and f.kit_d816v_vaf_percent:
        warnings.append("SM: a KIT D816V VAF above 0 is recorded with 'not detected'; the result 'not detected' is used")
    if f.kit_d816v is None and f.kit_d816v_vaf_percent is not None:
        warnings.append("SM: a KIT D816V VAF is recorded without the test result; record kit_d816v")
    mutation = f.other_activating_kit_mutation
    if mutation and mutation.strip().lower() != "none" and other_kit_sample(f) not in KIT_EXTRACUTANEOUS_SAMPLES:
        warnings.append(
            "SM: the other KIT mutation's sample is not recorded as extracutaneous "
            "(molecular.other_activating_kit_mutation_sample); it counts for SM only from marrow, blood or another organ"
        )
    name = f.associated_hematologic_neoplasm
    if name is not None and not name.strip():
        warnings.append("SM: the associated haematological neoplasm is an empty text; treated as unknown")
    elif ahn_lineage(name) == UNCLASSIFIED and f.associated_hematologic_neoplasm_lineage is None:
        warnings.append(
            "SM: the associated neoplasm's name is not recognised as myeloid or lymphoid; both are kept possible: "
            "record associated_hematologic_neoplasm_lineage"
        )
    if not consistent(f):
        warnings.append(
            "SM: contradictory findings: a cytopenia caused by mast cells with counts that are not cytopenic (the "
            "judgement is used), or a pathological fracture from osteolysis with no osteolysis (0 cm: C4 not met)"
        )
    if f.hypersplenism and f.splenomegaly is False:
        warnings.append("SM: hypersplenism is recorded without splenomegaly; C3 needs both")
    if f.liver_dysfunction and f.hepatomegaly is False:
        warnings.append("SM: liver dysfunction is recorded without hepatomegaly; C2 needs both")
    return warnings
