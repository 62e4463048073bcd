"""Content-Disposition as RFC 6266 asks: a plain ASCII `filename=` any client reads, and the real
name, percent-encoded, in `filename*=UTF-8''...` for those that read it. A name with quotes,
semicolons or accents cannot break the header or add a parameter of its own."""

from __future__ import annotations

import re
from urllib.parse import quote

_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def content_disposition(kind: str, filename: str) -> str:
    """`kind`: attachment or inline."""
    plain = _UNSAFE.sub("_", filename).strip(" .") or "download"
    return f"{kind}; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"
