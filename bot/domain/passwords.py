"""Users' passwords, kept only as scrypt hashes (memory-hard: 16 MiB and ~50 ms a try, OWASP's
parameters), each with its own salt; compared in constant time. No I/O here."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

MIN_LENGTH = 12
_N, _R, _P = 2**14, 8, 1  # OWASP Password Storage Cheat Sheet: scrypt N=2^14 (16 MiB), r=8, p=1
_SCHEME = "scrypt"


class WeakPassword(ValueError):
    pass


def check_strength(password: str, name: str) -> None:
    """WeakPassword saying why, for a password no one should be given."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    if password.strip().lower() == name.strip().lower() or len(set(password)) < 4:
        raise WeakPassword("a password must not be the name, nor one character repeated")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    return f"{_SCHEME}${_N}${_R}${_P}${_b64(salt)}${_b64(_derive(password, salt, _N, _R, _P))}"


def verify(stored: str, password: str) -> bool:
    """Whether `password` is the one `stored` was made from (False for anything malformed)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != _SCHEME:
            return False
        expected = base64.b64decode(digest + "==")
        given = _derive(password, base64.b64decode(salt + "=="), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(given, expected)


def dummy_verify(password: str) -> None:
    """The cost of a verify, for a name that has no user (its answer takes as long)."""
    _derive(password, b"\0" * 16, _N, _R, _P)


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")
