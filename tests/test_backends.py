"""The same storage code on SQLite and PostgreSQL: connection errors and hostile text."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from mediacheck.errors import StoreError
from mediacheck.history import chain as history
from mediacheck.store.cases import CaseFields
from mediacheck.store.database import NUL_REPLACEMENT
from mediacheck.store.media import MediaIntake
from mediacheck.store.models import CaseMedia, Media
from tests.backends import POSTGRES_URL, admin_engine
from tests.conftest import Cli

SHAPE = (
    "malformed database URL: expected dialect+driver://user:password@host:port/database, "
    "e.g. postgresql+psycopg://desk@db.example.org/mediacheck"
)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "postgresql+psycopg://desk:s3cret@127.0.0.1:1/mediacheck",
            "Error: cannot open database postgresql+psycopg://desk:***@127.0.0.1:1/mediacheck: "
            'connection failed: connection to server at "127.0.0.1", port 1 failed: '
            "Connection refused\n",
        ),
        ("postgresql+psycopg://desk:s3cret@db:port/mediacheck", f"Error: {SHAPE}\n"),
        ("desk:s3cret at db", f"Error: {SHAPE}\n"),
        (
            "postgres://desk:s3cret@db/mediacheck",
            "Error: cannot use database postgres://desk:***@db/mediacheck: "
            "Can't load plugin: sqlalchemy.dialects:postgres\n",
        ),
    ],
)
def test_unusable_database_is_one_line_without_password(tmp_path, url, message):
    cli = Cli(tmp_path / "cases", db_url=url)
    for args in (["cases"], ["db", "current"], ["db", "upgrade"]):
        result = cli(*args, expect=1)
        assert result.stderr == message
        assert result.stdout == ""


@pytest.mark.postgres
def test_refused_login_is_one_line_without_password(tmp_path):
    url = POSTGRES_URL.replace("postgres@", "nobody-here:s3cret@")
    result = Cli(tmp_path / "cases", db_url=url)("cases", expect=1)
    assert result.stderr.startswith(
        "Error: cannot open database postgresql+psycopg://nobody-here:***@"
    )
    # Trust authentication (CI machines) or a password check (a fresh Debian cluster).
    assert result.stderr.endswith(
        (
            'FATAL:  role "nobody-here" does not exist\n',
            'FATAL:  password authentication failed for user "nobody-here"\n',
        )
    )
    assert "s3cret" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_nul_in_text_is_replaced_on_every_backend(store):
    case = store.create_case(CaseFields(title="caption\x00hidden", tags=("a\x00b",)), "alice")
    assert store.get_case(case.id).title == f"caption{NUL_REPLACEMENT}hidden"
    # JSON keeps NUL as the escape \u0000, which both backends accept and give back.
    assert store.get_case(case.id).tags == ["a\x00b"]
    assert history.verify_chain(case.id, [vars(e) for e in store.events(case.id)]) == []


def test_nul_in_media_metadata_survives_storage(store):
    case = store.create_case(CaseFields(title="t"), "alice")
    media = Media(
        id="ab" * 8,
        sha256="ab" * 32,
        sha1="c" * 40,
        md5="d" * 32,
        size=3,
        kind="image",
        mime="image/jpeg",
        meta={"jpeg_comment": "taken\x00on the road", "exif": {"Image Make": "Canon\x00\x00"}},
        blob_path="originals/ab",
        first_name="x\x00.jpg",
        created_at=history.now(),
    )
    link = CaseMedia(
        case_id="",
        media_id="",
        original_name="x.jpg",
        original_path="/in/x.jpg",
        added_by="alice",
        added_at=history.now(),
    )
    _, _, added = store.add_media_to_case(
        MediaIntake(media, link, {"note": "n\x00ul"}, case_id=case.id)
    )
    again = store.get_media("ab" * 8)
    assert added
    assert again.meta == {
        "jpeg_comment": "taken\x00on the road",
        "exif": {"Image Make": "Canon\x00\x00"},
    }
    assert again.first_name == f"x{NUL_REPLACEMENT}.jpg"
    assert store.events(case.id)[-1].details == '{"note":"n\\u0000ul"}'


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_connection_lost_mid_command_is_one_line(store):
    with pytest.raises(StoreError) as caught, store.session() as session:
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
        with admin_engine().connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        session.execute(text("SELECT 1"))
    assert str(caught.value) == (
        f"cannot use database {store.safe_url}: terminating connection due to administrator command"
    )
    assert store.list_cases() == []  # the pool gives the next command a new connection
