"""Who may do what on the dashboard: four roles, each allowed what the one before it is, and more.

- viewer: reads every page;
- agent: also answers subscribers in the inbox;
- marketer: also previews, sends, pauses and cancels campaigns, and exports segments;
- admin: also manages users, imports lists and erases subscribers.

The shared SMSBOT_DASHBOARD_PASSWORD logs in as an admin (the first admin, before any user exists).
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    AGENT = "agent"
    MARKETER = "marketer"
    ADMIN = "admin"


class Permission(IntEnum):
    """What an action needs; a role holds every permission up to its own rank."""

    READ = 0
    ANSWER = 1
    MARKET = 2
    ADMINISTER = 3


_RANK = {Role.VIEWER: Permission.READ, Role.AGENT: Permission.ANSWER, Role.MARKETER: Permission.MARKET}
ROLES = tuple(role.value for role in Role)  # as typed and shown


def may(role: Role, needed: Permission) -> bool:
    return _RANK.get(role, Permission.ADMINISTER) >= needed


def role_named(text: str) -> Role:
    """The role `text` names; ValueError listing the roles otherwise."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise ValueError(f"no role {text!r}: one of {', '.join(ROLES)}") from None


def user_name(text: str) -> str:
    """A user's name as kept (lower case): letters, digits and . _ - @, 2 to 60 of them; ValueError
    saying what is expected otherwise."""
    name = text.strip().lower()
    if not (2 <= len(name) <= 60) or not all(c.isalnum() or c in "._-@" for c in name):
        raise ValueError(f"a user's name is 2 to 60 letters, digits or . _ - @ (got {text[:60]!r})")
    return name
