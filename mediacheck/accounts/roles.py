"""The roles of a desk and what each may do: every role may do what the one before it may.

Pure: no store, no account lookup. ``require`` takes anything with a name, a role and
a disabled flag (a ``service.Account``).
"""

from __future__ import annotations

from typing import Protocol

from mediacheck.errors import NotPermitted

ROLES = ("reporter", "verifier", "editor", "admin")

# What a role adds to the one before it.
_GRANTS: dict[str, tuple[str, ...]] = {
    "reporter": ("read", "intake", "note", "propose"),
    "verifier": ("approve", "reject"),
    "editor": ("status", "assign", "tags"),
    "admin": ("users",),
}

ACTIONS = tuple(action for role in ROLES for action in _GRANTS[role])

# Each action as a refusal names it.
DESCRIPTIONS = {
    "read": "read cases",
    "intake": "take in media",
    "note": "add notes",
    "propose": "propose verdicts",
    "approve": "approve verdicts",
    "reject": "reject verdicts",
    "status": "close or reopen cases",
    "assign": "assign cases",
    "tags": "change tags",
    "users": "manage accounts",
}


class Actor(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def disabled(self) -> bool: ...


def allowed(role: str) -> tuple[str, ...]:
    """Every action ``role`` may take; none for a role that is not one of ``ROLES``."""
    if role not in ROLES:
        return ()
    return tuple(a for r in ROLES[: ROLES.index(role) + 1] for a in _GRANTS[r])


def may(role: str, action: str) -> bool:
    """Whether ``role`` may take ``action``; ValueError for an action that is not one of ACTIONS."""
    if action not in ACTIONS:
        raise ValueError(f"{action!r} is not an action: one of {', '.join(ACTIONS)}")
    return action in allowed(role)


def least_role(action: str) -> str:
    """The first role that may take ``action``."""
    return next(role for role in ROLES if may(role, action))


def require(account: Actor, action: str) -> None:
    """Raise NotPermitted unless ``account`` is enabled and its role may take ``action``."""
    if account.disabled:
        raise NotPermitted(f"account {account.name!r} is disabled")
    if not may(account.role, action):
        raise NotPermitted(
            f"{account.name} ({account.role}) may not {DESCRIPTIONS[action]}: "
            f"that takes the role {least_role(action)} or above"
        )
