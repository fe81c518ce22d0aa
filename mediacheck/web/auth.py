"""Who is asking: browser sessions, CSRF tokens and Bearer tokens, proven on every request.

A browser holds one signed cookie (itsdangerous): HttpOnly, SameSite=Lax, Secure when
the request came over TLS, expiring after ``SESSION_SECONDS``. It carries the account's
name, the account's session version (a password change or a disabled account bumps it,
ending every session at once) and the session's CSRF token, which every form posts back.
Scripts send ``Authorization: Bearer TOKEN``; the accounts service finds the account a
token belongs to. Either way the account is read from the database on each request, so
a disabled account or a revoked token stops working at once, and every action is
attributed to that account: nothing in a request can name another user.
"""

from __future__ import annotations

import hmac
import os
import secrets
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from mediacheck.accounts import roles
from mediacheck.accounts import service as accounts
from mediacheck.errors import AccountNotFound, AuthenticationFailed, MediacheckError

if TYPE_CHECKING:
    from fastapi import Request, Response

    from mediacheck.store.database import Store

SESSION_COOKIE = "mediacheck_session"
SESSION_SECONDS = 12 * 3600
CSRF_FIELD = "csrf_token"
SECRET_ENV = "MEDIACHECK_WEB_SECRET"
SECRET_FILE = "web-secret"  # in the store folder, when the environment sets none


class LoginRequired(MediacheckError):
    """A page asked for without a valid session: the browser is sent to /login."""


class CsrfRefused(MediacheckError):
    def __init__(self) -> None:
        super().__init__("the form's CSRF token is missing or wrong: reload the page and try again")


@dataclass(frozen=True)
class Identity:
    """The authenticated account a request acts as."""

    name: str
    role: str
    disabled: bool = False  # read from the database on this request: never True here


@dataclass(frozen=True)
class SessionData:
    """What the session cookie holds: an anonymous session has a CSRF token and no user."""

    csrf: str
    user: str | None = None
    version: int | None = None


def new_session(user: str | None = None, version: int | None = None) -> SessionData:
    return SessionData(csrf=secrets.token_urlsafe(32), user=user, version=version)


def web_secret(store_root: Path) -> str:
    """The key that signs cookies: from the environment, else a file made once in the store.

    Several workers or machines serving one desk must share it: they share the store
    folder, or the environment sets the same ``MEDIACHECK_WEB_SECRET`` for all.
    """
    given = os.environ.get(SECRET_ENV)
    if given:
        return given
    path = store_root / SECRET_FILE
    if not path.exists():
        # Written whole, then linked into place: a worker starting beside this one
        # reads either no file or the whole key, and the first link wins.
        fd, tmp = tempfile.mkstemp(prefix=".web-secret-", dir=store_root)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_urlsafe(48))
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return path.read_text("ascii").strip()


class Sessions:
    """Signs and reads the session cookie."""

    def __init__(self, secret: str, max_age: int = SESSION_SECONDS):
        self.serializer = URLSafeTimedSerializer(secret, salt="mediacheck-web-session")
        self.max_age = max_age

    def read(self, request: Request) -> SessionData | None:
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            data: Any = self.serializer.loads(raw, max_age=self.max_age)
        except BadSignature:  # expired, tampered with, or signed by another key
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        user, version = data.get("u"), data.get("v")
        if not isinstance(user, str) or not isinstance(version, int):
            user, version = None, None
        return SessionData(csrf=data["c"], user=user, version=version)

    def write(self, response: Response, request: Request, session: SessionData) -> None:
        value = self.serializer.dumps({"c": session.csrf, "u": session.user, "v": session.version})
        response.set_cookie(
            SESSION_COOKIE,
            value,
            max_age=self.max_age,
            path="/",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )


def session_of(request: Request) -> SessionData:
    """The request's session (made by the middleware in ``app``)."""
    return request.state.session


def set_session(request: Request, session: SessionData) -> None:
    """Replace the request's session; the middleware writes the cookie."""
    request.state.session = session
    request.state.session_changed = True


def log_in(store: Store, request: Request, username: str, password: str) -> Identity:
    """Check the password (throttled by the accounts service); start a fresh session."""
    if "\x00" in username:
        raise AuthenticationFailed()  # names no account (and PostgreSQL refuses it in text)
    account = accounts.authenticate(store, username, password)
    version = accounts.session_version(store, account.name)
    set_session(request, new_session(account.name, version))
    return Identity(account.name, account.role)


def log_out(request: Request) -> None:
    set_session(request, new_session())


def browser_identity(store: Store, request: Request) -> Identity:
    """The account the session cookie proves, still enabled and of the same session version."""
    session = session_of(request)
    if session.user is None:
        raise LoginRequired("log in first")
    try:
        account = accounts.get_account(store, session.user)
    except AccountNotFound:
        account = None
    if (
        account is None
        or account.disabled
        or accounts.session_version(store, account.name) != session.version
    ):
        set_session(request, replace(new_session(), csrf=session.csrf))
        raise LoginRequired("your session has ended: log in again")
    return Identity(account.name, account.role)


def bearer_identity(store: Store, request: Request) -> Identity:
    """The account whose token the Authorization header carries."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("send Authorization: Bearer TOKEN (mediacheck user token)")
    account = accounts.account_for_token(store, token.strip())
    return Identity(account.name, account.role)


def check_csrf(request: Request, posted: object) -> None:
    """``posted`` (the form's csrf_token) must be this session's token."""
    expected = session_of(request).csrf
    if not isinstance(posted, str) or not hmac.compare_digest(posted, expected):
        raise CsrfRefused()


def require(identity: Identity, action: str) -> None:
    """NotPermitted unless the account's role may take ``action``."""
    roles.require(identity, action)


def may(identity: Identity, action: str) -> bool:
    return roles.may(identity.role, action)
