"""Safeguards at the facility: counts, movements, space, orders, cases and sentences, on SQLite and PostgreSQL.

standards.md §6 (R1, R2, R13–R21, R23, R26, R28, R29), §2 (ICRC 3.4/5.4 m², CPT 4/6 m², Muršić 3 m²;
declared vs standards-based capacity).  Each rule is exercised as a breach, a non-breach and, where the
rule has one, at its exact boundary: a deadline is breached strictly after it, a space floor strictly
below it.  ``habeas.safeguards.sweep.find`` asks "what is wrong at this instant" without writing;
``sweep`` writes the differences as ``alert.raised`` / ``alert.resolved`` events, and a second sweep at
the same instant appends nothing.  The clock is moved with every command (``World.now``), so a command's
own re-check (services.safeguarding.after_command) runs at the time the command happens.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, select

from habeas.domain import custody as c
from habeas.domain import law
from habeas.domain.admission import Admission
from habeas.domain.facility import CellRegistered, FacilityRegistered, UnitRegistered
from habeas.domain.housing import HousingPolicy
from habeas.errors import Conflict, InvalidInput
from habeas.ledger.envelope import NewEvent, StoredEvent
from habeas.ledger.log import read_events, read_head
from habeas.safeguards.checks import Finding
from habeas.safeguards.sweep import SweepResult, find, sweep
from habeas.services import queries, state
from habeas.services.legal import LegalService
from habeas.services.register import RegisterService, parse_request
from habeas.services.unit_of_work import append_and_project
from habeas.store.law_tables import orders
from habeas.store.register_tables import alerts
from tests.conftest import at
from tests.register.support import Clock, admission, identity, service

RELEASE = {"authority": "Juzgado Primero de Paz", "order_reference": "ORD-1", "verified_by": "user:records",
           "handed_over_to": "Madre Sintetica", "health_check": "examined, fit"}  # fmt: skip
TRANSFER = {"destination": "Centro Penal de Apanteos", "receiving_authority": "DGCP", "authority": "Juzgado Primero",
            "order_reference": "T-9"}  # fmt: skip
DEPARTURE = {"purpose": "court", "destination": "Juzgado Primero de Paz", "authority": "Juzgado Primero",
             "escort": "Custodia 3"}  # fmt: skip
SETUP_AT = -9_000  # facilities are registered (and recorded) well before anything else happens


@dataclass
class CellSpec:
    cell_id: str
    area: str
    beds: int = 10
    single: bool = False


@dataclass
class World:
    """One ledger: the register and legal services on a settable clock, and ways to look at the safeguards."""

    engine: Engine
    ledger: str
    svc: RegisterService
    legal: LegalService
    clock: Clock

    def now(self, minutes: float) -> datetime:
        """Move the clock to ``at(minutes)`` and return it: the next command happens and is recorded then."""
        self.clock.now = at(minutes)
        return self.clock.now

    def facility(
        self,
        facility_id: str,
        units: dict[str, Sequence[CellSpec]],
        *,
        declared: dict[str, int] | None = None,
        jurisdiction: str = "intl",
    ) -> None:
        when = self.now(SETUP_AT)
        self.svc.register_facility(
            "user:director",
            FacilityRegistered(facility_id=facility_id, name=f"Facility {facility_id}", declared_capacity=1000,
                               responsible_authority="Prison Directorate", jurisdiction=jurisdiction,
                               place="Test Town"),
            [UnitRegistered(facility_id=facility_id, unit_id=u, name=u, declared_capacity=(declared or {}).get(u))
             for u in units],
            [CellRegistered(facility_id=facility_id, unit_id=u, cell_id=x.cell_id, beds=x.beds,
                            floor_area_m2=Decimal(x.area), single=x.single)
             for u, specs in units.items() for x in specs],
            when,
        )  # fmt: skip

    def admit(self, minutes: float, facility_id: str = "fac1", **overrides: Any) -> str:
        self.now(minutes)
        return self.svc.admit("user:intake", admission(minutes, facility_id=facility_id, **overrides)).person_id

    def admit_many(self, n: int, minutes: float, facility_id: str = "fac1", **overrides: Any) -> list[str]:
        self.now(minutes)
        requests = [admission(minutes, facility_id=facility_id, **overrides) for _ in range(n)]
        return [a.person_id for a in self.svc.admit_many("user:intake", requests)]

    def find(self, minutes: float, *rules: str) -> list[Finding]:
        with self.engine.connect() as conn:
            found = find(conn, self.ledger, at(minutes))
        return [f for f in found if not rules or f.rule in rules]

    def found(self, minutes: float, *rules: str) -> set[tuple[str, str]]:
        return {(f.rule, f.subject) for f in self.find(minutes, *rules)}

    def sweep(self, minutes: float) -> SweepResult:
        return sweep(self.engine, self.ledger, at(minutes), self.now(minutes))

    def size(self) -> int:
        with self.engine.connect() as conn:
            return read_head(conn, self.ledger).size

    def alerts(self, *rules: str, open_only: bool = False) -> list[Any]:
        query = select(alerts).where(alerts.c.ledger_id == self.ledger).order_by(alerts.c.raised_seq)
        if rules:
            query = query.where(alerts.c.rule.in_(rules))
        if open_only:
            query = query.where(alerts.c.resolved_at.is_(None))
        with self.engine.connect() as conn:
            return list(conn.execute(query))

    def events(self, *types: str, after_seq: int = 0) -> list[StoredEvent]:
        with self.engine.connect() as conn:
            return list(read_events(conn, self.ledger, types=types, after_seq=after_seq))

    def timeline(self, person_id: str, *types: str) -> list[StoredEvent]:
        with self.engine.connect() as conn:
            return [e for e in queries.timeline(conn, self.ledger, person_id) if not types or e.type in types]

    def refused(self, error: type[Exception], call: Callable[[], Any], match: str | None = None) -> Any:
        """The command is refused with ``error`` (message matching) and nothing is appended."""
        before = self.size()
        with pytest.raises(error, match=match) as caught:
            call()
        assert self.size() == before, "a refused command appended events"
        return caught.value


def payload(event: StoredEvent) -> dict[str, Any]:
    return event.payload


def new_world(engine: Engine, ledger_id: str) -> World:
    """A register and legal service on a fresh ledger, sharing one test clock."""
    svc, clock = service(engine, ledger_id)
    return World(engine, ledger_id, svc, LegalService(engine, ledger_id, clock), clock)


def small(world: World, *, beds: int = 10, area: str = "100") -> list[str]:
    """fac1 with units fac1-U1 (cells C1, C2) and fac1-U2 (cell C3); returns the cell ids."""
    world.facility("fac1", {"fac1-U1": [CellSpec("C1", area, beds), CellSpec("C2", area, beds)],
                            "fac1-U2": [CellSpec("C3", area, beds)]})  # fmt: skip
    return ["C1", "C2", "C3"]


class FacilityRulesContract:
    @pytest.fixture
    def engine(self) -> Engine:
        raise NotImplementedError

    @pytest.fixture
    def world(self, engine: Engine, ledger_id: str) -> World:
        return new_world(engine, ledger_id)

    # --- R1, R13: the roll call ------------------------------------------------------------------

    def test_roll_call_raises_r13_for_the_missing_and_r1_for_the_extra(self, world: World) -> None:
        small(world)
        people = world.admit_many(3, 0)
        world.now(10)
        world.svc.place_many("user:officer", [(p, "C1") for p in people], at(10))
        world.now(20)
        record = world.svc.record_count("user:officer", "fac1-U1", [people[0], people[1], "stranger-1"], at(20))
        assert (record.expected, record.missing, record.extra) == (3, (people[2],), ("stranger-1",))
        raised = {(a.rule, a.subject): a for a in world.alerts("R1", "R13")}
        assert set(raised) == {("R13", people[2]), ("R1", "stranger-1")}
        for alert in raised.values():
            assert alert.severity == "critical" and orjson.loads(alert.refs) == [f"count:{record.count_id}"]
        assert "not seen at the count" in raised[("R13", people[2])].message
        assert "not on its register" in raised[("R1", "stranger-1")].message
        # Everyone present, nobody extra: a count that raises nothing.
        world.now(30)
        before = len(world.alerts())
        clean = world.svc.record_count("user:officer", "fac1-U1", people, at(30))
        assert (clean.missing, clean.extra) == ((), ())
        assert len(world.alerts()) == before

    def test_roll_call_expects_who_the_register_places_in_the_unit_at_that_instant(self, world: World) -> None:
        small(world)
        a, b = world.admit_many(2, 0)
        world.now(10)
        world.svc.place_many("u", [(a, "C1"), (b, "C2")], at(10))
        world.now(30)
        world.svc.place("u", b, "C3", at(30), reason="moved to unit 2")  # leaves fac1-U1 at 30 exactly
        world.now(40)
        before = world.svc.record_count("u", "fac1-U1", [a, b], at(29))  # still in U1 a minute before the move
        assert (before.expected, before.missing, before.extra) == (2, (), ())
        moved = world.svc.record_count("u", "fac1-U1", [a, b], at(30))  # at the move: in U2, extra in U1
        assert (moved.expected, moved.missing, moved.extra) == (1, (), (b,))
        other = world.svc.record_count("u", "fac1-U2", [], at(30))
        assert other.missing == (b,)
        assert {(r.rule, r.subject) for r in world.alerts("R1", "R13")} == {("R1", b), ("R13", b)}

    def test_the_sweep_leaves_an_r1_alert_of_a_count_open(self, world: World) -> None:
        small(world)
        (a,) = world.admit_many(1, 0)
        world.now(10)
        world.svc.place("u", a, "C1", at(10))
        world.now(20)
        world.svc.record_count("u", "fac1-U1", [a, "stranger-1"], at(20))
        world.sweep(30)
        assert [(r.rule, r.subject) for r in world.alerts("R1", open_only=True)] == [("R1", "stranger-1")]

    @pytest.mark.parametrize("then", ["sweep", "command"])
    def test_an_r13_alert_of_a_count_stays_open_until_a_person_closes_it(self, world: World, then: str) -> None:
        small(world)
        a, b = world.admit_many(2, 0)
        world.now(10)
        world.svc.place_many("u", [(a, "C1"), (b, "C1")], at(10))
        world.now(20)
        world.svc.record_count("u", "fac1-U1", [a], at(20))  # b not seen
        assert [(r.rule, r.subject) for r in world.alerts("R13", open_only=True)] == [("R13", b)]
        if then == "sweep":
            world.sweep(30)
        else:  # any command about b re-checks b's alerts in its transaction
            world.now(30)
            world.svc.classify("u", b, {"risk_level": "low"}, at(30))
        # Nobody has accounted for b: the alert must stay open until a person closes it.
        assert [(r.rule, r.subject) for r in world.alerts("R13", open_only=True)] == [("R13", b)]

    # --- R13: overdue movements -----------------------------------------------------------------

    def test_overdue_return_from_court(self, world: World) -> None:
        small(world)
        (a,) = world.admit_many(1, 0)
        world.now(10)
        world.svc.place("u", a, "C1", at(10))
        world.now(20)
        world.svc.depart("u", a, at(20), expected_return=at(300), **DEPARTURE)
        assert world.alerts("R13") == []
        assert world.find(300, "R13") == []  # exactly at the expected return: not yet overdue
        (late,) = world.find(301, "R13")
        assert (late.subject, late.rule) == (a, "R13")
        assert "not back from Juzgado Primero de Paz" in late.message and "2025-03-16T03:04" in late.message
        first = world.sweep(301)
        assert (first.raised, first.resolved) == (1, 0)
        size = world.size()
        again = world.sweep(301)  # idempotent: the open alert is not raised twice
        assert (again.raised, again.resolved) == (0, 0) and world.size() == size
        (alert,) = world.alerts("R13", open_only=True)
        assert (alert.subject, alert.severity) == (a, "critical")
        world.now(320)
        world.svc.return_to_cell("u", a, at(320), received_by="user:gate")
        (alert,) = world.alerts("R13")
        assert alert.resolved_at == at(320)  # the return command itself resolves it
        assert world.find(330, "R13") == []

    def test_overdue_transit_arrival(self, world: World) -> None:
        small(world)
        world.facility("fac2", {"fac2-U1": [CellSpec("D1", "100")]})
        (a,) = world.admit_many(1, 0)
        world.now(10)
        world.svc.start_transit("u", a, at(10), destination_facility_id="fac2", authority="DGCP",
                                escort="Custodia 1", deadline=at(200))  # fmt: skip
        assert world.find(200, "R13") == []
        (late,) = world.find(201, "R13")
        assert late.subject == a and "not arrived at fac2" in late.message
        seq = world.size()
        assert world.sweep(201).raised == 1
        (raised,) = world.events("alert.raised", after_seq=seq)
        assert payload(raised)["rule"] == "R13" and payload(raised)["subject"] == a
        world.now(250)
        world.svc.arrive("u", a, "fac2", "user:gate-2", at(250))
        (resolved,) = world.events("alert.resolved", after_seq=seq)
        assert payload(resolved)["alert_id"] == payload(raised)["alert_id"]
        assert world.sweep(260).raised == 0

    # --- R16, R17, R18: space per person ------------------------------------------------------------

    # (cell, area, people, single, the one rule expected or None)
    SPACE = (
        ("S-16", "16", 4, False, None),  # 4.00 m² each: the CPT figure exactly
        ("S-15.96", "15.96", 4, False, "R17"),  # 3.99 < 4
        ("S-13.6", "13.6", 4, False, "R17"),  # 3.40: the ICRC figure exactly, still below CPT
        ("S-13.56", "13.56", 4, False, "R16"),  # 3.39 < 3.4
        ("S-12", "12", 4, False, "R16"),  # 3.00: the Muršić floor exactly, not below it
        ("S-11.96", "11.96", 4, False, "R18"),  # 2.99 < 3: only the gravest
        ("S-8", "8", 4, False, "R18"),  # 2.00
        ("1-6", "6", 1, True, None),  # single cell, CPT 6 m² exactly
        ("1-5.99", "5.99", 1, True, "R17"),
        ("1-5.4", "5.4", 1, True, "R17"),  # ICRC 5.4 m² exactly
        ("1-5.39", "5.39", 1, True, "R16"),
        ("1-3", "3", 1, True, "R16"),
        ("1-2.9", "2.9", 1, True, "R18"),
        ("E-1", "1", 0, False, None),  # empty: no finding however small
    )

    def test_space_per_person_raises_only_the_gravest_of_r16_r17_r18(self, world: World) -> None:
        world.facility("fac1", {"fac1-U1": [CellSpec(cid, area, beds=4, single=single)
                                            for cid, area, _, single, _ in self.SPACE]})  # fmt: skip
        people = iter(world.admit_many(sum(n for _, _, n, _, _ in self.SPACE), 0))
        world.now(10)
        world.svc.place_many("u", [(next(people), cid) for cid, _, n, _, _ in self.SPACE for _ in range(n)], at(10))
        space = {f.subject: f for f in world.find(11, "R16", "R17", "R18")}
        assert len(space) == len(world.find(11, "R16", "R17", "R18")), "more than one space rule for a cell"
        assert {cid: (space[cid].rule if cid in space else None) for cid, *_ in self.SPACE} == {
            cid: rule for cid, *_, rule in self.SPACE
        }
        assert "4 people in 11.96 m²: 2.99 m² each" in space["S-11.96"].message
        assert world.found(11, "R19") == set()  # 4 beds each: nobody without a bed

    def test_space_alerts_follow_the_cell_as_people_move(self, world: World) -> None:
        world.facility("fac1", {"fac1-U1": [CellSpec("C1", "11.96", beds=4), CellSpec("C2", "100")]})
        people = world.admit_many(4, 0)
        world.now(10)
        world.svc.place_many("u", [(p, "C1") for p in people], at(10))
        # The placing command re-checked the cell in its own transaction.
        assert [(a.rule, a.subject, a.severity) for a in world.alerts("R16", "R17", "R18", open_only=True)] == [
            ("R18", "C1", "critical")
        ]
        result = world.sweep(20)
        assert result.raised == 0 and result.findings["R18"] == 1  # already open: nothing new
        world.now(30)
        world.svc.place("u", people[0], "C2", at(30), reason="decongest")  # 3 in 11.96 m²: 3.99 m² each
        assert [(a.rule, a.severity) for a in world.alerts("R16", "R17", "R18", open_only=True)] == [("R17", "medium")]
        (r18,) = world.alerts("R18")
        assert r18.resolved_at == at(30)
        size = world.size()
        assert (world.sweep(40).raised, world.sweep(40).resolved, world.size()) == (0, 0, size)

    def test_a_release_from_a_crowded_cell_re_checks_the_cell(self, world: World) -> None:
        world.facility("fac1", {"fac1-U1": [CellSpec("C1", "11.96", beds=4)]})
        people = world.admit_many(4, 0)
        world.now(10)
        world.svc.place_many("u", [(p, "C1") for p in people], at(10))
        world.now(30)
        world.svc.release("u", people[0], at(30), **RELEASE)  # 3 in 11.96 m²: 3.99 m² each
        assert [a.rule for a in world.alerts("R16", "R17", "R18", open_only=True)] == ["R17"]

    # --- R19: beds ------------------------------------------------------------------------------

    def test_placement_beyond_the_beds_is_refused_even_with_an_override(self, world: World) -> None:
        small(world, beds=2)
        a, b, x = world.admit_many(3, 0)
        world.now(10)
        world.svc.place_many("u", [(a, "C1"), (b, "C1")], at(10))  # occupants == beds: allowed
        assert world.found(11, "R19") == set()
        world.now(20)
        world.refused(Conflict, lambda: world.svc.place("u", x, "C1", at(20)), "no free bed")
        world.refused(Conflict, lambda: world.svc.place("u", x, "C1", at(20), override_reason="overflow"),
                      "no free bed")  # fmt: skip

    def test_the_sweep_finds_more_occupants_than_beds(self, world: World) -> None:
        # No command can reach this state (placement refuses it); an import that appends events directly can.
        small(world, beds=2)
        a, b, x = world.admit_many(3, 0)
        world.now(10)
        world.svc.place_many("u", [(a, "C1"), (b, "C1")], at(10))
        with world.engine.connect() as conn:
            episode = state.require_open_episode(conn, world.ledger, x)
        placed = c.CustodyPlaced(episode_id=episode.episode_id, person_id=x, cell_id="C1", unit_id="fac1-U1")
        append_and_project(world.engine, world.ledger, [NewEvent("custody.placed", placed, at(15), "import",
                                                                 uuid.uuid4())], at(15))  # fmt: skip
        (finding,) = world.find(16, "R19")
        assert (finding.subject, finding.message) == ("C1", "3 occupants for 2 beds")
        assert world.sweep(16).raised >= 1
        (alert,) = world.alerts("R19", open_only=True)
        assert (alert.subject, alert.severity) == ("C1", "high")
        world.now(20)
        world.svc.release("u", x, at(20), **RELEASE)  # back to 2 for 2 beds: the release re-checks the cell it left
        assert world.alerts("R19", open_only=True) == []
        assert world.sweep(21).resolved == 0

    # --- R20: declared vs standards-based capacity -------------------------------------------------

    def test_capacity_reports_declared_and_standards_based_apart(self, world: World) -> None:
        # fac1-U1: declared 4; one 12 m² cell: ICRC standards-based capacity int(12 / 3.4) = 3.
        # fac1-U2: declared 2; one 100 m² cell: standards-based 29.
        world.facility("fac1", {"fac1-U1": [CellSpec("C1", "12")], "fac1-U2": [CellSpec("C3", "100")]},
                       declared={"fac1-U1": 4, "fac1-U2": 2})  # fmt: skip
        people = world.admit_many(8, 0)
        world.now(10)
        world.svc.place_many("u", [(p, "C1") for p in people[:3]] + [(p, "C3") for p in people[5:]], at(10))
        r20 = {f.subject: f.message for f in world.find(11, "R20")}
        assert set(r20) == {"fac1-U2"}  # U1 at 3 = its standards-based capacity: no finding
        assert r20["fac1-U2"] == "3 people: above its declared capacity of 2"
        world.now(20)
        world.svc.place("u", people[3], "C1", at(20))  # 4: at declared, above standards-based
        assert {f.subject: f.message for f in world.find(21, "R20")}["fac1-U1"] == (
            "4 people: above its standards-based capacity of 3"
        )
        world.now(30)
        world.svc.place("u", people[4], "C1", at(30))  # 5: above both, both reported
        assert {f.subject: f.message for f in world.find(31, "R20")}["fac1-U1"] == (
            "5 people: above its declared capacity of 4 and above its standards-based capacity of 3"
        )
        world.sweep(31)
        assert {(a.subject, a.severity) for a in world.alerts("R20", open_only=True)} == {
            ("fac1-U1", "high"),
            ("fac1-U2", "high"),
        }

    def test_a_closed_cell_gives_no_standards_based_capacity(self, world: World) -> None:
        # Two 6.8 m² cells: 2 + 2 by ICRC.  Three people fit the unit until the empty cell closes.
        world.facility("fac1", {"fac1-U1": [CellSpec("C1", "6.8"), CellSpec("C2", "6.8")]})
        people = world.admit_many(3, 0)
        world.now(10)
        world.svc.place_many("u", [(p, "C1") for p in people], at(10))
        assert world.found(11, "R20") == set()
        world.now(20)
        world.svc.set_cell_service("u", "C2", False, "flooded", at(20))
        (finding,) = world.find(21, "R20")
        assert finding.message == "3 people: above its standards-based capacity of 2"

    # --- R21: untried with convicted ---------------------------------------------------------------

    def test_untried_with_convicted_needs_an_override_which_is_the_recorded_justification(self, world: World) -> None:
        small(world)
        untried, other = world.admit_many(2, 0)
        convicted = world.admit(1, legal_status="convicted")
        world.now(10)
        world.svc.place_many("u", [(untried, "C1"), (other, "C1"), (convicted, "C2")], at(10))
        assert world.found(11, "R21") == set()  # two untried together; the convicted apart
        world.now(20)
        world.refused(Conflict, lambda: world.svc.place("u", convicted, "C1", at(20)), r"MR 11\(b\)")
        # R21: "without recorded justification" -- an override's reason is that justification.
        world.svc.place("u", convicted, "C1", at(20), override_reason="protective custody, order 7")
        assert world.found(21, "R21") == set()
        assert world.alerts("R21") == []

    def test_an_unjustified_mix_is_reported_and_resolves_when_it_ends(self, world: World) -> None:
        small(world)
        untried = world.admit(0)
        convicted = world.admit(1, legal_status="convicted")
        lax = RegisterService(world.engine, world.ledger, world.clock, HousingPolicy(separate_legal_status=False))
        world.now(10)
        lax.place_many("u", [(untried, "C1"), (convicted, "C1")], at(10))  # no override needed, none recorded
        (alert,) = world.alerts("R21")  # raised by the placing command itself
        assert (alert.subject, alert.severity, alert.resolved_at) == ("C1", "medium", None)
        world.now(30)
        lax.place("u", convicted, "C3", at(30), reason="separated")
        (alert,) = world.alerts("R21")
        assert alert.resolved_at == at(30)

    def test_untried_with_convicted_is_found_where_the_housing_policy_allows_it(self, world: World) -> None:
        small(world)
        untried = world.admit(0)
        convicted = world.admit(1, legal_status="convicted")
        lax = RegisterService(world.engine, world.ledger, world.clock, HousingPolicy(separate_legal_status=False))
        world.now(10)
        lax.place_many("u", [(untried, "C1"), (convicted, "C1")], at(10))  # no override needed, none recorded
        assert world.found(11, "R21") == {("R21", "C1")}

    # --- R23: back-dating ---------------------------------------------------------------------------

    @pytest.mark.parametrize(
        ("delay", "flagged"),
        [(timedelta(hours=71), False), (timedelta(hours=72), False), (timedelta(hours=72, minutes=1), True)],
        ids=["71h", "72h", "72h01"],
    )
    def test_an_entry_recorded_long_after_it_happened(self, world: World, delay: timedelta, flagged: bool) -> None:
        small(world)
        (a,) = world.admit_many(1, 0)
        world.clock.now = at(10) + delay
        world.svc.place("user:late", a, "C1", at(10))
        (placed,) = world.timeline(a, "custody.placed")
        raised = world.alerts("R23")
        if not flagged:
            assert raised == []
            return
        (alert,) = raised
        assert (alert.subject, orjson.loads(alert.refs), alert.severity) == (
            placed.event_id,
            [placed.event_id],
            "critical",
        )
        assert alert.message.startswith("custody.placed recorded 3 days 0 h after it happened")
        assert "2025-03-15T22:14" in alert.message and "by user:late" in alert.message

    # --- R26: court orders --------------------------------------------------------------------------

    @pytest.mark.parametrize(
        ("court", "state"),
        [("Juzgado Segundo de Paz de Tecoluca", "SLV"), ("U.S. District Court for the District of Columbia", "USA")],
        ids=["own", "foreign"],
    )
    def test_an_active_no_transfer_order_refuses_transfers(self, world: World, court: str, state: str) -> None:
        small(world)
        world.facility("fac2", {"fac2-U1": [CellSpec("D1", "100")]})
        (a,) = world.admit_many(1, 0)
        world.now(10)
        world.legal.issue_order("user:clerk", law.OrderIssued(
            order_id="nt-1", person_id=a, kind="no_transfer", court=court, court_state=state, reference="NT-2025-1",
            issued_at=at(5)), at(10))  # fmt: skip
        world.now(20)
        for call in (
            lambda: world.svc.transfer_out("u", a, at(20), **TRANSFER),
            lambda: world.svc.start_transit("u", a, at(20), destination_facility_id="fac2", authority="DGCP",
                                            escort="Custodia 1", deadline=at(200)),
        ):  # fmt: skip
            error = world.refused(Conflict, call, "R26")
            assert error.field == "person_id"
            assert "order id nt-1" in error.rule and court in error.rule and f"({state})" in error.rule
            assert "no-transfer order NT-2025-1" in error.rule
        world.now(30)
        world.legal.lift_order("user:clerk", "nt-1", court, "appeal decided", at(30))
        world.now(40)
        world.svc.transfer_out("u", a, at(40), **TRANSFER)  # no longer refused
        with world.engine.connect() as conn:
            assert queries.where_at(conn, world.ledger, a, at(41)).status == "transferred"  # type: ignore[union-attr]

    def test_a_release_order_is_found_after_its_deadline_and_executed_by_the_release(self, world: World) -> None:
        small(world)
        a, b = world.admit_many(2, 0)
        world.now(10)
        world.legal.issue_order("user:clerk", law.OrderIssued(
            order_id="rel-1", person_id=a, kind="release", court="Juzgado Primero de Paz", court_state="SLV",
            reference="LIB-7", issued_at=at(5), deadline=at(100)), at(10))  # fmt: skip
        assert world.find(100, "R26") == []  # at the deadline: not yet late
        (late,) = world.find(101, "R26")
        assert (late.subject, late.refs) == ("rel-1", ("rel-1", a))
        assert "release order LIB-7 of Juzgado Primero de Paz (SLV)" in late.message and a in late.message
        seq = world.size()
        assert world.sweep(101).raised == 1
        (raised,) = world.events("alert.raised", after_seq=seq)
        assert (payload(raised)["rule"], payload(raised)["subject"], payload(raised)["severity"]) == (
            "R26", "rel-1", "critical")  # fmt: skip
        assert world.sweep(101).raised == 0
        world.now(120)
        world.svc.release("u", b, at(120), **RELEASE)  # someone else's release executes nothing
        world.now(130)
        world.svc.release("u", a, at(130), **RELEASE)
        (released,) = world.timeline(a, "custody.released")
        (executed,) = world.timeline(a, "order.executed")
        assert payload(executed)["order_id"] == "rel-1"
        assert payload(executed)["execution_event_id"] == released.event_id
        with world.engine.connect() as conn:
            status = conn.execute(select(orders.c.status).where(orders.c.ledger_id == world.ledger)).scalar_one()
        assert status == "executed"
        assert world.find(131, "R26") == []
        (resolved,) = world.events("alert.resolved", after_seq=seq)  # by the release itself
        assert world.sweep(140).resolved == 0
        assert payload(resolved)["alert_id"] == payload(raised)["alert_id"]
        assert world.alerts("R26", open_only=True) == []

    def test_the_release_itself_resolves_the_overdue_order_alert(self, world: World) -> None:
        small(world)
        (a,) = world.admit_many(1, 0)
        world.now(10)
        world.legal.issue_order("user:clerk", law.OrderIssued(
            order_id="rel-1", person_id=a, kind="release", court="Juzgado Primero de Paz", court_state="SLV",
            reference="LIB-7", issued_at=at(5), deadline=at(100)), at(10))  # fmt: skip
        world.sweep(101)
        world.now(130)
        world.svc.release("u", a, at(130), **RELEASE)
        assert world.alerts("R26", open_only=True) == []

    def test_an_order_recorded_after_its_deadline_is_raised_by_the_recording_command(self, world: World) -> None:
        small(world)
        (a,) = world.admit_many(1, 0)
        world.now(200)
        world.legal.issue_order("user:clerk", law.OrderIssued(
            order_id="ret-1", person_id=a, kind="return", court="U.S. District Court for the District of Maryland",
            court_state="USA", reference="8:25-cv-00951", issued_at=at(5), deadline=at(100), place="USA"),
            at(200))  # fmt: skip
        (alert,) = world.alerts("R26")
        assert (alert.subject, alert.severity) == ("ret-1", "critical")
        assert "(USA)" in alert.message

    # --- R28: group cases ---------------------------------------------------------------------------

    def test_group_case_defendants_need_an_individual_hearing_and_counsel(self, world: World) -> None:
        small(world)
        p0, p1, p2, alone = world.admit_many(4, 0)
        world.now(10)
        world.legal.open_case("user:clerk", law.CaseOpened(case_id="gc-1", court="Tribunal Contra el Crimen Organizado",
                                                          reference="GC-803-1", group_case=True),
                              [p0, p1, p2], at(10), counsel={p1: "Defensora Pública 4"})  # fmt: skip
        world.legal.open_case("user:clerk", law.CaseOpened(case_id="ind-1", court="Juzgado Primero",
                                                          reference="IND-1"), [alone], at(10))  # fmt: skip
        r28 = {f.subject: f.message for f in world.find(11, "R28")}
        assert set(r28) == {f"gc-1:{p}" for p in (p0, p1, p2)}  # the individual case never raises R28
        assert "counsel" in r28[f"gc-1:{p0}"] and "hearing" in r28[f"gc-1:{p0}"]
        assert "hearing" in r28[f"gc-1:{p1}"] and "counsel" not in r28[f"gc-1:{p1}"]
        # open_case re-checked its defendants in its own transaction: the three alerts are already open.
        assert {(a.subject, a.severity) for a in world.alerts("R28", open_only=True)} == {
            (f"gc-1:{p}", "medium") for p in (p0, p1, p2)
        }
        seq = world.size()
        assert world.sweep(11).raised == 0
        world.now(20)
        world.legal.record_hearing("user:clerk", law.HearingRecorded(
            case_id="gc-1", hearing_id="h-1", person_id=p1, kind="review", counsel="Defensora Pública 4",
            outcome="detention reviewed"), at(20))  # fmt: skip
        world.legal.record_hearing("user:clerk", law.HearingRecorded(
            case_id="gc-1", hearing_id="h-2", person_id=p0, kind="review", outcome="detention reviewed"),
            at(20))  # fmt: skip
        world.legal.record_hearing("user:clerk", law.HearingRecorded(
            case_id="gc-1", hearing_id="h-3", person_id=p2, kind="review", counsel="Abogado Particular",
            outcome="detention reviewed"), at(20))  # fmt: skip
        r28 = {f.subject: f.message for f in world.find(21, "R28")}
        assert set(r28) == {f"gc-1:{p0}"}  # a hearing without counsel still lacks counsel
        assert "counsel" in r28[f"gc-1:{p0}"] and "hearing" not in r28[f"gc-1:{p0}"]
        result = world.sweep(30)
        assert (result.raised, result.resolved) == (0, 0)  # each hearing resolved its own defendant's alert
        resolved = {payload(e)["alert_id"] for e in world.events("alert.resolved", after_seq=seq)}
        still = {a.alert_id for a in world.alerts("R28", open_only=True)}
        assert len(resolved) == 2 and len(still) == 1 and not resolved & still

    def test_the_hearing_itself_resolves_the_group_case_alert(self, world: World) -> None:
        small(world)
        (p,) = world.admit_many(1, 0)
        world.now(10)
        world.legal.open_case("user:clerk", law.CaseOpened(case_id="gc-1", court="Tribunal", reference="GC-1",
                                                          group_case=True), [p], at(10))  # fmt: skip
        assert len(world.alerts("R28", open_only=True)) == 1  # raised by open_case itself
        world.now(20)
        world.legal.record_hearing("user:clerk", law.HearingRecorded(
            case_id="gc-1", hearing_id="h-1", person_id=p, kind="review", counsel="Defensora Pública 4",
            outcome="reviewed"), at(20))  # fmt: skip
        assert world.alerts("R28", open_only=True) == []

    # --- R29: aggregate sentences; Penal Code 45 -----------------------------------------------------

    def _sentencing(self, world: World) -> list[str]:
        world.facility("slv1", {"slv1-U1": [CellSpec("K1", "100")]}, jurisdiction="slv")
        people = world.admit_many(4, 0, facility_id="slv1")
        world.now(10)
        world.legal.open_case("user:clerk", law.CaseOpened(case_id="gc-1", court="Tribunal de Sentencia",
                                                          reference="GC-345"), people, at(10))  # fmt: skip
        return people

    @staticmethod
    def sentence(sentence_id: str, person: str, *terms: law.TermPayload) -> law.SentenceRecorded:
        return law.SentenceRecorded(
            sentence_id=sentence_id, case_id="gc-1", person_id=person, court="Tribunal de Sentencia",
            sentenced_on=date(2025, 3, 15),
            counts=[law.CountPayload(count_id=f"{sentence_id}-{i}", offence="agrupaciones ilícitas", article="CP 345",
                                     term=term) for i, term in enumerate(terms)],
        )  # fmt: skip

    def test_an_aggregate_beyond_any_enforceable_term_gives_an_info_alert(self, world: World) -> None:
        many, sixty, sixty_one, one = self._sentencing(world)
        world.now(20)
        calc = world.legal.record_sentence("u", self.sentence("s-many", many, *[law.TermPayload(years=20)] * 10),
                                           at(20))  # fmt: skip
        assert any(w.startswith("R29") for w in calc.warnings)
        world.legal.record_sentence("u", self.sentence("s-60", sixty, *[law.TermPayload(years=20)] * 3), at(20))
        world.legal.record_sentence("u", self.sentence("s-61", sixty_one, *[law.TermPayload(years=20)] * 3,
                                                       law.TermPayload(years=1)), at(20))  # fmt: skip
        world.legal.record_sentence("u", self.sentence("s-1", one, law.TermPayload(years=20)), at(20))
        r29 = {f.subject: f.message for f in world.find(21, "R29")}
        assert set(r29) == {"s-many", "s-61"}  # 60 years exactly is within Penal Code 45
        assert "announced aggregate 200 years" in r29["s-many"] and many in r29["s-many"]
        # Each recording command raised its own alert, at info severity.
        assert {(a.subject, a.severity) for a in world.alerts("R29")} == {("s-many", "info"), ("s-61", "info")}
        assert world.sweep(30).raised == 0

    @pytest.mark.parametrize(
        ("term", "accepted"),
        [(law.TermPayload(years=61), False), (law.TermPayload(years=60, days=1), False),
         (law.TermPayload(months=5), False), (law.TermPayload(years=60), True), (law.TermPayload(months=6), True)],
        ids=["61y", "60y1d", "5m", "60y", "6m"],
    )  # fmt: skip
    def test_a_count_outside_penal_code_45_is_refused(
        self, world: World, term: law.TermPayload, accepted: bool
    ) -> None:
        person, *_ = self._sentencing(world)
        world.now(20)
        sentence = self.sentence("s-1", person, law.TermPayload(years=20), term)
        if accepted:
            world.legal.record_sentence("u", sentence, at(20))
            return
        error = world.refused(InvalidInput, lambda: world.legal.record_sentence("u", sentence, at(20)), "art. 45")
        assert [p.field for p in error.problems] == ["counts[1].term"]

    # --- R2, R14, R15: what the commands' schemas refuse ------------------------------------------------

    @pytest.mark.parametrize(
        ("drop", "field"),
        [("legal_basis", "legal_basis"), ("legal_basis.issued_by", "legal_basis.issued_by"),
         ("legal_basis.reference", "legal_basis.reference"), ("legal_basis.kind", "legal_basis.kind")],
    )  # fmt: skip
    def test_admission_without_a_legal_basis_is_refused(self, world: World, drop: str, field: str) -> None:
        small(world)
        world.now(0)
        data = admission(0).model_dump()
        *path, last = drop.split(".")
        node = data
        for key in path:
            node = node[key]
        del node[last]
        error = world.refused(InvalidInput, lambda: world.svc.admit("u", parse_request(Admission, data)))
        assert field in [p.field for p in error.problems]

    def test_admission_on_an_expired_legal_basis_is_refused(self, world: World) -> None:
        small(world)
        world.now(0)
        basis = admission(0).legal_basis.model_copy(update={"kind": "judicial_order", "expires_at": at(0)})
        error = world.refused(InvalidInput, lambda: world.svc.admit("u", admission(0, legal_basis=basis)), "R2")
        assert [p.field for p in error.problems] == ["legal_basis.expires_at"]
        later = admission(0).legal_basis.model_copy(update={"expires_at": at(1)})  # a minute of validity is enough
        world.svc.admit("u", admission(0, legal_basis=later, identity=identity()))

    MISSING = (
        ("transfer_out", "destination"), ("transfer_out", "receiving_authority"), ("transfer_out", "authority"),
        ("start_transit", "escort"), ("start_transit", "authority"), ("start_transit", "deadline"),
        ("release", "verified_by"), ("release", "handed_over_to"), ("release", "health_check"),
        ("release", "order_reference"),
    )  # fmt: skip

    def _movement(self, world: World, command: str, field: str, blank: bool) -> tuple[Callable[[], Any], str]:
        small(world)
        world.facility("fac2", {"fac2-U1": [CellSpec("D1", "100")]})
        (a,) = world.admit_many(1, 0)
        world.now(10)
        complete: dict[str, dict[str, Any]] = {
            "transfer_out": TRANSFER,
            "start_transit": {"destination_facility_id": "fac2", "authority": "DGCP", "escort": "Custodia 1",
                              "deadline": at(200)},
            "release": RELEASE,
        }  # fmt: skip
        details = dict(complete[command])
        if blank:
            details[field] = " "
        else:
            del details[field]
        return (lambda: getattr(world.svc, command)("u", a, at(10), **details)), a

    @pytest.mark.parametrize(("command", "field"), MISSING)
    def test_a_movement_missing_a_required_fact_is_refused_and_appends_nothing(
        self, world: World, command: str, field: str
    ) -> None:
        call, person = self._movement(world, command, field, blank=False)
        world.refused(Exception, call)
        with world.engine.connect() as conn:
            assert queries.where_at(conn, world.ledger, person, at(11)).status == "admitted"  # type: ignore[union-attr]

    @pytest.mark.parametrize(
        ("command", "field"),
        [("transfer_out", "destination"), ("start_transit", "escort"), ("start_transit", "deadline"),
         ("release", "verified_by")],
    )  # fmt: skip
    def test_a_movement_missing_a_required_fact_is_refused_naming_the_field(
        self, world: World, command: str, field: str
    ) -> None:
        call, _ = self._movement(world, command, field, blank=False)
        error = world.refused(InvalidInput, call)
        assert field in [p.field for p in error.problems]

    @pytest.mark.parametrize(
        ("command", "field"),
        [("release", "handed_over_to"), ("transfer_out", "authority")],
    )  # fmt: skip
    def test_a_movement_with_a_blank_required_fact_is_refused_naming_the_field(
        self, world: World, command: str, field: str
    ) -> None:
        call, _ = self._movement(world, command, field, blank=True)
        error = world.refused(InvalidInput, call)
        assert field in [p.field for p in error.problems]


class TestFacilityRulesOnSQLite(FacilityRulesContract):
    @pytest.fixture
    def engine(self, sqlite_engine: Engine) -> Engine:
        return sqlite_engine


@pytest.mark.postgres
class TestFacilityRulesOnPostgreSQL(FacilityRulesContract):
    @pytest.fixture
    def engine(self, postgres_engine: Engine) -> Engine:
        return postgres_engine
