"""Many-row inserts straight to the driver's executemany.

SQLAlchemy's per-row parameter processing costs more than SQLite's own insert,
so hot paths (ledger appends, projection batches) hand the driver plain tuples
whose values are already in the form the backend stores (see :func:`db_instant`).
The statement text is built from the Core ``Table``, so names stay in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Table

from habeas.ledger.timefmt import format_instant


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


def _identity(value: datetime) -> datetime:
    return value
