"""`smsbot chat`: the webhook's path from a terminal, interactive or from a pipe."""

import asyncio
import os
import select
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text

from bot.store import db
from tests.conftest import ROOT


def chat_env(tmp_path: Path, database_url: str, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "SMSBOT_DATA_DIR": str(tmp_path / "var"),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SMSBOT_REDIS_PREFIX": f"chat-{tmp_path.name}:",
    }


def stored(database_url: str, sql: str) -> list[tuple[object, ...]]:
    async def run() -> list[tuple[object, ...]]:
        engine = db.create_engine(database_url)
        try:
            async with engine.connect() as conn:
                return [tuple(row) for row in await conn.execute(text(sql))]
        finally:
            await engine.dispose()

    return asyncio.run(run())


def chat_from_a_pipe(
    script: str, tmp_path: Path, database_url: str, redis_url: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "chat", "+14155550123"],
        input=script,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=chat_env(tmp_path, database_url, redis_url),
    )


def test_a_scripted_conversation_from_a_pipe(tmp_path: Path, database_url: str, redis_url: str) -> None:
    script = "I need to cancel my order\nJOIN\nEVENTS\ntoo many texts\nSTOP\nhello\n"
    result = chat_from_a_pipe(script, tmp_path, database_url, redis_url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "you> JOIN" in lines and "you> EVENTS" in lines
    assert any(line.startswith("bot> Acme Outfitters: Thanks for joining") for line in lines)
    assert (
        "     [keyword JOIN · new -> subscribed (opt_in) · opt in source JOIN · "
        "flow welcome started, waiting for an answer at step 3]"
    ) in lines
    assert "     [keyword EVENTS · properties {'interests': ['events']}]" in lines
    # Which opt-out rule read a sentence with a trigger word, for the marketer to see.
    # Not a request to stop, nor anything the program knows: a person reads it in the Inbox.
    assert (
        "     [other · read as none: 'cancel' about something else: order · "
        "inbox: a conversation opens (a person reads it)]"
    ) in lines
    assert (
        "     [unclear_opt_out · read as unclear: 'too many' of what we send: asked · "
        "subscribed -> subscribed (opt_out_asked)]"
    ) in lines
    assert "bot> What's your first name?" in lines  # the welcome flow starts right after JOIN
    assert (
        "     [opt_out STOP · subscribed -> unsubscribed (opt_out) · inbox: the conversation closes · "
        "flows cancelled]"
    ) in lines
    # "hello" after STOP: silence, though a person may read it
    assert "     [other · inbox: a conversation opens (a person reads it) · no reply]" in lines
    # The same database the server uses, with replies recorded and never sent.
    assert stored(database_url, "select status from subscribers") == [("unsubscribed",)]
    statuses = stored(database_url, "select status from messages where direction = 'outbound'")
    # The order (text JOIN); JOIN: confirmation, greeting, card link, question; EVENTS (a keyword
    # interrupts the question); the question "reply STOP?"; STOP
    assert statuses == [("simulated",)] * 8


def test_an_interactive_conversation_in_a_terminal(tmp_path: Path, database_url: str, redis_url: str) -> None:
    leader, follower = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat", "14155550199"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=ROOT,
        env=chat_env(tmp_path, database_url, redis_url),
        close_fds=True,
    )
    os.close(follower)
    seen = b""

    def read_until(marker: bytes, timeout: float = 30) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while marker not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                seen += os.read(leader, 4096)
        assert marker in seen, seen.decode(errors="replace")

    try:
        read_until(b"you>")
        os.write(leader, b"shoes\n")
        read_until(b"in-store-shoe-display")
        os.write(leader, b"/quit\n")
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)
    assert b"+14155550199" in seen  # the number was normalised to E.164


def test_skip_runs_the_waiting_steps_now_and_records_them_as_simulated(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    # The first-name question is skipped (its timeout), the birthday answered, the day's wait skipped
    # (and the birthday's own flow brought forward to it).
    result = chat_from_a_pipe("JOIN\n/skip\n04/23\nSHOES\n/skip\n/skip\n", tmp_path, database_url, redis_url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    first_skip = lines.index("you> /skip")
    assert lines[first_skip + 1] == "bot> When's your birthday? (MM/DD) We'll send a treat."
    # (preceded by a quiet-hours note when it is night in California)
    assert lines[first_skip + 2].endswith("flow welcome skipped ahead, waiting for an answer at step 4]")
    second_skip = lines.index("you> /skip", first_skip + 1)
    assert (
        lines[second_skip + 1]
        == "bot> Acme Outfitters: Hi, new running shoes just landed. Reply STOP to opt out."
    )
    birthday = "Acme Outfitters: Happy birthday! Take 20% off anything this week with code BDAY20. Reply STOP to opt out"
    assert lines[second_skip + 2] == f"bot> {birthday}"  # a date-triggered flow: brought to its day
    notes = lines[second_skip + 3]
    assert "flow birthday_treat brought forward from " in notes and "-04-23 (birthday)" in notes
    assert "flow welcome skipped ahead, and ended" in notes
    # once a year: the third /skip has nothing left to bring forward
    assert lines[second_skip + 4 :] == ["you> /skip", "     [no flow is running for you]"]
    rows = stored(
        database_url,
        "select body, status from messages where run_id is not null order by id",
    )
    assert rows == [
        ("When's your birthday? (MM/DD) We'll send a treat.", "simulated"),
        ("Acme Outfitters: Hi, new running shoes just landed. Reply STOP to opt out.", "simulated"),
        (birthday, "simulated"),
    ]
    assert stored(database_url, "select status from flow_runs") == [("ended",), ("ended",)]
