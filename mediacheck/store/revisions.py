"""The version of the database schema: Alembic migrations shipped in the package.

An empty database is built to the newest revision on first use. A database at
any other revision is refused until someone runs ``mediacheck db upgrade`` on
purpose: on a shared desk every bureau must first run a mediacheck that knows
the new schema, and someone should take a backup before.

Migrations are numbered (``0001_initial``, ``0002_...``) and never edited
once released: a revision is the number its file name starts with. Checking
the revision reads the file names and one row, without Alembic, whose import
alone would add a fifth of a second to every command.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from mediacheck.errors import StoreError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# Any fixed number: PostgreSQL desks starting at once take turns to migrate.
PG_LOCK_KEY = 0x6D6564696163
VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class SchemaState:
    current: str | None  # None: no mediacheck schema yet
    head: str
    empty: bool  # no table but Alembic's own

    @property
    def status(self) -> str:
        if self.current == self.head:
            return "up to date"
        if self.current is None:
            return "empty" if self.empty else "not a mediacheck database"
        return "needs upgrade" if self.current in revisions() else "newer than this mediacheck"


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    return config


@cache
def revisions() -> tuple[str, ...]:
    """Every revision, oldest first."""
    return tuple(sorted(p.name[:4] for p in (MIGRATIONS / "versions").glob("[0-9]*.py")))


def head() -> str:
    return revisions()[-1]


def state(engine: Engine) -> SchemaState:
    with engine.connect() as conn:
        return _state(conn)


def ensure(engine: Engine) -> None:
    """Make a database ready for use: build an empty one, refuse one at another revision."""
    with engine.connect() as conn:
        if _current(conn) == head():
            return
    with _migrating(engine) as conn:
        found = _state(conn)
        if found.current is None and found.empty:
            _upgrade(conn)
        elif found.current != found.head:
            raise StoreError(_refusal(found))


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest revision; returns the revisions before and after."""
    with _migrating(engine) as conn:
        found = _state(conn)
        if found.status not in ("up to date", "empty", "needs upgrade"):
            raise StoreError(_refusal(found))
        _upgrade(conn)
    return found.current, found.head


def _upgrade(conn: Connection) -> None:
    from alembic import command

    command.upgrade(alembic_config(conn), "head")


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """One transaction, one desk at a time: whoever waited sees the finished schema."""
    with engine.begin() as conn:
        # SQLite: the engine's BEGIN IMMEDIATE already holds the write lock.
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
        yield conn


def _current(conn: Connection) -> str | None:
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def _state(conn: Connection) -> SchemaState:
    empty = set(inspect(conn).get_table_names()) <= {VERSION_TABLE}
    return SchemaState(current=_current(conn), head=head(), empty=empty)


def _refusal(found: SchemaState) -> str:
    if found.current is None:
        return "the database holds tables but no mediacheck schema: use an empty database"
    if found.status == "needs upgrade":
        return (
            f"the database schema is at revision {found.current}, this mediacheck needs "
            f"{found.head}: back it up, then run 'mediacheck db upgrade'"
        )
    return (
        f"the database schema is at revision {found.current}, which this mediacheck does not "
        f"know (newest {found.head}): install a newer mediacheck"
    )
