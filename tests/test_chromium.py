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
