"""The patient's emergency action plan: what to do in a reaction, what to avoid, what to tell a surgeon.

A written, personal emergency plan is what guidelines ask a patient at risk of
anaphylaxis to leave the clinic with (AAP clinical report, WRITTEN_PLAN). Each
sentence below is plain language for the patient, and each section names the
source it follows:

- when and how to use the adrenaline auto-injector, carrying two: the UK
  regulator's advice to patients (MHRA Drug Safety Update, May 2014 and June
  2023, read at gov.uk);
- what to tell a surgeon or anaesthetist: in 726 anaesthetic procedures in
  mastocytosis, reactions were more frequent after an earlier anaphylaxis,
  in major surgery and general anaesthesia, and without anti-mediator
  premedication (H1/H2 antihistamines and a benzodiazepine) 1 hour before
  (Matito 2015, abstract); the triggers of mast cell release around surgery are
  psychological, pharmacological, mechanical and thermal (Dewachter 2014);
- what to tell a radiologist: reactions to contrast media are reported in
  systemic mastocytosis and premedication is often given (Schwaab 2022,
  abstract).

Pure: the caller gives what the record says (triggers, medicines, the
auto-injector strength from :mod:`mastcds.rules.dosing.epinephrine`).
Nothing is said that the record or a source does not support: an unknown
stays unknown ("No trigger was found").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WRITTEN_PLAN = (
    "Wang J, Sicherer SH; Section on Allergy and Immunology. Guidance on completing a written allergy and "
    "anaphylaxis emergency plan. Pediatrics 2017;139:e20164005 (https://publications.aap.org/pediatrics/article/139/3/e20164005/53741)"
)
# Signs of a severe reaction, the outer thigh, an ambulance after every use.
MHRA_2014 = (
    "MHRA Drug Safety Update, Adrenaline auto-injector advice for patients, May 2014 "
    "(https://www.gov.uk/drug-safety-update/adrenaline-auto-injector-advice-for-patients)"
)
# Use without delay, prescribe and carry two, lie down with legs raised, the second after 5 minutes;
# the steps after the first read as NHS services quote them (the infographic itself was not read).
MHRA_2023 = (
    "MHRA Drug Safety Update, Adrenaline auto-injectors (AAIs): new guidance and resources for safe use, June 2023 "
    "(https://www.gov.uk/drug-safety-update/adrenaline-auto-injectors-aais-new-guidance-and-resources-for-safe-use)"
)
MATITO_2015 = (
    "Matito A, Morgado JM, Sánchez-López P, et al. Management of anesthesia in adult and pediatric mastocytosis: "
    "a study of the Spanish Network on Mastocytosis (REMA) based on 726 anesthetic procedures. "
    "Int Arch Allergy Immunol 2015;167:47-56 (abstract read)"
)
DEWACHTER_2014 = (
    "Dewachter P, Castells MC, Hepner DL, Mouton-Faivre C. Perioperative management of patients with mastocytosis. "
    "Anesthesiology 2014;120:753-9 (https://pubs.asahq.org/anesthesiology/article/120/3/753/13713)"
)
SCHWAAB_2022 = (
    "Schwaab J, Brockow K, Riffel P, et al. Low risk of contrast media-induced hypersensitivity reactions in all "
    "subtypes of systemic mastocytosis. Ann Allergy Asthma Immunol 2022;128:314-8 (abstract read)"
)

DEVICES_CARRIED = 2  # MHRA 2014 and 2023: prescribe two, carry both at all times
SECOND_DOSE_AFTER_MINUTES = 5  # MHRA 2023 (5 to 15 in the 2014 advice)
PREMEDICATION_HOURS_BEFORE = 1  # Matito 2015: prophylactic anti-mediator therapy 1 h before anaesthesia

# A trigger as a patient reads it (the case schema's names: episodes[].trigger).
TRIGGER_WORDS = {
    "hymenoptera_venom": "a bee or wasp sting",
    "drug": "a medicine",
    "food": "a food",
    "heat": "heat",
    "exercise": "exercise",
    "alcohol": "alcohol",
    "infection": "an infection",
    "procedure": "a medical procedure",
    "other": "something else",
}
NO_TRIGGER = "none_identified"

# How often, as a patient reads it; an interval not listed is shown as recorded.
INTERVAL_WORDS = {
    "daily": "once a day",
    "od": "once a day",
    "qd": "once a day",
    "bid": "twice a day",
    "tid": "three times a day",
    "qid": "four times a day",
    "q2w": "every 2 weeks",
    "q4w": "every 4 weeks",
    "prn": "when needed",
    "on_demand": "when needed",
}
# Drug classes as a patient reads them (the case schema's drug names).
DRUG_WORDS = {
    "h1_antihistamine": "antihistamine (H1)",
    "h2_antihistamine": "antihistamine (H2)",
    "leukotriene_antagonist": "leukotriene blocker",
    "glucocorticoid": "steroid",
    "proton_pump_inhibitor": "stomach acid blocker",
    "cromolyn": "cromolyn",
    "interferon_alpha": "interferon alfa",
}
AUTOINJECTOR = "epinephrine_autoinjector"


@dataclass(frozen=True)
class Reaction:
    """One recorded episode: its trigger (the schema's word), the detail written, its date."""

    trigger: str | None
    detail: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class Medicine:
    """A treatment the record shows as current."""

    drug: str
    dose_mg: float | None = None
    interval: str | None = None


@dataclass(frozen=True)
class PlanSection:
    """A titled block of short sentences, with the sources it follows."""

    title: str
    lines: tuple[str, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class ActionPlan:
    sections: tuple[PlanSection, ...]

    @property
    def sources(self) -> tuple[str, ...]:
        """Every source once: why a written plan, then the sections' sources in their order."""
        return tuple(dict.fromkeys((WRITTEN_PLAN, *(source for section in self.sections for source in section.sources))))

    def text(self) -> str:
        """The patient-facing words, one sentence a line (for a reading-level check)."""
        return "\n".join(line for section in self.sections for line in (section.title, *section.lines))


def _mg(value: float) -> str:
    return f"{value:g} mg"


def _autoinjector(dose_mg: float | None) -> PlanSection:
    strength = (
        f"Your adrenaline auto-injector: {_mg(dose_mg)}. Carry {DEVICES_CARRIED} of them with you at all times."
        if dose_mg is not None
        else f"Your doctor will choose the strength of your adrenaline auto-injector. Carry {DEVICES_CARRIED} at all times."
    )
    lines = (
        strength,
        "Use one at once if you have signs of a severe reaction: swelling of the throat or tongue, a changed voice, "
        "trouble breathing or swallowing, wheezing, or feeling dizzy or faint.",
        "If you are not sure, use it. Do not wait.",
        "Press it hard into the outer thigh. You can do it through your clothes.",
        "Then call an ambulance (999 in the UK, 112 in Europe, 911 in the US) and say \"anaphylaxis\".",
        "Lie down and raise your legs. If it is hard to breathe, sit up slowly, then lie down again when you can.",
        "Do not stand up, even if you feel better.",
        f"Use the second auto-injector if you are not better after {SECOND_DOSE_AFTER_MINUTES} minutes.",
        "Always go to hospital after you use it.",
        "Check the dates on your auto-injectors and replace them before they run out.",
    )
    return PlanSection("In a severe reaction", lines, (MHRA_2023, MHRA_2014))


def _triggers(reactions: Sequence[Reaction]) -> PlanSection:
    named: dict[str, None] = {}
    for reaction in reactions:
        if reaction.trigger and reaction.trigger != NO_TRIGGER:
            words = TRIGGER_WORDS.get(reaction.trigger, reaction.trigger.replace("_", " "))
            named[f"{words} ({reaction.detail})" if reaction.detail else words] = None
    unknown = sum(1 for r in reactions if r.trigger in (None, NO_TRIGGER))
    lines: list[str] = []
    if named:
        lines.append("Your reactions came after: " + "; ".join(named) + ".")
        lines.append("Avoid these.")
    if unknown:
        count = "one reaction" if unknown == 1 else f"{unknown} reactions"
        lines.append(f"No cause was found for {count}. A reaction can come without warning, so keep your auto-injectors with you.")
    if not reactions:
        lines.append("No reaction is recorded yet. Tell your doctor about any reaction you have.")
    return PlanSection("What set off your reactions", tuple(lines), ())


def _medicines(medicines: Sequence[Medicine]) -> PlanSection:
    lines = []
    for medicine in medicines:
        if medicine.drug == AUTOINJECTOR:
            continue
        text = DRUG_WORDS.get(medicine.drug, medicine.drug.replace("_", " "))
        if medicine.dose_mg is not None:
            text += f" {_mg(medicine.dose_mg)}"
        if medicine.interval:
            text += f", {INTERVAL_WORDS.get(medicine.interval.lower(), medicine.interval)}"
        lines.append(text[0].upper() + text[1:] + ".")
    if not lines:
        lines.append("No daily medicine is recorded. Ask your doctor what to take.")
    else:
        lines.append("Take them as your doctor prescribed. Do not stop them before an operation unless told to.")
    return PlanSection("Your medicines for mast cell symptoms", tuple(lines), ())


def _procedures(mastocytosis: bool | None, anaphylaxis_before: bool) -> PlanSection:
    if not mastocytosis:
        lines = (
            "Before an operation, a scan with dye or a dental treatment, tell the team about your reactions.",
            "Show them this plan and bring your auto-injectors.",
        )
        return PlanSection("Before an operation or a scan", lines, ())
    lines = [
        "Before an operation, a scan with dye or a dental treatment, tell the surgeon, the anaesthetist and the "
        "radiologist that you have mastocytosis.",
    ]
    if anaphylaxis_before:
        lines.append("Tell them you have had anaphylaxis: it makes a reaction during an operation more likely.")
    lines += [
        f"Ask them to plan medicines for about {PREMEDICATION_HOURS_BEFORE} hour before: antihistamines (H1 and H2) "
        "and a calming medicine. Fewer reactions happened with them.",
        "Ask them to avoid what can set off mast cells: stress, heat or cold, rubbing or pressure on the skin, and "
        "medicines that release histamine.",
        "Before a scan with dye, tell the radiologist if you ever reacted to dye.",
        "Show them this plan and bring your auto-injectors.",
    ]
    return PlanSection("Before an operation or a scan", tuple(lines), (MATITO_2015, DEWACHTER_2014, SCHWAAB_2022))


def action_plan(
    *,
    autoinjector_mg: float | None,
    reactions: Sequence[Reaction],
    medicines: Sequence[Medicine],
    mastocytosis: bool | None,
    anaphylaxis_before: bool,
) -> ActionPlan:
    """The plan's sections, in the order a patient needs them in an emergency.

    ``mastocytosis``: whether the patient has mastocytosis (systemic or in the
    skin); the advice on procedures is from studies in mastocytosis and is
    given only then. ``anaphylaxis_before``: an episode met the anaphylaxis
    criteria.
    """
    return ActionPlan(
        (
            _autoinjector(autoinjector_mg),
            _triggers(reactions),
            _medicines(medicines),
            _procedures(mastocytosis, anaphylaxis_before),
        )
    )
