"""After ``alembic upgrade head`` the append-only triggers exist and fire, on both backends.

Architecture invariant 2: the database itself refuses UPDATE, DELETE (and
TRUNCATE on PostgreSQL) on the event table, checked after every migration.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, insert, inspect, select, text
from sqlalchemy.exc import DBAPIError

from habeas.domain.alerts import AlertRaised
from habeas.domain.law import AlertAcknowledged
from habeas.ledger.envelope import NewEvent
from habeas.ledger.verify import VerifyReport
from habeas.services.ledger_checks import record_check
from habeas.services.unit_of_work import append_and_project
from habeas.store import migrate
from habeas.store.engine import make_engine
from habeas.store.register_tables import alert_acknowledgements, alert_refs, alerts
from habeas.store.tables import metadata
from tests.conftest import at, scratch_postgres_database
from tests.ledger.support import new_ledger, note


class MigrationContract:
    @pytest.fixture
    def engine(self) -> Engine:
        raise NotImplementedError

    def trigger_names(self, engine: Engine) -> set[str]:
        raise NotImplementedError

    def test_schema_is_at_head(self, engine: Engine) -> None:
        assert migrate.current_revision(engine) == migrate.head_revision(engine)

    def test_tables_match_the_code(self, engine: Engine) -> None:
        inspector = inspect(engine)
        for table in metadata.sorted_tables:
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            assert columns == set(table.c.keys()), table.name

    def test_triggers_exist(self, engine: Engine) -> None:
        names = self.trigger_names(engine)
        assert self.expected_triggers <= names

    expected_triggers: frozenset[str] = frozenset()

    @pytest.mark.parametrize("table", ["events", "checkpoints"])
    @pytest.mark.parametrize("verb", ["UPDATE {t} SET ledger_id = ledger_id", "DELETE FROM {t}"])
    def test_triggers_fire(self, engine: Engine, ledger_id: str, table: str, verb: str) -> None:
        from habeas.ledger.checkpoint import Signer
        from habeas.ledger.heads import sign_checkpoint

        new_ledger(engine, ledger_id, at()).append([note()], at(1))
        sign_checkpoint(engine, ledger_id, Signer.generate("habeas.test"), at(2))
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(verb.format(t=table)))
        with engine.connect() as conn:
            assert (
                conn.execute(text(f"SELECT count(*) FROM {table} WHERE ledger_id = :l"), {"l": ledger_id}).scalar() == 1
            )

    def test_upgrade_twice_is_harmless(self, engine: Engine) -> None:
        migrate.upgrade(engine)
        assert self.expected_triggers <= self.trigger_names(engine)

    def test_the_ledger_migration_refuses_to_be_reversed(self, engine: Engine) -> None:
        with pytest.raises(RuntimeError, match="cannot be reversed"):
            migrate.downgrade(engine, "base")
        assert migrate.current_revision(engine) == migrate.head_revision(engine)


class TestMigrationsOnSQLite(MigrationContract):
    expected_triggers = frozenset({
        "events_no_update", "events_no_delete", "checkpoints_no_update", "checkpoints_no_delete",
        "ledgers_forward_only", "ledgers_no_delete", "ledger_checks_no_update", "ledger_checks_no_delete",
    })  # fmt: skip

    @pytest.fixture
    def engine(self, sqlite_engine: Engine) -> Engine:
        return sqlite_engine

    def trigger_names(self, engine: Engine) -> set[str]:
        with engine.connect() as conn:
            return set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())

    def test_sqlite_pragmas(self, engine: Engine) -> None:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL

    def test_a_persons_documents_are_read_through_their_index(self, engine: Engine) -> None:
        with engine.connect() as conn:
            plan = " ".join(
                str(row[-1])
                for row in conn.execute(
                    text(
                        "EXPLAIN QUERY PLAN SELECT doc_key FROM person_documents "
                        "WHERE ledger_id = 'x' AND person_id = 'p'"
                    )
                )
            )
        assert "USING INDEX ix_person_documents_person" in plan, plan


@pytest.mark.postgres
class TestMigrationsOnPostgreSQL(MigrationContract):
    expected_triggers = frozenset({
        "events_no_change", "events_no_truncate", "checkpoints_no_change", "checkpoints_no_truncate",
        "ledgers_forward_only", "ledgers_no_truncate", "ledger_checks_no_change", "ledger_checks_no_truncate",
    })  # fmt: skip

    @pytest.fixture
    def engine(self, postgres_engine: Engine) -> Engine:
        return postgres_engine

    def trigger_names(self, engine: Engine) -> set[str]:
        with engine.connect() as conn:
            return set(conn.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).scalars())

    @pytest.mark.parametrize("table", ["events", "checkpoints", "ledgers", "ledger_checks"])
    def test_truncate_is_refused(self, engine: Engine, ledger_id: str, table: str) -> None:
        new_ledger(engine, ledger_id, at()).append([note()], at(1))
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {table} CASCADE"))

    def test_the_booking_index_serves_like_under_any_collation(self, engine: Engine) -> None:
        # services.state.bookings_this_year counts ``LIKE 'CECOT-2026-%'``: a plain btree serves LIKE only
        # under the "C" collation, so at 1,000,000 episodes the count was a 133 ms scan per admission.
        with engine.connect() as conn:
            definition = conn.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_episodes_booking'")
            ).scalar_one()
        assert "UNIQUE" in definition and "booking_number text_pattern_ops" in definition

    def test_a_persons_documents_are_read_through_their_index(self, engine: Engine) -> None:
        with engine.connect() as conn:
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(
                conn.execute(
                    text("EXPLAIN SELECT doc_key FROM person_documents WHERE ledger_id = 'x' AND person_id = 'p'")
                ).scalars()
            )
        assert "ix_person_documents_person" in plan, plan


def test_0009_fills_alert_refs_from_the_alerts_already_recorded(tmp_path: Path) -> None:
    """A register migrated from 0008 gets one alert_refs row per (alert, id named), so old alerts are found too."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(engine)
    with engine.begin() as conn:  # as a 0008 database was: no alert_refs yet, alerts already raised
        conn.execute(text("DROP TABLE alert_refs"))
    command.stamp(migrate.alembic_config(engine), "0008")
    row = {"ledger_id": "l1", "severity": "critical", "message": "m", "raised_at": at(), "raised_seq": 1}
    with engine.begin() as conn:
        conn.execute(insert(alerts), [
            {**row, "alert_id": "a1", "rule": "R26", "subject": "order-1", "refs": '["order-1","person-1"]'},
            {**row, "alert_id": "a2", "rule": "R3", "subject": "person-2", "refs": "[]"},
        ])  # fmt: skip
    migrate.upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(alert_refs.c.ref, alert_refs.c.alert_id).order_by(alert_refs.c.ref)).all()
    assert [tuple(r) for r in rows] == [("order-1", "a1"), ("person-1", "a1")]
    assert migrate.current_revision(engine) == migrate.head_revision(engine)
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own on each backend (a migration test rewinds its schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with scratch_postgres_database("habeas_migration") as url:
        yield url


def test_0011_fills_alert_acknowledgements_from_the_ledger(fresh_url: str) -> None:
    """A register migrated from 0010 gets its acknowledgements as rows, read back from the ledger's events."""
    engine = make_engine(fresh_url)
    migrate.upgrade(engine)
    new_ledger(engine, "l1", at())
    raised = [AlertRaised(alert_id=a, rule="R7", severity="high", subject="person-1", message="m") for a in "ab"]
    events = [
        *(NewEvent("alert.raised", p, at(1), "system:safeguards", uuid.uuid4()) for p in raised),
        NewEvent("alert.acknowledged", AlertAcknowledged(alert_id="a", note="family called"), at(2), "officer:1",
                 uuid.uuid4()),
        NewEvent("alert.acknowledged", AlertAcknowledged(alert_id="a", note="called again"), at(3), "officer:2",
                 uuid.uuid4()),
    ]  # fmt: skip
    append_and_project(engine, "l1", events, at(4))
    with engine.begin() as conn:  # as a 0010 database was: the events recorded, no acknowledgement rows
        conn.execute(text("DROP TABLE alert_acknowledgements"))
    command.stamp(migrate.alembic_config(engine), "0010")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                alert_acknowledgements.c.alert_id, alert_acknowledgements.c.actor, alert_acknowledgements.c.note
            ).order_by(alert_acknowledgements.c.seq)
        ).all()
    assert [tuple(r) for r in rows] == [("a", "officer:1", "family called"), ("a", "officer:2", "called again")]
    assert migrate.current_revision(engine) == migrate.head_revision(engine)
    engine.dispose()


def test_the_ledger_checks_cannot_be_migrated_away(fresh_url: str) -> None:
    """0010's records are append-only: once a check is recorded, a downgrade past it is refused, changing nothing."""
    engine = make_engine(fresh_url)
    migrate.upgrade(engine)
    record_check(engine, VerifyReport("l1"), at(), "inspector-1", "cli")
    with pytest.raises(RuntimeError, match="cannot be reversed"):
        migrate.downgrade(engine, "0009")
    assert migrate.current_revision(engine) == migrate.head_revision(engine)
    assert {"ledger_checks", "alert_acknowledgements"} <= set(inspect(engine).get_table_names())
    engine.dispose()
