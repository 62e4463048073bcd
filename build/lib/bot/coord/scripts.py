"""The Lua scripts under lua/, registered with a client (EVALSHA, loaded again after a flush)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript


@cache
def source(name: str) -> str:
    return files("bot.coord").joinpath("lua", f"{name}.lua").read_text(encoding="utf-8")


def register(client: aioredis.Redis, name: str) -> AsyncScript:
    return client.register_script(source(name))
