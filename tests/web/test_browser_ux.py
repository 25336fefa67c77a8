"""In Chromium: the seed case from login to the PDF with its bottom line, the HTML report in the browser,
calculators that fit their cards. With ``$MASTCDS_DOCS_SCREENSHOTS`` set, the pages are also saved there
(the user guide's screenshots: ``MASTCDS_DOCS_SCREENSHOTS=docs/images pytest tests/web/test_browser_ux.py``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mastcds import evaluate
from mastcds.store import service
from mastcds.store.audit import audit_entries
from tests.web.conftest import USERS, Web, seed_case
from tests.web.test_browser import CHROMIUM, VIEWPORT, _log_in, browser, server, shots  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
if not shutil.which(CHROMIUM) and not os.environ.get("CI"):
    pytestmark = [pytest.mark.browser, pytest.mark.skip(reason=f"{CHROMIUM} is not installed (apt-get install chromium)")]

KEY = "walk-seed"


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def bottom_line(result: dict[str, Any]) -> str:
    """The first words a clinician reads: the engine's summary, else WHO 2022's open categories."""
    who2022 = result["guidelines"]["who2022"]
    return result.get("summary") or who2022.get("summary") or "undetermined: ISM or MCL"


def snap(page: Any, shots: Path, name: str, **options: Any) -> None:
    page.screenshot(path=shots / name, **options)
    docs = os.environ.get("MASTCDS_DOCS_SCREENSHOTS")
    if docs:
        Path(docs).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=Path(docs) / name, **options)


def pdf_page_text(pdf: Path, page: int = 1) -> str:
    done = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"], capture_output=True, text=True, check=True)
    return flat(done.stdout)


def test_the_seed_case_from_login_to_the_pdf_with_its_bottom_line(web: Web, server: str, browser: Any, shots: Path) -> None:
    if not shutil.which("pdftotext") and not os.environ.get("CI"):
        pytest.skip("poppler-utils (pdftotext) is not installed")
    service.import_case(web.store, {**seed_case(), "id": KEY}, actor="tests", replace=True)
    expected = flat(bottom_line(evaluate(seed_case())))
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{server}/login")
    snap(page, shots, "login.png")
    _log_in(page, server, "clinician")
    snap(page, shots, "patients.png")
    page.get_by_role("link", name=KEY, exact=True).click()
    page.wait_for_url(f"{server}/patients/{KEY}")
    card = page.locator("#bottom-line")
    assert expected in flat(card.inner_text())
    assert "Separating test" in card.inner_text()
    first_card = page.locator("main section.card").first
    assert first_card.get_attribute("id") == "bottom-line"  # the first thing on the page
    snap(page, shots, "patient.png", full_page=True)

    with page.expect_download() as report_info:
        page.get_by_role("link", name="Report (PDF)").click()
    report = shots / "report.pdf"
    report_info.value.save_as(report)
    assert expected in pdf_page_text(report, 1)

    page.fill("#plan-name", "Jane Example")
    with page.expect_download() as plan_info:
        page.get_by_role("button", name="Action plan (PDF)").click()
    plan = shots / "plan.pdf"
    plan_info.value.save_as(plan)
    text = pdf_page_text(plan, 1)
    assert "Jane Example" in text and "0.3 mg" in text and expected in text
    assert "Pages: 1" in flat(subprocess.run(["pdfinfo", str(plan)], capture_output=True, text=True, check=True).stdout)
    exports = [e for e in audit_entries(web.store, patient_key=KEY) if e.action == "export"]
    assert {e.detail for e in exports} >= {"case report exported (PDF)", "action plan exported (PDF)"}
    assert all(e.actor.endswith(USERS["clinician"]) for e in exports)

    page.get_by_role("link", name="Full evaluation").click()
    page.wait_for_load_state()
    assert expected in flat(page.locator("#bottom-line").inner_text())
    snap(page, shots, "evaluation.png")
    context.close()


def test_the_html_report_opens_in_the_browser(web: Web, server: str, browser: Any) -> None:
    service.import_case(web.store, {**seed_case(), "id": KEY}, actor="tests", replace=True)
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    _log_in(page, server, "viewer")
    page.goto(f"{server}/patients/{KEY}")
    with page.expect_popup() as popup_info:
        page.get_by_role("link", name="Report (HTML)").click()
    report = popup_info.value
    report.wait_for_load_state()
    assert report.title().startswith("mastcds case report") and "Bottom line" in report.content()
    context.close()


def test_calculator_results_stay_inside_their_cards(server: str, browser: Any, shots: Path) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    _log_in(page, server, "viewer")
    page.goto(f"{server}/calculators?calculator=rema&sex=male&urticaria_or_angioedema=false&presyncope_or_syncope=true&baseline_tryptase_ng_ml=50.9#rema")
    assert "REMA 7" in page.locator("#rema .result").inner_text()
    overflowing = page.evaluate(
        "() => [...document.querySelectorAll('.calculators .card')].filter(c => c.scrollWidth > c.clientWidth).map(c => c.id)"
    )
    assert overflowing == []
    page.goto(f"{server}/calculators?calculator=omalizumab&ige_iu_ml=25&weight_kg=106#omalizumab")
    assert "off-label" in page.locator("#omalizumab .result").inner_text()
    page.goto(f"{server}/calculators?calculator=epinephrine&weight_kg=106#epinephrine")
    assert "0.3 mg" in page.locator("#epinephrine .result").inner_text()
    snap(page, shots, "calculators.png", full_page=True)
    context.close()


def test_the_admin_s_first_page(server: str, browser: Any, shots: Path) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    _log_in(page, server, "admin")
    assert page.url == f"{server}/admin/users"
    snap(page, shots, "admin-users.png")
    context.close()
