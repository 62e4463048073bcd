"""Write transactions on the event loop (the webhook's writer) share SQLite's writer lock."""

import asyncio
from pathlib import Path

import pytest
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError

from bot.store import db
from tests.conftest import backend_pid, terminate_backend


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


def big_rows(conn: Connection) -> None:
    conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS filler (body TEXT)")
    conn.exec_driver_sql(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) "
        "INSERT INTO filler SELECT hex(randomblob(512)) FROM n"
    )


def tiny_row(conn: Connection) -> None:
    conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS filler (body TEXT)")


async def main_file_after_writes(tmp_path: Path, every: float) -> int:
    """How big the database file (not its WAL) is shortly after a large write on the loop."""
    path = tmp_path / f"every-{every}.db"
    url = f"sqlite:///{path}"
    engine = db.create_engine(url)
    writes = db.WriteTransactions(engine, url, on_loop=True)
    try:
        await writes.run(tiny_row)  # the first write asks for a checkpoint
        await asyncio.sleep(0.2)
        before = path.stat().st_size
        await writes.run(big_rows)  # about 3 MB, in the WAL (the loop's commits never copy it)
        for _ in range(30):
            await asyncio.sleep(0.1)
            if path.stat().st_size > before + 2_000_000:
                break
        return path.stat().st_size - before
    finally:
        writes.close()
        await engine.dispose()


async def test_the_writer_on_the_loop_leaves_copying_the_wal_to_its_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "CHECKPOINT_EVERY", 0.0)
    assert await main_file_after_writes(tmp_path, 0.0) > 2_000_000
    monkeypatch.setattr(db, "CHECKPOINT_EVERY", 3600.0)  # one checkpoint, for the first write
    assert await main_file_after_writes(tmp_path, 3600.0) < 100_000


def some_rows(conn: Connection) -> None:
    conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS filler (n INTEGER PRIMARY KEY, body TEXT)")
    conn.exec_driver_sql(  # 40 new rows and 40 rewritten: about 100 pages in the WAL a write
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40) "
        "INSERT OR REPLACE INTO filler SELECT abs(random()) % 2000, hex(randomblob(2000)) FROM n"
    )


async def wal_after_steady_writes(tmp_path: Path) -> tuple[int, int]:
    """The WAL's size after writes that never pause for two seconds, and the size it would have
    had without a checkpoint (the first write's share of it, times the writes)."""
    path, wal = tmp_path / "steady.db", tmp_path / "steady.db-wal"
    url = f"sqlite:///{path}"
    engine = db.create_engine(url)
    writes = db.WriteTransactions(engine, url, on_loop=True)
    try:
        await writes.run(some_rows)
        each, count = wal.stat().st_size, 1
        deadline = asyncio.get_running_loop().time() + 2.0
        while asyncio.get_running_loop().time() < deadline:
            await writes.run(some_rows)
            count += 1
            await asyncio.sleep(0)  # the checkpoint's thread runs meanwhile, as beside a busy writer
        return wal.stat().st_size, each * count
    finally:
        writes.close()
        await engine.dispose()


async def test_under_writes_that_never_pause_the_wal_starts_over_instead_of_growing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "CHECKPOINT_EVERY", 0.1)
    wal, unchecked = await wal_after_steady_writes(tmp_path)
    assert wal < unchecked / 4  # started over again and again (a checkpoint alone never catches up)


async def test_a_pooled_connection_the_server_dropped_while_it_idled_is_replaced_before_use(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's pooled connections")
    monkeypatch.setattr(db, "PING_AFTER", 0.0)  # idle long enough: pinged at checkout
    engine = db.create_engine(database_url)
    try:
        gone = await backend_pid(engine)
        await terminate_backend(database_url, gone)
        assert await backend_pid(engine) != gone  # a new connection, and no error
    finally:
        await engine.dispose()


async def test_a_connection_dropped_just_after_use_fails_once_then_the_pool_renews(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's pooled connections")
    monkeypatch.setattr(db, "PING_AFTER", 3600.0)  # used a moment ago: not pinged
    engine = db.create_engine(database_url)
    try:
        gone = await backend_pid(engine)
        await terminate_backend(database_url, gone)
        with pytest.raises(DBAPIError) as failed:
            await backend_pid(engine)
        assert failed.value.connection_invalidated
        assert await backend_pid(engine) != gone
    finally:
        await engine.dispose()
