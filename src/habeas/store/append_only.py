"""Triggers that make the database itself refuse to rewrite history (architecture invariant 2).

MR 6 asks for an audit trail that prevents unauthorized modification; a register
that can be edited in place is exactly what monitors are told to look for.  Every
migration that touches an append-only table must call :func:`install` again, and
a test checks the triggers exist and fire after ``alembic upgrade head``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

MESSAGE = "habeas: {table} is append-only; record a correction event instead"


def sqlite_statements(table: str) -> list[str]:
    message = MESSAGE.format(table=table)
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
    ]


POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION habeas_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'habeas: % is append-only; record a correction event instead', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""


def postgres_statements(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}",
        f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION habeas_refuse_change()",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION habeas_refuse_change()",
    ]


# The head row may move forward only: a shrinking or re-rooted ledger is a rewrite.
SQLITE_HEAD_GUARD = (
    "CREATE TRIGGER IF NOT EXISTS ledgers_forward_only BEFORE UPDATE ON ledgers "
    "WHEN NEW.size < OLD.size OR NEW.ledger_id <> OLD.ledger_id OR NEW.origin <> OLD.origin "
    "BEGIN SELECT RAISE(ABORT, 'habeas: a ledger head may only move forward'); END"
)
SQLITE_HEAD_NO_DELETE = (
    "CREATE TRIGGER IF NOT EXISTS ledgers_no_delete BEFORE DELETE ON ledgers "
    "BEGIN SELECT RAISE(ABORT, 'habeas: a ledger cannot be deleted'); END"
)
POSTGRES_HEAD_GUARD = [
    """
CREATE OR REPLACE FUNCTION habeas_head_forward_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'habeas: a ledger cannot be deleted' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.size < OLD.size OR NEW.ledger_id <> OLD.ledger_id OR NEW.origin <> OLD.origin THEN
        RAISE EXCEPTION 'habeas: a ledger head may only move forward'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
""",
    "DROP TRIGGER IF EXISTS ledgers_forward_only ON ledgers",
    "CREATE TRIGGER ledgers_forward_only BEFORE UPDATE OR DELETE ON ledgers "
    "FOR EACH ROW EXECUTE FUNCTION habeas_head_forward_only()",
    "DROP TRIGGER IF EXISTS ledgers_no_truncate ON ledgers",
    "CREATE TRIGGER ledgers_no_truncate BEFORE TRUNCATE ON ledgers "
    "FOR EACH STATEMENT EXECUTE FUNCTION habeas_refuse_change()",
]


def install(dialect: str, execute: Callable[[str], object], tables: Iterable[str]) -> None:
    """Create the triggers for ``tables`` (and the ledger head guard) on ``dialect``."""
    if dialect == "postgresql":
        execute(POSTGRES_FUNCTION)
        for table in tables:
            for statement in postgres_statements(table):
                execute(statement)
        for statement in POSTGRES_HEAD_GUARD:
            execute(statement)
    elif dialect == "sqlite":
        for table in tables:
            for statement in sqlite_statements(table):
                execute(statement)
        execute(SQLITE_HEAD_GUARD)
        execute(SQLITE_HEAD_NO_DELETE)
    else:
        raise ValueError(f"habeas supports sqlite and postgresql, not {dialect}")
