"""Account and API token rows: the identities of the web desk and of database-identity CLIs.

The rules (name pattern, roles, hashing, the login throttle's delays) live in
``accounts.service``; this module reads and writes the rows, each change in the
caller's transaction, with the account row locked where two logins could race.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from mediacheck.errors import AccountExists, AccountNotFound, TokenNotFound
from mediacheck.store.models import AccountRow, ApiToken


@dataclass(frozen=True)
class AccountChange:
    """What to change of an account; a new session version ends its older sessions."""

    disabled: bool | None = None
    password_hash: str | None = None
    end_sessions: bool = False


def insert_account(session: Session, row: AccountRow) -> AccountRow:
    if session.get(AccountRow, row.name) is not None:
        raise AccountExists(row.name)
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:  # another desk added the same name at the same moment
        raise AccountExists(row.name) from exc
    return row


def find_account(session: Session, name: str) -> AccountRow | None:
    """The account with its password hash (to check a password), or None."""
    return session.get(AccountRow, name)


def get_account(session: Session, name: str, lock: bool = False) -> AccountRow:
    """The account; without ``lock``, its password hash is not read (``_without_hash``)."""
    if lock:
        query = select(AccountRow).where(col(AccountRow.name) == name).with_for_update()
    else:
        query = _without_hash().where(col(AccountRow.name) == name)
    row = session.exec(query).first()
    if row is None:
        raise AccountNotFound(name)
    return row


def list_accounts(session: Session) -> list[AccountRow]:
    return list(session.exec(_without_hash().order_by(col(AccountRow.name))))


def count_accounts(session: Session) -> int:
    return int(session.exec(select(func.count(col(AccountRow.name)))).one())


def _without_hash():
    """Accounts without their password hashes, which a desk role may not read (``db grant``)."""
    return select(AccountRow).options(defer(AccountRow.password_hash))  # type: ignore[arg-type]


def change_account(session: Session, name: str, change: AccountChange) -> AccountRow:
    row = get_account(session, name, lock=True)
    if change.disabled is not None:
        row.disabled = change.disabled
    if change.password_hash is not None:
        row.password_hash = change.password_hash
        row.failed_logins, row.locked_until = 0, None
    if change.end_sessions:
        row.session_version += 1
    session.add(row)
    return row


def login_failed(
    session: Session, name: str, locked_until: Callable[[int], str | None]
) -> AccountRow:
    """Count one more failed login; ``locked_until(failures)`` says until when it is locked."""
    row = get_account(session, name, lock=True)
    row.failed_logins += 1
    row.locked_until = locked_until(row.failed_logins)
    session.add(row)
    return row


def login_succeeded(session: Session, name: str, rehashed: str | None) -> AccountRow:
    """Reset the throttle; ``rehashed``: the password hashed again with newer parameters."""
    row = get_account(session, name, lock=True)
    row.failed_logins, row.locked_until = 0, None
    if rehashed is not None:
        row.password_hash = rehashed
    session.add(row)
    return row


def insert_token(session: Session, token: ApiToken) -> ApiToken:
    get_account(session, token.account)
    session.add(token)
    session.flush()
    return token


def use_token(session: Session, secret_hash: str, at: str) -> tuple[ApiToken, AccountRow] | None:
    """The token with this hash and its account, its last use set to ``at``; None if unknown."""
    token = session.exec(select(ApiToken).where(col(ApiToken.secret_hash) == secret_hash)).first()
    if token is None:
        return None
    if not token.revoked:
        token.last_used_at = at
        session.add(token)
    return token, get_account(session, token.account)


def list_tokens(session: Session, name: str | None) -> list[ApiToken]:
    query = select(ApiToken).order_by(col(ApiToken.id))
    if name is not None:
        get_account(session, name)
        query = query.where(col(ApiToken.account) == name)
    return list(session.exec(query))


def revoke_token(session: Session, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise TokenNotFound(token_id)
    token.revoked = True
    session.add(token)
    return token


@dataclass(frozen=True)
class SessionIdentity:
    """Who the database session is (None on SQLite), that name's account and how many there are."""

    user: str | None
    account: AccountRow | None
    accounts: int


def session_identity(session: Session) -> SessionIdentity:
    """The database user of this session and its account; no accounts before migration 0006."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return SessionIdentity(None, None, 0)
    user = str(connection.execute(text("SELECT current_user")).scalar_one())
    if not inspect(connection).has_table(AccountRow.__tablename__):
        return SessionIdentity(user, None, 0)
    account = session.exec(_without_hash().where(col(AccountRow.name) == user)).first()
    return SessionIdentity(user, account, count_accounts(session))
