"""A user's second factor: a TOTP code (RFC 6238, 30-second steps, the authenticator apps' kind)
and ten recovery codes, each good once, kept only as hashes. No I/O here: the caller keeps the
secret and remembers which time step was used last (a code is never taken twice)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp

RECOVERY_CODES = 10
STEP = 30  # seconds a code lasts
DRIFT = 1  # steps either side taken, for a phone's clock a little off


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, user: str, issuer: str) -> str:
    """What the QR code holds: an authenticator app adds the account from it."""
    return pyotp.TOTP(secret, interval=STEP).provisioning_uri(name=user, issuer_name=issuer)


def step_of(secret: str, code: str, now: datetime) -> int | None:
    """The time step `code` belongs to (now, or one either side), or None if it is no code of now."""
    given = "".join(ch for ch in code if ch.isdigit())
    if len(given) != 6:
        return None
    totp = pyotp.TOTP(secret, interval=STEP)
    moment = int(now.timestamp()) // STEP
    for step in range(moment - DRIFT, moment + DRIFT + 1):
        if hmac.compare_digest(totp.at(step * STEP), given):
            return step
    return None


def recovery_codes() -> list[str]:
    """Codes to keep on paper, each good for one login without the phone: "k3xq-9wpa-2mzt"."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
    return [
        "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))
        for _ in range(RECOVERY_CODES)
    ]


def hashed(code: str) -> str:
    """How a recovery code is kept: 60 random bits need no slow hash."""
    return hashlib.sha256(code.strip().lower().replace(" ", "").encode()).hexdigest()


def use_recovery(kept: list[str], code: str) -> list[str] | None:
    """The codes left once `code` is used, or None when it is not one of them."""
    wanted = hashed(code)
    for i, stored in enumerate(kept):
        if hmac.compare_digest(stored, wanted):
            return kept[:i] + kept[i + 1 :]
    return None
