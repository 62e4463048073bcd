"""Engines: URL translation, SQLite pragmas, and migrations applied on start."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

T = TypeVar("T")
log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
CHECKPOINT_EVERY = 1.0  # seconds between two WAL checkpoints asked by a writer on the loop
PING_AFTER = 2.0  # seconds a pooled PostgreSQL connection may idle before it is pinged at checkout
_LAST_USED = "smsbot_last_used"  # a pooled connection's info: when it was last checked in
WAL_START_OVER = 1_000  # frames (pages, 4 KiB): past this, a checkpoint is finished under the writer lock
SQLITE_BUSY = 5  # sqlite3_errcode: another connection holds the lock
WRITE = "smsbot_write"  # execution option: this transaction writes (SQLite: BEGIN IMMEDIATE)


def async_url(raw: str) -> URL:
    """Accept ordinary sqlite:/// and postgresql:// URLs and choose the async driver ourselves."""
    url = make_url(raw)
    backend = url.get_backend_name()
    if backend == "sqlite":
        url = url.set(drivername="sqlite+aiosqlite")
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    elif backend in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+asyncpg")
    else:
        raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")
    return url


# asyncpg prepares every statement and keeps it for the connection's life, and after five runs
# PostgreSQL may keep one plan for it, made for the tables as they were then. smsbot's tables start
# empty, where reading a few rows by a sequential scan is cheapest: a pooled connection then kept
# scanning every message for each batch's MessageSids, the table growing, until an ANALYZE (a minute
# or more away) let the plan be made again. A plan for each run sees the table as it is; making it
# costs less than one such scan (PostgreSQL's CPU a message fell by a quarter to a third under the
# webhook bench, docs/figures.md).
CUSTOM_PLANS = {"plan_cache_mode": "force_custom_plan"}


def create_engine(raw_url: str, **kwargs: Any) -> AsyncEngine:
    url = async_url(raw_url)
    if url.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 10)
        connect_args = kwargs.pop("connect_args", {})
        settings = {**CUSTOM_PLANS, **connect_args.get("server_settings", {})}
        engine = create_async_engine(
            url, connect_args={**connect_args, "server_settings": settings}, **kwargs
        )
        if not kwargs.get("pool_pre_ping"):
            _ping_when_idle(engine.sync_engine)
        return engine

    engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
    _sqlite_setup(engine.sync_engine)
    return engine


def create_sqlite_writer(raw_url: str, busy_timeout: int = 30) -> Engine:
    """A synchronous engine for a thread of SQLite's own (writer or reader): one hop per batch.
    `busy_timeout`: seconds a statement waits for a lock held by someone else before it fails."""
    url = async_url(raw_url).set(drivername="sqlite+pysqlite")
    connect_args = {"timeout": busy_timeout, "check_same_thread": False}
    engine = sa_create_engine(url, connect_args=connect_args, pool_size=1)
    _sqlite_setup(engine, busy_timeout)
    return engine


class WriterLock:
    """One writer at a time across the processes sharing a SQLite file, handed over at once.

    SQLite's own busy handler sleeps in growing steps (up to 100 ms) while another process holds
    the write lock; a blocking flock() is woken by the kernel the moment the holder lets go.
    """

    def __init__(self, raw_url: str) -> None:
        self._path = f"{async_url(raw_url).database}.writer-lock"
        self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)

    def acquire(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def try_acquire(self) -> bool:
        """Take the lock if no one holds it; never wait."""
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def wait_free(self) -> None:
        """Return once no one holds the lock (it may be taken again by then)."""
        self.acquire()
        self.release()

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(self, *_: object) -> None:
        self.release()

    def close(self) -> None:
        os.close(self._fd)


class Reads:
    """Run a synchronous function on one connection, the same way on both databases.

    SQLite: a plain engine on a thread of its own, so the whole function costs one thread hop
    (aiosqlite hops for every statement, checkout and rollback, and its threads take the GIL from
    the event loop each time). PostgreSQL: run_sync.
    """

    def __init__(self, engine: AsyncEngine, raw_url: str, name: str = "sqlite-reader") -> None:
        self._engine = engine
        self._sync: Engine | None = None
        self._thread: ThreadPoolExecutor | None = None
        if is_sqlite(raw_url):
            self._sync = create_sqlite_writer(raw_url)
            self._thread = ThreadPoolExecutor(1, thread_name_prefix=name)

    def _sqlite(self, sync: Engine) -> AbstractContextManager[Connection]:
        return sync.connect()

    def _async(self) -> AbstractAsyncContextManager[AsyncConnection]:
        return self._engine.connect()

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        if self._sync is not None:
            sync = self._sync

            def run() -> T:
                with self._sqlite(sync) as conn:
                    return work(conn, *args)

            return await asyncio.get_running_loop().run_in_executor(self._thread, run)
        async with self._async() as conn:
            return await conn.run_sync(work, *args)

    def close(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)
        if self._sync is not None:
            self._sync.dispose()


class WriteTransactions(Reads):
    """Run a synchronous function inside one write transaction, the same way on both databases:
    on SQLite, behind the cross-process writer lock (BEGIN IMMEDIATE), on its own thread, or with
    `on_loop` on the event loop's own thread once the lock is had.

    `on_loop` is for short, frequent transactions (the webhook's batches). On a thread of its own,
    each SQLite call hands the interpreter back and forth with the event loop while every process
    waits on the write lock; under load that stretched the lock's hold by half. On the loop, the
    lock is held for the work alone; the thread only waits for it. The loop serves nothing while
    the transaction runs (a few milliseconds), so long transactions stay on the thread, and so does
    a transaction that finds the database locked by a writer outside smsbot (a backup, a shell):
    on the loop, BEGIN fails at once rather than freezing every request behind it."""

    def __init__(
        self, engine: AsyncEngine, raw_url: str, name: str = "sqlite-writer", on_loop: bool = False
    ) -> None:
        super().__init__(engine.execution_options(**{WRITE: True}), raw_url, name)
        self._file_lock: WriterLock | None = None
        self._on_loop: Engine | None = None
        if self._sync is not None:
            self._sync = self._sync.execution_options(**{WRITE: True})
            self._file_lock = WriterLock(raw_url)
            if on_loop:
                self._on_loop = create_sqlite_writer(raw_url, busy_timeout=0).execution_options(
                    **{WRITE: True}
                )
                event.listen(self._on_loop.engine, "connect", _no_checkpoints)
        self._checkpointed = 0.0  # loop time of the last checkpoint asked of the thread
        # Held by the thread to finish a checkpoint: a lock of its own (flock excludes another
        # open file, not the same one), so the loop's writer waits for it as for another process.
        self._checkpoint_lock = WriterLock(raw_url) if on_loop and self._sync is not None else None

    async def lock_free(self) -> None:
        """Return once no other process holds SQLite's writer lock (at once elsewhere): a caller
        that gathers work into one transaction gathers while it waits."""
        lock = self._file_lock
        if self._on_loop is None or lock is None:
            return
        if lock.try_acquire():
            lock.release()
            return
        await asyncio.get_running_loop().run_in_executor(self._thread, lock.wait_free)

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        if self._on_loop is None or self._file_lock is None:
            return await super().run(work, *args)
        lock = self._file_lock
        # Wait on the thread until the lock is free, but take it here: had on the thread, it would
        # be held, unused, until the loop came round to the news.
        while not lock.try_acquire():
            await asyncio.get_running_loop().run_in_executor(self._thread, lock.wait_free)
        try:
            with self._on_loop.connect() as conn:
                try:
                    transaction = conn.begin()
                except OperationalError as exc:
                    if getattr(exc.orig, "sqlite_errorcode", None) != SQLITE_BUSY:
                        raise
                    transaction = None  # locked outside smsbot: wait for it on the thread
                if transaction is not None:
                    with transaction:
                        done = work(conn, *args)
                    self._checkpoint_soon()
                    return done
        finally:
            lock.release()
        return await super().run(work, *args)

    def _checkpoint_soon(self) -> None:
        """Copy the WAL into the database on the thread, at most once a CHECKPOINT_EVERY: done in
        a commit on the loop (SQLite's default, every 1,000 pages), it stopped the loop and held
        the writer lock for several milliseconds each time. A passive checkpoint waits for no one
        and no writer waits for it."""
        loop = asyncio.get_running_loop()
        if loop.time() - self._checkpointed < CHECKPOINT_EVERY or self._sync is None:
            return
        self._checkpointed = loop.time()
        sync, lock = self._sync, self._checkpoint_lock
        loop.run_in_executor(self._thread, _checkpoint, sync, lock).add_done_callback(_checkpoint_done)

    @contextmanager
    def _sqlite(self, sync: Engine) -> Iterator[Connection]:
        assert self._file_lock is not None
        with self._file_lock, sync.begin() as conn:
            yield conn

    def _async(self) -> AbstractAsyncContextManager[AsyncConnection]:
        return self._engine.begin()

    def close(self) -> None:
        super().close()
        if self._on_loop is not None:
            self._on_loop.dispose()
        if self._file_lock is not None:
            self._file_lock.close()
        if self._checkpoint_lock is not None:
            self._checkpoint_lock.close()


def take_write_lock(conn: Connection) -> None:
    """What every write needs, without writing: SQLite's write lock is taken by BEGIN IMMEDIATE
    already; on PostgreSQL, the lock an INSERT takes, failing at once if the table is locked."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE messages, subscribers IN ROW EXCLUSIVE MODE NOWAIT"))


def is_sqlite(raw_url: str) -> bool:
    return make_url(raw_url).get_backend_name() == "sqlite"


def _no_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


def _checkpoint(sync: Engine, lock: WriterLock | None) -> None:
    """Copy the WAL into the database while writers go on; then, once the WAL is past
    WAL_START_OVER frames, copy what they wrote meanwhile with the writer lock held (the pages
    changed since: a few milliseconds), so that the whole WAL is in the database and the next write
    starts it over. Under a steady stream of writes a checkpoint that never stops them never
    catches up: the WAL grew as long as the stream lasted (half a gigabyte after twelve seconds of
    the webhook bench; some 50 MB with this), each commit growing the file."""
    raw = sync.raw_connection()
    try:
        frames, _ = _passive(raw)
        if lock is not None and frames > WAL_START_OVER:  # what came meanwhile, if anything
            with lock:
                _passive(raw)
    finally:
        raw.close()


def _passive(raw: Any) -> tuple[int, int]:
    """A passive checkpoint: (frames in the WAL, frames now in the database)."""
    cursor = raw.cursor()
    try:
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        _busy, frames, copied = cursor.fetchone()
        return int(frames), int(copied)
    finally:
        cursor.close()


def _checkpoint_done(future: asyncio.Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("WAL checkpoint failed (the next one will try again): %s", future.exception())


def _ping_when_idle(engine: Engine) -> None:
    """Ask the server whether a pooled connection is still alive before using it, when it has been
    idle for PING_AFTER seconds: a restart or an idle timeout on the way drops connections nobody
    uses. Pinging at every checkout (SQLAlchemy's pre-ping) cost the webhook's writer three round
    trips a batch (BEGIN, an empty query, ROLLBACK) for connections used a few milliseconds before;
    one that dies in use fails its transaction, is replaced with every connection older than it,
    and the writer tries that batch's writes again."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_LAST_USED, 0.0) < PING_AFTER:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the pool replaces it and checks out another
            raise DisconnectionError(f"a pooled connection is gone: {exc}") from exc


def _sqlite_setup(engine: Engine, busy_timeout: int = 30) -> None:
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Take over BEGIN from the driver so writers can ask for BEGIN IMMEDIATE: a deferred
        # transaction that reads and then writes can fail to upgrade its lock under concurrency.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged message survives power loss
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection, revision: str = "head") -> None:
    if connection.dialect.name == "postgresql":
        # Several processes starting at once must not race to create the same tables.
        connection.execute(text("SELECT pg_advisory_xact_lock(7243001)"))
    command.upgrade(_alembic_config(connection), revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply migrations up to `revision` (the schema is always created by Alembic)."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)
