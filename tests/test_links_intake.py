"""Intake from a link: a real HTTP server on 127.0.0.1 serves pages and media to ``intake URL``.

No test touches the internet: every link names the server the module starts, and
``--allow-private`` (or ``--allow-network``) lets the desk fetch from it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlmodel import select
from warcio.archiveiterator import ArchiveIterator

from mediacheck.store.database import Store
from mediacheck.store.models import Source, SourceMedia
from tests.objects import on_both_blob_stores
from tests.video_clips import write_clip

SAMPLES = Path(__file__).resolve().parent.parent / "mediacheck" / "samples"
JPEG = (SAMPLES / "strike.jpg").read_bytes()
OTHER_JPEG = (SAMPLES / "reshared.jpg").read_bytes()
PNG = (SAMPLES / "unrelated.png").read_bytes()
LAST_MODIFIED = "Sat, 03 Jan 2026 06:10:00 GMT"
BIG = 2 * 1024 * 1024  # over a --max-download-mb of 1

PAGE = """<!doctype html>
<html><head><title>Strike on the IVIC building</title>
<meta property="og:title" content="Strike on the IVIC building">
<meta property="og:description" content="Footage <b>posted</b> at dawn">
<meta property="og:video" content="/clip.mp4">
<meta property="og:image" content="/photo.jpg">
</head><body><video controls src="/clip.mp4"></video></body></html>
"""

PICTURES = """<!doctype html>
<html><head><title>Aftermath</title>
<meta property="og:title" content="Aftermath in pictures">
<meta property="og:image" content="/photo.jpg">
<meta property="article:published_time" content="2026-01-03T08:00:00+02:00">
</head><body><img src="/logo.png">
<main><img src="/second.jpg"><img src="javascript:alert(1)"></main></body></html>
"""

# A page whose post yt-dlp's generic extractor finds behind a refresh: a request of its own.
REFRESH = (
    '<!doctype html><html><head><meta http-equiv="refresh" content="0; url=/post">'
    "<title>Moved</title></head><body></body></html>"
)

NO_MEDIA = "<!doctype html><html><head><title>Nothing</title></head><body>text</body></html>"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    routes: dict[str, tuple[int, str, bytes, dict[str, str]]] = {}
    seen: list[str] = []

    def log_message(self, format, *args):  # noqa: A002 - the name http.server gives it
        return None

    def do_GET(self):  # noqa: N802 - http.server's name
        self.seen.append(self.path)
        special = getattr(self, "_" + self.path.strip("/").split("/")[0].replace("-", "_"), None)
        if special is not None:
            return special()
        status, kind, body, extra = self.routes.get(self.path, (404, "text/plain", b"not here", {}))
        self._answer(status, kind, body, extra)

    def _answer(self, status, kind, body, extra=None, length=True):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        if length:
            self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, to: str) -> None:
        self._answer(302, "text/plain", b"moved", {"Location": to})

    def _hops(self):  # /hops/N redirects N times, then to the photo
        left = int(self.path.rsplit("/", 1)[-1])
        self._redirect(f"/hops/{left - 1}" if left > 1 else "/photo.jpg")

    def _loop(self):
        self._redirect("/loop-back")

    def _loop_back(self):
        self._redirect("/loop")

    def _to_file(self):
        self._redirect("file:///etc/passwd")

    def _post_elsewhere(self):  # a post whose video is on an address the rules refuse
        page = PAGE.replace("/clip.mp4", f"http://127.0.0.2:{self.server.server_port}/clip.mp4")
        self._answer(200, "text/html", page.encode())

    def _to_other_loopback(self):  # an address --allow-network 127.0.0.1/32 leaves refused
        self._redirect(f"http://127.0.0.2:{self.server.server_port}/photo.jpg")

    def _echo_cookie(self):  # the picture, only for a request that carries the login cookie
        if self.headers.get("Cookie") == "session=desk-login":
            return self._answer(200, "image/png", PNG, {"Set-Cookie": "tracker=1"})
        self._answer(403, "text/plain", b"log in first")

    def _stall(self):
        time.sleep(3)
        self._answer(200, "image/jpeg", JPEG)

    def _drip(self):
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.end_headers()
        for byte in JPEG[:20]:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(0.2)

    def _big(self):
        self._answer(200, "application/octet-stream", b"\0" * BIG)

    def _big_unsized(self):  # no Content-Length: only streaming can stop it
        self._answer(200, "application/octet-stream", JPEG + b"\0" * BIG, length=False)


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        return None  # a client that gave up on a stalled answer is what the test wanted


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> bytes:
    return write_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", seconds=1).read_bytes()


@pytest.fixture(scope="module")
def server(clip: bytes) -> Iterator[str]:
    """The module's web server on 127.0.0.1; yields its base URL."""
    dated = {"Last-Modified": LAST_MODIFIED, "ETag": '"strike-1"'}
    Handler.routes = {
        "/photo.jpg": (200, "image/jpeg", JPEG, dated),
        "/second.jpg": (200, "image/jpeg", OTHER_JPEG, {}),
        "/logo.png": (200, "image/png", PNG, {}),
        "/clip.mp4": (200, "video/mp4", clip, {}),
        "/post": (200, "text/html; charset=utf-8", PAGE.encode(), {}),
        "/pictures": (200, "text/html", PICTURES.encode(), {}),
        "/nothing": (200, "text/html", NO_MEDIA.encode(), {}),
        "/lying.html": (200, "text/html", JPEG, {}),  # a JPEG that says it is a page
        "/lying-page.jpg": (200, "image/jpeg", PICTURES.encode(), {}),  # and the other way
        "/broken": (500, "text/plain", b"boom", {}),
        "/refresh": (200, "text/html", REFRESH.encode(), {}),
        "/post-big": (200, "text/html", PAGE.replace("/clip.mp4", "/big").encode(), {}),
        "/pictures-missing": (
            200,
            "text/html",
            PICTURES.replace("/second.jpg", "/missing.jpg").encode(),
            {},
        ),  # fmt: skip
    }
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def take_in(cli, *args, expect=0):
    return cli("intake", *args, "--allow-private", "--jobs", "1", "--quick", expect=expect)


def take_in_json(cli, *args, expect=0):
    result = take_in(cli, *args, "--json", expect=expect)
    return json.loads(result.stdout), result.stderr


def warc_of(store_dir: Path, cli, case_id: str) -> list:
    """The records of the case's one WARC, read back from the store with warcio."""
    (source,) = cli.json("show", case_id)["sources"]
    store = Store.open(cli_settings(store_dir, cli))
    with store.blobs.open_blob(source["warc_path"]) as stream:
        data = stream.read()
    store.engine.dispose()
    assert hashlib.sha256(data).hexdigest() == source["warc_path"].rsplit("/", 1)[-1]
    records = []
    for record in ArchiveIterator(io.BytesIO(data)):
        http = record.http_headers
        records.append(
            {
                "type": record.rec_type,
                "uri": record.rec_headers.get_header("WARC-Target-URI"),
                "status": http.get_statuscode() if http and record.rec_type == "response" else None,
                "headers": dict(http.headers) if http else {},
                "line": http.protocol if http and record.rec_type == "request" else None,
                "body": record.content_stream().read(),
                "ip": record.rec_headers.get_header("WARC-IP-Address"),
            }
        )
    return records


def cli_settings(store_dir: Path, cli):
    from mediacheck import config

    env = cli.env
    return config.resolve(store=store_dir, db_url=env["MEDIACHECK_DATABASE_URL"], user="alice")


def stored_files(store_dir: Path) -> list[Path]:
    """Every file kept in the store folder but the database."""
    if not store_dir.exists():
        return []
    return sorted(p for p in store_dir.rglob("*") if p.is_file() and "mediacheck.db" not in p.name)


# Direct media


@on_both_blob_stores
def test_a_direct_jpeg_is_stored_with_its_source_and_warc(cli, server, store_dir):
    url = f"{server}/photo.jpg"
    (result,), _ = take_in_json(cli, url)
    assert result["status"] == "added"
    assert result["sha256"] == hashlib.sha256(JPEG).hexdigest()
    assert result["mime"] == "image/jpeg"
    doc = cli.json("show", result["case_id"])
    assert doc["integrity"]["ok"] is True
    assert doc["source_url"] == url  # filled from the link: the user gave none
    assert doc["title"] == url
    (source,) = doc["sources"]
    assert set(source) == {
        "url", "final_url", "fetched_at", "status", "extractor", "uploader", "title",
        "description", "posted_at", "warc_path", "media_ids",
    }  # fmt: skip
    assert source["url"] == source["final_url"] == url
    assert source["status"] == 200
    assert source["extractor"] == "direct"
    assert source["media_ids"] == [result["media_id"]]
    (media,) = doc["media"]
    assert media["original_name"] == "photo.jpg"
    assert media["original_path"] == url
    assert media["file_mtime"] == "2026-01-03T06:10:00+00:00"  # its Last-Modified
    records = warc_of(store_dir, cli, result["case_id"])
    # warcio writes each response before its request (WARC-Concurrent-To links them)
    assert [r["type"] for r in records] == ["warcinfo", "response", "request", "metadata"]
    response, request = records[1], records[2]
    assert request["uri"] == response["uri"] == url
    assert request["headers"]["User-Agent"] == "mediacheck/0.1.0"
    assert "Cookie" not in request["headers"]
    assert response["status"] == "200"
    assert response["body"] == JPEG
    assert response["headers"]["ETag"] == '"strike-1"'
    assert response["ip"] == "127.0.0.1"
    assert json.loads(records[3]["body"])["post"]["extractor"] == "direct"


def test_the_same_link_twice_is_already_stored_and_records_nothing(cli, server):
    url = f"{server}/photo.jpg"
    (first,), _ = take_in_json(cli, url)
    (again,), _ = take_in_json(cli, url)
    assert again["status"] == "already-stored"
    assert again["case_id"] is None
    assert again["cases"] == [first["case_id"]]
    assert len(cli.json("cases")) == 1
    assert len(cli.json("show", first["case_id"])["sources"]) == 1


def test_a_direct_mp4_is_a_video_of_the_case(cli, server, clip):
    (result,), _ = take_in_json(cli, f"{server}/clip.mp4")
    assert (result["status"], result["kind"], result["mime"]) == ("added", "video", "video/mp4")
    assert result["sha256"] == hashlib.sha256(clip).hexdigest()


def test_redirects_are_followed_and_each_hop_archived(cli, server, store_dir):
    url = f"{server}/hops/3"
    (result,), _ = take_in_json(cli, url)
    (source,) = cli.json("show", result["case_id"])["sources"]
    assert source["url"] == url
    assert source["final_url"] == f"{server}/photo.jpg"
    records = warc_of(store_dir, cli, result["case_id"])
    responses = [(r["uri"], r["status"]) for r in records if r["type"] == "response"]
    assert responses == [
        (f"{server}/hops/3", "302"),
        (f"{server}/hops/2", "302"),
        (f"{server}/hops/1", "302"),
        (f"{server}/photo.jpg", "200"),
    ]


def test_a_lying_content_type_is_read_from_the_content(cli, server):
    (result,), _ = take_in_json(cli, f"{server}/lying.html")
    assert (result["status"], result["mime"]) == ("added", "image/jpeg")
    doc = cli.json("show", result["case_id"])
    assert doc["sources"][0]["extractor"] == "direct"


# Pages and posts


def test_a_page_yt_dlp_handles_gives_its_video_and_the_post(cli, server, clip, store_dir):
    url = f"{server}/post"
    results, _ = take_in_json(cli, url, "--platform", "telegram")
    (video,) = results
    assert (video["status"], video["kind"]) == ("added", "video")
    assert video["sha256"] == hashlib.sha256(clip).hexdigest()
    doc = cli.json("show", video["case_id"])
    (source,) = doc["sources"]
    assert source["extractor"] == "HTML5MediaEmbed"  # the generic extractor's <video> finder
    assert source["title"] == "Strike on the IVIC building (1)"  # yt-dlp numbers the <video>
    assert source["description"] == "Footage <b>posted</b> at dawn"
    assert source["media_ids"] == [video["media_id"]]
    assert doc["title"] == source["title"]
    assert doc["platform"] == "telegram"  # the user's: the generic extractor names no platform
    records = warc_of(store_dir, cli, video["case_id"])
    bodies = {r["uri"]: r["body"] for r in records if r["type"] == "response"}
    assert bodies[url] == PAGE.encode()
    assert bodies[f"{server}/clip.mp4"] == clip
    (meta,) = [r for r in records if r["type"] == "metadata"]
    assert json.loads(meta["body"])["extractor_info"]["extractor_key"] == "HTML5MediaEmbed"


def test_a_page_without_a_video_gives_its_own_pictures(cli, server):
    url = f"{server}/pictures"
    results, _ = take_in_json(cli, url, "--posted-at", "2026-01-01T00:00:00Z")
    assert [r["sha256"] for r in results] == [
        hashlib.sha256(JPEG).hexdigest(),  # og:image
        hashlib.sha256(OTHER_JPEG).hexdigest(),  # the main content's <img>, not the logo
    ]
    case_id = results[0]["case_id"]
    assert {r["case_id"] for r in results} == {case_id}
    doc = cli.json("show", case_id)
    (source,) = doc["sources"]
    assert source["extractor"] == "page"
    assert source["title"] == "Aftermath in pictures"
    assert source["posted_at"] == "2026-01-03T06:00:00+00:00"
    assert sorted(source["media_ids"]) == sorted(r["media_id"] for r in results)
    assert doc["posted_at"] == "2026-01-01T00:00:00+00:00"  # the user's, kept
    for media in doc["media"]:
        (finding,) = [f for f in media["findings"] if f["code"] == "source-disagrees"]
        assert finding["severity"] == "warning"
        assert finding["evidence"] == {
            "field": "posted_at",
            "case": "2026-01-01T00:00:00+00:00",
            "post": "2026-01-03T06:00:00+00:00",
        }


def test_a_page_served_as_a_picture_is_read_as_a_page(cli, server):
    results, _ = take_in_json(cli, f"{server}/lying-page.jpg")
    assert len(results) == 2
    assert {r["status"] for r in results} == {"added"}


def test_links_and_files_go_into_one_case(cli, server, tmp_path):
    local = tmp_path / "local.png"
    local.write_bytes(PNG)
    results, _ = take_in_json(cli, f"{server}/photo.jpg", str(local), "--one-case")
    assert [r["path"] for r in results] == [str(local), f"{server}/photo.jpg"]
    assert len({r["case_id"] for r in results}) == 1
    doc = cli.json("show", results[0]["case_id"])
    assert doc["sources"][0]["media_ids"] == [results[1]["media_id"]]


def test_an_existing_case_gets_the_posts_fields_it_lacks(cli, server):
    (first,), _ = take_in_json(cli, f"{server}/clip.mp4")
    case_id = first["case_id"]
    cli("case", "set", case_id, "--source-url", f"{server}/elsewhere")
    results, _ = take_in_json(cli, f"{server}/pictures", "--case", case_id)
    doc = cli.json("show", case_id)
    assert doc["posted_at"] == "2026-01-03T06:00:00+00:00"  # it had none
    assert len(doc["sources"]) == 2
    codes = {
        (f["code"], f["evidence"]["field"])
        for m in doc["media"]
        if m["media_id"] in {r["media_id"] for r in results}
        for f in m["findings"]
        if f["code"] == "source-disagrees"
    }
    assert codes == {("source-disagrees", "source_url")}


# Failures: one line each, the batch goes on, nothing half-fetched is kept


@pytest.mark.parametrize(
    "path, cause",
    [
        ("/missing", "HTTP 404 Not Found"),
        ("/broken", "HTTP 500 Internal Server Error"),
        ("/loop", "redirect loop at {server}/loop"),
        ("/hops/11", "more than 10 redirects"),
        ("/to-file", "not an http(s) URL: file:///etc/passwd"),
        ("/nothing", "no media found on the page"),
        ("/big", "download larger than 1 MB (Content-Length)"),
        ("/big-unsized", "download larger than 1 MB: stopped"),
    ],
)
def test_a_failed_link_is_one_line_and_stores_nothing(cli, server, store_dir, path, cause):
    url = f"{server}{path}"
    result = take_in(cli, url, "--max-download-mb", "1", expect=1)
    assert result.stderr == f"error: {url}: {cause.format(server=server)}\n"
    assert result.stdout == ""
    assert cli.json("cases") == []
    assert stored_files(store_dir) == []


@pytest.mark.slow
def test_a_stalled_server_times_out(cli, server, store_dir):
    for path in ("/stall", "/drip"):
        url = f"{server}{path}"
        result = take_in(cli, url, "--link-timeout", "1", expect=1)
        assert result.stderr == f"error: {url}: timed out after 1 s\n"
    assert stored_files(store_dir) == []


def test_one_failed_link_does_not_stop_the_batch(cli, server):
    missing, photo = f"{server}/missing", f"{server}/photo.jpg"
    result = take_in(cli, missing, photo, expect=1)
    assert result.stderr == f"error: {missing}: HTTP 404 Not Found\n"
    assert "added" in result.stdout and photo in result.stdout
    assert len(cli.json("cases")) == 1


@pytest.mark.parametrize("path", ["/post-big", "/pictures-missing"])
def test_a_failed_media_download_fails_its_link(cli, server, store_dir, path):
    url = f"{server}{path}"
    result = take_in(cli, url, "--max-download-mb", "1", expect=1)
    media = "big" if path == "/post-big" else "missing.jpg"
    cause = "download larger than 1 MB (Content-Length)" if media == "big" else "HTTP 404 Not Found"
    assert result.stderr == f"error: {url}: media {server}/{media}: {cause}\n"
    assert cli.json("cases") == []
    assert stored_files(store_dir) == []


# The address rules


def test_loopback_is_refused_without_allow_private(cli, server, store_dir):
    url = f"{server}/photo.jpg"
    asked = len(Handler.seen)
    result = cli("intake", url, expect=1)
    assert Handler.seen[asked:] == []  # refused before connecting
    assert result.stderr == (
        f"error: {url}: 127.0.0.1 is a loopback address: refused "
        "(--allow-private lets a desk fetch from its own network)\n"
    )
    assert stored_files(store_dir) == []


def test_a_redirect_to_a_refused_address_is_refused(cli, server, store_dir):
    url = f"{server}/to-other-loopback"
    asked = len(Handler.seen)
    result = cli("intake", url, "--allow-network", "127.0.0.1/32", "--quick", expect=1)
    assert result.stderr == (
        f"error: {url}: 127.0.0.2 is a loopback address: refused "
        "(--allow-private lets a desk fetch from its own network)\n"
    )
    assert Handler.seen[asked:] == ["/to-other-loopback"]
    assert stored_files(store_dir) == []


@pytest.mark.parametrize(
    "given", ["ftp://example.org/a.jpg", "file:///etc/passwd", "javascript:alert(1)"]
)
def test_other_schemes_are_a_usage_error(cli, given, store_dir):
    result = cli("intake", given, expect=2)
    assert f"{given}: only http:// and https:// links can be taken in" in result.stderr
    assert not store_dir.exists()


def test_a_gzip_warc_stays_whole(cli, server, store_dir):
    (result,), _ = take_in_json(cli, f"{server}/photo.jpg")
    (source,) = cli.json("show", result["case_id"])["sources"]
    path = store_dir / source["warc_path"]
    with gzip.open(path) as handle:
        assert handle.read().startswith(b"WARC/1.1\r\nWARC-Type: warcinfo")


# verify: the WARC is an original, hashed again and read to its end


@on_both_blob_stores
def test_verify_checks_each_warc(cli, server, tamper):
    (result,), _ = take_in_json(cli, f"{server}/photo.jpg")
    case_id = result["case_id"]
    (source,) = cli.json("show", case_id)["sources"]
    sha256 = source["warc_path"].rsplit("/", 1)[-1]
    report = cli.json("verify")
    assert (report["ok"], report["originals"], report["orphans"]) == (True, 2, [])
    good = tamper.read(sha256)
    broken = good[:-40] + b"\0" * 40  # the last record's gzip member cut short
    tamper.write(sha256, broken)
    report = cli.json("verify", case_id, expect=1)
    assert [p["message"] for p in report["problems"]] == [
        f"{case_id} source {source['url']}: WARC was altered: {tamper.location(sha256)} now has "
        f"SHA-256 {hashlib.sha256(broken).hexdigest()}"
    ]
    tamper.delete(sha256)
    report = cli.json("verify", case_id, expect=1)
    assert [p["message"] for p in report["problems"]] == [
        f"{case_id} source {source['url']}: WARC is missing: {tamper.location(sha256)}"
    ]


def test_verify_names_a_warc_that_does_not_parse(cli, server, store_dir):
    (result,), _ = take_in_json(cli, f"{server}/photo.jpg")
    case_id = result["case_id"]
    (source,) = cli.json("show", case_id)["sources"]
    # A WARC whose digest the database agrees with, but whose records are not whole:
    # what a store edited together with its database would hold.
    store = Store.open(cli_settings(store_dir, cli))
    junk = store_dir / "junk.warc.gz"
    cut = b"WARC/1.1\r\nWARC-Type: response\r\nContent-Length: 99\r\n\r\nab"
    junk.write_bytes(gzip.compress(cut))
    blob = store.blobs.put(junk)
    with store.session() as session:
        row = session.exec(select(Source)).one()
        row.warc_sha256, row.warc_size = blob.sha256, blob.size
        row.warc_path = store.blobs.original_key(blob.sha256)
        session.add(row)
    store.engine.dispose()
    report = cli.json("verify", case_id, expect=1)
    messages = [p["message"] for p in report["problems"]]
    assert messages[0].startswith(f"{case_id} source {source['url']}: WARC does not parse: ")
    edited = "warc_sha256, warc_size differs from the history (edited)"
    assert messages[1:] == [f"{case_id} source {source['url']}: {edited}"]


def test_a_deleted_source_row_is_named_by_verify(cli, server, store_dir):
    (result,), _ = take_in_json(cli, f"{server}/photo.jpg")
    case_id = result["case_id"]
    store = Store.open(cli_settings(store_dir, cli))
    with store.session() as session:
        for model in (SourceMedia, Source):
            for row in session.exec(select(model)).all():
                session.delete(row)
            session.flush()
    store.engine.dispose()
    report = cli.json("verify", expect=1)
    assert [p["message"] for p in report["problems"]] == [
        f"{case_id} source {server}/photo.jpg: is in the history but its row was deleted"
    ]
    assert len(report["orphans"]) == 1  # the WARC no source holds any more


# Reports


def test_reports_show_the_source_escaped(cli, server, tmp_path):
    (video,), _ = take_in_json(cli, f"{server}/post")
    case_id = video["case_id"]
    (source,) = cli.json("show", case_id)["sources"]
    html_path, md_path = tmp_path / "r.html", tmp_path / "r.md"
    cli("report", case_id, "-o", str(html_path))
    cli("report", case_id, "--format", "md", "-o", str(md_path))
    page = html_path.read_text()
    assert '<h2 id="sources">Sources (1)</h2>' in page
    assert '<td class="claim">Footage &lt;b&gt;posted&lt;/b&gt; at dawn</td>' in page
    assert f'<td class="mono">{source["warc_path"]}</td>' in page
    markdown = md_path.read_text()
    assert f"- **Link:** <{server}/post>\n" in markdown
    assert "  - **Caption:** Footage \\<b\\>posted\\</b\\> at dawn\n" in markdown
    assert f"  - **WARC:** `{source['warc_path']}`\n" in markdown
    shown = cli("show", case_id).stdout
    assert f"source  {server}/post\n" in shown
    assert f"  WARC             {source['warc_path']}\n" in shown


# Bundles carry sources and their WARCs


@pytest.fixture
def target(tmp_path: Path, db_url: str) -> Iterator:
    """A second, empty store on the test's backend (its own PostgreSQL schema)."""
    from tests.backends import postgres_schema
    from tests.conftest import Cli

    if not db_url:
        yield Cli(tmp_path / "target", user="carol")
        return
    with postgres_schema() as url:
        yield Cli(tmp_path / "target", user="carol", db_url=url)


@pytest.mark.slow
def test_a_bundle_carries_sources_and_warcs_and_imports_them(cli, server, target, tmp_path):
    results, _ = take_in_json(cli, f"{server}/pictures")
    case_id = results[0]["case_id"]
    (source,) = cli.json("show", case_id)["sources"]
    sha256 = source["warc_path"].rsplit("/", 1)[-1]
    bundle = tmp_path / "case.zip"
    cli("export", case_id, "-o", str(bundle))
    with zipfile.ZipFile(bundle) as zf:
        assert hashlib.sha256(zf.read(f"data/warcs/{sha256}")).hexdigest() == sha256
        records = json.loads(zf.read("data/records.json"))
    assert [s["url"] for s in records["sources"]] == [f"{server}/pictures"]
    assert len(records["source_media"]) == 2
    target("import", str(bundle))
    assert target.json("show", case_id)["sources"] == [source]
    report = target.json("verify")
    assert (report["ok"], report["originals"], report["orphans"]) == (True, 3, [])


@pytest.mark.slow
def test_a_bundle_whose_source_was_edited_is_refused(cli, server, target, tmp_path):
    from tests.test_bundle import rebag

    (result,), _ = take_in_json(cli, f"{server}/photo.jpg")
    bundle = tmp_path / "case.zip"
    cli("export", result["case_id"], "-o", str(bundle))

    def forged_post(name: str, data: bytes):
        if name == "data/records.json":
            records = json.loads(data)
            records["sources"][0]["final_url"] = "https://elsewhere.example/photo.jpg"
            data = json.dumps(records).encode()
        yield name, data

    forged = rebag(bundle, tmp_path / "forged.zip", forged_post)
    refused = target("import", str(forged), expect=1)
    assert refused.stderr == (
        f"Error: records.json disagrees with the history: {result['case_id']} source "
        f"{server}/photo.jpg: final_url differs from the history (edited)\n"
    )


def test_cookies_come_only_from_the_file_and_are_never_stored(cli, server, store_dir, tmp_path):
    url = f"{server}/echo-cookie"
    refused = take_in(cli, url, expect=1)
    assert refused.stderr == f"error: {url}: HTTP 403 Forbidden\n"
    jar = tmp_path / "cookies.txt"
    jar.write_text(
        "# Netscape HTTP Cookie File\n"
        "127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tdesk-login\n"
        "example.org\tFALSE\t/\tFALSE\t0\tother\tnot-for-this-site\n"
    )
    (result,), _ = take_in_json(cli, url, "--cookies", str(jar))
    assert result["status"] == "added"
    (_, response, request, _) = warc_of(store_dir, cli, result["case_id"])
    assert request["headers"]["Cookie"] == "[redacted: from --cookies, never stored]"
    assert response["headers"]["Set-Cookie"] == "tracker=1"  # what the site said, as it said it
    for path in stored_files(store_dir):
        assert b"desk-login" not in path.read_bytes()
    if not cli.env["MEDIACHECK_DATABASE_URL"]:
        assert b"desk-login" not in (store_dir / "mediacheck.db").read_bytes()


def test_a_name_is_checked_after_it_is_resolved(cli, server):
    url = server.replace("127.0.0.1", "localhost") + "/photo.jpg"
    result = cli("intake", url, expect=1)
    assert result.stderr == (
        f"error: {url}: localhost is 127.0.0.1, a loopback address: refused "
        "(--allow-private lets a desk fetch from its own network)\n"
    )


def test_a_bad_cookies_file_is_one_line(cli, server, tmp_path):
    jar = tmp_path / "cookies.txt"
    jar.write_text("not a cookies file\n")
    result = take_in(cli, f"{server}/photo.jpg", "--cookies", str(jar), expect=1)
    assert result.stderr.startswith(f"Error: {jar}: not a Netscape cookies file: ")
    assert result.stderr.count("\n") == 1


def test_migration_0004_adds_and_drops_the_source_tables(settings):
    from alembic import command
    from sqlalchemy import inspect

    from mediacheck.store import revisions as schema

    store = Store.open(settings)

    def migrate(revision: str, down: bool = False) -> set[str]:
        with store.engine.begin() as conn:
            (command.downgrade if down else command.upgrade)(schema.alembic_config(conn), revision)
        return set(inspect(store.engine).get_table_names())

    assert {"sources", "source_media"} <= migrate("0004")
    assert {"sources", "source_media"}.isdisjoint(migrate("0003", down=True))
    assert {"sources", "source_media"} <= migrate("0004")
    store.engine.dispose()


def test_yt_dlp_requests_go_through_the_fetcher_and_into_the_warc(cli, server, clip, store_dir):
    asked = len(Handler.seen)
    results, _ = take_in_json(cli, f"{server}/refresh")
    (video,) = results
    assert video["sha256"] == hashlib.sha256(clip).hexdigest()
    assert Handler.seen[asked:] == ["/refresh", "/post", "/clip.mp4"]
    records = warc_of(store_dir, cli, video["case_id"])
    requests = [r for r in records if r["type"] == "request"]
    assert [r["uri"] for r in requests] == [
        f"{server}/refresh",
        f"{server}/post",
        f"{server}/clip.mp4",
    ]
    assert {r["headers"]["User-Agent"] for r in requests} == {"mediacheck/0.1.0"}


def test_a_post_whose_media_is_at_a_refused_address_is_refused(cli, server, store_dir):
    url = f"{server}/post-elsewhere"
    port = server.rsplit(":", 1)[-1]
    result = cli("intake", url, "--allow-network", "127.0.0.1/32", "--quick", expect=1)
    assert result.stderr == (
        f"error: {url}: media http://127.0.0.2:{port}/clip.mp4: 127.0.0.2 is a loopback "
        "address: refused (--allow-private lets a desk fetch from its own network)\n"
    )
    assert stored_files(store_dir) == []


def test_queued_intake_takes_no_links(cli, server):
    result = cli("intake", f"{server}/photo.jpg", "--queue", expect=2)
    assert "--queue takes files only: take links in without it" in result.stderr


def test_a_closed_port_is_one_line(cli, store_dir):
    import socket

    with socket.socket() as probe:  # a port nothing listens on once this closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/photo.jpg"
    result = take_in(cli, url, expect=1)
    assert result.stderr == f"error: {url}: cannot connect to 127.0.0.1: Connection refused\n"
    assert stored_files(store_dir) == []


# The pure rules, without a server


@pytest.mark.parametrize(
    "address, refusal",
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4 mapped into IPv6
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("fc00::1", "private"),
        ("169.254.169.254", "link-local"),  # the cloud metadata service
        ("fe80::1%eth0", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        ("8.8.8.8", None),
        ("2001:4860:4860::8888", None),
    ],
)
def test_address_refusals(address, refusal):
    from mediacheck.links.fetch import address_refusal

    assert address_refusal(address) == refusal


def test_allowed_networks_open_only_themselves():
    from mediacheck.links.fetch import FetchRules

    rules = FetchRules(allowed_networks=("10.1.0.0/16",))
    assert rules.refusal("10.1.2.3") is None
    assert rules.refusal("10.2.0.1") == "private"
    assert rules.refusal("8.8.8.8") is None
    assert FetchRules(allow_private=True).refusal("127.0.0.1") is None


@pytest.mark.parametrize(
    "extractor, platform",
    [("Twitter", "x"), ("TelegramChannel", "telegram"), ("Youtube", "youtube"),
     ("TikTok", "tiktok"), ("Instagram", "instagram"), ("Generic", None),
     ("HTML5MediaEmbed", None), ("page", None), ("direct", None), (None, None)],
)  # fmt: skip
def test_platform_of_an_extractor(extractor, platform):
    from mediacheck.links.extract import platform_of

    assert platform_of(extractor) == platform


def test_the_case_against_the_post():
    from mediacheck.links.claims import Claims, disagreements, gaps

    post = Claims("https://t.me/c/1", "telegram", "2026-01-03T06:10:00+00:00")
    assert gaps(Claims(), post) == post
    assert gaps(Claims(), Claims(posted_at="2026-01-03")) == Claims()  # a date is no time
    urls = ("https://t.me/c/1", "https://t.me/s/c/1")
    agreeing = Claims("https://T.me/c/1/", "Telegram", "2026-01-03T08:10:30+02:00")
    assert disagreements(agreeing, post, urls) == []
    found = disagreements(Claims("https://x.com/a/1", "x", "2026-01-02T06:10:00Z"), post, urls)
    assert [(f.evidence["field"], f.severity) for f in found] == [
        ("source_url", "notice"),
        ("platform", "notice"),
        ("posted_at", "warning"),
    ]
    assert (
        disagreements(Claims(posted_at="2026-01-03T23:00:00Z"), Claims(posted_at="2026-01-03"), ())
        == []
    )
