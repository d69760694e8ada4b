"""Deadlines stored in the projections for the sweep (R3, R5), the basis summary (R6), and scoped reconciles.

A stored deadline is a cache of the law: computed when the fact is recorded, under the policy of the facility
holding the person, and reused only while that policy is still the law (its key) and, for R5, while the instant
checked is where the extensions in force are the same.  Each test changes the law after the fact (a decree
removed, an extension added or ended) and checks the sweep follows the law, not the stored value: breach,
non-breach and boundary as in test_rules_custody, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, insert, select, text

from habeas.domain.policy import Extension, Period, Policy
from habeas.ledger.timefmt import format_instant
from habeas.policy.loader import load_policy
from habeas.projections.law import law_key, stored_deadline
from habeas.safeguards.checks import Finding
from habeas.safeguards.sweep import find
from habeas.services.legal import LegalService
from habeas.services.register import RegisterService
from habeas.store import migrate
from habeas.store.law_tables import NO_BASIS, duties, instruments
from tests.ledger.support import new_ledger
from tests.register.support import Clock
from tests.safeguards.test_rules_custody import INTL, SLV, SLV_POLICY, World, decree_803, facility
from tests.safeguards.test_rules_facility import RELEASE

H = timedelta(hours=1)
D = timedelta(days=1)
MIN = timedelta(minutes=1)
PD = "provisional_detention_order"


def with_law(policy: Policy) -> Callable[[str], Policy]:
    """A loader giving ``policy`` for its jurisdiction: the law as changed after the facts were recorded."""
    return lambda code: policy if code == policy.code else load_policy(code)


def found(w: World, when: datetime, rule: str, load: Callable[[str], Policy] = load_policy) -> list[Finding]:
    with w.engine.connect() as conn:
        return [f for f in find(conn, w.ledger, when, load=load) if f.rule == rule]


def duty(w: World, person: str) -> Any:
    with w.engine.connect() as conn:
        return conn.execute(select(duties).where(duties.c.ledger_id == w.ledger, duties.c.person_id == person)).one()


def instrument(w: World, instrument_id: str) -> Any:
    with w.engine.connect() as conn:
        return conn.execute(
            select(instruments).where(instruments.c.ledger_id == w.ledger, instruments.c.instrument_id == instrument_id)
        ).one()


def stored(value: str | None) -> dict[str, Any]:
    assert value is not None
    result: dict[str, Any] = orjson.loads(value)
    return result


class StoredDeadlinesContract:
    @pytest.fixture
    def engine(self) -> Engine:
        raise NotImplementedError

    @pytest.fixture
    def world(self, engine: Engine, ledger_id: str) -> Callable[..., World]:
        def make(start: datetime) -> World:
            opened = start - 30 * D
            new_ledger(engine, ledger_id, opened)
            clock = Clock(opened)
            ids = (uuid.uuid5(uuid.NAMESPACE_URL, f"{ledger_id}/{i}") for i in itertools.count(1))
            reg = RegisterService(engine, ledger_id, clock, new_id=lambda: next(ids))
            legal = LegalService(engine, ledger_id, clock)
            for fid in (SLV, INTL):
                reg.register_facility("user:director", *facility(fid, "intl" if fid == INTL else "slv"), opened)
            return World(engine, ledger_id, clock, reg, legal)

        return make

    # --- R3: the administrative deadline, stored at admission --------------------------------------------------

    def test_r3_stored_at_admission_and_followed_while_the_law_holds(self, world: Callable[..., World]) -> None:
        arrest = datetime(2023, 5, 1, 12, 0, tzinfo=UTC)  # under Decree 333's renewals: 15 days (Cn. 29)
        w = world(arrest)
        person = w.admit(SLV, arrest + H, arrested=arrest)
        row = duty(w, person)
        deadline = SLV_POLICY.administrative_deadline(arrest)
        assert stored(row.admin_deadline) == {
            "law": law_key(SLV_POLICY), "due": format_instant(deadline.due), "basis": deadline.basis,
            "refs": list(deadline.instruments),
        }  # fmt: skip
        assert row.admin_deadline == stored_deadline(SLV_POLICY, arrest)
        assert found(w, deadline.due, "R3") == []  # at the limit: lawful
        (finding,) = found(w, deadline.due + MIN, "R3")
        assert f"the limit ended {format_instant(deadline.due)} ({deadline.basis})" in finding.message
        assert finding.refs == (finding.refs[0], *deadline.instruments)

    def test_r3_a_decree_removed_from_the_law_is_followed_not_the_stored_deadline(
        self, world: Callable[..., World]
    ) -> None:
        arrest = datetime(2023, 5, 1, 12, 0, tzinfo=UTC)
        w = world(arrest)
        person = w.admit(SLV, arrest + H, arrested=arrest)
        stored_due = stored(duty(w, person).admin_deadline)["due"]
        ordinary = dataclasses.replace(SLV_POLICY, decrees=())  # the law without any state of exception
        load = with_law(ordinary)
        assert law_key(ordinary) != law_key(SLV_POLICY)
        assert found(w, arrest + 72 * H, "R3", load) == []
        (finding,) = found(w, arrest + 72 * H + MIN, "R3", load)  # breached 14 days before the stored deadline
        assert finding.subject == person
        assert f"the limit ended {format_instant(arrest + 72 * H)}" in finding.message
        assert stored_due not in finding.message and "Cn. 13(2)" in finding.message
        assert found(w, arrest + 72 * H + MIN, "R3") == []  # under the law as shipped: 15 days

    def test_r3_judged_clears_the_stored_deadline_and_an_earlier_instant_computes_it(
        self, world: Callable[..., World]
    ) -> None:
        arrest = datetime(2023, 5, 1, 12, 0, tzinfo=UTC)
        w = world(arrest)
        person = w.admit(SLV, arrest + H, arrested=arrest)
        deadline = SLV_POLICY.administrative_deadline(arrest)
        w.instrument(person, deadline.due + D, kind="judicial_order")  # a day late
        assert duty(w, person).admin_deadline is None
        assert found(w, deadline.due + 2 * D, "R3") == []  # judged: the clock stopped
        (finding,) = found(w, deadline.due + MIN, "R3")  # before the judge acted: a breach, as computed
        assert f"the limit ended {format_instant(deadline.due)} ({deadline.basis})" in finding.message

    def test_r3_a_transfer_to_another_jurisdiction_is_judged_by_its_law(self, world: Callable[..., World]) -> None:
        arrest = datetime(2023, 5, 1, 12, 0, tzinfo=UTC)
        w = world(arrest)
        person = w.admit(SLV, arrest + H, arrested=arrest)
        w.transfer(person, arrest + 10 * H, arrest + 20 * H, to=INTL)  # ICCPR 9(3): 48 hours, no decrees
        assert found(w, arrest + 48 * H, "R3") == []
        (finding,) = found(w, arrest + 48 * H + MIN, "R3")
        assert finding.subject == person and f"the limit ended {format_instant(arrest + 48 * H)}" in finding.message

    # --- R5: the provisional-detention limit, stored on the order ----------------------------------------------

    def test_r5_stored_with_the_start_of_detention_and_its_window(self, world: Callable[..., World]) -> None:
        arrest = datetime(2022, 4, 1, 18, 0, tzinfo=UTC)
        w = world(arrest)
        scoped = w.admit(SLV, arrest + H, arrested=arrest)
        unscoped = w.admit(SLV, arrest + H, arrested=arrest)
        s = w.instrument(scoped, arrest + D, kind=PD, offence_class="less_serious", scope="state_of_exception")
        u = w.instrument(unscoped, arrest + D, kind=PD, offence_class="less_serious")
        entry = decree_803().in_force_from
        row = instrument(w, s)
        assert row.detained_from == arrest
        assert stored(row.limit_deadline)["to"] == format_instant(entry)  # until Decree 803 comes into force
        assert stored(instrument(w, u).limit_deadline)["to"] is None  # nothing ever extends it
        ordinary_end = datetime(2023, 4, 1, 18, 0, tzinfo=UTC)  # 12 months, less serious (CPP 8)
        assert found(w, ordinary_end, "R5") == []
        assert {f.subject for f in found(w, ordinary_end + MIN, "R5")} == {scoped, unscoped}
        # once Decree 803 is in force the stored limit no longer holds for the scoped case: computed again
        assert {f.subject for f in found(w, entry, "R5")} == {unscoped}
        (finding,) = [f for f in found(w, entry - MIN, "R5") if f.subject == scoped]
        expected = SLV_POLICY.provisional_detention_limit("less_serious", arrest, entry - MIN, ("state_of_exception",))
        assert f"the limit ended {format_instant(expected.due)} ({expected.basis})" in finding.message

    def test_r5_an_extension_added_to_the_law_is_followed_not_the_stored_limit(
        self, world: Callable[..., World]
    ) -> None:
        arrest = datetime(2022, 4, 1, 18, 0, tzinfo=UTC)
        w = world(arrest)
        person = w.admit(SLV, arrest + H, arrested=arrest)
        order = w.instrument(person, arrest + D, kind=PD, offence_class="less_serious")
        ordinary_end = datetime(2023, 4, 1, 18, 0, tzinfo=UTC)
        assert stored(instrument(w, order).limit_deadline)["due"] == format_instant(ordinary_end)
        extension = Extension(
            name="Decree 999 (a general extension, for the test)",
            applies_to="provisional_detention",
            in_force_from=datetime(2023, 1, 1, tzinfo=UTC),
            in_force_to=datetime(2024, 1, 1, tzinfo=UTC),
            period=Period(months=6),
            counted_from="ordinary_limit",
            source="test",
        )
        extended = dataclasses.replace(SLV_POLICY, extensions=(*SLV_POLICY.extensions, extension))
        load = with_law(extended)
        assert found(w, ordinary_end + MIN, "R5", load) == []  # the extension covers every case
        new_end = datetime(2023, 10, 1, 18, 0, tzinfo=UTC)  # six months after the ordinary end
        assert found(w, new_end, "R5", load) == []
        (finding,) = found(w, new_end + MIN, "R5", load)
        assert "Decree 999" in finding.message and finding.refs[-1] == extension.name
        # the extension ends: at its end the ordinary limit is back, and long passed
        assert [f.subject for f in found(w, extension.in_force_to, "R5", load)] == [person]
        (plain,) = found(w, ordinary_end + MIN, "R5")  # the law as shipped: the stored limit, as before
        assert f"the limit ended {format_instant(ordinary_end)}" in plain.message

    # --- R6: the summary of an episode's instruments -----------------------------------------------------------

    def test_r6_summary_follows_instruments_recorded_and_ended(self, world: Callable[..., World]) -> None:
        start = datetime(2021, 6, 1, 12, 0, tzinfo=UTC)
        w = world(start)
        expiry = start + 10 * D
        person = w.admit(SLV, start + H, expires=expiry)
        row = duty(w, person)
        assert (row.basis_until, row.basis_issued) == (expiry, start)  # admitted: issued an hour before
        later = start + 20 * D  # a new basis, issued after the first one lapsed
        order = w.instrument(person, later, kind="judicial_order")
        row = duty(w, person)
        assert (row.basis_until, row.basis_issued) == (None, later)  # no expiry: open-ended
        assert found(w, expiry - MIN, "R6") == []  # an instrument is in force up to, not at, its expiry
        assert [f.subject for f in found(w, expiry, "R6")] == [person]  # and the new one is not issued yet
        assert [f.subject for f in found(w, later - MIN, "R6")] == [person]
        assert found(w, later, "R6") == []
        w.set(later + D)
        w.legal.end_instrument("user:clerk", order, "quashed on appeal", later + D)
        row = duty(w, person)
        assert row.basis_until == expiry and row.basis_issued == start  # the first one only, long lapsed
        (finding,) = found(w, later + 2 * D, "R6")
        assert finding.subject == person and "lapsed" in finding.message

    def test_r6_no_instrument_left_in_force(self, world: Callable[..., World]) -> None:
        start = datetime(2021, 6, 1, 12, 0, tzinfo=UTC)
        w = world(start)
        person = w.admit(SLV, start + H)
        w.set(start + D)
        w.legal.end_instrument("user:clerk", w.bases[person], "annulled", start + D)
        assert duty(w, person).basis_until == NO_BASIS
        (finding,) = found(w, start + 2 * D, "R6")
        assert finding.subject == person

    # --- held_in: the copy of whether (and where) an episode is held --------------------------------------------

    def test_held_in_follows_transfers_and_release(self, world: Callable[..., World]) -> None:
        start = datetime(2021, 6, 1, 12, 0, tzinfo=UTC)
        w = world(start)
        person = w.admit(SLV, start)
        assert duty(w, person).held_in == SLV
        w.transfer(person, start + H, start + 5 * H, to=INTL)
        assert duty(w, person).held_in == INTL
        assert [f.subject for f in found(w, start + 2 * D, "R7")] == [person]  # never told: held, in INTL
        w.set(start + 2 * D)
        w.reg.release("user:releases", person, start + 2 * D, **RELEASE)
        assert duty(w, person).held_in is None
        assert found(w, start + 3 * D, "R7") == []  # released: no longer checked
        assert [f.subject for f in found(w, start + D + H, "R7")] == []  # the register as it stands now

    # --- reconcile after a command reads only the alerts it can touch -----------------------------------------

    def test_a_corrected_admission_time_moves_the_duty_clocks(self, world: Callable[..., World]) -> None:
        # R10: the admission examination is due within 24 h of admission.  The admission was
        # recorded at 12:00 but happened 10 h earlier: the 24 h run from the corrected time.
        admitted = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
        w = world(admitted)
        person = w.admit(INTL, admitted, arrested=admitted - 20 * H)
        assert found(w, admitted + 24 * H - MIN, "R10") == []
        with w.engine.connect() as conn:
            event_id = conn.execute(
                text("SELECT event_id FROM events WHERE ledger_id = :l AND type = 'custody.admitted'"), {"l": w.ledger}
            ).scalar_one()
        w.set(admitted + H)
        earlier = {"occurred_at": format_instant(admitted - 10 * H)}
        w.reg.correct("user:records", event_id, earlier, "the intake clock was wrong", w.clock.now)
        assert duty(w, person).admitted_at == admitted - 10 * H
        assert found(w, admitted + 14 * H - MIN, "R10") == []  # boundary: 24 h after the corrected time
        assert [f.subject for f in found(w, admitted + 14 * H + MIN, "R10")] == [person]

    def test_a_command_for_one_person_leaves_other_alerts_alone(self, world: Callable[..., World]) -> None:
        start = datetime(2021, 6, 1, 12, 0, tzinfo=UTC)
        w = world(start)
        first = w.admit(SLV, start)
        second = w.admit(SLV, start)
        _, events = w.sweep(start + 2 * D)
        assert {e.payload["subject"] for e in events if e.payload.get("rule") == "R7"} == {first, second}
        w.notify(first, "rights_informed", start + 2 * D + H)  # late, but done: R7 resolved for first only
        assert w.open_alerts("R7", first) == []
        assert len(w.open_alerts("R7", second)) == 1


def test_the_law_key_is_the_same_in_every_process() -> None:
    """Stored deadlines are compared with the key of the policy in force: it may not depend on hash seeds."""
    script = "from habeas.policy.loader import load_policy; from habeas.projections.law import law_key; " + (
        "print(law_key(load_policy('slv')))"
    )
    keys = {
        subprocess.run(
            [sys.executable, "-c", script], env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True,
            text=True, check=True,
        ).stdout.strip()
        for seed in ("1", "2", "3")
    }  # fmt: skip
    assert keys == {law_key(SLV_POLICY)}


class TestStoredDeadlinesOnSQLite(StoredDeadlinesContract):
    @pytest.fixture
    def engine(self, sqlite_engine: Engine) -> Engine:
        return sqlite_engine


@pytest.mark.postgres
class TestStoredDeadlinesOnPostgreSQL(StoredDeadlinesContract):
    @pytest.fixture
    def engine(self, postgres_engine: Engine) -> Engine:
        return postgres_engine


# --- 0004: an upgrade from 0003 fills the new columns from the rows already there ------------------------------


def test_upgrade_from_0003_fills_the_copies(sqlite_engine: Engine) -> None:
    migrate.downgrade(sqlite_engine, "0003")
    ledger = "t-upgrade"
    with sqlite_engine.begin() as conn:
        columns = {r[1] for r in conn.exec_driver_sql("PRAGMA table_info(duties)")}
        assert "basis_until" not in columns and "admin_deadline" not in columns
        arrested = datetime(2021, 6, 1, tzinfo=UTC)
        conn.execute(
            text(
                "INSERT INTO duties (ledger_id, episode_id, person_id, admitted_at, arrested_at, foreign_national) "
                "VALUES (:l, 'e1', 'p1', :t, :t, 0)"
            ),
            {"l": ledger, "t": format_instant(arrested)},
        )
        rows = [
            ("i1", "arrest_record", arrested, arrested + 10 * D),
            ("i2", PD, arrested + D, None),
        ]
        for iid, kind, issued, expires in rows:
            conn.execute(
                text(
                    "INSERT INTO instruments (ledger_id, instrument_id, episode_id, person_id, kind, reference, "
                    "issued_by, issued_at, expires_at) VALUES (:l, :i, 'e1', 'p1', :k, :i, 'court', :t, :x)"
                ),
                {"l": ledger, "i": iid, "k": kind, "t": format_instant(issued),
                 "x": format_instant(expires) if expires else None},
            )  # fmt: skip
    migrate.upgrade(sqlite_engine)
    with sqlite_engine.connect() as conn:
        row = conn.execute(select(duties).where(duties.c.ledger_id == ledger)).one()
        assert (row.basis_until, row.basis_issued, row.admin_deadline) == (None, arrested + D, None)
        order = conn.execute(
            select(instruments).where(instruments.c.ledger_id == ledger, instruments.c.instrument_id == "i2")
        ).one()
        assert order.detained_from == arrested and order.limit_deadline is None
        first = conn.execute(
            select(instruments.c.detained_from).where(
                instruments.c.ledger_id == ledger, instruments.c.instrument_id == "i1"
            )
        ).scalar()
        assert first is None  # only provisional detention orders count from the start of detention
    with sqlite_engine.begin() as conn:  # the new columns take rows as the code writes them
        conn.execute(
            insert(instruments),
            [{"ledger_id": ledger, "instrument_id": "i3", "episode_id": "e1", "person_id": "p1", "kind": PD,
              "reference": "x", "issued_by": "court", "issued_at": arrested, "detained_from": arrested}],
        )  # fmt: skip
