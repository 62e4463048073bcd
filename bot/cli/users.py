"""smsbot users add|list|role|password|remove: the dashboard's team, from the command line."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy.engine import Connection

from bot.cli.options import _settings, config_option, json_option, read_database, write_database
from bot.coord.client import redis_client
from bot.dashboard.session_store import close_user
from bot.domain.roles import ROLES, role_named, user_name
from bot.pipeline import team
from bot.settings import Settings
from bot.store import users
from bot.store.audit import record


@click.group(name="users")
def users_group() -> None:
    """The dashboard's users: viewer, agent, marketer or admin (SMSBOT_DASHBOARD_PASSWORD stays
    an admin's way in)."""


_ROLE = click.option("--role", type=click.Choice(ROLES), required=True, help="what the user may do")
_STDIN = click.option(
    "--password-stdin", is_flag=True, help="read the password from standard input (for scripts)"
)


@users_group.command()
@config_option
@click.argument("name")
@_ROLE
@_STDIN
def add(config: Path | None, name: str, role: str, password_stdin: bool) -> None:
    """Add NAME with a role; the password is asked twice (never an argument: it would stay in the
    shell's history)."""
    try:
        made = team.new_user(name, role, _password(password_stdin))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    settings = _settings(config)
    try:
        write_database(settings, _add, made, _who())
    except users.UserExists as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"added {made.name} ({made.role})")


@users_group.command(name="list")
@config_option
@json_option
def listing(config: Path | None, as_json: bool) -> None:
    """The users, their roles, and when each password was last set."""
    found = read_database(_settings(config), users.listing)
    if as_json:
        rows = [
            {"name": u.name, "role": str(u.role), "password_changed_at": u.password_changed_at.isoformat()}
            for u in found
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    for user in found:
        click.echo(f"{user.name:<30} {user.role:<9} password set {user.password_changed_at:%Y-%m-%d}")
    if not found:
        click.echo("no users yet: the shared SMSBOT_DASHBOARD_PASSWORD logs in as an admin")


@users_group.command()
@config_option
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
def role(config: Path | None, name: str, role: str) -> None:
    """Give NAME another role (their sessions end: they log in again)."""
    kept, given = _name(name), role_named(role)
    settings = _settings(config)
    _changed(write_database(settings, _set_role, kept, given, _who()), kept)
    click.echo(f"{kept} is now {given}; sessions ended: {_end_sessions(settings, kept)}")


@users_group.command()
@config_option
@click.argument("name")
@_STDIN
def password(config: Path | None, name: str, password_stdin: bool) -> None:
    """Set NAME's password (their sessions end)."""
    kept = _name(name)
    try:
        hashed = team.new_password(kept, _password(password_stdin))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    settings = _settings(config)
    _changed(write_database(settings, _set_password, kept, hashed, _who()), kept)
    click.echo(f"password of {kept} set; sessions ended: {_end_sessions(settings, kept)}")


@users_group.command()
@config_option
@click.argument("name")
@click.option("--yes", is_flag=True, help="do not ask to confirm")
def remove(config: Path | None, name: str, yes: bool) -> None:
    """Remove NAME (their sessions end; the audit log keeps their name on what they did)."""
    kept = _name(name)
    if not yes:
        click.confirm(f"Remove {kept}?", abort=True)
    settings = _settings(config)
    _changed(write_database(settings, _remove, kept, _who()), kept)
    click.echo(f"removed {kept}; sessions ended: {_end_sessions(settings, kept)}")


@users_group.command(name="second-factor-off")
@config_option
@click.argument("name")
def second_factor_off(config: Path | None, name: str) -> None:
    """Turn off NAME's second factor (a lost phone): they log in with their password alone, and may
    set it up again on their account page."""
    kept = _name(name)
    settings = _settings(config)
    _changed(write_database(settings, _second_factor_off, kept, _who()), kept)
    click.echo(f"second factor of {kept} off; sessions ended: {_end_sessions(settings, kept)}")


def _second_factor_off(conn: Connection, name: str, who: str) -> bool:
    done = users.set_second_factor(conn, name, None, [])
    if done:
        record(conn, datetime.now(UTC), "cli", "user_second_factor_off", f"{name} by {who}")
    return done


def _add(conn: Connection, made: team.NewUser, who: str) -> None:
    now = datetime.now(UTC)
    team.add(conn, made, now)
    record(conn, now, "cli", "user_add", f"{made.name} as {made.role} by {who}")


def _set_role(conn: Connection, name: str, given: str, who: str) -> bool:
    done = users.set_role(conn, name, role_named(given))
    if done:
        record(conn, datetime.now(UTC), "cli", "user_role", f"{name} as {given} by {who}")
    return done


def _set_password(conn: Connection, name: str, hashed: str, who: str) -> bool:
    now = datetime.now(UTC)
    done = users.set_password(conn, name, hashed, now)
    if done:
        record(conn, now, "cli", "user_password", f"{name} by {who}")
    return done


def _remove(conn: Connection, name: str, who: str) -> bool:
    done = users.remove(conn, name)
    if done:
        record(conn, datetime.now(UTC), "cli", "user_remove", f"{name} by {who}")
    return done


def _end_sessions(settings: Settings, name: str) -> int | str:
    async def end() -> int:
        async with redis_client(settings.redis_url, settings.data_dir) as redis:
            return await close_user(redis, settings.redis_prefix, name)

    import asyncio

    try:
        return asyncio.run(end())
    except (OSError, RuntimeError):
        return "Redis not reachable (they end within 30 idle minutes)"


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


def _name(name: str) -> str:
    try:
        return user_name(name)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _changed(done: bool, name: str) -> None:
    if not done:
        raise click.ClickException(f"no user named {name!r}")


def _who() -> str:
    return f"cli:{getpass.getuser()}"
