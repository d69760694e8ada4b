"""Many-row inserts and updates straight to the driver, and id lists as one parameter.

SQLAlchemy's per-row parameter processing costs more than SQLite's own insert,
so hot paths (ledger appends, projection batches) hand the driver plain tuples
whose values are already in the form the backend stores (see :func:`instant_converter`
and :func:`insert_dicts`, which converts as the column types would).  On PostgreSQL a
batch is one ``COPY`` or one ``UPDATE ... FROM unnest(...)``.  The statement text is
built from the Core ``Table``, so names stay in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import ARRAY, ColumnElement, Connection, Date, Dialect, String, Table, any_, bindparam, func, select

from habeas.ledger.timefmt import format_instant
from habeas.store.types import UtcInstant


@cache
def insert_sql(table: Table, columns: tuple[str, ...], paramstyle: str) -> str:
    for name in columns:
        table.c[name]
    marker = "?" if paramstyle == "qmark" else "%s"
    return f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([marker] * len(columns))})"


COPY_FROM = 8  # rows: from here on PostgreSQL's COPY beats a pipelined executemany


def insert_rows(conn: Connection, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert ``rows`` in the caller's transaction: COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    if conn.dialect.name == "postgresql" and len(rows) >= COPY_FROM:
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    conn.exec_driver_sql(insert_sql(table, columns, conn.dialect.paramstyle), list(rows))


def instant_converter(conn: Connection) -> Any:
    """How a UtcInstant column's value goes to this backend's driver."""
    if conn.dialect.name == "postgresql":
        return _identity
    return format_instant


def _identity(value: Any) -> Any:
    return value


def _marker(paramstyle: str) -> str:
    return "?" if paramstyle == "qmark" else "%s"


@cache
def update_sql(
    table: Table,
    set_columns: tuple[str, ...],
    where_columns: tuple[str, ...],
    paramstyle: str,
    where_null: tuple[str, ...] = (),
) -> str:
    for name in (*set_columns, *where_columns, *where_null):
        table.c[name]
    m = _marker(paramstyle)
    assignments = ", ".join(f"{c} = {m}" for c in set_columns)
    conditions = [f"{c} = {m}" for c in where_columns] + [f"{c} IS NULL" for c in where_null]
    return f"UPDATE {table.name} SET {assignments} WHERE {' AND '.join(conditions)}"


def update_rows(
    conn: Connection,
    table: Table,
    set_columns: tuple[str, ...],
    where_columns: tuple[str, ...],
    rows: Sequence[Mapping[str, Any]],
    where_null: tuple[str, ...] = (),
) -> None:
    """``UPDATE table SET set_columns WHERE where_columns [AND where_null IS NULL]`` per row, to the driver.

    Each row maps every named column to its value as Core would bind it (aware datetimes,
    dates); the values are converted here as the column's type would.
    """
    if not rows:
        return
    names = (*set_columns, *where_columns)
    if conn.dialect.name == "postgresql" and len(rows) >= COPY_FROM:
        keys = {tuple(row[n] for n in where_columns) for row in rows}
        if len(keys) == len(rows):  # one statement; with a key twice, row by row keeps the last one last
            conn.exec_driver_sql(
                _unnest_update_sql(table, set_columns, where_columns, where_null, conn.dialect),
                tuple([row[n] for row in rows] for n in names),
            )
            return
    conn.exec_driver_sql(
        update_sql(table, set_columns, where_columns, conn.dialect.paramstyle, where_null),
        _as_tuples(table, names, conn.dialect.name, rows),
    )


@cache
def _unnest_update_sql(
    table: Table,
    set_columns: tuple[str, ...],
    where_columns: tuple[str, ...],
    where_null: tuple[str, ...],
    dialect: Dialect,
) -> str:
    """PostgreSQL: one ``UPDATE ... FROM unnest(arrays)`` for a whole batch.

    One statement and one plan instead of a plan per row: a row-by-row executemany gets a
    generic plan made from the statistics of before the batch, a sequential scan per row
    when those say the table is empty (the first batch of a mass intake).
    """
    names = (*set_columns, *where_columns)
    arrays = ", ".join(f"%s::{table.c[n].type.compile(dialect=dialect)}[]" for n in names)
    assignments = ", ".join(f"{n} = u.{n}" for n in set_columns)
    conditions = [f"{table.name}.{n} = u.{n}" for n in where_columns] + [
        f"{table.name}.{n} IS NULL" for n in where_null
    ]
    return (
        f"UPDATE {table.name} SET {assignments} FROM unnest({arrays}) AS u({', '.join(names)}) "
        f"WHERE {' AND '.join(conditions)}"
    )


def insert_dicts(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """:func:`insert_rows` for rows given as dicts of Core values (every row with the same keys)."""
    if not rows:
        return
    names = tuple(rows[0])
    insert_rows(conn, table, names, _as_tuples(table, names, conn.dialect.name, rows))


def _as_tuples(
    table: Table, names: tuple[str, ...], dialect: str, rows: Sequence[Mapping[str, Any]]
) -> list[tuple[Any, ...]]:
    """Each row's values in ``names`` order, converted as the columns' types would (only where one must)."""
    get = itemgetter(*names)
    if len(names) == 1:
        (only,) = names
        (f,) = _converters(table, names, dialect)
        return [(f(row[only]),) for row in rows]
    converted = [(i, f) for i, f in enumerate(_converters(table, names, dialect)) if f is not _identity]
    if not converted:
        return [get(row) for row in rows]
    out = []
    for row in rows:
        values = list(get(row))
        for i, f in converted:
            values[i] = f(values[i])
        out.append(tuple(values))
    return out


@cache
def _converters(table: Table, names: tuple[str, ...], dialect: str) -> tuple[Callable[[Any], Any], ...]:
    """Per column, what turns a Core value into the driver's (what the column type's bind processor does)."""
    return tuple(f for name in names for f in _converters_for(table.c[name].type, dialect))


@lru_cache(maxsize=1 << 14)  # a batch repeats its instants (since = last_event_at = admitted_at, one placement time)
def _instant_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.utcoffset() is None:
        raise ValueError("naive datetime given to a UTC column")
    return format_instant(value)


def _date_text(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


# On SQLite, up to this many values are listed in the statement (see among).
LISTED_ON_SQLITE = 64


def among(conn: Connection, column: ColumnElement[Any], values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN (values)`` with the values as one parameter: an array on PostgreSQL, JSON on SQLite.

    ``column.in_(list)`` coerces every value into a bound literal of its own when the query
    is built and renders a placeholder (a cast, on PostgreSQL) per value when it runs, so
    the statement text changes with the list and the driver parses it again; for the
    hundreds of ids of a mass-intake chunk that costs more than running the query.  With
    one parameter the statement is the same every time (``= ANY(%s)``;
    ``IN (SELECT value FROM json_each(?))``, whose ids SQLite looks up in the column's index).

    A handful of values (a single command's people) are listed on SQLite all the same: its planner
    cannot see how long a JSON list is and may then prefer another index's range over the column's
    own (a safeguard check for one person read a rule's whole candidate range: 60 ms at 1,000,000
    people instead of a few index probes).  PostgreSQL sees the array's length.
    """
    values = list(values)
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    if len(values) <= LISTED_ON_SQLITE:
        return column.in_(values)
    (convert,) = _converters_for(column.type, conn.dialect.name)
    listed = orjson.dumps([convert(v) for v in values]).decode()
    each = func.json_each(bindparam(None, listed, type_=String)).table_valued("value")
    return column.in_(select(each.c.value))


def _converters_for(kind: Any, dialect: str) -> tuple[Callable[[Any], Any], ...]:
    if dialect != "postgresql" and isinstance(kind, UtcInstant):
        return (_instant_text,)
    if dialect != "postgresql" and isinstance(kind, Date):
        return (_date_text,)
    return (_identity,)
