"""Desk prefixes: each desk numbers its own cases, bundles of two desks never collide."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from mediacheck import config
from mediacheck.store import revisions as schema
from mediacheck.store.database import Store
from mediacheck.store.ids import CaseNumber, parse_case_id
from tests.backends import postgres_schema
from tests.conftest import Cli
from tests.media import photo

YEAR = datetime.now(UTC).year
# The migration that numbers cases per desk, and the revision before it.
BEFORE, PER_DESK = "0002", "0003"


def test_case_ids_of_any_desk_parse():
    assert parse_case_id("KYIV-2026-0012") == CaseNumber("KYIV", 2026, 12)
    assert parse_case_id("MC-2026-12345") == CaseNumber("MC", 2026, 12345)
    assert CaseNumber("B2", 2026, 7).case_id == "B2-2026-0007"
    for not_an_id in ("MC-2026-001", "mc-2026-0001", "MC_2026_0001", "TOOLONGDESK-2026-0001", ""):
        assert parse_case_id(not_an_id) is None


@pytest.mark.parametrize("desk", ["", "a b", "KYIV-1", "ABCDEFGHI", "ü"])
def test_a_bad_desk_prefix_is_a_usage_error(cli, desk):
    result = cli("cases", "--desk", desk, expect=2)
    assert f"Invalid value for '--desk': {desk!r} is not a desk prefix" in result.stderr
    with pytest.raises(ValueError):
        config.resolve(desk=desk or " ")


def test_each_desk_numbers_its_own_cases(cli, tmp_path):
    one, two = photo(tmp_path / "one.jpg"), photo(tmp_path / "two.jpg", seed=5)
    three = photo(tmp_path / "three.jpg", seed=9)
    assert cli.json("intake", one)[0]["case_id"] == f"MC-{YEAR}-0001"
    cli.env["MEDIACHECK_DESK"] = "kyiv"
    assert cli.json("intake", two)[0]["case_id"] == f"KYIV-{YEAR}-0001"
    assert cli.json("intake", three, "--desk", "MC")[0]["case_id"] == f"MC-{YEAR}-0002"
    assert [row["case_id"] for row in cli.json("cases")] == [
        f"KYIV-{YEAR}-0001",
        f"MC-{YEAR}-0001",
        f"MC-{YEAR}-0002",
    ]


def test_case_ids_are_taken_in_any_letter_case(cli, tmp_path):
    cli("intake", photo(tmp_path / "one.jpg"), "--desk", "Kyiv")
    case_id = f"KYIV-{YEAR}-0001"
    assert cli.json("show", case_id.lower())["case_id"] == case_id
    assert cli("note", f"kyiv-{YEAR}-0001", "checked").exit_code == 0
    assert cli.json("show", f"Kyiv-{YEAR}-0001")["notes"][0]["text"] == "checked"
    other = photo(tmp_path / "two.jpg", seed=3)
    assert cli.json("intake", other, "--case", case_id.lower())[0]["case_id"] == case_id


@pytest.fixture
def second_desk(tmp_path: Path, backend: str):
    """A second desk's CLI and store on the test's backend, numbering with KYIV."""
    if backend == "sqlite":
        yield Cli(tmp_path / "kyiv", user="dana"), ""
        return
    with postgres_schema() as url:
        yield Cli(tmp_path / "kyiv", user="dana", db_url=url), url


def test_bundles_of_two_desks_never_collide(cli, second_desk, tmp_path):
    kyiv, _ = second_desk
    kyiv.env["MEDIACHECK_DESK"] = "KYIV"
    cli("intake", photo(tmp_path / "ours.jpg"), "--title", "ours")
    [theirs] = kyiv.json("intake", photo(tmp_path / "theirs.jpg", seed=4), "--title", "theirs")
    assert theirs["case_id"] == f"KYIV-{YEAR}-0001"
    bundle = tmp_path / "kyiv.zip"
    kyiv("export", theirs["case_id"], "-o", bundle)

    imported = cli.json("import", bundle)
    assert imported["case_id"] == f"KYIV-{YEAR}-0001"
    assert cli.json("show", f"KYIV-{YEAR}-0001")["title"] == "theirs"
    assert cli.json("verify")["ok"] is True
    # The imported case takes none of this desk's numbers.
    [next_case] = cli.json("intake", photo(tmp_path / "next.jpg", seed=8))
    assert next_case["case_id"] == f"MC-{YEAR}-0002"

    again = cli("import", bundle, expect=1)
    assert again.stderr == (
        f"Error: case 'KYIV-{YEAR}-0001' already exists in this store: import refused, nothing "
        "was added (a case keeps its id for good: desks that exchange bundles each number with "
        "a desk prefix of their own, set with MEDIACHECK_DESK or --desk)\n"
    )


def test_two_desks_with_one_prefix_are_told_why(cli, second_desk, tmp_path):
    other, _ = second_desk
    cli("intake", photo(tmp_path / "ours.jpg"))
    other("intake", photo(tmp_path / "theirs.jpg", seed=4))
    bundle = tmp_path / "other.zip"
    other("export", f"MC-{YEAR}-0001", "-o", bundle)
    refused = cli("import", bundle, expect=1).stderr
    assert refused.startswith(f"Error: case 'MC-{YEAR}-0001' already exists in this store")
    assert "desk prefix" in refused and "MEDIACHECK_DESK or --desk" in refused
    assert len(cli.json("cases")) == 1


def test_migration_lets_desks_share_case_numbers(settings):
    """From the previous revision: cases and the rows that point to them survive."""
    store = Store.open(settings, check_schema=False)
    with store.engine.begin() as conn:
        command.upgrade(schema.alembic_config(conn), BEFORE)
        conn.execute(
            text(
                "INSERT INTO cases (id, year, seq, created_by, created_at, status, tags, "
                "event_count, head_hash) VALUES ('MC-2026-0001', 2026, 1, 'alice', "
                "'2026-01-01T00:00:00+00:00', 'open', '[]', 0, :zero)"
            ),
            {"zero": "0" * 64},
        )
        conn.execute(
            text(
                "INSERT INTO notes (case_id, author, at, text) "
                "VALUES ('MC-2026-0001', 'alice', '2026-01-01T00:00:00+00:00', 'kept')"
            )
        )
    with store.engine.begin() as conn:
        command.upgrade(schema.alembic_config(conn), PER_DESK)
    assert store.schema_state().current == PER_DESK
    assert [n.text for n in store.notes("MC-2026-0001")] == ["kept"]
    assert store.get_case("MC-2026-0001").seq == 1
    insert_case = text(
        "INSERT INTO cases (id, year, seq, created_by, created_at, status, tags, "
        "event_count, head_hash) VALUES (:id, 2026, 1, 'dana', '2026-01-01T00:00:00+00:00', "
        "'open', '[]', 0, :zero)"
    )
    with store.engine.begin() as conn:
        conn.execute(insert_case, {"id": "KYIV-2026-0001", "zero": "0" * 64})
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(insert_case, {"id": "MC-2026-0001", "zero": "0" * 64})
    # Foreign keys to the rebuilt table are still enforced.
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO notes (case_id, author, at, text) "
                "VALUES ('MC-2099-0001', 'alice', '2026-01-01T00:00:00+00:00', 'orphan')"
            )
        )
    store.engine.dispose()
