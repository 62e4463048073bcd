"""Many rows through one prebuilt statement, handed to the driver's own executemany.

SQLAlchemy's Core spends more per row on a small INSERT than the database does (building each
row's parameters, then converting each value): on the webhook's writer that was a fifth of the
time a SQLite batch holds the write lock. Here a statement is compiled once per dialect and set
of keys, and each value is converted by the same processor SQLAlchemy would use (its column's
type), so what is stored is the same to the byte.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from itertools import groupby
from typing import Any

from sqlalchemy import String
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import UpdateBase

from bot.store.schema import UTCDateTime

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Prepared:
    sql: str
    keys: tuple[str | None, ...]  # each parameter's key in a row; None: a constant of the statement
    processors: tuple[Processor | None, ...]
    constants: tuple[Any, ...]  # each constant parameter's value, converted (None for a row's)
    repeatable: tuple[bool, ...]  # whether equal values convert alike (text, UTC times)
    arrays: str | None = None  # PostgreSQL: the statement taking each column as one array (unnest)
    key: int | None = None  # the position of an UPDATE's key: arrays only when each row has its own

    def values(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        """Each row's parameters, converted a column at a time: a value repeated down a column
        (the batch's time, a status) is converted once."""
        return list(zip(*self.columns(rows), strict=True))

    def columns(self, rows: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
        """The rows' parameters a column at a time, converted (`arrays` takes them so)."""
        return self.converted(
            {key: [row[key] for row in rows] for key in self.keys if key is not None}, len(rows)
        )

    def of_columns(self, given: Mapping[str, list[Any]], n: int) -> list[tuple[Any, ...]]:
        """`values` of rows given a column at a time (each of the `n` rows' values by key)."""
        return list(zip(*self.converted(given, n), strict=True))

    def converted(self, given: Mapping[str, list[Any]], n: int) -> list[list[Any]]:
        columns = [
            [fixed] * n if key is None else given[key]
            for key, fixed in zip(self.keys, self.constants, strict=True)
        ]
        for i, convert in enumerate(self.processors):
            if convert is not None:
                columns[i] = _converted(columns[i], convert, self.repeatable[i])
        return columns


_HASHABLE = {str, datetime, type(None)}


def _converted(column: list[Any], convert: Processor, repeatable: bool) -> list[Any]:
    if repeatable and set(map(type, column)) <= _HASHABLE:
        once = dict.fromkeys(column)
        for value in once:
            once[value] = convert(value)
        return [once[value] for value in column]
    return [convert(value) for value in column]


_CAST = re.compile(r"\$\d+::[A-Z][A-Z0-9 ()]*")  # "$3::TIMESTAMP WITH TIME ZONE": a value and its type


def _arrays(sql: str) -> tuple[str, int | None] | None:
    """A PostgreSQL statement taking each column as one array, for all the rows at once; with the
    position of the key each row must have its own (an UPDATE's), or None for any other shape."""
    if sql.startswith("INSERT INTO "):
        found = _insert_arrays(sql)
        return None if found is None else (found, None)
    if sql.startswith("UPDATE "):
        return _update_arrays(sql)
    return None


def _insert_arrays(sql: str) -> str | None:
    """INSERT ... VALUES ($1::T1, $2::T2) [ON CONFLICT ... DO NOTHING] as INSERT ... SELECT FROM
    unnest($1::T1[], $2::T2[]) in the arrays' order, so that ids follow the rows' order (an
    expression among the values, RETURNING or DO UPDATE: None)."""
    head, found, values = sql.partition(" VALUES (")
    values, _, conflict = values.partition(") ON CONFLICT ")
    if not found or " RETURNING " in sql or (conflict and not conflict.endswith("DO NOTHING")):
        return None
    casts = values.removesuffix(")").split(", ") if not conflict else values.split(", ")
    if not all(_CAST.fullmatch(cast) for cast in casts):
        return None
    names = ", ".join(f"a{i}" for i in range(len(casts)))
    arrays = ", ".join(f"{cast}[]" for cast in casts)
    tail = f" ON CONFLICT {conflict}" if conflict else ""
    return f"{head} SELECT {names} FROM unnest({arrays}) WITH ORDINALITY AS u({names}, n) ORDER BY n{tail}"


_ASSIGNED = re.compile(r"(\w+)=(\$\d+::[A-Z][A-Z0-9 ()]*)")
_BY_KEY = re.compile(r"(\w+\.\w+) = (\$(\d+)::[A-Z][A-Z0-9 ()]*)")


def _update_arrays(sql: str) -> tuple[str, int] | None:
    """UPDATE t SET a=$1::T1, b=$2::T2 WHERE t.id = $3::T3 as UPDATE t SET a=u.a0, b=u.a1 FROM
    unnest(...) AS u(a0, a1, a2) WHERE t.id = u.a2: each row by its key, which must be its own."""
    head, found, rest = sql.partition(" SET ")
    assignments, where, condition = rest.partition(" WHERE ")
    pieces = assignments.split(", ")
    sets = [_ASSIGNED.fullmatch(piece) for piece in pieces]
    key = _BY_KEY.fullmatch(condition)
    if not found or not where or key is None or not all(sets):
        return None
    casts = [m.group(2) for m in sets if m is not None] + [key.group(2)]
    if [int(c[1 : c.index("::")]) for c in casts] != list(range(1, len(casts) + 1)):
        return None  # the parameters in another order than written
    names = [f"a{i}" for i in range(len(casts))]
    assigned = ", ".join(
        f"{m.group(1)}=u.{name}" for m, name in zip(sets, names, strict=False) if m is not None
    )
    arrays = ", ".join(f"{cast}[]" for cast in casts)
    statement = (
        f"{head} SET {assigned} FROM unnest({arrays}) AS u({', '.join(names)}) "
        f"WHERE {key.group(1)} = u.{names[-1]}"
    )
    return statement, len(casts) - 1


_PREPARED: dict[tuple[int, str, tuple[str, ...]], tuple[UpdateBase, Prepared]] = {}


def executemany(conn: Connection, statement: UpdateBase, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run `statement` (an INSERT, UPDATE or DELETE built once, at import) for every row, in order.

    An INSERT takes its columns from the rows' keys; rows with other keys are run as a statement
    of their own, consecutive rows together, so the order of inserted ids is the rows' order."""
    for keys, group in groupby(rows, key=_keys):
        prepared = prepare(conn.dialect, statement, keys)
        batch = list(group)
        arrays = _array_columns(prepared, batch) if len(batch) > 1 else None
        if arrays is not None:
            # One statement for the rows, not one a row: one round trip, and a statement's
            # trigger (the dashboard's counts) fires once for all of them.
            conn.exec_driver_sql(arrays[0], tuple(arrays[1]))
            continue
        _run(conn, prepared.sql, prepared.values(batch))


def _array_columns(
    prepared: Prepared, rows: Sequence[Mapping[str, Any]]
) -> tuple[str, list[list[Any]]] | None:
    """`prepared.arrays` and the rows a column at a time for it; None when the statement has no
    such form or, an UPDATE, some row's key is another's (each row must find its own)."""
    if prepared.arrays is None:
        return None
    columns = prepared.columns(rows)
    if prepared.key is not None and len(set(columns[prepared.key])) != len(rows):
        return None
    return prepared.arrays, columns


Write = tuple[UpdateBase, Sequence[Mapping[str, Any]]]  # a statement and the rows to run it for
_PARAMETER = re.compile(r"\$(\d+)::")


def write_apart(conn: Connection, writes: Sequence[Write]) -> None:
    """Each statement run for its rows as `executemany` would, where no statement reads or changes
    another's rows (each writes a table of its own). On PostgreSQL every one that takes its rows as
    arrays is a part of one statement, `WITH w0 AS (...), w1 AS (...) ...`: one round trip for all
    of them. Each part still fires its table's statement triggers once; ids still follow the rows'
    order within a table."""
    together: list[tuple[str, list[list[Any]]]] = []
    for statement, rows in writes:
        part = _as_arrays(conn, statement, rows) if conn.dialect.name == "postgresql" else None
        if part is None:
            executemany(conn, statement, rows)
        else:
            together.append(part)
    if len(together) == 1:
        conn.exec_driver_sql(together[0][0], tuple(together[0][1]))
    elif together:
        sql, columns = _with(together)
        conn.exec_driver_sql(sql, tuple(columns))


def _as_arrays(
    conn: Connection, statement: UpdateBase, rows: Sequence[Mapping[str, Any]]
) -> tuple[str, list[list[Any]]] | None:
    """The statement taking its rows as arrays, and those arrays; None when it has none to run or
    cannot (rows with other keys, an UPDATE's keys repeated, a statement of another shape)."""
    keys = _keys(rows[0]) if rows else None
    if keys is None or any(_keys(row) != keys for row in rows):
        return None
    return _array_columns(prepare(conn.dialect, statement, keys), rows)


def _with(parts: list[tuple[str, list[list[Any]]]]) -> tuple[str, list[list[Any]]]:
    """Statements as one: each but the last a WITH query, their parameters numbered on."""
    written: list[str] = []
    columns: list[list[Any]] = []
    for sql, values in parts:
        written.append(_PARAMETER.sub(partial(_renumbered, offset=len(columns)), sql))
        columns.extend(values)
    queries = ", ".join(f"w{i} AS ({sql})" for i, sql in enumerate(written[:-1]))
    return f"WITH {queries} {written[-1]}", columns


def _renumbered(parameter: re.Match[str], offset: int) -> str:
    return f"${int(parameter.group(1)) + offset}::"


def _run(conn: Connection, sql: str, values: list[tuple[Any, ...]]) -> None:
    """Rows through the driver's executemany. On SQLite, within a transaction begun, straight to
    the driver's cursor when no one listens for statements (tests and benches do): Core's
    execution context cost 2-7% of the writer's transaction for a batch of inbound messages. The
    driver's errors come out as Core's, as they would through it."""
    listened = conn.dispatch.before_cursor_execute or conn.dispatch.after_cursor_execute
    if conn.dialect.name != "sqlite" or listened or not conn.in_transaction():  # Core begins one
        conn.exec_driver_sql(sql, values)
        return
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, values)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(sql, values, exc, conn.dialect.loaded_dbapi.Error) from exc
    finally:
        cursor.close()


def _keys(row: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(row)


def prepare(dialect: Dialect, statement: UpdateBase, keys: tuple[str, ...]) -> Prepared:
    cache_key = (id(statement), dialect.name, keys)
    found = _PREPARED.get(cache_key)
    if found is not None and found[0] is statement:
        return found[1]
    compiled = statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
    order = tuple(compiled.positiontup or ())
    processors = {  # the converters Core itself applies to each value
        name: convert for name, convert in compiled._bind_processors.items() if callable(convert)
    }
    wanted = set(keys)
    constants: list[Any] = []
    for name in order:
        bind = compiled.binds[name]
        if name in wanted:
            constants.append(None)
        elif bind.callable is None and not bind.required:  # a literal in the statement ('active')
            convert = processors.get(name)
            constants.append(bind.value if convert is None else convert(bind.value))
        else:
            raise ValueError(f"{statement}: no value for {name!r} in rows with {sorted(keys)}")
    if not wanted <= set(order):
        raise ValueError(f"{statement} takes none of {sorted(wanted - set(order))}")
    arrays, key = (_arrays(compiled.string) if dialect.name == "postgresql" else None) or (None, None)
    prepared = Prepared(
        compiled.string,
        tuple(name if name in wanted else None for name in order),
        tuple(processors.get(name) if name in wanted else None for name in order),
        tuple(constants),
        tuple(isinstance(compiled.binds[name].type, (String, UTCDateTime)) for name in order),
        arrays,
        key,
    )
    _PREPARED[cache_key] = (statement, prepared)
    return prepared
