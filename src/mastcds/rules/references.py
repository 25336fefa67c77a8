"""The bibliography: every work mastcds cites, one entry per primary document, and how to print it.

Rules cite an entry by key (:func:`cite`), so that the evaluation, the web
pages and the report print one citation with a DOI or PubMed link a clinician
can follow, never a mirror or an aggregator. Drug labels are cited as the
regulator's document and section (EU SmPC section 4.2, US PI section 2).

``verified_against`` is set when the values a rule takes from a work were read
only in a secondary copy of it (a review's table, a transcription of a label):
the output then marks the rule "secondary source". ``checked`` says where the
identifiers were looked up. An identifier that could not be found in a
PubMed, PMC, doi.org or publisher record is left out, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

Kind = Literal["article", "label", "guideline", "terminology", "standard"]

DOI_PATTERN = re.compile(r"^10\.\d{4,9}/\S+$")
PMID_PATTERN = re.compile(r"^[1-9]\d{0,8}$")
PMCID_PATTERN = re.compile(r"^PMC\d{5,9}$")


@dataclass(frozen=True)
class Reference:
    """One cited document. ``authors`` as Vancouver writes them ("Khoury JD, Solary E, ..."), empty when not read."""

    key: str
    authors: str
    title: str
    container: str  # journal (abbreviated), or the publisher / regulator of a label or standard
    year: int | None
    volume: str = ""  # "36", "58(Suppl 1)"
    pages: str = ""  # as printed, shortened: "1703-19"
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    url: str | None = None  # the publisher's or registry's own page, for works without DOI/PMID
    section: str = ""  # for a label: "section 4.2"
    kind: Kind = "article"
    verified_against: str | None = None  # the secondary copy the cited values were read in (a key or words)
    checked: str = ""  # where the identifiers were looked up

    @property
    def secondary(self) -> bool:
        return self.verified_against is not None


def _refs(*entries: Reference) -> Mapping[str, Reference]:
    table: dict[str, Reference] = {}
    for entry in entries:
        if entry.key in table:
            raise ValueError(f"duplicate bibliography key {entry.key!r}")
        table[entry.key] = entry
    return MappingProxyType(table)


_PUBMED = "PubMed record"
_PMC = "PMC article page"

REFERENCES: Mapping[str, Reference] = _refs(
    # ------------------------------------------------------------ mastocytosis: classifications
    Reference(
        "khoury2022", "Khoury JD, Solary E, Abla O, et al.",
        "The 5th edition of the World Health Organization Classification of Haematolymphoid Tumours: "
        "Myeloid and Histiocytic/Dendritic Neoplasms",
        "Leukemia", 2022, "36", "1703-19", doi="10.1038/s41375-022-01613-1", pmid="35732831",
        pmcid="PMC9252913", checked=f"{_PMC}; {_PUBMED}",
    ),
    Reference(
        "arber2022", "Arber DA, Orazi A, Hasserjian RP, et al.",
        "International Consensus Classification of Myeloid Neoplasms and Acute Leukemias: integrating "
        "morphologic, clinical, and genomic data",
        "Blood", 2022, "140", "1200-28", doi="10.1182/blood.2022015850", pmid="35767897",
        checked="publisher page (Blood 140(11):1200); DOI and PMID from a journal reference list",
    ),
    Reference(
        "leguit2023", "Leguit RJ, Wang SA, George TI, Tzankov A, Orazi A",
        "The international consensus classification of mastocytosis and related entities",
        "Virchows Arch", 2023, "482", "99-112", doi="10.1007/s00428-022-03423-3", pmid="36214901",
        checked=_PUBMED,
    ),
    Reference(
        "arber2016", "Arber DA, Orazi A, Hasserjian R, et al.",
        "The 2016 revision to the World Health Organization classification of myeloid neoplasms and acute leukemia",
        "Blood", 2016, "127", "2391-405", doi="10.1182/blood-2016-03-643544", pmid="27069254",
        checked="publisher page (Blood 127(20):2391); DOI and PMID from a journal reference list",
    ),
    Reference(
        "valent2017_blood", "Valent P, Akin C, Metcalfe DD",
        "Mastocytosis: 2016 updated WHO classification and novel emerging treatment concepts",
        "Blood", 2017, "129", "1420-7", doi="10.1182/blood-2016-09-731893", pmid="28031180",
        pmcid="PMC5356454", checked=f"{_PMC}; {_PUBMED}",
    ),
    Reference(
        "valent2017_cancer_res", "Valent P, Akin C, Hartmann K, et al.",
        "Advances in the classification and treatment of mastocytosis: current status and outlook toward the future",
        "Cancer Res", 2017, "77", "1261-70",
        checked="title, journal and pages from a journal reference list; DOI and PMID not looked up",
    ),
    Reference(
        "valent2021_hemasphere", "Valent P, Akin C, Hartmann K, et al.",
        "Updated diagnostic criteria and classification of mast cell disorders: a consensus proposal",
        "HemaSphere", 2021, "5", "e646", doi="10.1097/HS9.0000000000000646", pmid="34901755",
        pmcid="PMC8659997", checked=_PMC,
    ),
    Reference(
        "hartmann2016", "Hartmann K, Escribano L, Grattan C, et al.",
        "Cutaneous manifestations in patients with mastocytosis: consensus report of the ECNM, AAAAI and EAACI",
        "J Allergy Clin Immunol", 2016, "137", "35-45", doi="10.1016/j.jaci.2015.08.034",
        verified_against="valent2021_hemasphere",
        checked="abstract only; DOI from one independent citation",
    ),
    Reference(
        "li2023", "Li JY, Ryder CB, Zhang H, et al.",
        "Review and updates on systemic mastocytosis and related entities",
        "Cancers (Basel)", 2023, "15", "5626", doi="10.3390/cancers15235626", pmid="38067330",
        pmcid="PMC10705510", checked=_PMC,
    ),
    Reference(
        # Authors and title were not read: the PMC table page names the journal, pages and DOI only.
        "blood_res2023", "",
        "[review comparing the WHO and ICC criteria; Table 5, 'B' and 'C' findings; authors and title not read]",
        "Blood Res", 2023, "58(Suppl 1)", "S96-108", doi="10.5045/br.2023.2023024", pmcid="PMC10133845",
        checked="PMC table page (authors and title not read)",
    ),
    Reference(
        "blood2013_how_i_treat", "", "How I treat patients with indolent and smoldering [systemic] mastocytosis",
        "Blood", 2013, "121", "3085",
        checked="publisher page (Blood 121(16):3085; authors not read); DOI and PMID not looked up",
    ),
    Reference(
        "zanotti2022_bmm", "Zanotti R, et al.",
        "Refined diagnostic criteria for bone marrow mastocytosis: a proposal of the European Competence Network on "
        "Mastocytosis",
        "Leukemia", 2022,
        checked="title from a university repository record's address, journal and year as the project cites it; "
                "identifiers not looked up",
    ),
    # ------------------------------------------------------------ mast cell activation, tryptase, HaT
    Reference(
        "valent2012", "Valent P, Akin C, Arock M, et al.",
        "Definitions, criteria and global classification of mast cell disorders with special reference to mast "
        "cell activation syndromes: a consensus proposal",
        "Int Arch Allergy Immunol", 2012, "157", "215-25", pmid="22041891", pmcid="PMC3224511",
        checked="PMID from an independent citation with its PubMed link; PMC table page",
    ),
    Reference(
        "valent2019_mcas", "Valent P, Akin C, Bonadonna P, et al.",
        "Proposed diagnostic algorithm for patients with suspected mast cell activation syndrome",
        "J Allergy Clin Immunol Pract", 2019, "7", "1125-33.e1", doi="10.1016/j.jaip.2019.01.006",
        pmid="30737190", checked=_PUBMED,
    ),
    Reference(
        "valent2019_20plus2", "Valent P, Bonadonna P, Hartmann K, et al.",
        "Why the 20% + 2 tryptase formula is a diagnostic gold standard for severe systemic mast cell activation "
        "and mast cell activation syndrome",
        "Int Arch Allergy Immunol", 2019, "180", "44-51", doi="10.1159/000501079", pmid="31256161",
        pmcid="PMC7115850", checked=f"{_PMC}; publisher page",
    ),
    Reference(
        # The consensus MCAS criteria table (criterion B: acute sample 1-4 h after onset). Authors and
        # title were not read: the PMC table page names the journal, pages and DOI only.
        "leuk_lymphoma2020", "",
        "[review; Table 2, consensus criteria of the EU/US group for the diagnosis of MCAS; authors and title not read]",
        "Leuk Lymphoma", 2020, "61", "1075-83", doi="10.1080/10428194.2019.1703974", pmcid="PMC7115828",
        checked="PMC table pages (authors and title not read)",
    ),
    Reference(
        "lyons2022", "Lyons JJ, Greiner G, Hoermann G, Metcalfe DD",
        "Incorporating tryptase genotyping into the workup and diagnosis of mast cell diseases and reactions",
        "J Allergy Clin Immunol Pract", 2022, "10", "1964-73", pmcid="PMC11837873",
        checked="PMC table page; title from the abstract, authors from a news summary; DOI and PMID not looked up",
    ),
    Reference(
        "mateja2021", "Mateja A, et al.", "[NIH tryptase ratio 1.685 for anaphylaxis; title not read]",
        "J Allergy Clin Immunol", 2021, pmid="34425177",
        checked="PMID, first author and journal from the project's criteria reference; title not read",
    ),
    Reference(
        "wao_j2016_tryptase", "", "[serum tryptase and other biomarkers of anaphylaxis; Table 4, timing of the acute "
        "sample; authors and title not read]",
        "World Allergy Organ J", 2016, doi="10.1186/s40413-016-0094-3",
        checked="DOI from the publisher's article address (authors and title not read)",
    ),
    Reference(
        "beyens2023", "Beyens M, et al.", "[tryptase in the work-up of mast cell activation; title not read]",
        "Diagnostics (Basel)", 2023, "13", "3662", doi="10.3390/diagnostics13243662",
        checked="DOI from the publisher's article address; title not read",
    ),
    Reference(
        "valent2013_ajbr", "Valent P, et al.",
        "[ECNM diagnostic algorithm for patients with suspected mastocytosis; title not read]",
        "Am J Blood Res", 2013, pmcid="PMC3649810",
        checked="PMC figure and table pages read by the project; title not read",
    ),
    # ------------------------------------------------------------ anaphylaxis
    Reference(
        "cardona2020_wao", "Cardona V, Ansotegui IJ, Ebisawa M, et al.",
        "World Allergy Organization anaphylaxis guidance 2020",
        "World Allergy Organ J", 2020, "13", "100472", doi="10.1016/j.waojou.2020.100472", pmid="33204386",
        verified_against="the criteria table as reproduced in the McMaster Textbook of Internal Medicine "
                         "(English and Spanish editions)",
        checked="PMID as the project's previous PubMed link; DOI from many independent citations",
    ),
    Reference(
        "sampson2006", "Sampson HA, Muñoz-Furlong A, Campbell RL, et al.",
        "Second symposium on the definition and management of anaphylaxis: summary report",
        "J Allergy Clin Immunol", 2006, "117", "391-7", doi="10.1016/j.jaci.2005.12.1303", pmid="16461139",
        verified_against="the criteria table as reproduced in Acute Med Surg (PMC7659525, Table 1)",
        checked="DOI and PMID from several independent citations that agree (no PubMed page read)",
    ),
    Reference(
        "brown2004", "Brown SGA",
        "Clinical features and severity grading of anaphylaxis",
        "J Allergy Clin Immunol", 2004, "114", "371-6", doi="10.1016/j.jaci.2004.04.029", pmid="15316518",
        checked="PMID as the project's previous PubMed link; DOI from several independent citations",
    ),
    Reference(
        "alvarez_twose2010_rema", "Álvarez-Twose I, et al.",
        "Clinical, biological, and molecular characteristics of clonal mast cell disorders presenting with "
        "systemic mast cell activation symptoms",
        "J Allergy Clin Immunol", 2010, "125", "1269-78", pmid="20434205",
        verified_against="the point values as commonly quoted (the paper's table was not read; the predictors "
                         "are in its abstract)",
        checked="PubMed record; DOI not found",
    ),
    Reference(
        "alvarez_twose2012_rema", "Álvarez-Twose I, et al.", "[validation of the REMA score; title not read]",
        "Int Arch Allergy Immunol", 2012, "157", "275-80",
        checked="journal, volume and pages as the project's REMA module cites it; title and identifiers not looked up",
    ),
    Reference(
        "mcmurray2024", "McMurray JC, et al.", "[REMA cut-off, score >= 2, Figure 5; title not read]",
        "Blood", 2024, "", "", doi="10.1182/blood.2023023347",
        checked="DOI from the publisher's article address; title and authors not read",
    ),
    Reference(
        "bonadonna2009", "Bonadonna P, et al.",
        "[clonal mast cell disorders in patients with Hymenoptera venom reactions; title not read]", "", 2009,
        checked="first author and year as the project's screening rules cite them; title and identifiers not read",
    ),
    Reference(
        "zanotti2015", "Zanotti R, et al.",
        "[clonal mast cell disorders in severe Hymenoptera venom allergy; title not read]", "", 2015,
        checked="first author and year as the project's screening rules cite them; title and identifiers not read",
    ),
    Reference(
        "brockow2008", "Brockow K, et al.", "[anaphylaxis in 120 patients with mastocytosis; title not read]",
        "", 2008, pmid="18186813",
        checked="PMID from PubMed (the project's treatment reference); title and journal not looked up",
    ),
    # ------------------------------------------------------------ prognosis
    Reference(
        "jawhar2019_mars", "Jawhar M, et al.",
        "MARS: Mutation-Adjusted Risk Score for advanced systemic mastocytosis",
        "J Clin Oncol", 2019,
        verified_against="the points and risk groups as quoted by clinical summaries (Medscape; The ASCO Post for "
                         "the cohorts and median survivals)",
        checked="title from the congress abstract (EHA 2019, S1611) and journal from The ASCO Post; DOI and PMID "
                "were seen only in an unreliable code citation and are left out",
    ),
    Reference(
        "sperr2019_ipsm", "Sperr WR, et al.", "[International prognostic scoring system for mastocytosis (IPSM); "
        "title not read]",
        "Lancet Haematol", 2019,
        checked="first author, journal and year as the project and issue 15 cite it; identifiers not verified",
    ),
    Reference(
        "pardanani2018_maps", "Pardanani A, Shah S, Mannelli F, et al.",
        "Mayo alliance prognostic system for mastocytosis: clinical and hybrid clinical-molecular models",
        "Blood Adv", 2018, "2", "2964-72", doi="10.1182/bloodadvances.2018026245", pmid="30413432",
        pmcid="PMC6234360", checked=_PMC,
    ),
    # ------------------------------------------------------------ treatment
    Reference(
        # Authors and title were not read: the PMC table page names the journal, issue and DOI only.
        "ijms2021_mast_cell", "",
        "[review of mast cell disorders; Table 2, medical management of mast cell disorders; authors and title not read]",
        "Int J Mol Sci", 2021, "22", "11270", doi="10.3390/ijms222011270", pmcid="PMC8540348",
        checked="PMC table page (authors and title not read)",
    ),
    Reference(
        "omalizumab_sm_pmid28662309", "", "[omalizumab in mastocytosis: response rates and safety; title not read]",
        "", None, pmid="28662309",
        checked="PMID from PubMed (the project's treatment reference); authors, title and journal not read",
    ),
    Reference(
        "gonzalez_de_olano2008", "González de Olano D, et al.",
        "[venom immunotherapy in mastocytosis with Hymenoptera venom anaphylaxis; title not read]",
        "", 2008, pmid="18177694",
        checked="PMID from PubMed (the project's treatment reference); title and journal not looked up",
    ),
    Reference(
        "rueff2006", "Rueff F, et al.", "[mastocytosis and Hymenoptera venom allergy; title not read]",
        "Curr Opin Allergy Clin Immunol", 2006, pmid="16825870",
        checked="PMID from the project's treatment reference; title not looked up",
    ),
    Reference(
        "antihistamine_updosing_pmc3164658", "", "[up to fourfold dosing of non-sedating H1 antihistamines]",
        "PubMed Central article", None, pmcid="PMC3164658",
        checked="PMC article read for the fourfold dose by the project; authors and title not read",
    ),
    Reference(
        "urticaria_guideline_pmc10027330", "", "[urticaria guideline practice: H1 antihistamine up to fourfold]",
        "PubMed Central article", None, pmcid="PMC10027330",
        checked="PMC article read for the fourfold dose by the project; authors and title not read",
    ),
    # ------------------------------------------------------------ drug labels (regulator's documents)
    Reference(
        "xolair_eu_smpc", "European Medicines Agency",
        "Xolair (omalizumab): Summary of Product Characteristics (EPAR product information, Annex I)",
        "European Medicines Agency", None, section="section 4.2", kind="label",
        url="https://www.ema.europa.eu/en/medicines/human/EPAR/xolair",
        verified_against="transcriptions of the SmPC text (the 2015 text and a later Annex I), not the EMA PDF",
        checked="EMA EPAR page of the product",
    ),
    Reference(
        "xolair_us_pi", "Genentech, Novartis",
        "XOLAIR (omalizumab) injection: Prescribing Information (BLA 103976)",
        "US Food and Drug Administration", None, section="section 2 (Dosage and Administration)", kind="label",
        url="https://www.accessdata.fda.gov/scripts/cder/daf/index.cfm?event=overview.process&ApplNo=103976",
        verified_against="reproductions of the dosing tables (a journal table and drug compendia), not the FDA PDF",
        checked="Drugs@FDA application number from the FDA Purple Book",
    ),
    Reference(
        "auvi_q_us_pi", "kaléo",
        "AUVI-Q (epinephrine injection, USP) auto-injector: Prescribing Information",
        "US Food and Drug Administration", None, section="section 2 (Dosage and Administration)", kind="label",
        checked="read in the FDA's drug label database (openFDA)",
    ),
    Reference(
        "rydapt_eu_smpc", "European Medicines Agency",
        "Rydapt (midostaurin): Summary of Product Characteristics (EPAR product information, Annex I)",
        "European Medicines Agency", None, section="section 4.2", kind="label",
        url="https://www.ema.europa.eu/en/medicines/human/EPAR/rydapt",
        verified_against="the manufacturer's prescriber pages and drug compendia, not the SmPC itself",
        checked="EMA EPAR page of the product",
    ),
    Reference(
        "ayvakyt_eu_smpc", "European Medicines Agency",
        "Ayvakyt (avapritinib): Summary of Product Characteristics (EPAR product information, Annex I)",
        "European Medicines Agency", None, section="section 4.2", kind="label",
        url="https://www.ema.europa.eu/en/medicines/human/EPAR/ayvakyt",
        verified_against="the manufacturer's prescriber pages (EU and US) and drug compendia, not the SmPC itself",
        checked="EMA EPAR page of the product",
    ),
    # ------------------------------------------------------------ adrenaline auto-injector practice
    Reference(
        "resus_uk2021", "Resuscitation Council UK",
        "Emergency treatment of anaphylaxis: guidelines for healthcare providers",
        "Resuscitation Council UK", 2021, kind="guideline",
        verified_against="NHS formulary and NHS allergy service pages quoting the age bands",
        checked="title and date from an independent citation",
    ),
    Reference(
        "mhra_aai", "Medicines and Healthcare products Regulatory Agency; UK Department of Health",
        "[advice to prescribe two adrenaline auto-injectors and carry both at all times; title not read]",
        "MHRA", None, kind="guideline",
        verified_against="NHS formulary and NHS allergy service pages quoting the advice",
    ),
    Reference(
        "uk_aai_practice", "UK Department of Health; BSACI",
        "[adrenaline auto-injector strength by body weight in UK prescribing practice; title not read]",
        "UK Department of Health", None, kind="guideline",
        verified_against="the UK schools' guidance as summarised by the Spare Pens in Schools campaign, and a "
                         "Newcastle University research output for the 25-30 kg switch by device",
    ),
    Reference(
        "ascia_aai", "Australasian Society of Clinical Immunology and Allergy (ASCIA)",
        "[ASCIA guidance on adrenaline (epinephrine) injector strength by body weight; title not read]",
        "ASCIA", None, kind="guideline",
        verified_against="Allergy & Anaphylaxis Australia's summary of the ASCIA device bands and a journal "
                         "article (PMID 34211247)",
    ),
    # ------------------------------------------------------------ methods
    Reference(
        "garwood1936", "Garwood F", "Fiducial limits for the Poisson distribution",
        "Biometrika", 1936, "28", "437-42", doi="10.1093/biomet/28.3-4.437",
        checked="DOI from independent citations",
    ),
    Reference(
        "przyborowski1940", "Przyborowski J, Wilenski H",
        "[exact conditional test of two Poisson rates; title not read]",
        "Biometrika", 1940, "31", "313-23",
        checked="journal, volume and pages as cited by R stats::poisson.test; DOI not looked up",
    ),
    Reference(
        "wong2011", "Wong B", "Points of view: Color blindness",
        "Nat Methods", 2011, "8", "441", doi="10.1038/nmeth.1618",
        checked="DOI from independent citations",
    ),
    Reference(
        "okabe_ito2008", "Okabe M, Ito K",
        "Color universal design (CUD): how to make figures and presentations that are friendly to colorblind people",
        "J*Fly", 2008, kind="guideline",
        checked="web publication (2002-2008) as the report's palette module cites it",
    ),
    # ------------------------------------------------------------ terminologies and standards
    Reference(
        "loinc", "Regenstrief Institute", "LOINC: Logical Observation Identifiers Names and Codes",
        "Regenstrief Institute", None, kind="terminology", url="https://loinc.org",
    ),
    Reference(
        "snomed_ct", "SNOMED International", "SNOMED CT International Edition",
        "SNOMED International", None, kind="terminology", url="https://www.snomed.org",
    ),
    Reference(
        "icd10cm", "National Center for Health Statistics (CDC)",
        "ICD-10-CM: International Classification of Diseases, Tenth Revision, Clinical Modification "
        "(April 2026 release)",
        "Centers for Disease Control and Prevention", 2026, kind="terminology",
        url="https://www.cdc.gov/nchs/icd/icd-10-cm/",
        checked="every code checked against the release as shipped by simple-icd-10-cm 1.5.0",
    ),
    Reference(
        "who_icd10", "World Health Organization", "ICD-10: International Statistical Classification of Diseases "
        "and Related Health Problems, 10th Revision (2019 version)",
        "World Health Organization", 2019, kind="terminology", url="https://icd.who.int/browse10/2019/en",
    ),
    Reference(
        "ucum", "Schadow G, McDonald CJ", "The Unified Code for Units of Measure",
        "Regenstrief Institute", None, kind="terminology", url="https://ucum.org",
    ),
    Reference(
        "who_atc", "WHO Collaborating Centre for Drug Statistics Methodology", "ATC/DDD Index",
        "World Health Organization", None, kind="terminology", url="https://www.whocc.no/atc_ddd_index/",
    ),
    Reference(
        "rxnorm", "National Library of Medicine", "RxNorm", "National Library of Medicine", None,
        kind="terminology", url="https://www.nlm.nih.gov/research/umls/rxnorm/",
    ),
    Reference(
        "hgnc", "HUGO Gene Nomenclature Committee", "HGNC: the HUGO Gene Nomenclature Committee database",
        "HGNC", None, kind="terminology", url="https://www.genenames.org",
    ),
    Reference(
        "orphanet", "Orphanet", "Orphanet nomenclature of rare diseases (ORPHAcodes)", "INSERM", None,
        kind="terminology", url="https://www.orpha.net",
    ),
    Reference(
        "ehdsi_mvc", "European Commission; HL7 Europe",
        "eHealth Digital Service Infrastructure (eHDSI) Master Value Set Catalogue",
        "European Commission", None, kind="terminology",
        checked="read in HL7 Europe's eHDSI terminology package",
    ),
    Reference(
        "hl7_fhir_r4", "HL7 International", "FHIR Release 4 (4.0.1)", "HL7 International", 2019,
        kind="standard", url="https://hl7.org/fhir/R4/",
    ),
    Reference(
        "hl7_genomics_ig", "HL7 International", "Genomics Reporting Implementation Guide, release 3.0.0",
        "HL7 International", None, kind="standard", url="https://hl7.org/fhir/uv/genomics-reporting/",
        checked="read in the guide's published FSH sources, tag 3.0.0",
    ),
    Reference(
        "cds_hooks2", "HL7 International", "CDS Hooks, release 2.0", "HL7 International", None,
        kind="standard", url="https://cds-hooks.hl7.org/2.0/",
    ),
    Reference(
        "fhirpath_n1", "HL7 International", "FHIRPath, Normative Release 1", "HL7 International", None,
        kind="standard", url="https://hl7.org/fhirpath/N1/",
    ),
    Reference(
        "sql_on_fhir2", "HL7 International", "SQL on FHIR, release 2.0.0", "HL7 International", None,
        kind="standard", url="https://sql-on-fhir.org/ig/2.0.0/",
    ),
)


class Citation(NamedTuple):
    """A rule's source: the text a clinician reads and the bibliography keys behind it.

    A :class:`~mastcds.rules.logic.Criterion` takes both: ``Criterion(id, status, reason, *citation)``.
    """

    text: str
    keys: tuple[str, ...]


def reference(key: str) -> Reference:
    """The entry, or a KeyError naming the unknown key (a rule citing a missing entry fails at import)."""
    try:
        return REFERENCES[key]
    except KeyError:
        raise KeyError(f"no bibliography entry {key!r}") from None


def _first_author(authors: str) -> str:
    """'Khoury JD et al.' for several authors, 'Brown SGA.' for one: the head of a short citation."""
    names = [name.strip() for name in authors.split(",") if name.strip()]
    if not names:
        return ""
    return f"{names[0]} et al." if len(names) > 1 else f"{names[0]}."


def _sentence(text: str) -> str:
    """``text`` ending with exactly one full stop."""
    return text if text.endswith(".") else text + "."


def _locator(ref: Reference) -> str:
    """'Leukemia 2022;36:1703-19' (journal, year, volume, pages as far as known)."""
    text = " ".join(part for part in (ref.container, "" if ref.year is None else str(ref.year)) if part)
    if ref.volume:
        text += f";{ref.volume}"
        if ref.pages:
            text += f":{ref.pages}"
    elif ref.pages:
        text += f":{ref.pages}"
    return text


def short_citation(key: str) -> str:
    """'Khoury JD et al. Leukemia 2022;36:1703-19. doi:10.1038/s41375-022-01613-1' (labels: title, section, regulator)."""
    ref = reference(key)
    locator = _locator(ref)
    if ref.kind == "label":
        text = f"{ref.title}, {ref.section}. {ref.container}."
    elif ref.kind in ("terminology", "standard", "guideline"):
        title = [] if ref.title.startswith("[") else [_sentence(ref.title)]  # a description is for the bibliography
        text = " ".join([_sentence(ref.authors), *title, *([str(ref.year) + "."] if ref.year else [])])
    else:
        head = _first_author(ref.authors)  # a work whose authors were not read is named by its journal
        if not head and not locator:
            head = _sentence(ref.title)
        text = " ".join(part for part in (head, _sentence(locator) if locator else "") if part)
    if ref.doi:
        text += f" doi:{ref.doi}"
    elif ref.pmid:
        text += f" PMID:{ref.pmid}"
    elif ref.pmcid:
        text += f" {ref.pmcid}"
    return text


def full_citation(key: str) -> str:
    """The bibliography line: authors, title, journal;volume:pages, and every identifier."""
    ref = reference(key)
    if ref.kind in ("label", "terminology", "standard", "guideline"):
        parts = [f"{ref.authors}. {ref.title}"]
        if ref.section:
            parts.append(ref.section)
        if ref.kind != "label" and ref.year is not None:
            parts.append(str(ref.year))
        text = ". ".join(parts) + "."
    else:
        parts = [_sentence(ref.authors)] if ref.authors else []
        parts.append(_sentence(ref.title))
        if _locator(ref):
            parts.append(_sentence(_locator(ref)))
        text = " ".join(parts)
    ids = [f"doi:{ref.doi}"] if ref.doi else []
    ids += [f"PMID:{ref.pmid}"] if ref.pmid else []
    ids += [ref.pmcid] if ref.pmcid else []
    if ids:
        text += " " + "; ".join(ids) + "."
    if ref.secondary:
        text += f" Secondary source: values verified against {verified_against_text(key)}."
    return text


def verified_against_text(key: str) -> str | None:
    """The secondary copy in words: another entry's short citation, or the entry's own description."""
    ref = reference(key)
    if ref.verified_against is None:
        return None
    if ref.verified_against in REFERENCES:
        return short_citation(ref.verified_against)
    return ref.verified_against


def links(key: str) -> list[str]:
    """Every link of the entry, the most durable first: doi.org, PubMed, PMC, then the publisher's page."""
    ref = reference(key)
    found = []
    if ref.doi:
        found.append(f"https://doi.org/{ref.doi}")
    if ref.pmid:
        found.append(f"https://pubmed.ncbi.nlm.nih.gov/{ref.pmid}/")
    if ref.pmcid:
        found.append(f"https://pmc.ncbi.nlm.nih.gov/articles/{ref.pmcid}/")
    if ref.url:
        found.append(ref.url)
    return found


def link(key: str) -> str | None:
    """The one link to print beside a citation, or None when the work has none."""
    found = links(key)
    return found[0] if found else None


def source_text(keys: Iterable[str], where: str = "") -> str:
    """The human-readable source of a rule: short citations, the place in the work, and the secondary mark."""
    keys = tuple(keys)
    text = "; ".join(short_citation(key).removesuffix(".") for key in keys)
    if where:
        text = f"{where}: {text}"
    secondary = [key for key in keys if reference(key).secondary]
    if secondary:
        copies = "; ".join(str(verified_against_text(key)) for key in secondary)
        text += f" [secondary source: verified against {copies}]"
    return text


def cite(*keys: str, where: str = "") -> Citation:
    """The citation of a rule: ``cite("cardona2020_wao", where="criterion 1")``; unknown keys raise KeyError."""
    if not keys:
        raise ValueError("a citation needs at least one bibliography key")
    for key in keys:
        reference(key)
    return Citation(source_text(keys, where), keys)


@lru_cache(maxsize=None)
def _reference_dict(key: str) -> Mapping[str, Any]:
    ref = reference(key)
    return MappingProxyType(
        {
            "key": key,
            "citation": short_citation(key),
            "doi": ref.doi,
            "pmid": ref.pmid,
            "url": link(key),
            "secondary": ref.secondary,
            "verified_against": verified_against_text(key),
        }
    )


def reference_dicts(keys: Iterable[str]) -> list[dict[str, Any]]:
    """The evaluation contract's ``references`` list: one fresh object per key, in the order cited."""
    return [dict(_reference_dict(key)) for key in keys]


def cited_keys(evaluation: Any) -> list[str]:
    """Every bibliography key an evaluation (or any part of it) cites, in order of first appearance."""
    seen: dict[str, None] = {}
    stack = [evaluation]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for entry in item.get("references") or () if isinstance(item.get("references"), list) else ():
                if isinstance(entry, dict) and isinstance(entry.get("key"), str):
                    seen.setdefault(entry["key"], None)
            stack.extend(reversed([value for name, value in item.items() if name != "references"]))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return [key for key in seen if key in REFERENCES]


def references_by_source(*objects: Any) -> dict[str, list[dict[str, Any]]]:
    """Each source text found in evaluation objects, with the references printed beside it.

    A ``"…source"`` string and its sibling ``"…references"`` list go together
    (``source``/``references``, ``severity_source``/``severity_references``…);
    the first list seen for a text wins. For pages that number sources by text.
    """
    found: dict[str, list[dict[str, Any]]] = {}
    stack = list(objects)
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for name, value in item.items():
                if isinstance(value, str) and name.endswith("source"):
                    cited = item.get(name.removesuffix("source") + "references")
                    if isinstance(cited, list):
                        found.setdefault(value, [entry for entry in cited if isinstance(entry, dict)])
                elif isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return found


def bibliography(keys: Iterable[str]) -> list[dict[str, Any]]:
    """The bibliography of the given keys, in that order, duplicates dropped: key, full citation, link, secondary."""
    return [
        {
            "key": key,
            "citation": full_citation(key),
            "url": link(key),
            "secondary": reference(key).secondary,
        }
        for key in dict.fromkeys(keys)
    ]


def bibliography_lines(evaluation: Any, numbered: bool = True) -> list[str]:
    """The bibliography of everything an evaluation cites, one printable line per work (for the CLI).

    ``[1] Khoury JD, Solary E, Abla O, et al. The 5th edition ... doi:... https://doi.org/...``
    """
    lines = []
    for number, entry in enumerate(bibliography(cited_keys(evaluation)), start=1):
        mark = f"[{number}]" if numbered else f"[{entry['key']}]"
        line = f"{mark} {entry['citation']}"
        if entry["url"]:
            line += f" {entry['url']}"
        lines.append(line)
    return lines
