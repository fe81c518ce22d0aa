"""Trusted time for captures: each link's WARC gets an RFC 3161 token from the local TSA.

The links module's HTTP server on 127.0.0.1 serves the post, the trusted-time
module's OpenSSL TSA signs: the token is shown, checked by ``verify``, carried by
bundles, and a TSA that fails leaves the capture standing with a one-line warning.
"""

from __future__ import annotations

import base64
import json
import subprocess

import pytest

from mediacheck.store.database import Store
from mediacheck.store.models import Source
from tests import test_links_intake as links
from tests import test_timestamps as stamps
from tests.media import photo
from tests.test_bundle import rebag
from tests.tsa import OPENSSL, refused_url

# The two modules' fixtures, scoped as they are there: the web server and the TSA.
clip, server = links.clip, links.server
tsa, desk, target = stamps.tsa, stamps.desk, stamps.target
take_in, take_in_json = links.take_in, links.take_in_json
BAD_AUTHORITIES, openssl_verify, set_token = (
    stamps.BAD_AUTHORITIES,
    stamps.openssl_verify,
    stamps.set_token,
)

pytestmark = pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command")

on_sqlite = pytest.mark.parametrize("backend", ["sqlite"])


def captured(cli, server) -> tuple[dict, str]:
    """A direct JPEG taken in from the link: (its intake result, its WARC's SHA-256)."""
    (result,), _ = take_in_json(cli, f"{server}/photo.jpg")
    (source,) = cli.json("show", result["case_id"])["sources"]
    return result, source["warc_path"].rsplit("/", 1)[-1]


def warc_bytes(settings, sha256: str) -> bytes:
    store = Store.open(settings)
    try:
        with store.blobs.open_blob(store.blobs.original_key(sha256)) as stream:
            return stream.read()
    finally:
        store.engine.dispose()


def test_a_captures_warc_gets_a_token_that_verifies(desk, tsa, server, settings, tmp_path):
    result, sha256 = captured(desk, server)
    case_id = result["case_id"]
    stamp = result["timestamp"]
    assert (stamp["subject"], stamp["digest"]) == (f"warc:{sha256}", sha256)
    assert (stamp["status"], stamp["tsa_url"], stamp["error"]) == ("stamped", tsa.url, None)
    [token] = desk.json("show", case_id)["timestamps"]
    assert token["subject"] == f"warc:{sha256}"
    assert (token["digest"], token["gen_time"]) == (sha256, stamp["gen_time"])
    assert (token["verified"], token["problem"], token["requested_by"]) == (True, None, "alice")
    der = base64.b64decode(token["token"])
    assert openssl_verify(der, sha256, tsa.trusted.ca, tmp_path) == "Verification: OK"
    warc = tmp_path / "capture.warc.gz"  # the by-hand check of docs/links.md, on the file
    warc.write_bytes(warc_bytes(settings, sha256))
    (tmp_path / "token.tst").write_bytes(der)
    done = subprocess.run(
        [OPENSSL, "ts", "-verify", "-data", warc, "-in", tmp_path / "token.tst", "-token_in"]
        + ["-CAfile", tsa.trusted.ca],
        capture_output=True,
        text=True,
    )
    assert done.stdout.strip() == "Verification: OK"
    assert desk("verify", case_id).stdout.endswith(", 1 time-stamps: all intact\n")
    again = desk.json("stamp", case_id)
    assert [(s["subject"], s["status"]) for s in again] == [
        (f"history:{case_id}/3", "stamped"),
        (f"warc:{sha256}", "already-stamped"),
    ]


@on_sqlite
def test_without_a_tsa_a_capture_has_no_token(cli, server):
    result, _ = captured(cli, server)
    assert result["timestamp"] is None
    assert cli.json("show", result["case_id"])["timestamps"] == []


@on_sqlite
def test_a_failing_tsa_leaves_the_capture_standing_with_a_warning(desk, tsa, server):
    url = refused_url()
    desk.env["MEDIACHECK_TSA_URL"] = url
    link = f"{server}/photo.jpg"
    taken = take_in(desk, link)
    [line] = taken.stdout.splitlines()
    assert line.startswith("added ") and line.endswith(f"  image/jpeg  {link}")
    case_id = line.split()[1]
    assert taken.stderr == (
        f"warning: {link}: the time-stamp of the capture failed: {url}: "
        f"{BAD_AUTHORITIES['refused']}; the capture stands: run `mediacheck stamp {case_id}` "
        "to try again\n"
    )
    shown = desk.json("show", case_id)
    (source,) = shown["sources"]
    sha256 = source["warc_path"].rsplit("/", 1)[-1]
    assert (shown["timestamps"], shown["integrity"]["ok"]) == ([], True)

    failed = desk.json("stamp", case_id, expect=1)
    assert [(s["subject"], s["status"]) for s in failed] == [
        (f"history:{case_id}/3", "failed"),
        (f"warc:{sha256}", "failed"),
    ]
    desk.env["MEDIACHECK_TSA_URL"] = tsa.url
    retried = desk.json("stamp", case_id)
    assert [(s["subject"], s["status"]) for s in retried] == [
        (f"history:{case_id}/3", "stamped"),
        (f"warc:{sha256}", "stamped"),
    ]
    tokens = desk.json("show", case_id)["timestamps"]
    assert [(t["subject"], t["verified"]) for t in tokens] == [
        (f"history:{case_id}/3", True),
        (f"warc:{sha256}", True),
    ]
    assert desk("verify", case_id).stdout.endswith(", 2 time-stamps: all intact\n")


@on_sqlite
def test_a_failing_tsa_is_the_links_timestamp_in_json(desk, server):
    url = refused_url()
    desk.env["MEDIACHECK_TSA_URL"] = url
    (result,), stderr = take_in_json(desk, f"{server}/photo.jpg")
    assert result["status"] == "added"
    stamp = result["timestamp"]
    assert (stamp["status"], stamp["gen_time"]) == ("failed", None)
    assert stamp["error"] == f"{url}: {BAD_AUTHORITIES['refused']}"
    assert stderr.startswith(f"warning: {server}/photo.jpg: the time-stamp of the capture failed")


def test_verify_fails_a_tampered_warc_token(desk, server, settings):
    result, sha256 = captured(desk, server)
    case_id = result["case_id"]
    [token] = desk.json("show", case_id)["timestamps"]
    der = bytearray(base64.b64decode(token["token"]))
    der[-1] ^= 0x01  # the last byte of the signature
    set_token(settings, token=bytes(der))
    checked = desk("verify", case_id, expect=1)
    assert checked.stderr.startswith(
        f"error: {case_id} time-stamp 1 of warc:{sha256}: the token does not verify: "
    )
    [shown] = desk.json("show", case_id)["timestamps"]
    assert (shown["subject"], shown["verified"]) == (f"warc:{sha256}", False)


@on_sqlite
def test_verify_fails_a_token_of_a_warc_the_case_does_not_hold(desk, server, settings):
    result, _ = captured(desk, server)
    case_id = result["case_id"]
    other = "ab" * 32
    set_token(settings, subject_id=other, digest=other)
    [problem] = desk.json("verify", case_id, expect=1)["problems"]
    assert problem["kind"] == "timestamp"
    assert problem["message"] == (
        f"{case_id} time-stamp 1 of warc:{other}: its subject is not part of the case"
    )


@pytest.mark.slow
def test_a_bundle_carries_the_warcs_token(desk, target, server, tmp_path):
    result, sha256 = captured(desk, server)
    case_id = result["case_id"]
    [token] = desk.json("show", case_id)["timestamps"]
    desk("export", case_id, "-o", tmp_path / "case.zip")
    target("import", tmp_path / "case.zip")
    assert target.json("show", case_id)["timestamps"] == [token]
    assert target("verify").stdout.endswith(", 1 time-stamps: all intact\n")


@on_sqlite
def test_a_bundle_whose_token_names_another_warc_is_refused(desk, target, server, tmp_path):
    result, _ = captured(desk, server)
    case_id = result["case_id"]
    desk("export", case_id, "-o", tmp_path / "case.zip")
    other = "cd" * 32

    def forge(name: str, data: bytes):
        if name == "data/records.json":
            records = json.loads(data)
            records["timestamps"][0] |= {"subject_id": other}
            data = json.dumps(records).encode()
        yield name, data

    forged = rebag(tmp_path / "case.zip", tmp_path / "forged.zip", forge)
    refused = target("import", forged, expect=1)
    assert refused.stderr == (
        f"Error: bundle {forged}: the time-stamp of warc:{other}: "
        "its subject is not part of the case\n"
    )
    assert target.json("cases") == []


def second_source(settings, first: str, second: str) -> str:
    """The first case's capture kept for the second case too (its one media, its WARC),
    with its ``source-added`` event, as the store records a capture; its WARC's SHA-256."""
    store = Store.open(settings)
    try:
        ((source, _),) = store.sources(first)
        (link,) = store.case_media(second)
        media_id = link[1].id
        copy = Source.model_validate(source.model_dump(exclude={"id"}) | {"case_id": second})
        details = {name: getattr(copy, name) for name in SOURCE_EVENT} | {"media_ids": [media_id]}
        store.add_source(copy, [media_id], [], details)
        return source.warc_sha256
    finally:
        store.engine.dispose()


SOURCE_EVENT = ("url", "final_url", "fetched_at", "status", "extractor", "warc_sha256", "warc_size")


@pytest.mark.slow
@on_sqlite
def test_a_warc_of_two_cases_has_one_token_shown_for_both(desk, target, server, settings, tmp_path):
    result, _ = captured(desk, server)
    first = result["case_id"]
    [picture] = desk.json("intake", photo(tmp_path / "other.jpg"), "--jobs", 1, "--quick")
    second = picture["case_id"]
    sha256 = second_source(settings, first, second)
    [token] = desk.json("show", first)["timestamps"]
    stamped = desk.json("stamp", second)
    assert [(s["subject"], s["status"]) for s in stamped] == [
        (f"history:{second}/3", "stamped"),
        (f"warc:{sha256}", "already-stamped"),
    ]
    tokens = desk.json("show", second)["timestamps"]
    assert [t["subject"] for t in tokens] == [f"warc:{sha256}", f"history:{second}/3"]
    assert tokens[0] == token
    report = desk.json("verify")
    assert (report["ok"], report["timestamps"]) == (True, 3)
    desk("export", second, "-o", tmp_path / "second.zip")
    target("import", tmp_path / "second.zip")
    assert target.json("show", second)["timestamps"] == tokens
    assert target("verify").stdout.endswith(", 2 time-stamps: all intact\n")
