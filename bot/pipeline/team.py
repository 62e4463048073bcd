"""The dashboard's team, changed the same way from the command line and the Users page: what is
given is checked (name, role, password strength), the password hashed before any transaction
(scrypt takes ~50 ms: not while SQLite's writer lock is held)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from bot.domain import passwords
from bot.domain.roles import Role, role_named, user_name
from bot.store import users


@dataclass(frozen=True)
class NewUser:
    name: str
    role: Role
    password_hash: str


def new_user(name: str, role: str, password: str) -> NewUser:
    """ValueError saying what is expected, for a name, role or password that will not do."""
    kept = user_name(name)
    passwords.check_strength(password, kept)
    return NewUser(kept, role_named(role), passwords.hash_password(password))


def new_password(name: str, password: str) -> str:
    passwords.check_strength(password, name)
    return passwords.hash_password(password)


def add(conn: Connection, user: NewUser, now: datetime) -> None:
    """UserExists when the name is taken."""
    users.add(conn, user.name, user.role, user.password_hash, now)
