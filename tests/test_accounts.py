"""Accounts: names, roles, argon2id passwords, the login throttle and API tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from mediacheck.accounts import roles, service
from mediacheck.errors import (
    AccountExists,
    AccountNotFound,
    AuthenticationFailed,
    InvalidValue,
    LoginThrottled,
    NotPermitted,
    TokenNotFound,
)
from tests.passwords import cheap_password_hashing  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

PASSWORD = "correct horse"
PRODUCTION_HASHER = service._hasher
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_roles_table():
    assert roles.ACTIONS == (
        "read", "intake", "note", "propose", "approve", "reject",
        "status", "assign", "tags", "users",
    )  # fmt: skip
    table = {role: [a for a in roles.ACTIONS if roles.may(role, a)] for role in roles.ROLES}
    assert table == {
        "reporter": ["read", "intake", "note", "propose"],
        "verifier": ["read", "intake", "note", "propose", "approve", "reject"],
        "editor": ["read", "intake", "note", "propose", "approve", "reject", "status", "assign",
                   "tags"],
        "admin": list(roles.ACTIONS),
    }  # fmt: skip
    assert not roles.may("intern", "read")
    assert tuple(roles.DESCRIPTIONS) == roles.ACTIONS
    with pytest.raises(ValueError, match="'delete' is not an action"):
        roles.may("admin", "delete")


def test_require_names_the_role_an_action_takes():
    reporter = service.Account("alice", "reporter", False, "2026-12-01T12:00:00+00:00")
    roles.require(reporter, "propose")
    with pytest.raises(NotPermitted) as refused:
        roles.require(reporter, "approve")
    assert str(refused.value) == (
        "alice (reporter) may not approve verdicts: that takes the role verifier or above"
    )
    disabled = service.Account("root", "admin", True, "2026-12-01T12:00:00+00:00")
    with pytest.raises(NotPermitted, match="account 'root' is disabled"):
        roles.require(disabled, "read")


def test_add_list_and_get(store):
    alice = service.add_user(store, "alice", "verifier", PASSWORD)
    service.add_user(store, "bob.k", "editor", PASSWORD)
    assert (alice.name, alice.role, alice.disabled) == ("alice", "verifier", False)
    assert [(a.name, a.role) for a in service.list_users(store)] == [
        ("alice", "verifier"),
        ("bob.k", "editor"),
    ]
    assert service.get_account(store, "alice") == alice
    with pytest.raises(AccountNotFound, match="no account 'carol'"):
        service.get_account(store, "carol")
    with pytest.raises(AccountExists, match="account 'alice' already exists"):
        service.add_user(store, "alice", "admin", PASSWORD)
    with store.session() as session:
        stored = session.execute(text("SELECT password_hash FROM accounts")).scalars().all()
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in stored)


@pytest.mark.parametrize("name", ["Alice", "1alice", "", "a" * 33, "al ice", "al/ice", "élodie"])
def test_account_names_are_strict(store, name):
    with pytest.raises(InvalidValue, match="is not an account name: use 1 to 32 lowercase"):
        service.add_user(store, name, "reporter", PASSWORD)
    assert service.list_users(store) == []


def test_roles_and_passwords_are_checked(store):
    with pytest.raises(InvalidValue, match="'boss' is not a role: one of reporter, verifier"):
        service.add_user(store, "alice", "boss", PASSWORD)
    with pytest.raises(InvalidValue, match="a password needs at least 8 characters"):
        service.add_user(store, "alice", "reporter", "short")
    assert service.list_users(store) == []


def test_login_fails_alike_for_unknown_disabled_and_wrong(store):
    service.add_user(store, "alice", "reporter", PASSWORD)
    assert service.authenticate(store, "alice", PASSWORD).name == "alice"
    failures = []
    for name, password in [("alice", "wrong password"), ("nobody", PASSWORD), ("Bad Name", "x")]:
        with pytest.raises(AuthenticationFailed) as failed:
            service.authenticate(store, name, password)
        failures.append(str(failed.value))
    service.disable_user(store, "alice")
    with pytest.raises(AuthenticationFailed) as failed:
        service.authenticate(store, "alice", PASSWORD)
    failures.append(str(failed.value))
    assert set(failures) == {"wrong account name or password"}
    service.enable_user(store, "alice")
    assert service.authenticate(store, "alice", PASSWORD).disabled is False


def test_login_throttle_locks_for_a_growing_delay_and_a_success_resets(store):
    service.add_user(store, "alice", "reporter", PASSWORD)
    for _ in range(4):
        with pytest.raises(AuthenticationFailed) as failed:
            service.authenticate(store, "alice", "wrong password", now=T0)
        assert type(failed.value) is AuthenticationFailed
    with pytest.raises(LoginThrottled) as locked:
        service.authenticate(store, "alice", "wrong password", now=T0)
    assert locked.value.retry_after == 30
    assert str(locked.value) == "too many failed logins for this account: try again in 30 s"
    # Locked: even the right password is refused, without being tried.
    with pytest.raises(LoginThrottled) as locked:
        service.authenticate(store, "alice", PASSWORD, now=T0 + timedelta(seconds=10))
    assert locked.value.retry_after == 20
    # The next failure after the lock doubles it.
    with pytest.raises(LoginThrottled) as locked:
        service.authenticate(store, "alice", "wrong password", now=T0 + timedelta(seconds=31))
    assert locked.value.retry_after == 60
    later = T0 + timedelta(seconds=92)
    assert service.authenticate(store, "alice", PASSWORD, now=later).name == "alice"
    with pytest.raises(AuthenticationFailed) as failed:
        service.authenticate(store, "alice", "wrong password", now=later)
    assert type(failed.value) is AuthenticationFailed  # the count started again


def test_passwd_and_disable_end_sessions(store):
    service.add_user(store, "alice", "reporter", PASSWORD)
    assert service.session_version(store, "alice") == 1
    service.set_password(store, "alice", "a new passphrase")
    assert service.session_version(store, "alice") == 2
    with pytest.raises(AuthenticationFailed):
        service.authenticate(store, "alice", PASSWORD)
    assert service.authenticate(store, "alice", "a new passphrase").name == "alice"
    assert service.disable_user(store, "alice").disabled is True
    assert service.session_version(store, "alice") == 3
    assert service.enable_user(store, "alice").disabled is False
    assert service.session_version(store, "alice") == 3
    with pytest.raises(AccountNotFound):
        service.set_password(store, "bob", PASSWORD)


def test_tokens_are_shown_once_stored_hashed_and_revocable(store):
    service.add_user(store, "bob", "editor", PASSWORD)
    info, secret = service.issue_token(store, "bob", " newsroom bot ")
    assert (info.name, info.label, info.revoked, info.last_used_at) == (
        "bob",
        "newsroom bot",
        False,
        None,
    )
    assert secret.startswith("mct_") and len(secret) == 4 + 43
    with store.session() as session:
        stored = session.execute(text("SELECT secret_hash FROM api_tokens")).scalar_one()
    assert secret not in stored and len(stored) == 64
    assert service.account_for_token(store, secret).name == "bob"
    [listed] = service.list_tokens(store, "bob")
    assert listed.id == info.id and listed.last_used_at is not None
    with pytest.raises(AuthenticationFailed, match="unknown or revoked API token"):
        service.account_for_token(store, secret + "x")
    service.disable_user(store, "bob")
    with pytest.raises(AuthenticationFailed):
        service.account_for_token(store, secret)
    service.enable_user(store, "bob")
    assert service.revoke_token(store, info.id).revoked is True
    with pytest.raises(AuthenticationFailed):
        service.account_for_token(store, secret)
    with pytest.raises(TokenNotFound, match="no API token 999"):
        service.revoke_token(store, 999)
    with pytest.raises(AccountNotFound):
        service.issue_token(store, "carol", "bot")
    with pytest.raises(InvalidValue, match="a token needs a name"):
        service.issue_token(store, "bob", "  ")
    assert [t.id for t in service.list_tokens(store)] == [info.id]


def test_migration_0006_adds_the_account_tables_and_goes_back(settings):
    from mediacheck.store.database import Store
    from tests.test_migrations import migrate, tables

    store = Store.open(settings, check_schema=False)
    migrate(store, "0003")
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO cases (id, year, seq, created_by, created_at, status, tags, "
                "event_count, head_hash) VALUES ('MC-2026-0001', 2026, 1, 'alice', "
                "'2026-12-01T12:00:00+00:00', 'open', '[]', 0, :head)"
            ),
            {"head": "0" * 64},
        )
    migrate(store, "0006")
    assert {"accounts", "api_tokens"} <= tables(store)
    service.add_user(store, "alice", "admin", PASSWORD)
    assert store.get_case("MC-2026-0001").created_by == "alice"
    migrate(store, "0003", down=True)
    assert not {"accounts", "api_tokens"} & tables(store)
    assert store.get_case("MC-2026-0001").status == "open"
    store.engine.dispose()


def test_passwords_are_hashed_with_argon2id_at_rfc_9106_low_memory_parameters():
    # The tests hash at argon2's cheapest (tests/passwords.py); the service's own hasher:
    hashed = PRODUCTION_HASHER().hash("correct horse")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PRODUCTION_HASHER().verify(hashed, "correct horse")
