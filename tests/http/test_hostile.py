"""Requests an attacker, a broken proxy or an impatient client would send: each gets a 4xx (never a
5xx), nothing is stored for it, and nothing is logged as our error."""

from __future__ import annotations

import asyncio
import gzip
import logging
import socket
import struct
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import ADMIN, PUBLIC_URL, TOKEN, ClientFactory, Phone, sign
from tests.servers import Server


@pytest.fixture
async def app(make_client: ClientFactory) -> Any:
    return await make_client(twilio_auth_token=TOKEN, public_url=PUBLIC_URL, admin_token="admin-secret")


async def nothing_stored(app: Any, number: str = "+14155550123") -> bool:
    response = await app.get(f"/api/subscribers/{number}", headers=ADMIN)
    return bool(response.status == 404)


async def test_a_signature_that_is_not_ascii_is_refused_with_403(app: Any, caplog: Any) -> None:
    phone = Phone(app)
    with caplog.at_level(logging.ERROR):
        response = await app.post(
            "/twilio/sms", data=phone.form("JOIN"), headers={"X-Twilio-Signature": "é\xff\xfe=="}
        )
    assert response.status == 403
    assert await nothing_stored(app)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_an_admin_token_that_is_not_ascii_is_refused_with_401(app: Any) -> None:
    response = await app.get("/api/subscribers/+14155550123", headers={"Authorization": "Bearer é\xff"})
    assert response.status == 401


async def test_a_corrupt_gzip_body_is_a_400(app: Any) -> None:
    phone = Phone(app, token=TOKEN, public_url=PUBLIC_URL)
    form = phone.form("JOIN")
    headers = {
        "X-Twilio-Signature": sign(f"{PUBLIC_URL}/twilio/sms", form),
        "Content-Encoding": "gzip",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    corrupt = gzip.compress(urlencode(form).encode())[:10] + b"this is not deflate data at all"
    response = await app.post("/twilio/sms", data=corrupt, headers=headers)
    assert response.status == 400
    assert await nothing_stored(app)


@pytest.mark.parametrize(
    "sender", ["+1415555ABCD", "++14155550188", "+14155550177\x00", "55555", "ACME", "+0123456789"]
)
async def test_a_from_that_is_not_an_e164_number_is_refused_and_nothing_is_stored(
    app: Any, sender: str
) -> None:
    phone = Phone(app, token=TOKEN, public_url=PUBLIC_URL)
    form = {**phone.form("JOIN"), "From": sender}
    response = await phone.post(form)
    assert response.status == 400, await response.text()
    assert "From" in await response.text()
    assert await nothing_stored(app, "+14155552223") and await nothing_stored(app, "+14155550188")


async def test_a_number_with_spaces_around_it_is_still_the_number(app: Any) -> None:
    phone = Phone(app, token=TOKEN, public_url=PUBLIC_URL)
    assert (await phone.post({**phone.form("JOIN"), "From": " +14155550123 "})).status == 200
    assert not await nothing_stored(app)


async def test_a_huge_one_word_body_is_refused_at_once_and_others_are_answered(app: Any) -> None:
    phone = Phone(app, token=TOKEN, public_url=PUBLIC_URL)
    started = time.monotonic()
    huge, help_ = await asyncio.gather(
        phone.post(phone.form("x" * 1_000_000)),
        Phone(app, "+14155550124", token=TOKEN, public_url=PUBLIC_URL).text("HELP"),
    )
    assert huge.status == 413 and "help" in help_.lower()
    assert time.monotonic() - started < 5


async def test_the_longest_body_a_carrier_sends_is_matched_quickly(app: Any) -> None:
    phone = Phone(app, token=TOKEN, public_url=PUBLIC_URL)
    started = time.monotonic()
    for word in ("y" * 1600, "JOIN" + "n" * 1596):
        assert (await phone.post(phone.form(word))).status == 200
    assert time.monotonic() - started < 2


async def test_a_client_that_hangs_up_mid_request_is_not_an_error_of_ours(app: Any, caplog: Any) -> None:
    server = app.server
    _reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(
        b"POST /twilio/sms HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 1000\r\n\r\nFrom=%2B14155550123&Body=JO"
    )
    with caplog.at_level(logging.ERROR):
        await writer.drain()
        await asyncio.sleep(0.2)
        writer.close()
        await asyncio.sleep(0.5)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_client_that_hangs_up_before_the_answer_is_not_an_error_of_ours(
    app: Any, caplog: Any
) -> None:
    phone = Phone(app, token=TOKEN, public_url=PUBLIC_URL)
    form = phone.form("JOIN")
    body = urlencode(form).encode()
    server = app.server
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            _reader, writer = await asyncio.open_connection(server.host, server.port)
            writer.write(
                b"POST /twilio/sms HTTP/1.1\r\nHost: sms.example.com\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                + f"X-Twilio-Signature: {sign(f'{PUBLIC_URL}/twilio/sms', form)}\r\n".encode()
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
            writer.close()
        await asyncio.sleep(1.0)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [
        r.getMessage() for r in caplog.records
    ]


def test_a_client_that_resets_the_connection_mid_body_is_not_logged_as_our_error(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    server = Server(tmp_path / "var", database_url, redis_url, SMSBOT_WORKERS="1").start()
    try:
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", server.port)) as conn:
                conn.sendall(
                    b"POST /twilio/sms HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\nFrom="
                )
                time.sleep(0.1)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
        time.sleep(0.5)
    finally:
        server.stop()
    assert " ERROR " not in server.log.read_text()


@pytest.mark.parametrize(
    ("form", "query"),
    [
        ({"MessageSid": "SM\x00\x1b", "MessageStatus": "delivered"}, ""),
        ({"MessageSid": "SM1", "MessageStatus": "deli\x00vered"}, ""),
        ({"MessageSid": "SM1", "MessageStatus": "delivered"}, "?ref=SM1.0%00"),
    ],
)
async def test_a_status_callback_with_malformed_ids_is_a_400(
    app: Any, form: dict[str, str], query: str
) -> None:
    signature = sign(f"{PUBLIC_URL}/twilio/status{query}", form)
    response = await app.post(f"/twilio/status{query}", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status == 400, await response.text()
