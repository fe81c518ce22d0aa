"""The database backends every store test runs on.

SQLite lives in the test's store folder. PostgreSQL is a real server (never a
mock): each test gets a schema of its own on it, named ``t_<random>``, chosen
through ``search_path`` in the URL, and dropped afterwards with every
connection the test left open.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

# The server CI starts (or finds) on these machines; override to use another.
POSTGRES_URL = os.environ.get(
    "MEDIACHECK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

_admin: Engine | None = None


def admin_engine() -> Engine:
    global _admin
    if _admin is None:
        _admin = create_engine(POSTGRES_URL, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    return _admin


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh, empty schema; yields a database URL whose connections use only it."""
    name = f"t_{secrets.token_hex(6)}"
    _admin_sql(f'CREATE SCHEMA "{name}"')
    url = make_url(POSTGRES_URL).update_query_dict(
        {"options": f"-csearch_path={name}", "application_name": name}
    )
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        _admin_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE application_name = '{name}' AND pid <> pg_backend_pid()"
        )
        _admin_sql(f'DROP SCHEMA "{name}" CASCADE')


def _admin_sql(sql: str) -> None:
    try:
        with admin_engine().connect() as conn:
            conn.execute(text(sql))
    except OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_URL} ({str(exc.orig).splitlines()[0]}); "
            "start it, set MEDIACHECK_TEST_POSTGRES_URL, or run only SQLite: "
            "pytest -m 'not postgres'",
            pytrace=False,
        )
