"""mediacheck user: accounts, passwords and API tokens from the command line."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from mediacheck import config
from mediacheck.accounts import service
from mediacheck.cli import main
from mediacheck.store.database import Store
from tests.passwords import cheap_password_hashing  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

PASSWORD = "correct horse"


def run(cli, *args: str, stdin: str | None = None, expect: int = 0):
    result = cli.runner.invoke(main, list(args), env=cli.env, input=stdin, catch_exceptions=False)
    assert result.exit_code == expect, result.output
    return result


def test_add_list_disable_enable_passwd(cli, settings):
    added = run(cli, "user", "add", "alice", "--role", "verifier", "--password-stdin",
                stdin=PASSWORD + "\n")  # fmt: skip
    assert added.stdout == "added alice (verifier)\n"
    bob = json.loads(
        run(
            cli,
            "user",
            "add",
            "bob",
            "--role",
            "editor",
            "--password-stdin",
            "--json",
            stdin="another pass\r\n",
        ).stdout  # fmt: skip
    )
    assert {k: bob[k] for k in ("name", "role", "disabled")} == {
        "name": "bob",
        "role": "editor",
        "disabled": False,
    }
    listed = cli.json("user", "list")
    assert [(a["name"], a["role"], a["disabled"]) for a in listed] == [
        ("alice", "verifier", False),
        ("bob", "editor", False),
    ]
    assert list(listed[0]) == ["name", "role", "disabled", "created_at"]
    assert cli("user", "disable", "alice").stdout == "disabled alice (verifier)\n"
    assert cli.json("user", "list")[0]["disabled"] is True
    assert cli("user", "enable", "alice").stdout == "enabled alice (verifier)\n"
    changed = run(cli, "user", "passwd", "alice", "--password-stdin", stdin="a new passphrase\n")
    assert changed.stdout == "password of alice changed\n"
    store = Store.open(settings)
    assert service.authenticate(store, "alice", "a new passphrase").name == "alice"
    assert service.authenticate(store, "bob", "another pass").name == "bob"  # \r\n: one line
    store.engine.dispose()


def test_bad_input_is_one_line(cli):
    bad = run(cli, "user", "add", "Alice", "--role", "admin", "--password-stdin",
              stdin=PASSWORD, expect=1)  # fmt: skip
    assert bad.stderr.startswith("Error: 'Alice' is not an account name: use 1 to 32 lowercase")
    assert len(bad.stderr.splitlines()) == 1
    short = run(cli, "user", "add", "alice", "--role", "admin", "--password-stdin",
                stdin="short\n", expect=1)  # fmt: skip
    assert short.stderr == "Error: a password needs at least 8 characters\n"
    role = cli("user", "add", "alice", "--role", "boss", "--password-stdin", expect=2)
    assert "'boss' is not one of 'reporter', 'verifier', 'editor', 'admin'" in role.stderr
    no_terminal = cli("user", "add", "alice", "--role", "admin", expect=2)
    assert "no terminal to ask for the password on: use --password-stdin" in no_terminal.stderr
    run(cli, "user", "add", "alice", "--role", "admin", "--password-stdin", stdin=PASSWORD)
    again = run(cli, "user", "add", "alice", "--role", "admin", "--password-stdin",
                stdin=PASSWORD, expect=1)  # fmt: skip
    assert again.stderr == "Error: account 'alice' already exists\n"
    assert cli("user", "disable", "carol", expect=1).stderr == "Error: no account 'carol'\n"
    assert cli("user", "passwd", "carol", expect=1).stderr == "Error: no account 'carol'\n"
    assert cli("user", "revoke", "42", expect=1).stderr == "Error: no API token 42\n"
    assert cli("user", "revoke", "x", expect=2).exit_code == 2


def test_token_is_printed_once_and_revocable(cli, settings):
    run(cli, "user", "add", "bob", "--role", "editor", "--password-stdin", stdin=PASSWORD)
    made = cli("user", "token", "bob", "--name", "newsroom bot")
    secret = made.stdout.strip()
    assert secret.startswith("mct_") and made.stdout == secret + "\n"
    assert "token 1 for bob (newsroom bot): the secret is shown only now" in made.stderr
    as_json = cli.json("user", "token", "bob", "--name", "archive sync")
    assert {k: as_json[k] for k in ("id", "name", "label", "revoked", "last_used_at")} == {
        "id": 2,
        "name": "bob",
        "label": "archive sync",
        "revoked": False,
        "last_used_at": None,
    }
    store = Store.open(settings)
    assert service.account_for_token(store, secret).name == "bob"
    listed = cli.json("user", "tokens", "bob")
    assert [(t["id"], t["label"], t["revoked"]) for t in listed] == [
        (1, "newsroom bot", False),
        (2, "archive sync", False),
    ]
    assert "secret" not in listed[0] and listed[0]["last_used_at"] is not None
    assert cli("user", "revoke", "1").stdout == "revoked token 1 of bob (newsroom bot)\n"
    assert cli.json("user", "tokens")[0]["revoked"] is True
    assert service.list_tokens(store)[0].revoked
    store.engine.dispose()


def test_the_first_account_makes_the_store(cli, store_dir):
    assert not store_dir.exists()
    run(cli, "user", "add", "carol", "--role", "admin", "--password-stdin", stdin=PASSWORD)
    assert cli.json("user", "list")[0]["name"] == "carol"


def test_on_a_terminal_the_password_is_asked_twice_and_never_shown(tmp_path):
    store_dir = tmp_path / "cases"
    env = os.environ | {"MEDIACHECK_HOME": str(store_dir), "MEDIACHECK_DATABASE_URL": ""}
    mediacheck = Path(sys.executable).with_name("mediacheck")
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [mediacheck, "user", "add", "alice", "--role", "admin"],
        stdin=terminal, stdout=terminal, stderr=terminal, env=env, close_fds=True,
    )  # fmt: skip
    os.close(terminal)
    shown = b""

    def read_until(text: bytes) -> None:
        nonlocal shown
        while text not in shown:
            ready, _, _ = select.select([controller], [], [], 60)
            assert ready, f"no {text!r} on the terminal: {shown!r}"
            shown += os.read(controller, 1024)

    read_until(b"Password: ")
    os.write(controller, PASSWORD.encode() + b"\n")
    read_until(b"Repeat for confirmation: ")
    os.write(controller, PASSWORD.encode() + b"\n")
    read_until(b"added alice (admin)")
    assert process.wait(timeout=60) == 0
    os.close(controller)
    assert PASSWORD.encode() not in shown
    store = Store.open(config.resolve(store=store_dir, db_url="", user="x"))
    assert service.authenticate(store, "alice", PASSWORD).role == "admin"
    store.engine.dispose()
