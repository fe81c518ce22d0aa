"""MEDIACHECK_IDENTITY=database: the acting user is the PostgreSQL session's, not a typed name.

A desk where each member logs in to PostgreSQL as their own role (``db grant``) lets
the database prove who acts. The CLI then takes that name as the acting user and
checks that its account's role may take the command's action.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mediacheck.accounts.roles import require
from mediacheck.accounts.service import account_from_row
from mediacheck.errors import IdentityMismatch, IdentityUnavailable, NotPermitted

if TYPE_CHECKING:
    from mediacheck.store.database import Store


def database_user(
    store: Store,
    actions: tuple[str, ...],
    declared: str | None = None,
    first_admin: bool = False,
) -> str:
    """The database session's user, once its account may take every one of ``actions``.

    ``declared``: the user named by hand (``--user``), refused if it is anyone else
    (IdentityMismatch). ``first_admin``: the command adds an admin account, which
    anyone may while the desk has no account at all. IdentityUnavailable on SQLite,
    which has no users.
    """
    found = store.session_identity()
    if found.user is None:
        raise IdentityUnavailable(
            "MEDIACHECK_IDENTITY=database needs a PostgreSQL database: SQLite has no "
            "database users (unset MEDIACHECK_IDENTITY on a SQLite desk)"
        )
    if declared is not None and declared != found.user:
        raise IdentityMismatch(
            f"--user/MEDIACHECK_USER names {declared!r}, but the database session is "
            f"{found.user!r}: with MEDIACHECK_IDENTITY=database the acting user is the "
            "database's (leave --user out)"
        )
    if not actions or (first_admin and found.accounts == 0):
        return found.user
    if found.account is None:
        raise NotPermitted(
            f"the database user {found.user!r} has no mediacheck account: an admin adds it "
            f"with `mediacheck user add {found.user} --role ROLE`"
        )
    account = account_from_row(found.account)
    for action in actions:
        require(account, action)
    return found.user
