"""The web desk over HTTP: who may call what, CSRF, sessions, tokens, pictures by id, the API.

One real server per backend for the whole module (``tests/web.py``): SQLite, and a
PostgreSQL schema of its own. Each test makes the cases it needs from new pictures.
"""

from __future__ import annotations

import io
import itertools
import os
import re
import socket
import subprocess
import sys
import time
from html.parser import HTMLParser

import pytest
import requests
from fastapi.routing import APIRoute
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from markupsafe import escape
from PIL import Image

from mediacheck.accounts import service as accounts
from mediacheck.web import api
from mediacheck.web.auth import SESSION_SECONDS, web_secret
from mediacheck.web.views import actions, cases, files, pictures, session
from tests.backends import BACKENDS
from tests.media import photo
from tests.story import SAMPLES
from tests.test_reports import HOSTILE_TEXTS, hostile_photo
from tests.video_clips import write_clip
from tests.web import PASSWORD, Desk, bearer, csrf_token, desk_server, form_token, login

SEEDS = itertools.count(100)
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture(scope="module", params=BACKENDS)
def desk(request, tmp_path_factory):
    with desk_server(tmp_path_factory.mktemp("web"), request.param) as served:
        yield served


def new_case(desk: Desk, tmp_path, user: str = "rita", count: int = 1, **fields) -> dict:
    """A case of ``count`` new pictures taken in through the API; its ``show --json``."""
    paths = [photo(tmp_path / f"p{next(SEEDS)}.png", seed=next(SEEDS)) for _ in range(count)]
    files = [("files", (p.name, p.read_bytes(), "image/png")) for p in paths]
    answer = requests.post(
        f"{desk.url}/api/intake",
        headers=bearer(desk, user),
        files=files,
        data={"quick": "true", **fields},
    )
    assert answer.status_code == 200, answer.text
    case_id = answer.json()[0]["case_id"]
    return requests.get(f"{desk.url}/api/cases/{case_id}", headers=bearer(desk, "bob")).json()


def propose(desk: Desk, case: dict, user: str, media: int = 0) -> requests.Response:
    return requests.post(
        f"{desk.url}/api/cases/{case['case_id']}/verdicts",
        headers=bearer(desk, user),
        json={
            "rating": "OriginalMediaContent",
            "rationale": "Matches the photographer's own upload",
            "media_id": case["media"][media]["media_id"],
        },
    )


def filled(path: str, desk: Desk, media_id: str) -> str:
    return (
        path.replace("{case_id}", desk.archive_case)
        .replace("{media_id}", media_id)
        .replace("{verdict_id}", "1")
        .replace("{number}", "0")
    )


ROUTES = [
    route
    for module in (session, cases, actions, pictures, files, api)
    for route in module.router.routes
]
OPEN_ROUTES = {("GET", "/login"), ("POST", "/login"), ("GET", "/api/openapi.json")}


def test_every_route_without_credentials_is_refused(desk: Desk):
    """Pages redirect to /login, the API answers 401 JSON; only /login and the schema are open."""
    archive = requests.get(
        f"{desk.url}/api/cases/{desk.archive_case}", headers=bearer(desk, "bob")
    ).json()
    media_id = archive["media"][0]["media_id"]
    checked = 0
    for route in ROUTES:
        assert isinstance(route, APIRoute)
        for method in route.methods:
            if (method, route.path) in OPEN_ROUTES or route.path == "/":
                continue
            url = desk.url + filled(route.path, desk, media_id)
            answer = requests.request(method, url, allow_redirects=False)
            if route.path.startswith("/api/"):
                assert answer.status_code == 401, (method, route.path)
                assert "error" in answer.json()
            else:
                assert answer.status_code == 303, (method, route.path, answer.status_code)
                assert answer.headers["location"].startswith("/login?next=")
            checked += 1
    assert checked >= 25
    # A wrong token is no better than none.
    wrong = {"Authorization": "Bearer mct_not-a-token"}
    assert requests.get(f"{desk.url}/api/cases", headers=wrong).status_code == 401


def test_login_sets_a_hardened_cookie_and_logout_ends_it(desk: Desk):
    session = requests.Session()
    page = session.get(f"{desk.url}/login")
    assert 'name="username"' in page.text and 'name="password"' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        f"{desk.url}/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/cases"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=43200" in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback; Secure over TLS
    assert session.get(f"{desk.url}/cases").status_code == 200
    ended = session.post(
        f"{desk.url}/logout", data={"csrf_token": form_token(session, desk)}, allow_redirects=False
    )
    assert ended.headers["location"] == "/login"
    assert session.get(f"{desk.url}/cases", allow_redirects=False).status_code == 303


def test_wrong_password_is_refused_on_the_login_page(desk: Desk):
    session = requests.Session()
    token = form_token(session, desk, "/login")
    answer = session.post(
        f"{desk.url}/login",
        data={"username": "alice", "password": "guess", "csrf_token": token},
        allow_redirects=False,
    )
    assert answer.status_code == 401
    assert "wrong account name or password" in answer.text


def test_login_is_throttled_after_repeated_failures(desk: Desk):
    session = requests.Session()
    token = form_token(session, desk, "/login")
    statuses = []
    for _ in range(5):
        answer = session.post(
            f"{desk.url}/login", data={"username": "tess", "password": "no", "csrf_token": token}
        )
        statuses.append(answer.status_code)
    assert statuses == [401, 401, 401, 401, 429]
    assert int(answer.headers["retry-after"]) > 0
    # Even the right password is refused while the account is locked.
    answer = session.post(
        f"{desk.url}/login", data={"username": "tess", "password": PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 429
    assert "too many failed logins" in answer.text


def test_a_form_post_without_or_with_a_wrong_csrf_token_is_refused(desk: Desk, tmp_path):
    case = new_case(desk, tmp_path)
    session = login(desk, "alice")
    url = f"{desk.url}/cases/{case['case_id']}/notes"
    for data in ({"text": "no token"}, {"text": "wrong token", "csrf_token": "forged"}):
        answer = session.post(url, data=data, allow_redirects=False)
        assert answer.status_code == 403
        assert "CSRF token" in answer.text
    # Another session's token is as wrong as a forged one.
    other = form_token(login(desk, "bob"), desk)
    assert session.post(url, data={"text": "x", "csrf_token": other}).status_code == 403
    token = form_token(session, desk)
    answer = session.post(url, data={"text": "Seen on TinEye", "csrf_token": token})
    assert answer.status_code == 200 and answer.url.endswith(f"/cases/{case['case_id']}#notes")
    notes = requests.get(
        answer.url.split("#")[0].replace("/cases/", "/api/cases/"), headers=bearer(desk, "bob")
    ).json()["notes"]
    assert [(n["text"], n["author"]) for n in notes] == [("Seen on TinEye", "alice")]


def test_four_eyes_on_proven_identities(desk: Desk, tmp_path):
    case = new_case(desk, tmp_path, count=2)
    first = propose(desk, case, "rita", media=0)
    assert first.status_code == 201
    verdict = first.json()
    assert verdict["state"] == "proposed" and verdict["proposed_by"] == "rita"
    approve = f"{desk.url}/api/verdicts/{verdict['id']}/approve"
    # A reporter may propose but not approve.
    refused = requests.post(approve, headers=bearer(desk, "rita"), json={})
    assert refused.status_code == 403
    assert "may not approve" in refused.json()["error"]
    # The proposer can never decide their own verdict, whatever the role.
    own = propose(desk, case, "alice", media=1).json()
    for step, body in (("approve", {}), ("reject", {"reason": "withdrawn"})):
        answer = requests.post(
            f"{desk.url}/api/verdicts/{own['id']}/{step}", headers=bearer(desk, "alice"), json=body
        )
        assert answer.status_code == 403
        assert "four eyes" in answer.json()["error"]
    approved = requests.post(approve, headers=bearer(desk, "alice"), json={"comment": "checked"})
    assert approved.status_code == 200
    assert approved.json()["approved_by"] == "alice" and approved.json()["comment"] == "checked"
    again = requests.post(approve, headers=bearer(desk, "bob"), json={})
    assert again.status_code == 409
    assert (
        requests.post(
            f"{desk.url}/api/verdicts/999999/approve", headers=bearer(desk, "bob"), json={}
        ).status_code
        == 404
    )
    history = desk.store.events(case["case_id"])
    assert [(e.action, e.user) for e in history][-3:] == [
        ("verdict-proposed", "rita"),
        ("verdict-proposed", "alice"),
        ("verdict-approved", "alice"),
    ]


def test_a_verdict_of_another_case_is_not_decided_through_this_case(desk: Desk, tmp_path):
    case, other = new_case(desk, tmp_path), new_case(desk, tmp_path)
    verdict = propose(desk, other, "rita").json()
    session = login(desk, "alice")
    answer = session.post(
        f"{desk.url}/cases/{case['case_id']}/verdicts/{verdict['id']}/approve",
        data={"csrf_token": form_token(session, desk)},
    )
    assert answer.status_code == 404
    assert (
        requests.get(
            f"{desk.url}/api/cases/{other['case_id']}", headers=bearer(desk, "bob")
        ).json()["verdicts"][0]["state"]
        == "proposed"
    )


def test_a_disabled_account_and_a_revoked_token_stop_working(desk: Desk):
    session = login(desk, "dora")
    assert session.get(f"{desk.url}/cases").status_code == 200
    _, spare = accounts.issue_token(desk.store, "bob", "spare")
    info = [t for t in accounts.list_tokens(desk.store, "bob") if t.label == "spare"][0]
    assert requests.get(f"{desk.url}/api/cases", headers={"Authorization": f"Bearer {spare}"}).ok
    accounts.revoke_token(desk.store, info.id)
    answer = requests.get(f"{desk.url}/api/cases", headers={"Authorization": f"Bearer {spare}"})
    assert answer.status_code == 401
    accounts.disable_user(desk.store, "dora")
    assert session.get(f"{desk.url}/cases", allow_redirects=False).status_code == 303
    answer = requests.get(f"{desk.url}/api/cases", headers=bearer(desk, "dora"))
    assert answer.status_code == 401


def test_pictures_are_served_by_id_of_this_case_only(desk: Desk, tmp_path):
    case, other = new_case(desk, tmp_path), new_case(desk, tmp_path)
    session = login(desk, "rita")
    mine = case["media"][0]["media_id"]
    theirs = other["media"][0]["media_id"]
    base = f"{desk.url}/cases/{case['case_id']}/media"
    answer = session.get(f"{base}/{mine}/thumbnail")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
    assert answer.content[:3] == b"\xff\xd8\xff"  # re-encoded, never the stored PNG
    assert session.get(f"{base}/{theirs}/thumbnail").status_code == 404
    for path in (
        f"{base}/{mine}/keyframes/0",
        f"{base}/{mine}/findings/99",
        f"{base}/{mine}/seen/99/correspondences",
        f"{base}/..%2F..%2Fmediacheck.db/thumbnail",
        f"{base}/{mine}/keyframes/..%2F..%2Fmediacheck.db",
        f"{desk.url}/static/..%2Fcases%2Fmediacheck.db",
        f"{desk.url}/static/../../auth.py",
    ):
        answer = session.get(path, allow_redirects=False)
        assert answer.status_code in (400, 404), path
        assert b"SQLite" not in answer.content and b"import" not in answer.content


class Tags(HTMLParser):
    """Every tag of a page with its attributes, as a browser's parser sees them."""

    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


# A hostile name as a browser sends it: without slashes (an upload's name loses any folder)
# or double quotes (the multipart header writes them %22).
UPLOADED_NAME = "'><img src=x onerror=alert(6)>.jpg"
PAGE_TAGS = set(
    "html head meta title link script body header a nav form span small input button main "
    "section h1 h2 h3 p dl dt dd ul ol li img details summary div figure figcaption strong "
    "code br table thead tbody tr th td label select option textarea time footer progress".split()
)


def test_hostile_metadata_renders_inert(desk: Desk, tmp_path):
    """EXIF, XMP, a file name, a title, a claim, tags and a note that attack the page."""
    path = hostile_photo(tmp_path / "incoming")
    answer = requests.post(
        f"{desk.url}/api/intake",
        headers=bearer(desk, "rita"),
        files=[("files", (UPLOADED_NAME, path.read_bytes(), "image/jpeg"))],
        data={"title": HOSTILE, "claim": HOSTILE, "tags": HOSTILE},
    )
    [result] = answer.json()
    assert result["path"] == UPLOADED_NAME
    case_id = result["case_id"]
    session = login(desk, "rita")
    token = form_token(session, desk)
    session.post(
        f"{desk.url}/cases/{case_id}/notes",
        data={"text": HOSTILE, "url": "javascript:alert(2)", "csrf_token": token},
    )  # refused: not an http(s) URL
    session.post(f"{desk.url}/cases/{case_id}/notes", data={"text": HOSTILE, "csrf_token": token})
    for page in (session.get(f"{desk.url}/cases/{case_id}"), session.get(f"{desk.url}/cases")):
        assert page.status_code == 200
        tags = Tags()
        tags.feed(page.text)
        assert {tag for tag, _ in tags.found} <= PAGE_TAGS
        for tag, attrs in tags.found:
            assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
            assert not any("javascript:" in (value or "") for value in attrs.values())
            if tag == "script":
                assert attrs["src"] in ("/static/htmx.min.js", "/static/desk.js")
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    shown = session.get(f"{desk.url}/cases/{case_id}").text
    assert str(escape(UPLOADED_NAME)) in shown and str(escape(HOSTILE)) in shown  # shown, inert
    hostile = (*HOSTILE_TEXTS, HOSTILE, UPLOADED_NAME)
    dangerous = [text for text in hostile if set(text) & set("<>\"'")]
    assert [text for text in dangerous if text in shown] == []


def test_search_and_filters(desk: Desk, tmp_path):
    case = new_case(desk, tmp_path, title="Flooded square", platform="telegram")
    session = login(desk, "rita")
    session.post(
        f"{desk.url}/cases/{case['case_id']}/notes",
        data={"text": "Boats in the Zanzibar harbour", "csrf_token": form_token(session, desk)},
    )
    api = f"{desk.url}/api/cases"

    def ids(**query) -> list[str]:
        answer = requests.get(api, headers=bearer(desk, "rita"), params=query)
        assert answer.status_code == 200, answer.text
        return [row["case_id"] for row in answer.json()]

    assert ids(q="zanzibar") == [case["case_id"]]  # a note's text
    assert ids(q="FLOODED") == [case["case_id"]]  # the title, any letter case
    assert case["case_id"] in ids(platform="Telegram", status="open")
    assert case["case_id"] not in ids(verdict="OriginalMediaContent")
    assert ids(q="IVIC", verdict="DecontextualizedContent") == [desk.archive_case]
    assert ids(until="2000-01-01") == []
    answer = requests.get(api, headers=bearer(desk, "rita"), params={"since": "yesterday"})
    assert answer.status_code == 400
    assert answer.json() == {"error": "since is a day written YYYY-MM-DD, not 'yesterday'"}
    page = session.get(f"{desk.url}/cases", params={"q": "zanzibar", "page": 1})
    assert "1 case" in page.text and case["case_id"] in page.text


def test_case_actions_follow_the_roles(desk: Desk, tmp_path):
    case = new_case(desk, tmp_path)
    cid = case["case_id"]
    rita, bob = login(desk, "rita"), login(desk, "bob")
    answer = rita.post(
        f"{desk.url}/cases/{cid}/status",
        data={"status": "closed", "reason": "no", "csrf_token": form_token(rita, desk)},
    )
    assert answer.status_code == 403 and "may not close or reopen cases" in answer.text
    for path, data in (
        ("assign", {"assignee": "alice"}),
        ("tags", {"add": "flood, kherson"}),
        ("status", {"status": "closed", "reason": "Post deleted"}),
    ):
        answer = bob.post(
            f"{desk.url}/cases/{cid}/{path}", data={**data, "csrf_token": form_token(bob, desk)}
        )
        assert answer.status_code == 200, answer.text
    shown = requests.get(f"{desk.url}/api/cases/{cid}", headers=bearer(desk, "bob")).json()
    assert (shown["assignee"], shown["tags"], shown["status"]) == (
        "alice",
        ["flood", "kherson"],
        "closed",
    )
    changes = [(e.action, e.user) for e in desk.store.events(cid) if e.user == "bob"]
    assert ("assignee-changed", "bob") in changes and changes[-1] == ("status-changed", "bob")


def test_match_by_upload_stores_nothing(desk: Desk):
    before = len(desk.store.all_media()), len(desk.store.list_cases())
    files = [("files", ("copy.jpg", (SAMPLES / "reshared.jpg").read_bytes(), "image/jpeg"))]
    answer = requests.post(f"{desk.url}/api/match", headers=bearer(desk, "rita"), files=files)
    assert answer.status_code == 200
    [result] = answer.json()
    assert result["path"] == "copy.jpg"
    assert desk.archive_case in {m["case_id"] for m in result["matches"]}
    assert (len(desk.store.all_media()), len(desk.store.list_cases())) == before


def test_reports_and_bundle_download(desk: Desk):
    session = login(desk, "rita")
    base = f"{desk.url}/cases/{desk.archive_case}"
    for fmt, start in (("html", "<!doctype html"), ("md", "#"), ("json", "{")):
        answer = session.get(f"{base}/report", params={"format": fmt})
        assert answer.status_code == 200
        assert answer.text.lower().startswith(start)
        assert "attachment" in answer.headers["content-disposition"]
    review = session.get(f"{base}/report", params={"format": "mediareview"})
    assert review.status_code == 200
    assert [item["@type"] for item in review.json()] == ["MediaReview"]
    assert session.get(f"{base}/report", params={"format": "pdf"}).status_code == 400
    bundle = session.get(f"{base}/export")
    assert bundle.status_code == 200 and bundle.content[:2] == b"PK"


def test_api_errors_are_json(desk: Desk, tmp_path):
    case = new_case(desk, tmp_path)
    url = f"{desk.url}/api/cases/{case['case_id']}/verdicts"
    bad = requests.post(
        url, headers=bearer(desk, "rita"), json={"rating": "Fake", "rationale": "x"}
    )
    assert bad.status_code == 400 and "Fake" in bad.json()["error"]
    missing = requests.get(f"{desk.url}/api/cases/MC-1999-0001", headers=bearer(desk, "rita"))
    assert missing.status_code == 404
    assert missing.json() == {"error": "no case 'MC-1999-0001' in this store"}
    malformed = requests.post(url, headers=bearer(desk, "rita"), data="{", timeout=30)
    assert malformed.status_code == 400 and "error" in malformed.json()


@pytest.mark.slow
def test_serve_runs_workers_and_marks_the_cookie_secure_behind_tls(desk: Desk):
    """`mediacheck serve` itself: two workers, one key, Secure cookies behind a TLS proxy."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "MEDIACHECK_HOME": str(desk.store_dir),
        "MEDIACHECK_DATABASE_URL": desk.store.settings.db_url,
    }
    args = ["serve", "--port", str(port), "--workers", "2", "--proxy-headers"]
    server = subprocess.Popen(
        [sys.executable, "-m", "mediacheck", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                page = requests.get(f"{url}/login", headers={"X-Forwarded-Proto": "https"})
                break
            except requests.ConnectionError:
                assert server.poll() is None, server.communicate()[1].decode()
                time.sleep(0.1)
        assert page.status_code == 200
        assert "Secure" in page.headers["set-cookie"]
        answers = set()
        tls = {"X-Forwarded-Proto": "https"}
        for _ in range(6):  # whichever worker answers, the session holds: one key
            form = requests.get(f"{url}/login", headers=tls)
            # A Secure cookie goes back by hand: this side of the proxy is plain HTTP.
            cookie = f"mediacheck_session={form.cookies['mediacheck_session']}"
            answer = requests.post(
                f"{url}/login",
                headers={**tls, "Cookie": cookie},
                data={
                    "username": "rita",
                    "password": PASSWORD,
                    "csrf_token": csrf_token(form.text),
                },
                allow_redirects=False,
            )
            answers.add(answer.status_code)
        assert answers == {303}
    finally:
        server.terminate()
        server.communicate(timeout=60)


class SignedLongAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - SESSION_SECONDS - 60


def test_an_expired_or_forged_session_cookie_is_no_session(desk: Desk):
    session = login(desk, "rita")
    valid = session.cookies["mediacheck_session"]
    payload = URLSafeTimedSerializer(
        web_secret(desk.store_dir), salt="mediacheck-web-session", signer=SignedLongAgo
    ).loads(valid)
    assert payload["u"] == "rita"
    expired = URLSafeTimedSerializer(
        web_secret(desk.store_dir), salt="mediacheck-web-session", signer=SignedLongAgo
    ).dumps(payload)
    forged = URLSafeTimedSerializer("not the desk's key", salt="mediacheck-web-session").dumps(
        {**payload, "u": "bob"}
    )
    for cookie in (expired, forged):
        answer = requests.get(
            f"{desk.url}/cases", cookies={"mediacheck_session": cookie}, allow_redirects=False
        )
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    assert session.get(f"{desk.url}/cases", allow_redirects=False).status_code == 200


def test_nothing_in_a_request_names_the_acting_user(desk: Desk, tmp_path):
    case = new_case(desk, tmp_path)
    session = login(desk, "rita")
    session.post(
        f"{desk.url}/cases/{case['case_id']}/notes",
        data={
            "text": "as whom?",
            "author": "bob",
            "user": "bob",
            "csrf_token": form_token(session, desk),
        },
    )
    answer = requests.post(
        f"{desk.url}/api/cases/{case['case_id']}/verdicts?user=bob",
        headers={**bearer(desk, "rita"), "X-Mediacheck-User": "bob"},
        json={
            "rating": "OriginalMediaContent",
            "rationale": "x",
            "proposed_by": "bob",
            "user": "bob",
        },
    )
    assert answer.json()["proposed_by"] == "rita"
    shown = requests.get(
        f"{desk.url}/api/cases/{case['case_id']}", headers=bearer(desk, "bob")
    ).json()
    assert [n["author"] for n in shown["notes"]] == ["rita"]
    assert {e.user for e in desk.store.events(case["case_id"])} == {"rita"}


def test_a_video_shows_its_keyframes_and_contact_sheet(desk: Desk, tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", seconds=2, cut_at=1.0)
    answer = requests.post(
        f"{desk.url}/api/intake",
        headers=bearer(desk, "rita"),
        files=[("files", ("clip.mp4", clip.read_bytes(), "video/mp4"))],
        data={"quick": "true"},
    )
    [result] = answer.json()
    assert result["kind"] == "video"
    case_id, media_id = result["case_id"], result["media_id"]
    shown = requests.get(f"{desk.url}/api/cases/{case_id}", headers=bearer(desk, "rita")).json()
    frames = shown["media"][0]["keyframes"]
    assert len(frames) >= 2 and shown["media"][0]["contact_sheet"]
    session = login(desk, "rita")
    page = session.get(f"{desk.url}/cases/{case_id}").text
    base = f"/cases/{case_id}/media/{media_id}"
    for path in (
        *(f"{base}/keyframes/{n}" for n in range(len(frames))),
        f"{base}/contact-sheet",
        f"{base}/thumbnail",
    ):
        assert f'src="{path}"' in page
        picture = session.get(f"{desk.url}{path}")
        assert picture.status_code == 200 and picture.content[:3] == b"\xff\xd8\xff", path
    assert session.get(f"{desk.url}{base}/keyframes/{len(frames)}").status_code == 404


def test_seen_before_pictures_and_their_keypoint_correspondences(desk: Desk):
    answer = requests.post(
        f"{desk.url}/api/intake",
        headers=bearer(desk, "rita"),
        files=[("files", ("reshared.jpg", (SAMPLES / "reshared.jpg").read_bytes(), "image/jpeg"))],
        data={"quick": "true"},
    )
    [result] = answer.json()
    assert [seen["case_id"] for seen in result["seen_before"]] == [desk.archive_case]
    session = login(desk, "rita")
    base = f"{desk.url}/cases/{result['case_id']}/media/{result['media_id']}/seen/0"
    archive = session.get(base)
    assert archive.status_code == 200 and archive.headers["content-type"] == "image/jpeg"
    drawn = session.get(f"{base}/correspondences")
    assert drawn.status_code == 200 and drawn.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(drawn.content)) as picture:
        width, height = picture.size
    assert width == 2 * 512 and height <= 512  # both at the matcher's working size, side by side
