"""Trusted time: RFC 3161 tokens from a real TSA on 127.0.0.1 (OpenSSL's ``ts -reply``).

Approving a verdict stamps the case's history head; the token is shown, exported
and imported with bundles, and checked by ``verify``; a TSA that is down or
answers badly leaves the approval standing with a one-line warning.
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text

from mediacheck.errors import TimestampError
from mediacheck.store import revisions as schema
from mediacheck.store.database import Store
from mediacheck.timestamps import service as timestamps
from mediacheck.timestamps import tsa as rfc3161
from tests.conftest import Cli
from tests.media import photo
from tests.test_bundle import rebag
from tests.tsa import OPENSSL, TsaServer, refused_url, tsa_server

pytestmark = pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command")


@pytest.fixture(scope="session")
def tsa(tmp_path_factory) -> Iterator[TsaServer]:
    with tsa_server(tmp_path_factory.mktemp("tsa")) as server:
        yield server


@pytest.fixture
def desk(cli: Cli, tsa: TsaServer) -> Cli:
    """The test's CLI with the local TSA and its CA configured."""
    cli.env |= {"MEDIACHECK_TSA_URL": tsa.url, "MEDIACHECK_TSA_CA": str(tsa.trusted.ca)}
    return cli


def proposed_case(cli: Cli, tmp_path: Path) -> str:
    """A case of one picture with a proposed verdict awaiting bob's approval."""
    [taken] = cli.json("intake", photo(tmp_path / "strike.jpg"), "--title", "Strike", "--jobs", 1)
    case_id = taken["case_id"]
    propose(cli, case_id)
    return case_id


def propose(cli: Cli, case_id: str) -> None:
    cli("verdict", "propose", case_id, "StagedContent", "--rationale", "A film set")


def head(cli: Cli, case_id: str) -> dict:
    return cli.json("history", case_id)[-1]


def openssl_verify(token: bytes, digest: str, ca: Path, folder: Path) -> str:
    """``openssl ts -verify`` as the docs tell a reader to run it by hand."""
    path = folder / "token.tst"
    path.write_bytes(token)
    done = subprocess.run(
        [OPENSSL, "ts", "-verify", "-digest", digest, "-in", path, "-token_in", "-CAfile", ca],
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def test_approval_stamps_the_history_head_and_the_token_verifies(desk, tsa, tmp_path):
    case_id = proposed_case(desk, tmp_path)
    approved = desk.json("verdict", "approve", case_id, user="bob")
    after = head(desk, case_id)
    assert after["action"] == "verdict-approved"
    subject = f"history:{case_id}/{after['seq']}"
    stamp = approved["timestamp"]
    assert (approved["state"], stamp["status"], stamp["error"]) == ("approved", "stamped", None)
    assert (stamp["subject"], stamp["digest"]) == (subject, after["hash"])
    assert stamp["tsa_url"] == tsa.url
    stamped_at = datetime.fromisoformat(stamp["gen_time"])
    assert abs(stamped_at - datetime.now(UTC)) < timedelta(minutes=5)

    [shown] = desk.json("show", case_id)["timestamps"]
    token = base64.b64decode(shown.pop("token"))
    assert shown == {
        "subject": subject,
        "digest": after["hash"],
        "tsa_url": tsa.url,
        "gen_time": stamp["gen_time"],
        "verified": True,
        "problem": None,
        "requested_by": "bob",
    }
    assert openssl_verify(token, after["hash"], tsa.trusted.ca, tmp_path) == "Verification: OK"
    assert openssl_verify(token, "ab" * 32, tsa.trusted.ca, tmp_path) != "Verification: OK"

    assert f"time-stamp {subject} at {stamp['gen_time']} by {tsa.url}: verified" in (
        desk("show", case_id).stdout
    )
    checked = desk.json("verify", case_id)
    assert (checked["ok"], checked["timestamps"], checked["timestamps_unchecked"]) == (True, 1, 0)
    assert desk("verify").stdout.endswith(", 1 time-stamps: all intact\n")


def test_stamp_adds_a_token_for_a_newer_head_and_keeps_the_one_it_has(desk, tsa, tmp_path):
    case_id = proposed_case(desk, tmp_path)
    desk("verdict", "approve", case_id, user="bob")
    approved = head(desk, case_id)
    [again] = desk.json("stamp", case_id)
    assert (again["status"], again["digest"]) == ("already-stamped", approved["hash"])

    desk("note", case_id, "The crew is in the background")
    noted = head(desk, case_id)
    assert desk("stamp", case_id).stdout.startswith(
        f"history:{case_id}/{noted['seq']}: stamped at "
    )
    shown = desk.json("show", case_id)["timestamps"]
    assert [(t["subject"], t["digest"], t["verified"]) for t in shown] == [
        (f"history:{case_id}/{approved['seq']}", approved["hash"], True),
        (f"history:{case_id}/{noted['seq']}", noted["hash"], True),
    ]
    assert desk.json("verify", case_id)["timestamps"] == 2


def test_without_a_tsa_nothing_is_stamped(cli, tmp_path):
    case_id = proposed_case(cli, tmp_path)
    result = cli("verdict", "approve", case_id, "--json", user="bob")
    assert (json.loads(result.stdout)["timestamp"], result.stderr) == (None, "")
    assert cli.json("show", case_id)["timestamps"] == []
    assert cli("stamp", case_id, expect=1).stderr == (
        "Error: no time-stamping authority: set MEDIACHECK_TSA_URL\n"
    )


BAD_AUTHORITIES = {
    "refused": "Connection refused",
    "http500": "HTTP 500 Internal Server Error",
    "garbage": "not an RFC 3161 time-stamp reply (",
    "replay": "the token covers another digest than the one asked for",
    "rogue": "the token does not verify: ",
}


def bad_url(tsa: TsaServer, name: str) -> str:
    return refused_url() if name == "refused" else f"{tsa.base}/{name}"


def test_a_failing_tsa_leaves_the_approval_standing_with_a_warning(desk, tsa, tmp_path):
    case_id = proposed_case(desk, tmp_path)
    for name, cause in BAD_AUTHORITIES.items():
        url = bad_url(tsa, name)
        desk.env["MEDIACHECK_TSA_URL"] = url
        result = desk("verdict", "approve", case_id, user="bob")
        assert result.stdout.endswith(" StagedContent approved by bob\n"), name
        [warning] = result.stderr.splitlines()
        start = f"warning: {case_id}: the time-stamp of the approval failed: {url}: {cause}"
        assert warning.startswith(start), warning
        assert warning.endswith(
            f"; the approval stands: run `mediacheck stamp {case_id}` to try again"
        )
        assert desk.json("show", case_id)["verdict"]["state"] == "approved"
        propose(desk, case_id)  # the next bad authority gets the next approval
    shown = desk.json("show", case_id)
    assert (shown["timestamps"], shown["integrity"]["ok"]) == ([], True)
    assert [v["state"] for v in shown["verdicts"]] == ["approved"] * 5 + ["proposed"]

    failed = desk.json("stamp", case_id, expect=1)
    assert [(s["status"], s["gen_time"]) for s in failed] == [("failed", None)]
    desk.env["MEDIACHECK_TSA_URL"] = tsa.url
    [retried] = desk.json("stamp", case_id)
    assert (retried["status"], retried["digest"]) == ("stamped", head(desk, case_id)["hash"])
    assert desk("verify", case_id).stdout.endswith(": all intact\n")


def test_an_answer_for_another_request_is_refused(tsa):
    digest = "12" * 32
    with pytest.raises(TimestampError, match="another digest"):
        rfc3161.request_token(f"{tsa.base}/replay", digest, None)
    token = rfc3161.request_token(tsa.url, digest, rfc3161.load_anchors(str(tsa.trusted.ca)))
    assert rfc3161.read_token(token.der) == token
    assert token.digest == digest


@pytest.mark.parametrize(
    ("url", "digest", "message"),
    [
        ("file:///etc/passwd", "12" * 32, "MEDIACHECK_TSA_URL 'file:///etc/passwd' is not an http"),
        ("http://127.0.0.1:1/", "12" * 31, "'" + "12" * 31 + "' is not a SHA-256 digest in hex"),
    ],
)
def test_bad_settings_are_named(url, digest, message):
    with pytest.raises(TimestampError, match="^" + message):
        rfc3161.request_token(url, digest, None)


def test_a_bad_trust_anchor_file_is_one_line(tmp_path):
    (tmp_path / "ca.pem").write_text("not a certificate")
    with pytest.raises(TimestampError, match=r"ca.pem: not a PEM certificate file$"):
        rfc3161.load_anchors(str(tmp_path / "ca.pem"))
    with pytest.raises(TimestampError, match=r"missing.pem: No such file or directory$"):
        rfc3161.load_anchors(str(tmp_path / "missing.pem"))


# verify


def set_token(settings, **values) -> None:
    """Edit the token rows in the database, as someone with its password could."""
    store = Store.open(settings)
    try:
        with store.session() as session:
            for name, value in values.items():
                session.execute(text(f"UPDATE timestamps SET {name} = :v"), {"v": value})
    finally:
        store.engine.dispose()


@pytest.fixture
def stamped(desk, tmp_path) -> tuple[str, dict]:
    """An approved case whose head has a verified token: (case id, the token's row in show)."""
    case_id = proposed_case(desk, tmp_path)
    desk("verdict", "approve", case_id, user="bob")
    [token] = desk.json("show", case_id)["timestamps"]
    return case_id, token


def test_reports_list_the_tokens(desk, stamped):
    case_id, token = stamped
    markdown = desk("report", case_id, "--format", "md").stdout
    subject = token["subject"]
    assert "## Trusted time\n" in markdown
    assert f"signed at {token['gen_time']} by " in markdown and ": verified\n" in markdown
    html = desk("report", case_id).stdout
    assert f'<td class="mono">{subject}</td><td class="nowrap">{token["gen_time"]}</td>' in html
    assert '<span class="intact">verified</span>' in html


def test_verify_fails_a_tampered_token(desk, settings, stamped):
    case_id, token = stamped
    der = bytearray(base64.b64decode(token["token"]))
    der[-1] ^= 0x01  # the last byte of the signature
    set_token(settings, token=bytes(der))
    result = desk("verify", case_id, expect=1)
    problem = f"error: {case_id} time-stamp 1 of {token['subject']}: the token does not verify: "
    assert result.stderr.startswith(problem)
    shown = desk.json("show", case_id)
    assert shown["integrity"]["ok"] is False
    assert shown["timestamps"][0]["verified"] is False


def test_verify_fails_a_token_of_another_digest(desk, settings, stamped, tmp_path):
    case_id, token = stamped
    other = rfc3161.request_token(desk.env["MEDIACHECK_TSA_URL"], "34" * 32, None)
    set_token(settings, token=other.der)
    [problem] = desk.json("verify", case_id, expect=1)["problems"]
    assert problem == {
        "kind": "timestamp",
        "message": f"{case_id} time-stamp 1 of {token['subject']}: "
        "the token covers another digest than its row says",
        "case_id": case_id,
        "media_id": None,
        "seq": None,
        "case_ids": [case_id],
    }


def test_verify_fails_a_token_whose_event_was_edited(desk, settings, stamped):
    case_id, token = stamped
    seq = int(token["subject"].rsplit("/", 1)[1])
    store = Store.open(settings)
    try:
        with store.session() as session:
            session.execute(
                text("UPDATE events SET hash = :h WHERE case_id = :c AND seq = :s"),
                {"h": "56" * 32, "c": case_id, "s": seq},
            )
    finally:
        store.engine.dispose()
    messages = [p["message"] for p in desk.json("verify", case_id, expect=1)["problems"]]
    assert (
        f"{case_id} time-stamp 1 of {token['subject']}: covers {token['digest']}, "
        + (f"but the subject hashes to {'56' * 32}")
        in messages
    )


def test_a_token_of_an_untrusted_ca_fails_verify(desk, tsa, tmp_path):
    case_id = proposed_case(desk, tmp_path)
    desk.env |= {"MEDIACHECK_TSA_URL": f"{tsa.base}/rogue", "MEDIACHECK_TSA_CA": ""}
    assert desk.json("verdict", "approve", case_id, user="bob")["timestamp"]["status"] == "stamped"
    [token] = desk.json("show", case_id)["timestamps"]
    assert (token["verified"], token["problem"]) == (None, None)
    unchecked = desk("verify", case_id)
    assert unchecked.stderr == (
        "note: 1 time-stamp tokens cover their subjects but were not verified: "
        "set MEDIACHECK_TSA_CA to the authority's CA certificate\n"
    )
    desk.env["MEDIACHECK_TSA_CA"] = str(tsa.trusted.ca)
    [problem] = desk.json("verify", case_id, expect=1)["problems"]
    assert problem["message"].startswith(
        f"{case_id} time-stamp 1 of {token['subject']}: the token does not verify: "
    )
    desk.env["MEDIACHECK_TSA_CA"] = str(tsa.rogue.ca)
    assert desk.json("verify", case_id)["ok"] is True


# Bundles


@pytest.fixture
def target(tmp_path: Path, backend: str, tsa: TsaServer) -> Iterator[Cli]:
    from tests.backends import postgres_schema

    env = {"MEDIACHECK_TSA_CA": str(tsa.trusted.ca)}
    if backend == "sqlite":
        cli = Cli(tmp_path / "target", user="carol")
        cli.env |= env
        yield cli
        return
    with postgres_schema() as url:
        cli = Cli(tmp_path / "target", user="carol", db_url=url)
        cli.env |= env
        yield cli


def test_a_bundle_carries_its_tokens(desk, target, stamped, tmp_path):
    case_id, token = stamped
    desk("export", case_id, "-o", tmp_path / "case.zip")
    target("import", tmp_path / "case.zip")
    assert target.json("show", case_id)["timestamps"] == [token]
    assert target("verify").stdout.endswith(", 1 time-stamps: all intact\n")


def test_a_bundle_with_a_forged_token_is_refused(desk, target, stamped, tmp_path):
    case_id, token = stamped
    desk("export", case_id, "-o", tmp_path / "case.zip")
    other = rfc3161.request_token(desk.env["MEDIACHECK_TSA_URL"], "78" * 32, None)

    def forge(name: str, data: bytes):
        if name == "data/records.json":
            records = json.loads(data)
            records["timestamps"][0]["token"] = base64.b64encode(other.der).decode()
            data = json.dumps(records).encode()
        yield name, data

    forged = rebag(tmp_path / "case.zip", tmp_path / "forged.zip", forge)
    result = target("import", forged, expect=1)
    assert result.stderr == (
        f"Error: bundle {forged}: the time-stamp of {token['subject']}: "
        "the token covers another digest than its row says\n"
    )
    assert target.json("cases") == []


# The hook for captures, and the migration


def test_stamp_returns_the_stored_token_and_asks_once(settings, tsa):
    store = Store.open(settings)
    try:
        warc = "9a" * 32
        assert timestamps.stamp(store, settings, "warc", warc, warc) is None  # no TSA
        desk = settings.__class__(**{**settings.__dict__, "tsa_url": tsa.url})
        first = timestamps.stamp(store, desk, "warc", warc, warc)
        again = timestamps.stamp(store, desk, "warc", warc, warc.upper())
        assert first is not None and again is not None
        assert (again.id, again.token, again.digest) == (first.id, first.token, warc)
        assert [row.id for row in store.subject_timestamps("warc", [warc])] == [first.id]
        assert rfc3161.verify_token(first.token, warc, rfc3161.load_anchors(str(tsa.trusted.ca)))
    finally:
        store.engine.dispose()


def test_migration_0005_adds_the_timestamps_table_from_0003(settings):
    store = Store.open(settings, check_schema=False)
    try:
        with store.engine.begin() as conn:
            command.upgrade(schema.alembic_config(conn), "0003")
        assert "timestamps" not in inspect(store.engine).get_table_names()
        with store.engine.begin() as conn:
            command.upgrade(schema.alembic_config(conn), "0005")
        columns = {c["name"] for c in inspect(store.engine).get_columns("timestamps")}
        assert columns == {
            "id",
            "subject_kind",
            "subject_id",
            "case_id",
            "digest",
            "tsa_url",
            "gen_time",
            "token",
            "requested_by",
            "requested_at",
        }
        with store.engine.begin() as conn:
            command.downgrade(schema.alembic_config(conn), "0003")
        assert "timestamps" not in inspect(store.engine).get_table_names()
    finally:
        store.engine.dispose()
