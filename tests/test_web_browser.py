"""The seed story in a real browser: headless Chromium (Debian's) driven by Playwright.

alice logs in, uploads two files into one case, proposes a verdict on each, and is
refused when she approves her own; bob logs in, approves both, the case closes, the
history says so, and the HTML report downloads. Every console error (a script or style
the CSP refused, a failed load) fails the test. Screenshots land in the test's tmp
folder (``MEDIACHECK_SCREENSHOTS`` copies them to a folder to look at).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.backends import BACKENDS
from tests.story import SAMPLES
from tests.web import PASSWORD, desk_server

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_MS = 180_000

pytestmark = [
    pytest.mark.chromium,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module", params=BACKENDS)
def desk(request, tmp_path_factory):
    with desk_server(tmp_path_factory.mktemp("browser"), request.param) as served:
        yield served


class Shots:
    def __init__(self, folder: Path):
        self.folder = folder
        self.copy_to = os.environ.get("MEDIACHECK_SCREENSHOTS")

    def take(self, page, name: str) -> None:
        path = self.folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        if self.copy_to:
            Path(self.copy_to).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(self.copy_to) / path.name)


def logged_in(browser, desk, name: str, errors: list[str]):
    context = browser.new_context(accept_downloads=True)
    # Intake analyses the files before the answer: a loaded CI machine needs more than 30 s.
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{desk.url}/cases")
    assert page.url.startswith(f"{desk.url}/login?next=")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{desk.url}/cases")
    assert page.inner_text("#whoami").startswith(name)
    return context, page


def test_the_seed_story_in_a_browser(browser, desk, tmp_path):
    from playwright.sync_api import expect

    shots = Shots(tmp_path)
    errors: list[str] = []
    alice_context, alice = logged_in(browser, desk, "alice", errors)
    shots.take(alice, "cases")

    alice.click("text=Intake")
    alice.set_input_files(
        "input[name=files]", [str(SAMPLES / "reshared.jpg"), str(SAMPLES / "unrelated.png")]
    )
    alice.fill("input[name=title]", "Hit by two missiles")
    alice.fill("textarea[name=claim]", "Two missiles hit the IVIC building this morning")
    alice.click("#intake-submit")
    alice.wait_for_selector("a.result-case")
    assert alice.inner_text("#upload-status") == "done"  # desk.js ran under the CSP
    assert alice.locator("table.results tbody tr").count() == 2
    shots.take(alice, "intake")
    alice.click("a.result-case >> nth=0")
    alice.wait_for_selector("#case-id")
    case_id = alice.inner_text("#case-id")
    media_ids = [
        m.get_attribute("id").removeprefix("media-") for m in alice.locator("section.media").all()
    ]
    assert "IVIC building hit" in alice.inner_text(".seen")  # the archive's earlier case
    for _ in range(2):
        alice.select_option("form.propose select[name=rating] >> nth=0", "OriginalMediaContent")
        alice.fill("form.propose textarea[name=rationale] >> nth=0", "The photographer's upload")
        alice.click("form.propose button.propose-button >> nth=0")
        alice.wait_for_load_state()
    assert alice.locator("li.verdict.proposed").count() == 2
    shots.take(alice, "case-proposed")

    alice.click("button.approve >> nth=0")
    assert "four eyes" in alice.inner_text("#error-message")
    refused = "the server responded with a status of 403 (Forbidden)"
    assert sum(refused in e for e in errors) == 1  # the browser logs the refusal's status
    errors[:] = [e for e in errors if refused not in e]
    shots.take(alice, "self-approval-refused")
    alice_context.close()

    bob_context, bob = logged_in(browser, desk, "bob", errors)
    assert bob.locator("table.cases tbody tr").count() == 2
    bob.fill("input[name=q]", "two missiles")  # the table follows the search box
    expect(bob.locator("table.cases tbody tr")).to_have_count(1)
    assert bob.inner_text("table.cases tbody").startswith(case_id)
    bob.goto(f"{desk.url}/cases/{case_id}")
    for _ in range(2):
        bob.click("button.approve >> nth=0")
        bob.wait_for_selector("#case-id")
    assert bob.inner_text("#case-status") == "closed"
    assert bob.locator("li.verdict.approved").count() == 2
    timeline = bob.inner_text("#history").splitlines()
    assert [line.split(" ", 3)[3] for line in timeline[-2:]] == [
        f"bob approved OriginalMediaContent for media {item[:8]}…" for item in media_ids
    ]
    shots.take(bob, "case-closed")

    with bob.expect_download() as download:
        bob.click("a.report-html")
    report = Path(download.value.path()).read_text("utf-8")
    assert report.lower().startswith("<!doctype html") and case_id in report
    bob_context.close()
    assert errors == []
