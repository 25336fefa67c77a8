"""Browser tests: Playwright driving Debian's chromium against the application served by uvicorn.

A clinician logs in, enters the seed case through the form (a wrong value
first: the error shows beside its field and nothing is saved), sees ISM with
its criteria and the timeline, and downloads the report. Screenshots go to
``$MASTCDS_SCREENSHOTS`` when set (to look at them), else to the test's
temporary directory.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from mastcds.store import service
from mastcds.web.case_form import state_from_document
from tests.web.conftest import PASSWORD, USERS, Web, seed_case

CHROMIUM = "/usr/bin/chromium"
# Never download a browser: Debian's chromium, headless, with nothing phoning home.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
VIEWPORT = {"width": 1366, "height": 860}  # a common laptop screen

pytestmark = pytest.mark.browser
if not shutil.which(CHROMIUM) and not os.environ.get("CI"):
    pytestmark = [pytest.mark.browser, pytest.mark.skip(reason=f"{CHROMIUM} is not installed (apt-get install chromium)")]


@pytest.fixture(scope="module")
def server(web: Web) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(web.app, host="127.0.0.1", port=port, access_log=False, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    directory = Path(os.environ.get("MASTCDS_SCREENSHOTS") or tmp_path)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _log_in(page: Any, base: str, role: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", USERS[role])
    page.fill("#password", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()


def _enter(page: Any, document: dict[str, Any]) -> None:
    """Type a case into the form as a clinician would: add the rows, then fill every field."""
    state = state_from_document(document)
    labels = {"episodes": "Add an episode", "lab_results": "Add a lab result", "treatments": "Add a treatment"}
    for section, rows in state.rows.items():
        for _ in rows:
            page.get_by_role("button", name=labels[section]).click()
            page.wait_for_load_state()
    values = dict(state.values)
    for section, rows in state.rows.items():
        for index, row in enumerate(rows):
            values.update({f"{section}[{index}].{name}": value for name, value in row.items()})
    for name, value in values.items():
        field = page.locator(f'[name="{name}"]')
        if field.evaluate("element => element.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def test_a_clinician_enters_the_seed_case_and_reads_its_evaluation(web: Web, server: str, browser: Any, shots: Path) -> None:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    _log_in(page, server, "clinician")
    page.screenshot(path=shots / "01-patients.png")

    page.get_by_role("link", name="New patient").first.click()
    case = {**seed_case(), "id": "browser-seed"}
    _enter(page, case)
    tryptase = page.locator('[name="labs.baseline_tryptase_ng_ml"]')
    tryptase.fill("50.9 ng")
    before = len(service.list_patients(web.store, actor="tests"))
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_load_state()
    error = page.locator("#f-labs-baseline_tryptase_ng_ml-error")
    assert error.is_visible() and "enter a number" in error.inner_text()
    field = page.locator(".field", has=tryptase)
    assert field.locator(".error").inner_text() == error.inner_text()  # beside its field
    assert tryptase.get_attribute("aria-invalid") == "true" and tryptase.input_value() == "50.9 ng"
    assert "nothing was saved" in page.locator("#problems").inner_text()
    assert len(service.list_patients(web.store, actor="tests")) == before
    tryptase.scroll_into_view_if_needed()
    page.screenshot(path=shots / "02-error-beside-field.png")

    tryptase.fill("50.9")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(f"{server}/patients/browser-seed")
    assert len(service.list_patients(web.store, actor="tests")) == before + 1
    verdicts = page.locator("table.verdicts")
    assert "WHO 2022" in verdicts.inner_text() and "ISM" in verdicts.inner_text()
    timeline = page.locator("img.timeline")
    timeline.scroll_into_view_if_needed()
    page.wait_for_function("image => image.complete && image.naturalWidth > 0", arg=timeline.element_handle())
    assert timeline.evaluate("image => image.naturalWidth") > 500
    page.screenshot(path=shots / "03-patient.png", full_page=True)

    page.get_by_role("link", name="Full evaluation").click()
    page.wait_for_load_state()
    who2022 = page.locator("#g-who2022")
    assert "ISM" in who2022.inner_text()
    criteria = who2022.locator("table.criteria").first
    assert criteria.locator("tbody tr").count() >= 5
    kit = criteria.locator("tr", has_text="minor_kit")
    assert "met" in kit.inner_text() and "KIT D816V" in kit.inner_text() and "WHO 2022" in kit.locator("td.source").inner_text()
    assert page.locator("#g-icc2022 table.criteria").count() and page.locator("#g-who2016 table.criteria").count()
    page.screenshot(path=shots / "04-evaluation.png")

    page.goto(f"{server}/patients/browser-seed")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Report (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == "mastcds-report-browser-seed.pdf"
    saved = shots / "report.pdf"
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF-") and saved.stat().st_size > 10_000
    stored = service.export_case(web.store, "browser-seed", actor="tests")
    assert stored["episodes"] == case["episodes"] and stored["treatments"] == case["treatments"]
    context.close()


def test_the_calculators_page(server: str, browser: Any, shots: Path) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    _log_in(page, server, "viewer")
    page.get_by_role("link", name="Calculators").click()
    page.fill("#omalizumab-ige_iu_ml", "250")
    page.fill("#omalizumab-weight_kg", "65")
    page.locator("#omalizumab button[type=submit]").click()
    page.wait_for_load_state()
    assert "mg every" in page.locator("#omalizumab .result").inner_text()
    page.fill("#tryptase-baseline_tryptase_ng_ml", "50.9")
    page.fill("#tryptase-acute_tryptase_ng_ml", "70")
    page.locator("#tryptase button[type=submit]").click()
    page.wait_for_load_state()
    assert "63.08 ng/mL" in page.locator("#tryptase .result").inner_text()
    page.screenshot(path=shots / "05-calculators.png", full_page=True)
    context.close()


def test_a_viewer_sees_no_write_actions_and_an_admin_no_patients(server: str, browser: Any) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    _log_in(page, server, "viewer")
    assert page.get_by_role("link", name="New patient").count() == 0
    page.goto(f"{server}/patients/new")
    assert "Not allowed for your role" in page.content()
    context.close()
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    _log_in(page, server, "admin")
    assert page.url == f"{server}/admin/users"
    assert page.get_by_role("link", name="Patients").count() == 0
    context.close()
