"""A column compared with a list given as one parameter, whatever its length.

An expanding IN renders a placeholder per item, so a statement for 5,000 numbers is compiled
anew for each batch (a few milliseconds of Python each time). Here the list is one parameter: a
JSON array read by json_each on SQLite, an array on PostgreSQL; the statement is compiled once.
Both use the column's index (SQLite searches it for each item of the list).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ColumnElement, String, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY


def one_of(column: ColumnElement[Any], name: str) -> dict[str, ColumnElement[bool]]:
    """`column` IN the list passed as parameter `name`, by dialect."""
    items = func.json_each(bindparam(name, type_=JSON)).table_valued("value")
    return {
        "sqlite": column.in_(select(items.c.value)),
        "postgresql": column == func.any(bindparam(name, type_=ARRAY(String))),
    }
