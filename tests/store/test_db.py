"""Write transactions on the event loop (the webhook's writer) share SQLite's writer lock."""

import asyncio
from pathlib import Path

import pytest
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from bot.store import db


def one(conn: Connection) -> int:
    return int(conn.exec_driver_sql("SELECT 1").scalar_one())


async def test_a_write_on_the_loop_waits_while_another_process_holds_the_writer_lock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'smsbot.db'}"
    engine = db.create_engine(url)
    elsewhere = db.WriterLock(url)  # another open file: to flock, another process
    writes = db.WriteTransactions(engine, url, on_loop=True)
    try:
        elsewhere.acquire()
        write = asyncio.create_task(writes.run(one))
        await asyncio.sleep(0.3)
        assert not write.done()
        elsewhere.release()
        assert await asyncio.wait_for(write, 5) == 1
        assert elsewhere.try_acquire()  # and let go of it afterwards
        elsewhere.release()
    finally:
        writes.close()
        elsewhere.close()
        await engine.dispose()


async def test_a_failed_write_on_the_loop_lets_go_of_the_writer_lock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'smsbot.db'}"
    engine = db.create_engine(url)
    elsewhere = db.WriterLock(url)
    writes = db.WriteTransactions(engine, url, on_loop=True)

    def broken(conn: Connection) -> None:
        conn.exec_driver_sql("SELECT * FROM no_such_table")

    try:
        with pytest.raises(OperationalError, match="no_such_table"):
            await writes.run(broken)
        assert elsewhere.try_acquire()
        elsewhere.release()
    finally:
        writes.close()
        elsewhere.close()
        await engine.dispose()
