"""The action plan on paper: one A4 or Letter page, the bottom line for the doctors, audited as an export."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mastcds import evaluate
from mastcds.case import load_case
from mastcds.cli import app
from mastcds.report.action_plan import render_plan_pdf
from mastcds.store.audit import audit_entries
from mastcds.store.database import Store

ROOT = Path(__file__).resolve().parents[2]
SEED_FILE = ROOT / "examples" / "seed-case.json"
needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils (pdftotext, pdfinfo) not installed")


def pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def text(pdf: Path) -> str:
    return " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split())


@needs_poppler
@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_the_seed_plan_is_one_page_with_the_strength_and_the_bottom_line(tmp_path: Path, paper: str) -> None:
    document = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    result = evaluate(document)
    pdf = tmp_path / "plan.pdf"
    pdf.write_bytes(render_plan_pdf(load_case(document), result, name="Jane Example", paper=paper))
    assert pages(pdf) == 1
    words = text(pdf)
    assert "Jane Example" in words and "0.3 mg" in words and "Carry 2" in words
    who2022 = result["guidelines"]["who2022"]
    bottom = result.get("summary") or who2022.get("summary") or "undetermined: " + " or ".join(who2022["possible_categories"])
    assert " ".join(bottom.split()) in words


@needs_poppler
def test_a_long_record_still_fits_one_page(tmp_path: Path) -> None:
    document = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    triggers = ["drug", "food", "heat", "exercise", "alcohol", "infection", "hymenoptera_venom"]
    document["episodes"] += [{"id": f"x{i}", "date": "2012", "trigger": t, "trigger_detail": "a detail of some length"} for i, t in enumerate(triggers)]
    document["treatments"] += [{"drug": d, "start_date": "2012", "dose_mg": 10, "interval": "daily"} for d in ("cromolyn", "montelukast", "famotidine", "prednisolone")]
    pdf = tmp_path / "plan.pdf"
    pdf.write_bytes(render_plan_pdf(load_case(document), evaluate(document), paper="letter"))
    assert pages(pdf) == 1


def test_mastcds_plan_from_the_database_is_audited_as_an_export(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    runner = CliRunner()
    env = {"MASTCDS_USER": "dr-who"}
    assert runner.invoke(app, ["patient", "import", str(SEED_FILE), "--db", db], env=env).exit_code == 0
    out = tmp_path / "plan.pdf"
    done = runner.invoke(app, ["plan", "seed-omalizumab-ism", "--out", str(out), "--name", "Jane Example", "--db", db], env=env)
    assert done.exit_code == 0, done.output
    assert out.read_bytes().startswith(b"%PDF")
    store = Store(db)
    (export,) = [e for e in audit_entries(store, patient_key="seed-omalizumab-ism") if e.action == "export"]
    assert export.actor.startswith("dr-who") and "action plan" in export.detail and "Jane" not in export.detail
    store.close()
    wrong = runner.invoke(app, ["plan", "--case", str(SEED_FILE), "--out", str(tmp_path / "plan.docx")])
    assert wrong.exit_code == 2 and "--out" in wrong.stderr
