"""What each command does in the words of the roles table, for MEDIACHECK_IDENTITY=database.

With database identities the acting user is the PostgreSQL session's, and the
command runs only if that user's account may take the command's actions
(``accounts.roles``). A command missing from ``RULES`` is refused: a new command
must say what it does before a database-identity desk can run it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import click

from mediacheck import config
from mediacheck.errors import IdentityMismatch, IdentityUnavailable

READ = ("read",)
# The db commands need the database's own privileges (a desk role from `db grant` has
# none of them): no account is needed, but the user is still the database's.
DATABASE_PRIVILEGES: tuple[str, ...] = ()
CASE_FIELDS = ("title", "claim", "source_url", "platform", "posted_at", "claimed_location")


def _case_set(options: dict[str, Any]) -> tuple[str, ...]:
    """case set: status, tags and assignee are the editor's; the case's description the
    reporter's, who gave it at intake."""
    wanted = {
        "status": options.get("status") is not None,
        "tags": bool(options.get("tags") or options.get("untags")),
        "assign": options.get("assignee") is not None,
        "intake": any(options.get(name) is not None for name in CASE_FIELDS),
    }
    return tuple(action for action, needed in wanted.items() if needed) or READ


Rule = tuple[str, ...] | Callable[[dict[str, Any]], tuple[str, ...]]

RULES: dict[str, Rule] = {
    "intake": ("intake",),
    "import": ("intake",),
    "analyze": ("intake",),
    "worker": ("intake",),
    "note": ("note",),
    # The time-stamp of a case's history head (issue 15): adds to the record, decides nothing.
    "stamp": ("note",),
    "verdict propose": ("propose",),
    "verdict approve": ("approve",),
    "verdict reject": ("reject",),
    "case set": _case_set,
    "cases": READ,
    "show": READ,
    "links": READ,
    "history": READ,
    "verify": READ,
    "keyframes": READ,
    "report": READ,
    "export": READ,
    "match": READ,
    "queue status": READ,
    "db current": DATABASE_PRIVILEGES,
    "db upgrade": DATABASE_PRIVILEGES,
    "db grant": DATABASE_PRIVILEGES,
    # It deletes and rewrites fingerprint rows, which no desk role from `db grant` may.
    "db refingerprint": DATABASE_PRIVILEGES,
    "user add": ("users",),
    "user list": ("users",),
    "user tokens": ("users",),
    "user disable": ("users",),
    "user enable": ("users",),
    "user passwd": ("users",),
    "user token": ("users",),
    "user revoke": ("users",),
    "serve": ("users",),
}


def command_name(ctx: click.Context) -> str:
    """The command as typed after ``mediacheck``: ``verdict approve``."""
    return " ".join(ctx.command_path.split()[1:])


def actions_of(name: str, options: dict[str, Any]) -> tuple[str, ...]:
    rule = RULES.get(name)
    if rule is None:
        raise click.ClickException(
            f"{name!r} has no role rule: it cannot run with MEDIACHECK_IDENTITY=database"
        )
    return rule(options) if callable(rule) else rule


def database_identity(
    settings: config.Settings, declared: str | None, options: dict[str, Any]
) -> config.Settings:
    """The settings with the database session's user, once its account may run the command."""
    from mediacheck.accounts import identity
    from mediacheck.store.database import Store

    name = command_name(click.get_current_context())
    first_admin = name == "user add" and options.get("role") == "admin"
    store = Store(settings)
    try:
        user = identity.database_user(store, actions_of(name, options), declared, first_admin)
    except (IdentityMismatch, IdentityUnavailable) as exc:
        raise click.UsageError(str(exc)) from exc
    finally:
        store.engine.dispose()
    return dataclasses.replace(settings, user=user)
