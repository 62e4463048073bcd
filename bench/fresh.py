"""A fresh database for a bench: migrated as smsbot migrates it, and a synchronous engine on it
that writes as smsbot's writer does (SQLite's settings), or plainly (PostgreSQL)."""

from __future__ import annotations

import asyncio

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from bot.store import db


def migrated(url: str) -> Engine:
    asyncio.run(_upgrade(url))
    return db.create_sqlite_writer(url) if db.is_sqlite(url) else create_engine(url)


async def _upgrade(url: str) -> None:
    engine = db.create_engine(url)
    try:
        await db.upgrade(engine)
    finally:
        await engine.dispose()
