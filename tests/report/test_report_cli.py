"""`mastcds timeline` and `mastcds report`: from a case file or the record database, end to end."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mastcds.cli import app
from tests.report.conftest import ROOT, SEED_PATH

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def omalizumab_rates(html: str) -> tuple[float, float]:
    row = re.search(r"<tr>\s*<td><b>omalizumab 300 mg q4w</b>.*?</tr>", html, re.S).group(0)
    before, after = (float(x) for x in re.findall(r"<b>(\d+\.\d) episodes/year</b>", row))
    return before, after


@pytest.fixture
def seed_db(tmp_path: Path) -> str:
    from mastcds.store.database import open_store
    from mastcds.store.service import import_case

    db = str(tmp_path / "records.db")
    store = open_store(db)
    try:
        import_case(store, json.loads(SEED_PATH.read_text(encoding="utf-8")), actor="tester", key="P-001")
    finally:
        store.close()
    return db


def test_seed_report_end_to_end_from_the_database(tmp_path: Path, seed_db: str) -> None:
    """The issue's check: the seed case imported, the report shows ISM, the figure, 0 episodes/year after omalizumab."""
    out = tmp_path / "seed.html"
    # as of the record's last dated fact: the default, the evaluation date, leaves omalizumab no time yet
    done = run("report", "P-001", "--db", seed_db, "--user", "tester", "--out", str(out), "--as-of", "2012")
    assert done.exit_code == 0, done.output
    html = out.read_text(encoding="utf-8")
    assert re.search(r'<td class="verdict">(ISM|undetermined: ISM or MCL)</td>', html)
    assert '<img src="data:image/svg+xml;base64,' in html
    before, after = omalizumab_rates(html)
    assert after == 0.0 and before > 0
    assert "not a substitute for clinical judgement" in html


def test_seed_report_pdf_from_a_case_file(tmp_path: Path) -> None:
    out = tmp_path / "seed.pdf"
    done = run("report", "--case", str(SEED_PATH), "--out", str(out), "--as-of", "2012-12-31")
    assert done.exit_code == 0, done.output
    assert out.read_bytes().startswith(b"%PDF-")
    assert f"wrote {out}" in done.output
    if shutil.which("pdfinfo") is None or shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils (pdfinfo, pdftoppm) not installed; .ci/run installs them")
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert 4 <= pages <= 12, pages
    assert "595.276 x 841.89 pts (A4)" in info
    # every page renders; the text layer carries the facts a colleague looks for
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(out), str(tmp_path / "page")], check=True)
    assert len(list(tmp_path.glob("page-*.png"))) == pages
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "not a substitute for clinical judgement" in text
    assert re.search(r"omalizumab 300 mg.*?3\.3 episodes/year.*?0\.0 episodes/year", text, re.S)


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_timeline_from_the_database(tmp_path: Path, seed_db: str, suffix: str) -> None:
    out = tmp_path / f"timeline{suffix}"
    done = run("timeline", "P-001", "--db", seed_db, "--user", "tester", "--out", str(out))
    assert done.exit_code == 0, done.output
    assert out.stat().st_size > 10_000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "--out", "{tmp}/r.pdf"], "give a patient ID"),
        (["report", "P-001", "--case", "{seed}", "--out", "{tmp}/r.pdf"], "not both"),
        (["report", "--case", "{seed}", "--out", "{tmp}/r.docx"], "--out: the report is written as .html, .pdf"),
        (["timeline", "--case", "{seed}", "--out", "{tmp}/t.jpg"], "--out: the timeline is written as .png, .svg, .pdf"),
        (["report", "--case", "{seed}", "--out", "{tmp}/missing/r.pdf"], "does not exist"),
        (["report", "--case", "{seed}", "--out", "{tmp}"], "--out:"),
        (["report", "--case", "{seed}", "--out", "{tmp}/r.pdf", "--as-of", "Sept 2012"], "--as-of: 'Sept 2012' is not a date"),
        (["timeline", "--case", "{seed}", "--out", "{tmp}/t.png", "--as-of", "2012-02-30"], "--as-of: '2012-02-30' is not a calendar date"),
        (["report", "--case", "{seed}", "--out", "{tmp}/r.pdf", "--as-of", "2009"], "before the case's earliest dated fact"),
        (["report", "--case", "{tmp}/absent.json", "--out", "{tmp}/r.pdf"], "no such file"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    done = run(*(a.format(tmp=tmp_path, seed=SEED_PATH) for a in args))
    assert done.exit_code == 2, done.output
    assert message in done.output
    assert list(tmp_path.iterdir()) == []


def test_invalid_case_file_names_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"patient": {"weight_kg": 900}}), encoding="utf-8")
    done = run("report", "--case", str(bad), "--out", str(tmp_path / "r.pdf"))
    assert done.exit_code == 2
    assert "patient.weight_kg" in done.output and "900" in done.output
    assert not (tmp_path / "r.pdf").exists()


def test_unknown_patient_exits_2_without_traceback(tmp_path: Path, seed_db: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mastcds", "report", "P-999", "--db", seed_db, "--user", "tester", "--out", str(tmp_path / "r.pdf")],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )
    assert done.returncode == 2
    assert "P-999" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "r.pdf").exists()


def test_window_options_must_be_positive(tmp_path: Path) -> None:
    done = run("report", "--case", str(SEED_PATH), "--out", str(tmp_path / "r.html"), "--after-days", "0")
    assert done.exit_code == 2
    assert not (tmp_path / "r.html").exists()
