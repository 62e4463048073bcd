"""Suppressions: numbers erased on request, kept as a keyed hash (HMAC-SHA256 with a server key),
never as the number. A database copy alone cannot tell which numbers they are; with the key, an
import can still tell that a row's number was erased and leave it out.

The key comes from SMSBOT_SUPPRESSION_KEY, else from `suppression.key` in the data directory (made
on first use, readable by its owner only). Every entry remembers which key made it, so a server
started with another key refuses to erase or import rather than quietly let erased numbers back.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from bot.settings import Settings
from bot.store.schema import suppressions

KEY_FILE = "suppression.key"
ENV = "SMSBOT_SUPPRESSION_KEY"


class KeyMismatch(Exception):
    """Suppressions were made with another key than this server's."""


@dataclass(frozen=True)
class SuppressionKey:
    secret: bytes = field(repr=False)

    @property
    def key_id(self) -> str:
        return hashlib.sha256(b"smsbot suppression key id:" + self.secret).hexdigest()[:16]

    def digest(self, phone: str) -> str:
        keyed = self._keyed.copy()  # the key's pads hashed once: a third of hmac.digest's time
        keyed.update(phone.encode())
        return keyed.hexdigest()

    @cached_property
    def _keyed(self) -> hmac.HMAC:
        return hmac.new(self.secret, digestmod=hashlib.sha256)


def load_key(settings: Settings, env: dict[str, str] | None = None) -> SuppressionKey:
    given = (os.environ if env is None else env).get(ENV, "")
    if given:
        if len(given) < 16:
            raise KeyMismatch(f"{ENV} is too short: use at least 16 random characters")
        return SuppressionKey(given.encode())
    path = Path(settings.data_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
    return SuppressionKey(path.read_text().strip().encode())


def check_key(conn: Connection, key: SuppressionKey) -> None:
    """KeyMismatch when an entry was made with another key: its numbers would no longer match."""
    other = conn.scalar(select(suppressions.c.key_id).where(suppressions.c.key_id != key.key_id).limit(1))
    if other is not None:
        raise KeyMismatch(
            f"the suppression list was made with another key (id {other}), not this server's "
            f"({key.key_id}): set {ENV} to the key used before, or erased numbers could come back"
        )


_INSERT = {
    "sqlite": sqlite.insert(suppressions).on_conflict_do_nothing(),
    "postgresql": postgresql.insert(suppressions).on_conflict_do_nothing(),
}


def suppress(conn: Connection, key: SuppressionKey, phone: str, reason: str, now: datetime) -> None:
    conn.execute(
        _INSERT[conn.dialect.name],
        [{"digest": key.digest(phone), "key_id": key.key_id, "reason": reason, "at": now}],
    )
