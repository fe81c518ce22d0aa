"""Accounts as the desk manages them: names, roles, passwords, API tokens and the login throttle.

Passwords are kept as argon2id hashes (argon2-cffi, its RFC 9106 defaults). An API
token is 32 random bytes shown once; the store keeps only its SHA-256, which is
enough for a secret nobody chose. A login that fails for any reason (unknown name,
disabled account, wrong password) says the same thing and costs the same hashing.
After ``FREE_FAILURES`` failures in a row an account refuses every login for
``LOCK_SECONDS``, doubling with each further failure up to ``MAX_LOCK_SECONDS``;
a success resets the count.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from mediacheck.accounts.roles import ROLES
from mediacheck.errors import AuthenticationFailed, InvalidValue, LoginThrottled
from mediacheck.history import chain as history
from mediacheck.store.accounts import AccountChange
from mediacheck.store.models import AccountRow, ApiToken

if TYPE_CHECKING:
    from argon2 import PasswordHasher

    from mediacheck.store.database import Store

NAME_PATTERN = re.compile(r"[a-z][a-z0-9._-]{0,31}")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # argon2 takes any length: bound the work a hostile login can ask for
TOKEN_PREFIX = "mct_"
FREE_FAILURES = 5
LOCK_SECONDS = 30
MAX_LOCK_SECONDS = 3600


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    disabled: bool
    created_at: str


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str  # the account
    label: str
    created_at: str
    revoked: bool
    last_used_at: str | None


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidValue(
            f"{name!r} is not an account name: use 1 to 32 lowercase letters, digits, '.', '_' "
            "or '-', starting with a letter"
        )
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidValue(f"{role!r} is not a role: one of {', '.join(ROLES)}")
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidValue(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidValue(f"a password has at most {MAX_PASSWORD} characters")
    return password


def add_user(store: Store, name: str, role: str, password: str) -> Account:
    row = AccountRow(
        name=check_name(name),
        role=check_role(role),
        password_hash=_hasher().hash(_bytes(check_password(password))),
        created_at=history.now(),
    )
    return account_from_row(store.add_account(row))


def list_users(store: Store) -> list[Account]:
    return [account_from_row(row) for row in store.list_accounts()]


def get_account(store: Store, name: str) -> Account:
    return account_from_row(store.get_account(name))


def has_accounts(store: Store) -> bool:
    return store.count_accounts() > 0


def disable_user(store: Store, name: str) -> Account:
    """Disable the account: its logins, sessions and tokens stop working."""
    return account_from_row(
        store.change_account(name, AccountChange(disabled=True, end_sessions=True))
    )


def enable_user(store: Store, name: str) -> Account:
    return account_from_row(store.change_account(name, AccountChange(disabled=False)))


def set_password(store: Store, name: str, password: str) -> None:
    """A new password: the old one and every session opened with it stop working."""
    hashed = _hasher().hash(_bytes(check_password(password)))
    store.change_account(name, AccountChange(password_hash=hashed, end_sessions=True))


def session_version(store: Store, name: str) -> int:
    return store.get_account(name).session_version


def authenticate(store: Store, name: str, password: str, now: datetime | None = None) -> Account:
    """The account ``name`` if ``password`` is its password.

    AuthenticationFailed for an unknown or disabled account or a wrong password (the
    same message); LoginThrottled while the account is locked after failed logins.
    """
    from argon2.exceptions import InvalidHashError, VerificationError

    at = (now or datetime.now(UTC)).astimezone(UTC)
    row = store.find_account(name) if NAME_PATTERN.fullmatch(name) else None
    if row is None or row.disabled or len(password) > MAX_PASSWORD:
        _spend_a_verification(password[:MAX_PASSWORD])
        raise AuthenticationFailed()
    if row.locked_until is not None and datetime.fromisoformat(row.locked_until) > at:
        raise LoginThrottled(_seconds_until(row.locked_until, at))
    try:
        _hasher().verify(row.password_hash, _bytes(password))
    except (VerificationError, InvalidHashError):
        failed = store.login_failed(name, lambda failures: _locked_until(failures, at))
        if failed.locked_until is not None:
            raise LoginThrottled(_seconds_until(failed.locked_until, at)) from None
        raise AuthenticationFailed() from None
    rehashed = (
        _hasher().hash(_bytes(password))
        if _hasher().check_needs_rehash(row.password_hash)
        else None
    )
    if row.failed_logins or row.locked_until or rehashed:
        row = store.login_succeeded(name, rehashed)
    return account_from_row(row)


def issue_token(store: Store, name: str, label: str) -> tuple[TokenInfo, str]:
    """A new API token for account ``name``: its description and its secret, shown only now."""
    label = label.strip()
    if not label:
        raise InvalidValue("a token needs a name saying what uses it, e.g. 'newsroom bot'")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        account=check_name(name),
        label=label,
        secret_hash=_token_hash(secret),
        created_at=history.now(),
    )
    return _token(store.add_token(token)), secret


def account_for_token(store: Store, secret: str) -> Account:
    """The account a bearer token proves; AuthenticationFailed if unknown, revoked or disabled."""
    found = store.use_token(_token_hash(secret), history.now())
    if found is None or found[0].revoked or found[1].disabled:
        raise AuthenticationFailed("unknown or revoked API token")
    return account_from_row(found[1])


def list_tokens(store: Store, name: str | None = None) -> list[TokenInfo]:
    return [_token(token) for token in store.list_tokens(name)]


def revoke_token(store: Store, token_id: int) -> TokenInfo:
    return _token(store.revoke_token(token_id))


def account_from_row(row: AccountRow) -> Account:
    """The account a stored row describes."""
    return Account(name=row.name, role=row.role, disabled=row.disabled, created_at=row.created_at)


def _token(token: ApiToken) -> TokenInfo:
    assert token.id is not None
    return TokenInfo(
        id=token.id,
        name=token.account,
        label=token.label,
        created_at=token.created_at,
        revoked=token.revoked,
        last_used_at=token.last_used_at,
    )


def _bytes(text: str) -> bytes:
    """UTF-8, lone surrogates (undecodable input) kept: any text has its one encoding."""
    return text.encode("utf-8", "surrogatepass")


def _token_hash(secret: str) -> str:
    return hashlib.sha256(_bytes(secret)).hexdigest()


def _locked_until(failures: int, at: datetime) -> str | None:
    if failures < FREE_FAILURES:
        return None
    seconds = min(LOCK_SECONDS * 2 ** min(failures - FREE_FAILURES, 20), MAX_LOCK_SECONDS)
    return (at + timedelta(seconds=seconds)).isoformat(timespec="microseconds")


def _seconds_until(until: str, at: datetime) -> int:
    return max(1, int((datetime.fromisoformat(until) - at).total_seconds() + 0.999))


@cache
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_urlsafe(16))


def _spend_a_verification(password: str) -> None:
    """Verify against a throwaway hash: an unknown name costs what a wrong password costs."""
    from argon2.exceptions import VerificationError

    try:
        _hasher().verify(_dummy_hash(), _bytes(password))
    except VerificationError:
        pass
