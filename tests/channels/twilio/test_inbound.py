"""A carrier's forms read into data, or refused with what is wrong (never a database error later)."""

from __future__ import annotations

import pytest

from bot.channels.twilio.inbound import parse_status
from bot.domain.inbound import BadInbound


def test_a_status_with_its_error_code_is_read() -> None:
    report = parse_status(
        {"MessageSid": "SM" + "a" * 32, "MessageStatus": "failed", "ErrorCode": "30003"}, None
    )
    assert (report.status, report.error_code) == ("failed", 30003)


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("²", "not a number"),
        ("thirty", "not a number"),
        ("99999999999", "out of range"),
        ("-1", "out of range"),
    ],
)
def test_an_error_code_no_column_can_hold_is_refused(code: str, problem: str) -> None:
    with pytest.raises(BadInbound, match=problem):
        parse_status({"MessageSid": "SM" + "a" * 32, "MessageStatus": "failed", "ErrorCode": code}, None)
