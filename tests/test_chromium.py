"""The HTML report in a real browser: headless Chromium over the DevTools protocol.

CI installs Debian's ``chromium`` (see ``.ci/run``); the tests skip only where
``/usr/bin/chromium`` is missing. Every console message, uncaught exception and
browser log entry of level error (a refused script, a failed load) counts as
an error, and so does any script that ran.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import websocket

from mediacheck.publish import reports
from tests.story import seed_story, tamper
from tests.test_reports import HOSTILE_TEXTS, hostile_case

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT = 60
# innerText leaves out folded <details>: unfold them to read every value as shown.
OPEN_ALL_AND_READ = """(() => {
    document.querySelectorAll("details").forEach((d) => { d.open = true; });
    return document.body.innerText;
})()"""
SUMMARY_DISPLAY = """(() => {
    const summary = document.querySelector("details > summary");
    return summary ? getComputedStyle(summary).display : "";
})()"""

pytestmark = [
    pytest.mark.chromium,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


@dataclass
class PageLoad:
    errors: list[str] = field(default_factory=list)
    screenshot: bytes = b""
    pdf: bytes = b""
    summary_display_in_print: str = ""
    title: str = ""
    text: str = ""
    scripts: int = 0


class DevTools:
    """Just enough of the Chrome DevTools protocol: commands and the events before their answer."""

    def __init__(self, url: str):
        self.ws = websocket.create_connection(url, timeout=TIMEOUT, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        call_id = next(self.ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == call_id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str) -> dict:
        while True:
            for event in self.events:
                if event.get("method") == method:
                    return event
            self.events.append(json.loads(self.ws.recv()))


@contextmanager
def chromium(tmp_path: Path) -> Iterator[DevTools]:
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    process = subprocess.Popen(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "--window-size=1200,1600",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = _devtools_port(process)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=TIMEOUT) as r:
            pages = [t for t in json.load(r) if t["type"] == "page"]
        tools = DevTools(pages[0]["webSocketDebuggerUrl"])
        try:
            yield tools
        finally:
            tools.ws.close()
    finally:
        # SIGTERM lets Chromium take its renderer and helper processes down with it.
        process.terminate()
        try:
            process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _devtools_port(process: subprocess.Popen) -> int:
    for line in process.stderr:
        found = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
        if found:
            # Keep reading stderr: a full pipe would block Chromium mid-test.
            threading.Thread(target=_drain, args=(process.stderr,), daemon=True).start()
            return int(found.group(1))
    raise AssertionError("Chromium exited without opening DevTools")


def _drain(stream) -> None:
    """Read to the end (Chromium and its helpers gone), then close the pipe."""
    with stream:
        stream.read()


def load(tmp_path: Path, html: str) -> PageLoad:
    page_file = tmp_path / "page.html"
    page_file.write_text(html, encoding="utf-8")
    with chromium(tmp_path) as tools:
        for domain in ("Page", "Runtime", "Log"):
            tools.call(f"{domain}.enable")
        tools.call("Page.navigate", url=page_file.as_uri())
        tools.wait_for("Page.loadEventFired")
        result = PageLoad(
            title=_evaluate(tools, "document.title"),
            text=_evaluate(tools, OPEN_ALL_AND_READ),
            scripts=_evaluate(tools, "document.scripts.length"),
        )
        shot = tools.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        result.screenshot = base64.b64decode(shot["data"])
        tools.call("Emulation.setEmulatedMedia", media="print")
        result.summary_display_in_print = _evaluate(tools, SUMMARY_DISPLAY)
        result.pdf = base64.b64decode(tools.call("Page.printToPDF")["data"])
        result.errors = _errors(tools.events)
    return result


def _evaluate(tools: DevTools, expression: str):
    return tools.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"][
        "value"
    ]


def _errors(events: list[dict]) -> list[str]:
    errors = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled":
            errors.append(f"console.{params['type']}: {params.get('args')}")
        elif method == "Runtime.exceptionThrown":
            errors.append(f"exception: {params['exceptionDetails'].get('text')}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            errors.append(f"log: {params['entry']['text']}")
    return errors


def test_a_page_with_a_script_error_is_caught(tmp_path):
    # The checker itself: a broken page must fail the report test below.
    page = load(tmp_path, "<!DOCTYPE html><title>t</title><script>undefinedThing();</script>")
    assert len(page.errors) == 1
    assert page.errors[0].startswith("exception: Uncaught")


def test_report_renders_without_console_errors_and_runs_no_script(tmp_path, store, cli):
    case_id = hostile_case(tmp_path, cli)
    html = reports.render_html(store, reports.report_document(store, case_id))

    page = load(tmp_path, html)

    assert page.errors == []
    assert page.scripts == 0
    assert page.title.startswith(case_id)
    assert page.screenshot.startswith(b"\x89PNG\r\n\x1a\n")
    # Printed, the folds' "click to open" labels go and the page becomes a PDF.
    assert page.summary_display_in_print == "none"
    assert page.pdf.startswith(b"%PDF-")
    (tmp_path / "report.png").write_bytes(page.screenshot)
    for hostile in HOSTILE_TEXTS:
        assert hostile in page.text


# The 30-second report: laid out at a desk's 1280 px and on paper


SCREEN_WIDTH = 1280
# A4 less the 0.4 in margins Chromium prints with, at 96 px an inch.
PRINT_WIDTH = round((8.27 - 0.8) * 96)
# Each table header whose text runs over more than one line, unfolded as in print.
WRAPPED_HEADERS = """(() => {
    document.querySelectorAll("details").forEach((d) => { d.open = true; });
    const range = document.createRange();
    const headers = [...document.querySelectorAll("th")];
    const wrapped = headers.flatMap((th) => {
        range.selectNodeContents(th);
        const height = range.getBoundingClientRect().height;
        const style = getComputedStyle(th);
        // "normal" line height: about 1.2 times the font size.
        const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.2;
        return height > line * 1.5 ? [`${th.textContent} (${height}px of ${line}px lines)`] : [];
    });
    return {headers: headers.length, wrapped: wrapped};
})()"""
BANNER = """(() => {
    const banner = document.querySelector("section.banner");
    if (!banner) return null;
    const first = document.querySelector("main").firstElementChild;
    return {
        first: banner === first,
        top: banner.getBoundingClientRect().top + window.scrollY,
        text: banner.innerText,
        background: getComputedStyle(banner).backgroundColor,
    };
})()"""


@dataclass
class Layout:
    headers: int
    wrapped: list[str]
    banner: dict | None
    screenshot: Path


def lay_out(tmp_path: Path, html: str, name: str) -> dict[str, Layout]:
    """The page at 1280 px on screen and at A4 width in print, each with a screenshot."""
    page_file = tmp_path / f"{name}.html"
    page_file.write_text(html, encoding="utf-8")
    layouts = {}
    with chromium(tmp_path) as tools:
        tools.call("Page.enable")
        for medium, width in (("screen", SCREEN_WIDTH), ("print", PRINT_WIDTH)):
            tools.call(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=900,
                deviceScaleFactor=1,
                mobile=False,
            )
            tools.call("Emulation.setEmulatedMedia", media=medium)
            tools.events.clear()
            tools.call("Page.navigate", url=page_file.as_uri())
            tools.wait_for("Page.loadEventFired")
            measured = _evaluate(tools, WRAPPED_HEADERS)
            shot = tools.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
            png = tmp_path / f"{name}-{medium}.png"
            png.write_bytes(base64.b64decode(shot["data"]))
            banner = _evaluate(tools, BANNER)
            layouts[medium] = Layout(measured["headers"], measured["wrapped"], banner, png)
    return layouts


def test_a_wrapped_header_is_caught(tmp_path):
    # The checker itself: a header squeezed onto two lines must fail the test below.
    html = (
        "<!DOCTYPE html><title>t</title><table style='width:120px'><tr>"
        "<th style='white-space:normal'>a header far too long</th></tr></table>"
    )
    screen = lay_out(tmp_path, html, "squeezed")["screen"]
    assert screen.headers == 1
    assert len(screen.wrapped) == 1 and screen.wrapped[0].startswith("a header far too long")


def test_the_report_of_a_tampered_store_at_1280_px_and_in_print(tmp_path, store, store_dir, cli):
    story = seed_story(cli)
    cli("note", story.later, "--engine", "google-lens", "Found on a 2019 news site")
    tamper(store, store_dir, story)
    html = reports.render_html(store, reports.report_document(store, story.later))

    layouts = lay_out(tmp_path, html, "tampered")

    for medium, layout in layouts.items():
        assert layout.headers > 20, medium
        assert layout.wrapped == [], medium
        assert layout.banner is not None, medium
        assert layout.banner["first"] and layout.banner["top"] < 40, medium
        assert layout.banner["text"].startswith("Integrity check failed: 1 problem."), medium
        assert layout.banner["background"] == "rgb(176, 0, 32)", medium
        assert layout.screenshot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_the_report_of_an_intact_case_has_no_banner(tmp_path, store, cli):
    story = seed_story(cli)
    html = reports.render_html(store, reports.report_document(store, story.later))

    screen = lay_out(tmp_path, html, "intact")["screen"]

    assert screen.banner is None
    assert screen.wrapped == []
