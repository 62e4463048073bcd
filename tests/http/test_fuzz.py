"""Arbitrary requests at every route a carrier, a store or an attacker can reach: never a 5xx,
never a TwiML answer that is not well-formed XML, and nothing stored for a request that was refused.

Hypothesis draws the requests (a fixed seed, so a failure repeats); they are then sent to one real
app (real database, real Redis), signed over the public URL or not, in several encodings.
"""

from __future__ import annotations

import gzip
import logging
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.store.schema import messages
from tests.conftest import ADMIN, PUBLIC_URL, TOKEN, ClientFactory, services_of, sign

EXAMPLES = 250
FIELDS = ["MessageSid", "From", "To", "Body", "NumMedia", "MediaUrl0", "OptOutType", "AccountSid"]
STATUS_FIELDS = ["MessageSid", "MessageStatus", "ErrorCode", "SmsSid", "SmsStatus"]
text = st.text(alphabet=st.characters(codec="utf-8"), max_size=60)
header_text = st.text(alphabet=st.characters(codec="latin-1", exclude_categories=["Cc"]), max_size=60)
awkward = st.one_of(
    text,
    st.sampled_from(["JOIN", "STOP", "HELP", "Y", "stop please", "+14155550123", "+1415555ABCD", "", " "]),
    st.text(alphabet="\x00\x01\x1b\ufffe\uffff\u202e\n\t é", max_size=20),
    st.builds(lambda n: "x" * n, st.integers(1600, 5000)),
)


@dataclass
class Drawn:
    path: str
    form: dict[str, str]
    signed: bool
    encoding: str  # "form", "gzip", "deflate-broken", "raw-bytes"
    raw: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@st.composite
def webhook_requests(draw: st.DrawFn) -> Drawn:
    path = draw(
        st.sampled_from(["/twilio/sms", "/twilio/status", "/twilio/status?ref=x.0", "/twilio/sms?a=%ff"])
    )
    names = STATUS_FIELDS if path.startswith("/twilio/status") else FIELDS
    form = draw(st.dictionaries(st.one_of(st.sampled_from(names), text), awkward, max_size=8))
    if draw(st.booleans()):
        form.setdefault(
            "MessageSid", "SM" + draw(st.text(alphabet="0123456789abcdef", min_size=32, max_size=32))
        )
        form.setdefault("From", draw(st.sampled_from(["+14155550123", "+447700900123", "+33612345678"])))
    headers = {}
    if draw(st.booleans()):
        headers["X-Twilio-Signature"] = draw(st.one_of(header_text, st.just("é\xff\xfe==")))
    return Drawn(
        path=path,
        form=form,
        signed=draw(st.booleans()),
        encoding=draw(st.sampled_from(["form", "form", "gzip", "deflate-broken", "raw-bytes"])),
        raw=draw(st.binary(max_size=200)),
        headers=headers,
    )


@st.composite
def admin_requests(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    phone = draw(st.one_of(text, st.sampled_from(["+14155550123", "14155550123", "%2B1", "..", "%00"])))
    path = f"/api/subscribers/{quote(phone, safe='')}" + draw(st.sampled_from(["", "/messages"]))
    token = draw(st.one_of(st.just(ADMIN["Authorization"]), st.builds(lambda t: f"Bearer {t}", text), text))
    return path, ({"Authorization": token} if token.isprintable() and "\n" not in token else {})


def collect(strategy: st.SearchStrategy[Any]) -> list[Any]:
    """Examples Hypothesis draws from `strategy`, to send from an async test."""
    found: list[Any] = []

    @seed(20261126)
    @settings(max_examples=EXAMPLES, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def draw(example: Any) -> None:
        found.append(example)

    draw()
    return found


def body_of(drawn: Drawn) -> tuple[bytes, dict[str, str]]:
    headers = {"Content-Type": "application/x-www-form-urlencoded", **drawn.headers}
    encoded = urlencode(drawn.form).encode()
    if drawn.signed:
        headers["X-Twilio-Signature"] = sign(f"{PUBLIC_URL}{drawn.path}", drawn.form)
    if drawn.encoding == "gzip":
        return gzip.compress(encoded), {**headers, "Content-Encoding": "gzip"}
    if drawn.encoding == "deflate-broken":
        return zlib.compress(encoded)[:-3] + drawn.raw, {**headers, "Content-Encoding": "deflate"}
    if drawn.encoding == "raw-bytes":
        return drawn.raw, headers
    return encoded, headers


@pytest.fixture
async def app(make_client: ClientFactory) -> Any:
    return await make_client(twilio_auth_token=TOKEN, public_url=PUBLIC_URL, admin_token="admin-secret")


async def stored_sids(app: Any) -> set[str]:
    async with services_of(app).engine.connect() as conn:
        return {
            sid for (sid,) in await conn.execute(select(messages.c.sid).where(messages.c.sid.is_not(None)))
        }


async def test_no_webhook_request_of_any_shape_gets_a_5xx_or_bad_twiml(app: Any, caplog: Any) -> None:
    caplog.set_level(logging.ERROR)
    refused: set[str] = set()
    taken: set[str] = set()  # the same MessageSid may be drawn twice, once refused and once taken
    for drawn in collect(webhook_requests()):
        body, headers = body_of(drawn)
        response = await app.post(drawn.path, data=body, headers=headers)
        answer = await response.text()
        assert response.status < 500, (drawn, response.status, answer)
        if response.status == 200:
            ET.fromstring(answer)  # well-formed TwiML, or this raises
            taken.add(drawn.form.get("MessageSid", ""))
        elif drawn.path.startswith("/twilio/sms") and drawn.form.get("MessageSid"):
            refused.add(drawn.form["MessageSid"])
    accepted_later = (refused - taken) & await stored_sids(app)
    assert not accepted_later, accepted_later
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_no_admin_request_of_any_shape_gets_a_5xx(app: Any) -> None:
    for path, headers in collect(admin_requests()):
        response = await app.get(path, headers=headers)
        assert response.status < 500, (path, headers, response.status)
