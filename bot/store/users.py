"""The dashboard's users, as stored: add, find, list, change role or password, remove."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from bot.domain.roles import Role
from bot.store.schema import users


class UserExists(Exception):
    pass


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    password_hash: str
    created_at: datetime
    password_changed_at: datetime
    totp_secret: str | None = None  # None: no second factor
    recovery_codes: tuple[str, ...] = ()  # hashes


def add(conn: Connection, name: str, role: Role, password_hash: str, now: datetime) -> None:
    try:
        with conn.begin_nested():
            conn.execute(
                users.insert().values(
                    name=name,
                    role=role.value,
                    password_hash=password_hash,
                    created_at=now,
                    password_changed_at=now,
                )
            )
    except IntegrityError:
        raise UserExists(f"there is already a user named {name!r}") from None


def find(conn: Connection, name: str) -> User | None:
    row = conn.execute(select(users).where(users.c.name == name)).mappings().first()
    return None if row is None else _user(row)


def listing(conn: Connection) -> list[User]:
    return [_user(row) for row in conn.execute(select(users).order_by(users.c.name)).mappings()]


def set_role(conn: Connection, name: str, role: Role) -> bool:
    return conn.execute(update(users).where(users.c.name == name).values(role=role.value)).rowcount == 1


def set_password(conn: Connection, name: str, password_hash: str, now: datetime) -> bool:
    changed = (
        update(users).where(users.c.name == name).values(password_hash=password_hash, password_changed_at=now)
    )
    return conn.execute(changed).rowcount == 1


def remove(conn: Connection, name: str) -> bool:
    return conn.execute(delete(users).where(users.c.name == name)).rowcount == 1


def count(conn: Connection, role: Role) -> int:
    return len(conn.execute(select(users.c.id).where(users.c.role == role.value)).all())


def _user(row: RowMapping) -> User:
    return User(
        row["name"],
        Role(row["role"]),
        row["password_hash"],
        row["created_at"],
        row["password_changed_at"],
        row["totp_secret"],
        tuple(row["recovery_codes"] or ()),
    )


def set_second_factor(conn: Connection, name: str, secret: str | None, recovery: list[str]) -> bool:
    """The user's TOTP secret and recovery codes' hashes (None: the second factor off)."""
    changed = update(users).where(users.c.name == name)
    values = {"totp_secret": secret, "recovery_codes": recovery if secret else None}
    return conn.execute(changed.values(**values)).rowcount == 1


def set_recovery(conn: Connection, name: str, recovery: list[str]) -> None:
    conn.execute(update(users).where(users.c.name == name).values(recovery_codes=recovery))
