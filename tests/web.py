"""The web desk under test: the real app under uvicorn on a free 127.0.0.1 port.

``desk_server`` opens a store (SQLite in its folder, or a PostgreSQL schema of its
own), adds the accounts the tests log in as, seeds the archive's approved case and
serves the desk from a thread until the block ends. ``login`` gives a requests
session holding a browser session cookie, the way a browser gets one.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn

from mediacheck import config
from mediacheck.accounts import service as accounts
from mediacheck.cli import main
from mediacheck.store.database import Store
from mediacheck.web.app import create_app
from tests.backends import postgres_schema
from tests.conftest import Cli
from tests.story import SAMPLES

PASSWORD = "correct horse battery"
# name: role; each test module's desk has these accounts.
# dora is disabled by a test, tess locked out by failed logins.
ACCOUNTS = {
    "alice": "verifier",
    "bob": "editor",
    "rita": "reporter",
    "dora": "verifier",
    "tess": "reporter",
}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Desk:
    url: str
    app: Any
    store: Store
    store_dir: Path
    archive_case: str  # the seeded case: strike.jpg, approved
    tokens: dict[str, str]  # account name: API token


@contextmanager
def desk_server(tmp: Path, backend: str) -> Iterator[Desk]:
    if backend == "postgres":
        with postgres_schema() as url, _serving(tmp, url) as desk:
            yield desk
    else:
        with _serving(tmp, "") as desk:
            yield desk


@contextmanager
def _cheap_password_hashing() -> Iterator[None]:
    """argon2id at its cheapest while the desk serves, as ``tests/passwords.py`` does for
    one test: a module of logins would spend most of its time hashing otherwise."""
    from argon2 import PasswordHasher, profiles

    hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    with pytest.MonkeyPatch.context() as patch:
        accounts._dummy_hash.cache_clear()
        patch.setattr(accounts, "_hasher", lambda: hasher)
        yield
    accounts._dummy_hash.cache_clear()


@contextmanager
def _serving(tmp: Path, db_url: str) -> Iterator[Desk]:
    with _cheap_password_hashing(), _served(tmp, db_url) as desk:
        yield desk


@contextmanager
def _served(tmp: Path, db_url: str) -> Iterator[Desk]:
    store_dir = tmp / "cases"
    cli = Cli(store_dir, db_url=db_url)
    [strike] = cli.json("intake", SAMPLES / "strike.jpg", "--title", "IVIC building hit", "--quick")
    archive = strike["case_id"]
    cli("verdict", "propose", archive, "DecontextualizedContent", "--rationale", "From 2019")
    cli("verdict", "approve", archive, user="bob")
    tokens = {}
    for name, role in ACCOUNTS.items():  # as the desk does it
        added = cli.runner.invoke(
            main,
            ["user", "add", name, "--role", role, "--password-stdin"],
            env=cli.env,
            input=f"{PASSWORD}\n",
            catch_exceptions=False,
        )
        assert added.exit_code == 0, added.output
        tokens[name] = cli.json("user", "token", name, "--name", "tests")["secret"]
    settings = config.resolve(store=store_dir, db_url=db_url, user="nobody")
    store = Store.open(settings, create=False)
    app = create_app(settings, store)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the web desk did not start")
        time.sleep(0.05)
    try:
        yield Desk(f"http://127.0.0.1:{port}", app, store, store_dir, archive, tokens)
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()
        store.engine.dispose()


def csrf_token(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def login(desk: Desk, name: str, password: str = PASSWORD) -> requests.Session:
    """A session logged in through the form, as a browser does."""
    session = requests.Session()
    page = session.get(f"{desk.url}/login")
    answer = session.post(
        f"{desk.url}/login",
        data={"username": name, "password": password, "csrf_token": csrf_token(page.text)},
        allow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return session


def form_token(session: requests.Session, desk: Desk, path: str = "/cases") -> str:
    return csrf_token(session.get(f"{desk.url}{path}").text)


def bearer(desk: Desk, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {desk.tokens[name]}"}
