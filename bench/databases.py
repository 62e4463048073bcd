"""PostgreSQL databases of the benches' own, beside the one a URL names."""

from __future__ import annotations


async def fresh_postgresql(url: str, name: str) -> str:
    """The database `name` on the server `url` names, dropped first if a run left one (its
    connections closed with it), made empty; its URL."""
    import asyncpg
    from sqlalchemy import make_url

    base = make_url(url).set(drivername="postgresql")
    admin = await asyncpg.connect(base.render_as_string(hide_password=False))
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    return base.set(database=name).render_as_string(hide_password=False)
