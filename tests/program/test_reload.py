"""Hot reload under load: requests keep succeeding while files change; new keywords go live."""

import asyncio
import logging
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from bot.program.reload import ProgramWatcher
from tests.conftest import ClientFactory, Phone, services_of

BOOTS = """keywords:
  BOOTS:
    source: boot-wall
    reply: "{{ program }}: Boots first! {{ frequency }}. Msg&data rates may apply. Reply HELP for help, STOP to opt out."
"""


@pytest.fixture
def keywords(keywords_copy: Path) -> Path:
    return keywords_copy


async def wait_for(predicate: Any, seconds: float = 2.0) -> float:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < seconds, "not reloaded in time"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_a_new_keyword_goes_live_while_requests_keep_succeeding(
    make_client: ClientFactory, keywords: Path
) -> None:
    app = await make_client(keywords_dir=keywords)
    services = services_of(app)
    failures: list[str] = []
    sent = 0
    stop = asyncio.Event()

    async def sender(i: int) -> None:
        nonlocal sent
        phone = Phone(app, f"+1415555{i:04d}")
        while not stop.is_set():
            response = await phone.post(phone.form("HELP" if sent % 2 else "JOIN"))
            body = await response.text()
            if response.status != 200 or "<Message" not in body:
                failures.append(f"{response.status}: {body[:80]}")
            sent += 1

    def live(text: str) -> bool:
        boots = services.program.current.keywords.get("BOOTS")
        return boots is not None and boots.reply is not None and text in boots.reply.source

    senders = [asyncio.create_task(sender(i)) for i in range(8)]
    took = []
    try:
        for round_ in range(3):  # rewrite the file several times under load
            (keywords / "boots.yaml").write_text(BOOTS.replace("Boots first!", f"Boots first ({round_})!"))
            took.append(await wait_for(lambda r=round_: live(f"Boots first ({r})!")))
    finally:
        stop.set()
        await asyncio.gather(*senders)
    assert failures == [] and sent > 50
    assert max(took) < 2
    assert "Boots first (2)!" in await Phone(app, "+14155559999").text("boots")


async def test_a_broken_edit_is_refused_with_file_and_line_and_the_old_program_keeps_serving(
    make_client: ClientFactory, keywords: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = await make_client(keywords_dir=keywords)
    services = services_of(app)
    before = services.program.current
    with caplog.at_level(logging.ERROR, logger="bot.program.reload"):
        (keywords / "boots.yaml").write_text("keywords:\n  BOOTS:\n    reply: Boots: now\n")
        await wait_for(lambda: services.watcher.refusals == 1)
    assert services.program.current is before
    assert f"{keywords}/boots.yaml:3: YAML syntax: mapping values are not allowed" in caplog.text
    assert "Thanks for joining" in await Phone(app).text("JOIN")
    (keywords / "boots.yaml").write_text(BOOTS)  # fixed: now it loads
    await wait_for(lambda: "BOOTS" in services.program.current.keywords)


async def test_a_new_program_failing_a_check_is_refused_too(
    make_client: ClientFactory, keywords: Path
) -> None:
    app = await make_client(keywords_dir=keywords)
    services = services_of(app)
    (keywords / "boots.yaml").write_text("keywords:\n  STOP: {}\n")
    await wait_for(lambda: services.watcher.refusals == 1)
    assert "STOP" not in services.program.current.keywords


async def test_sighup_reloads_at_once(make_client: ClientFactory, keywords: Path) -> None:
    app = await make_client(keywords_dir=keywords)
    services = services_of(app)
    watcher: ProgramWatcher = services.watcher
    watcher.poll = 3600  # no polling: only the signal can do it
    await asyncio.sleep(0.6)  # let the watcher's current wait (at the old interval) end
    (keywords / "boots.yaml").write_text(BOOTS)
    os.kill(os.getpid(), signal.SIGHUP)
    await wait_for(lambda: "BOOTS" in services.program.current.keywords, seconds=1)
