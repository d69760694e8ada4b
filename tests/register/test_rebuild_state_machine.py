"""Architecture invariant 1 (projections are caches) under a long random history.

A Hypothesis state machine drives a RegisterService through admissions (single and
batches, new and returning people), placements and moves (into closed, full and
separated cells too), court and hospital trips, transits between two facilities,
releases, transfers out, deaths, classification with rival groups, roll calls with
people missing and people extra, cells closed and reopened, the housing assigner,
and corrections of identity fields and of the time custody events happened; now and
then it falls behind, so events are recorded hours after they happen (the safeguards
run at the recording instant and add their alerts to each command).

It keeps its own model of who is where and when, and after every step checks the
register against it (architecture invariant 4: one status and place per person per
instant; cell occupancy; headcounts).  Every refusal must change nothing.  Now and
then, and at the end of every run, the projections are dropped and rebuilt from the
ledger and must come back identical, and the ledger must verify.

``KNOWN_BUGS`` lists defects in src/ this machine found that are still open; each has a
minimal reproduction at the end of this file, marked xfail(strict=True).  While a bug is
listed the machine steers around it (see each use); when it is fixed its reproduction
passes, strict xfail turns that into a failure, and the entry should be deleted so the
machine covers that path again.  The reproductions of bugs already fixed stay as tests.
"""

from __future__ import annotations

import itertools
import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, select

from habeas.domain.custody import HELD
from habeas.domain.housing import HousingPolicy
from habeas.domain.identity import normalize_name
from habeas.errors import HabeasError
from habeas.ledger.envelope import StoredEvent
from habeas.ledger.log import read_events, read_head
from habeas.ledger.timefmt import format_instant
from habeas.ledger.verify import verify_ledger
from habeas.services import queries
from habeas.services.rebuild import rebuild, snapshot
from habeas.services.register import RegisterService
from habeas.store import migrate
from habeas.store.engine import make_engine
from habeas.store.register_tables import alerts, episodes, people
from habeas.store.register_tables import cells as cell_table
from tests.conftest import at
from tests.register.support import admission, identity, service, small_facility

KNOWN_BUGS: dict[str, str] = {}

FAC1, FAC2 = "fac1", "fac2"
HELD_STATUSES = frozenset(s.value for s in HELD)
RIVALS = HousingPolicy(rival_groups=frozenset({frozenset({"MS", "18"})}))
RELEASE = {"authority": "Juzgado Primero", "order_reference": "ORD-1", "verified_by": "user:records",
           "handed_over_to": "Madre Sintetica", "health_check": "examined, fit"}  # fmt: skip
TRANSFER = {"destination": "Centro Penal de Apanteos", "receiving_authority": "DGCP", "authority": "Juzgado",
            "order_reference": "T-9"}  # fmt: skip
SAFEGUARD_EVENTS = {"alert.raised", "alert.resolved"}
DEPARTURES = {"court": "Juzgado Primero", "hospital": "Hospital Rosales"}
MINOR_BIRTH = "2010-06-01"

# --- strategies -----------------------------------------------------------------------------------

DT = st.sampled_from([0, 1, 1, 2, 5, 10, 30])  # minutes to let pass before a command; 0 makes ties
PICK = st.tuples(st.integers(0, 7), st.integers(0, 10_000))  # (0: anyone at all, else: someone eligible), index
SEXES = ("M", "F", "X")
LEGAL = ("untried", "untried", "convicted", "civil")
IDENTITY_FIX = st.lists(
    st.one_of(
        st.tuples(st.just("given_names"), st.sampled_from(["Ana María", "José Luis", "Jhon"])),
        st.tuples(st.just("family_names"), st.sampled_from(["Peña Núñez", "Hernández", "Smiht"])),
        st.tuples(st.just("birth_date"), st.sampled_from(["1985-06-01", None, MINOR_BIRTH, MINOR_BIRTH])),
        st.tuples(st.just("sex"), st.sampled_from(SEXES)),
        st.tuples(st.just("gender_identity"), st.sampled_from([None, "woman", "man", "non-binary"])),
    ),
    min_size=1,
    max_size=3,
).map(dict)
BAD_CORRECTIONS = ("not-correctable-type", "unknown-event", "custody-field", "bad-sex", "no-fields", "bad-date",
                   "empty-name", "bad-time")  # fmt: skip


# --- the model ------------------------------------------------------------------------------------


@dataclass
class Stay:
    """From ``time`` on (until the next stay), the person was here: one custody event's effect."""

    time: datetime
    seq: int
    event_id: str
    episode: str
    status: str
    facility: str
    cell: str | None = None
    unit: str | None = None
    place: str | None = None


@dataclass
class Person:
    pid: str
    registered_event_id: str
    given_names: str
    family_names: str
    birth_date: date | None
    sex: str
    gender_identity: str | None = None
    legal_status: str = "untried"
    group: str | None = None
    group_substantiated: bool | None = None
    risk: str | None = None
    destination: str | None = None  # of the transit under way
    left_cell: str | None = None  # the cell they left for court or hospital
    since_moved: bool = False  # "stay-ends": a time correction moved episodes.since along with a tied event
    tangled: bool = False  # "stay-ends": a time correction moved an event that shared its time with another
    stays: list[Stay] = field(default_factory=list)

    @property
    def now(self) -> Stay:
        return self.stays[-1]

    @property
    def held(self) -> bool:
        return self.now.status in HELD_STATUSES

    def at(self, t: datetime) -> Stay | None:
        """The last stay that began at or before ``t`` (stays are kept in (time, seq) order)."""
        found = None
        for s in self.stays:
            if s.time <= t:
                found = s
        return found


@dataclass
class CellModel:
    facility: str
    unit: str
    beds: int
    in_service: bool = True


class RegisterMachine(RuleBasedStateMachine):
    def __init__(self, open_engine: Callable[[], tuple[Engine, Callable[[], None]]], stats: Counter[str]) -> None:
        super().__init__()
        self.engine, self.close_engine = open_engine()
        self.stats = stats
        self.ledger = f"sm-{uuid.uuid4().hex[:12]}"
        self.minutes = 0
        self.svc, self.clock = service(self.engine, self.ledger, now=at(0), policy=RIVALS)
        cells = small_facility(self.svc, units=2, cells_per_unit=2, beds=2) + small_facility(
            self.svc, units=1, cells_per_unit=2, beds=2, facility_id=FAC2
        )
        self.cells = {c: CellModel(c.split("-")[0], c.rsplit("-", 1)[0], 2) for c in cells}
        self.people: dict[str, Person] = {}
        self.bookings: dict[str, str] = {}  # booking number -> episode id
        self.other_events: list[str] = []  # ids of events that no correction may touch
        self.size = self.size_at_rebuild = self.ledger_size()
        self.strangers = itertools.count(1)
        self.appended: list[StoredEvent] = []
        self.applied = False  # whether the last command was recorded
        self.healthy = True

    # --- plumbing -------------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return at(self.minutes)

    def tick(self, minutes: int) -> None:
        self.healthy = False  # until the invariants have passed after this step
        self.minutes += minutes
        self.clock.now = max(self.clock.now, self.now)  # recorded now, or later when behind (fall_behind)

    def ledger_size(self) -> int:
        with self.engine.connect() as conn:
            return read_head(conn, self.ledger).size

    def tally(self, name: str) -> None:
        self.stats[name] += 1
        if currently_in_test_context():  # not in the scripted tour
            event(name)

    def run(self, name: str, refusal: str | None, call: Callable[[], Any], types: list[str] | None = None) -> Any:
        """Run a command that the model says must succeed (``refusal`` None) or be refused.

        A refusal must append nothing; a success must append exactly ``types``.  Returns the
        command's result and its own events (not the safeguards' alerts) as ``self.appended``.
        """
        before = self.ledger_size()
        assert before == self.size, "the ledger grew outside a command"
        try:
            result = call()
        except HabeasError as error:
            assert self.ledger_size() == before, f"{name} was refused ({error}) but appended events"
            assert refusal is not None, f"{name} was refused, the model expected it to succeed: {error!r}"
            self.tally(f"refused {name}")
            self.appended, self.applied = [], False
            return None
        assert refusal is None, f"{name} succeeded, the model expected a refusal: {refusal}"
        with self.engine.connect() as conn:
            appended = list(read_events(conn, self.ledger, after_seq=before))
        self.size = before + len(appended)
        assert all(e.recorded_at >= e.occurred_at for e in appended)
        if types is not None:  # the command's own events, then whatever alerts its safeguards raise or resolve
            got = [e.type for e in appended]
            assert got[: len(types)] == types, f"{name} appended {got}, expected {types} first"
            assert set(got[len(types) :]) <= SAFEGUARD_EVENTS, f"{name} appended {got}"
            if len(got) > len(types):
                self.tally("safeguard alerts after a command")
            appended = appended[: len(types)]
        self.appended, self.applied = appended, True
        self.tally(name)
        return result

    def some(self, *statuses: str, at_least: int = 1) -> bool:
        return sum(p.now.status in statuses for p in self.people.values()) >= at_least

    def choose(self, pick: tuple[int, int], eligible: Callable[[Person], bool]) -> Person | None:
        """Someone eligible, or (now and then, to see the refusal) anyone at all."""
        everyone = list(self.people.values())
        pool = [p for p in everyone if eligible(p)]
        if pick[0] == 0 or not pool:
            pool = everyone
        return pool[pick[1] % len(pool)] if pool else None

    def occupants(self, cell_id: str, moved: dict[str, str | None] | None = None) -> list[Person]:
        moved = moved or {}
        return [
            p
            for p in self.people.values()
            if moved.get(p.pid, p.now.cell if p.now.status == "in_cell" else None) == cell_id
        ]

    def minor(self, person: Person) -> bool:
        b, today = person.birth_date, self.clock.now.date()  # the service measures age when it records
        return b is not None and today.year - b.year - ((today.month, today.day) < (b.month, b.day)) < 18

    def stay(self, person: Person, e: StoredEvent, status: str, **where: Any) -> None:
        assert e.occurred_at == self.now and e.payload["person_id"] == person.pid
        facility = where.pop("facility", None) or person.now.facility
        person.stays.append(Stay(self.now, e.seq, e.event_id, e.payload["episode_id"], status, facility, **where))
        person.since_moved = False

    # --- what the model expects -----------------------------------------------------------------

    def placement_refusal(
        self,
        person: Person,
        cell_id: str,
        override: bool,
        moved: dict[str, str | None] | None = None,
        status: str | None = None,
    ) -> str | None:
        """Why placing ``person`` in ``cell_id`` must be refused, if it must; ``moved``: placements made just before."""
        moved = moved or {}
        current = moved.get(person.pid, person.now.cell)
        status = status or ("in_cell" if current else person.now.status)
        if status not in ("admitted", "in_cell"):
            return f"status is {status}"
        if cell_id not in self.cells:
            return "no such cell"
        if current == cell_id:
            return "already in that cell"
        cell = self.cells[cell_id]
        if cell.facility != person.now.facility:
            return "another facility's cell"
        if not cell.in_service:
            return "cell closed"
        others = [o for o in self.occupants(cell_id, moved) if o.pid != person.pid]
        if len(others) >= cell.beds:
            return "no free bed"
        for o in others:
            broken = [
                o.sex != person.sex,
                o.legal_status != person.legal_status,
                self.minor(o) != self.minor(person),
                RIVALS.rivals(o.group, person.group),
            ]
            if any(broken) and not override:
                return f"separation from {o.pid}"
        return None

    def own_cells(self, person: Person) -> list[str]:
        return [c for c, m in self.cells.items() if m.facility == person.now.facility]

    def cell_for(self, person: Person, index: int, anywhere: bool) -> str:
        cells = list(self.cells) if anywhere else self.own_cells(person)
        return cells[index % len(cells)]

    # --- commands -------------------------------------------------------------------------------

    @initialize(sexes=st.lists(st.sampled_from(SEXES), min_size=2, max_size=4))
    def first_intake(self, sexes: list[str]) -> None:
        self.admit([("new", s, "untried", 0) for s in sexes], FAC1, 0)

    @rule(
        rows=st.lists(
            st.tuples(st.sampled_from(["new", "new", "new", "again", "again", "held"]), st.sampled_from(SEXES),
                      st.sampled_from(LEGAL), st.integers(0, 10_000)),
            min_size=1, max_size=3,
        ),
        facility=st.sampled_from([FAC1, FAC1, FAC2, "nowhere"]),
        dt=DT,
    )  # fmt: skip
    def admit(self, rows: list[tuple[str, str, str, int]], facility: str, dt: int) -> None:
        self.tick(dt)
        requests, plan, refusal = [], [], None
        if facility == "nowhere":
            refusal = "no such facility"
        for kind, sex, legal, index in rows:
            person = None
            if kind == "again":
                pool = [p for p in self.people.values() if not p.held]
                person = pool[index % len(pool)] if pool else None
                if person is not None and person.now.status == "deceased":
                    refusal = "deceased"
            elif kind == "held":
                pool = [p for p in self.people.values() if p.held]
                person = pool[index % len(pool)] if pool else None
                if person is not None:
                    refusal = "already held"
            if person is None:
                who = identity(sex=sex)
                requests.append(admission(self.minutes, facility_id=facility, identity=who, legal_status=legal,
                                          confirm_new_person=True))  # fmt: skip
            else:
                requests.append(admission(self.minutes, facility_id=facility, identity=None, person_id=person.pid,
                                          legal_status=legal))  # fmt: skip
            plan.append((person, legal))
        known = [p.pid for p, _ in plan if p is not None]
        if len(set(known)) != len(known):
            refusal = refusal or "the same person twice in one intake"

        # Booking numbers: FAC-YEAR-n, n counting every admission the facility ever made.
        prefix = f"{facility.upper()}-{self.now.year}-"
        made = sum(b.startswith(prefix) for b in self.bookings)
        expected = [f"{prefix}{made + i:06d}" for i in range(1, len(rows) + 1)]

        new = sum(p is None for p, _ in plan)
        types = ["person.registered"] * new + ["custody.admitted"] * len(rows)
        if len(requests) == 1:
            done = self.run("admit", refusal, lambda: [self.svc.admit("user:intake", requests[0])], types)
        else:
            done = self.run("admit batch", refusal, lambda: self.svc.admit_many("user:intake", requests), types)
        if done is None:
            return
        registered = iter(self.appended[:new])
        admitted = self.appended[new:]
        for (person, legal), result, request, e, booking in zip(plan, done, requests, admitted, expected, strict=True):
            assert result.booking_number == booking
            assert result.new_person == (person is None)
            if person is None:
                reg = next(registered)
                who = request.identity
                person = Person(result.person_id, reg.event_id, who.given_names, who.family_names, who.birth_date,
                                who.sex)  # fmt: skip
                assert reg.payload["person_id"] == person.pid
                self.people[person.pid] = person
                self.tally("admitted a new person")
            else:
                assert result.person_id == person.pid
                self.tally("admitted a returning person")
            person.legal_status = legal
            person.destination = person.left_cell = None
            self.bookings[booking] = result.episode_id
            self.stay(person, e, "admitted", facility=facility)

    @precondition(lambda self: self.some("admitted", "in_cell"))
    @rule(who=PICK, cell=st.integers(0, 10_000), anywhere=st.booleans(), override=st.booleans(), dt=DT)
    def place(self, who: tuple[int, int], cell: int, anywhere: bool, override: bool, dt: int) -> None:
        person = self.choose(who, lambda p: p.now.status in ("admitted", "in_cell"))
        if person is None:
            return
        self.tick(dt)
        cell_id = "no-such-cell" if cell % 23 == 22 else self.cell_for(person, cell, anywhere)
        refusal = self.placement_refusal(person, cell_id, override)
        reason = "override: court order" if override else None
        self.run("place", refusal, lambda: self.svc.place("user:housing", person.pid, cell_id, self.now,
                                                          override_reason=reason), ["custody.placed"])  # fmt: skip
        if self.applied:
            if person.now.status == "in_cell":
                self.tally("moved between cells")
            self.stay(person, self.appended[0], "in_cell", cell=cell_id, unit=self.cells[cell_id].unit)

    @precondition(lambda self: self.some("admitted", "in_cell", at_least=2))
    @rule(a=PICK, b=PICK, cells=st.tuples(st.integers(0, 10_000), st.integers(0, 10_000)), dt=DT)
    def place_many(self, a: tuple[int, int], b: tuple[int, int], cells: tuple[int, int], dt: int) -> None:
        first = self.choose(a, lambda p: p.now.status in ("admitted", "in_cell"))
        second = self.choose(b, lambda p: p.now.status in ("admitted", "in_cell") and p is not first)
        if first is None or second is None or first is second:
            return
        self.tick(dt)
        placements = [(first.pid, self.cell_for(first, cells[0], False)),
                      (second.pid, self.cell_for(second, cells[1], False))]  # fmt: skip
        moved: dict[str, str | None] = {}
        refusal = None
        for pid, cell_id in placements:
            refusal = refusal or self.placement_refusal(self.people[pid], cell_id, False, moved)
            moved[pid] = cell_id
        self.run("place batch", refusal, lambda: self.svc.place_many("user:housing", placements, self.now),
                 ["custody.placed"] * 2)  # fmt: skip
        if self.applied:
            for e, (pid, cell_id) in zip(self.appended, placements, strict=True):
                if self.people[pid].now.status == "in_cell":
                    self.tally("moved between cells")
                self.stay(self.people[pid], e, "in_cell", cell=cell_id, unit=self.cells[cell_id].unit)

    @rule(facility=st.sampled_from([FAC1, FAC2]), dt=DT)
    def housing_assigner(self, facility: str, dt: int) -> None:
        self.tick(dt)
        intake = {p.pid for p in self.people.values() if p.now.status == "admitted" and p.now.facility == facility}
        proposal = self.svc.propose_housing("user:housing", facility)
        assert set(proposal.assignments) | set(proposal.unplaced) == intake
        assert self.ledger_size() == self.size, "a proposal recorded something"
        moved: dict[str, str | None] = {}
        for pid, cell_id in sorted(proposal.assignments.items()):
            assert self.cells[cell_id].facility == facility
            refusal = self.placement_refusal(self.people[pid], cell_id, False, moved)
            assert refusal is None, f"the assigner proposes {pid} -> {cell_id}, the model refuses: {refusal}"
            moved[pid] = cell_id
        placements = sorted(proposal.assignments.items())
        count = self.run("housing proposal confirmed", None,
                         lambda: self.svc.confirm_housing("user:housing", proposal, self.now),
                         ["custody.placed"] * len(placements))  # fmt: skip
        if not self.applied:
            return
        assert count == len(placements)
        for e, (pid, cell_id) in zip(self.appended, placements, strict=True):
            self.stay(self.people[pid], e, "in_cell", cell=cell_id, unit=self.cells[cell_id].unit)

    @precondition(lambda self: self.some("admitted", "in_cell"))
    @rule(who=PICK, purpose=st.sampled_from(sorted(DEPARTURES)), dt=DT)
    def depart(self, who: tuple[int, int], purpose: str, dt: int) -> None:
        person = self.choose(who, lambda p: p.now.status in ("admitted", "in_cell"))
        if person is None:
            return
        self.tick(dt)
        ok = person.now.status in ("admitted", "in_cell")
        destination = DEPARTURES[purpose]
        self.run(f"depart to {purpose}", None if ok else "not in the facility",
                 lambda: self.svc.depart("user:gate", person.pid, self.now, purpose=purpose, destination=destination,
                                         authority="Juzgado", escort="Custodia 3",
                                         expected_return=self.now + timedelta(hours=5)),
                 ["custody.departed"])  # fmt: skip
        if self.applied:
            person.left_cell = person.now.cell
            self.stay(person, self.appended[0], "out", place=destination)

    @precondition(lambda self: self.some("out"))
    @rule(who=PICK, explicit=st.booleans(), cell=st.integers(0, 10_000), dt=DT)
    def return_to_cell(self, who: tuple[int, int], explicit: bool, cell: int, dt: int) -> None:
        person = self.choose(who, lambda p: p.now.status == "out")
        if person is None:
            return
        self.tick(dt)
        target = person.left_cell  # by default the cell they left (none, if they left from intake)
        if explicit:
            target = self.cell_for(person, cell, False)
        refusal = None if person.now.status == "out" else "not out"
        if refusal is None and target is not None:  # received back into intake, then housed: no override
            refusal = self.placement_refusal(person, target, False, {person.pid: None}, status="admitted")
        types = ["custody.returned"] + (["custody.placed"] if target is not None else [])
        self.run("return", refusal,
                 lambda: self.svc.return_to_cell("user:gate", person.pid, self.now, "user:gate",
                                                 cell_id=target if explicit else None), types)  # fmt: skip
        if self.applied:
            self.stay(person, self.appended[0], "admitted")
            if target is not None:
                self.stay(person, self.appended[1], "in_cell", cell=target, unit=self.cells[target].unit)
                self.tally("returned to a cell")
            person.left_cell = None

    @precondition(lambda self: self.some("admitted", "in_cell"))
    @rule(who=PICK, bad=st.integers(0, 9), dt=DT)
    def start_transit(self, who: tuple[int, int], bad: int, dt: int) -> None:
        person = self.choose(who, lambda p: p.now.status in ("admitted", "in_cell"))
        if person is None:
            return
        self.tick(dt)
        destination = "nowhere" if bad == 0 else (FAC2 if person.now.facility == FAC1 else FAC1)
        ok = person.now.status in ("admitted", "in_cell") and destination != "nowhere"
        self.run("start transit", None if ok else "not here, or no such destination",
                 lambda: self.svc.start_transit("user:gate", person.pid, self.now, destination_facility_id=destination,
                                                authority="DGCP", escort="Custodia 1",
                                                deadline=self.now + timedelta(hours=4)),
                 ["custody.transit_started"])  # fmt: skip
        if self.applied:
            person.destination = destination
            self.stay(person, self.appended[0], "in_transit", place=destination)

    @precondition(lambda self: self.some("in_transit"))
    @rule(who=PICK, wrong=st.sampled_from([None, None, None, FAC1, FAC2, "nowhere"]), dt=DT)
    def arrive(self, who: tuple[int, int], wrong: str | None, dt: int) -> None:
        person = self.choose(who, lambda p: p.now.status == "in_transit")
        if person is None:
            return
        self.tick(dt)
        facility = wrong or person.destination or FAC2
        ok = person.now.status == "in_transit" and facility == person.destination
        self.run("arrive", None if ok else "not in transit, or not at its destination",
                 lambda: self.svc.arrive("user:gate-2", person.pid, facility, "user:gate-2", self.now),
                 ["custody.transit_arrived"])  # fmt: skip
        if self.applied:
            person.destination = None
            self.stay(person, self.appended[0], "admitted", facility=facility)

    @precondition(lambda self: self.some(*HELD_STATUSES))
    @rule(who=PICK, how=st.sampled_from(["release", "transfer", "death"]), dt=DT)
    def end_custody(self, who: tuple[int, int], how: str, dt: int) -> None:
        allowed = {"release": HELD_STATUSES, "death": HELD_STATUSES,
                   "transfer": {"admitted", "in_cell", "in_transit"}}[how]  # fmt: skip
        person = self.choose(who, lambda p: p.now.status in allowed)
        if person is None:
            return
        self.tick(dt)
        ok = person.now.status in allowed
        refusal = None if ok else f"status {person.now.status}"
        pid, now = person.pid, self.now
        if how == "release":
            self.run("release", refusal, lambda: self.svc.release("user:records", pid, now, **RELEASE),
                     ["custody.released"])  # fmt: skip
            status, place = "released", None
        elif how == "transfer":
            self.run("transfer out", refusal, lambda: self.svc.transfer_out("user:records", pid, now, **TRANSFER),
                     ["custody.transferred"])  # fmt: skip
            status, place = "transferred", TRANSFER["destination"]
        else:
            self.run("death", refusal, lambda: self.svc.record_death("user:records", pid, now, place="infirmary",
                                                                     circumstances="found unresponsive"),
                     ["custody.died"])  # fmt: skip
            status, place = "deceased", "infirmary"
        if self.applied:
            person.destination = person.left_cell = None
            self.stay(person, self.appended[0], status, place=place)

    @precondition(lambda self: self.some(*HELD_STATUSES))
    @rule(who=PICK, group=st.sampled_from(["MS", "18", None, "MS"]), documented=st.booleans(),
          risk=st.sampled_from(["low", "medium", "high"]), dt=DT)  # fmt: skip
    def classify(self, who: tuple[int, int], group: str | None, documented: bool, risk: str, dt: int) -> None:
        person = self.choose(who, lambda p: p.held)
        if person is None:
            return
        self.tick(dt)
        details: dict[str, Any] = {"group_affiliation": group, "risk_level": risk}
        if documented:
            details["group_evidence"] = {"document_reference": "INF-77"}
        done = self.run("classify", None if person.held else "not held",
                        lambda: self.svc.classify("user:classifier", person.pid, details, self.now) or True,
                        ["person.classified"])  # fmt: skip
        if done:
            person.group, person.risk = group, risk
            person.group_substantiated = None if not group else documented
            self.other_events.append(self.appended[0].event_id)

    @precondition(lambda self: self.some(*HELD_STATUSES))
    @rule(who=PICK, dt=DT)
    def examine(self, who: tuple[int, int], dt: int) -> None:
        person = self.choose(who, lambda p: p.held)
        if person is None:
            return
        self.tick(dt)
        exam = {"examiner": "Dra. Médica", "findings": "no injuries seen"}
        if self.run("examine", None if person.held else "not held",
                    lambda: self.svc.examine("user:medical", person.pid, exam, self.now) or True,
                    ["medical.examined"]):  # fmt: skip
            self.other_events.append(self.appended[0].event_id)

    @rule(unit=st.integers(0, 10_000), absent=st.integers(0, 2), others=st.integers(0, 2),
          strangers=st.integers(0, 1), dt=DT)  # fmt: skip
    def roll_call(self, unit: int, absent: int, others: int, strangers: int, dt: int) -> None:
        self.tick(dt)
        units = sorted({c.unit for c in self.cells.values()})
        occupied = sorted({p.now.unit for p in self.people.values() if p.now.status == "in_cell"})
        unit_id = (occupied or units)[unit % len(occupied or units)]
        register = sorted(p.pid for p in self.people.values() if p.now.status == "in_cell" and p.now.unit == unit_id)
        present = set(register[absent:])
        elsewhere = sorted(p.pid for p in self.people.values() if p.pid not in register)
        present |= set(elsewhere[:others])
        present |= {f"stranger-{next(self.strangers)}" for _ in range(strangers)}
        missing, extra = sorted(set(register) - present), sorted(present - set(register))
        types = ["count.recorded"] + ["alert.raised"] * (len(missing) + len(extra))
        record = self.run("roll call", None, lambda: self.svc.record_count("user:officer", unit_id, sorted(present),
                                                                           self.now), types)  # fmt: skip
        if not self.applied:
            return
        assert (record.expected, list(record.missing), list(record.extra)) == (len(register), missing, extra)
        assert [e.payload["subject"] for e in self.appended[1:]] == missing + extra
        self.other_events.append(self.appended[0].event_id)
        if missing:
            self.tally("roll call: someone missing")
        if extra:
            self.tally("roll call: someone extra")

    @rule(cell=st.integers(0, 10_000), close=st.booleans(), dt=DT)
    def cell_service(self, cell: int, close: bool, dt: int) -> None:
        self.tick(dt)
        cell_id = sorted(self.cells)[cell % len(self.cells)]
        model = self.cells[cell_id]
        if model.in_service != close:
            refusal: str | None = "already so"
        elif close and self.occupants(cell_id):
            refusal = "still occupied"
        else:
            refusal = None
        types = ["cell.closed" if close else "cell.reopened"]
        self.run("close cell" if close else "reopen cell", refusal,
                 lambda: self.svc.set_cell_service("user:director", cell_id, not close, "maintenance", self.now),
                 types)  # fmt: skip
        if self.applied:
            model.in_service = not close

    @rule(who=PICK, fix=IDENTITY_FIX, dt=DT)
    def correct_identity(self, who: tuple[int, int], fix: dict[str, Any], dt: int) -> None:
        person = self.choose(who, lambda p: True)
        if person is None:
            return
        self.tick(dt)
        self.run("correct identity", None,
                 lambda: self.svc.correct("user:records", person.registered_event_id, dict(fix), "typo", self.now),
                 ["event.corrected"])  # fmt: skip
        if not self.applied:
            return
        for name, value in fix.items():
            setattr(person, name, date.fromisoformat(value) if name == "birth_date" and value else value)
        if "birth_date" in fix and self.minor(person):
            self.tally("a minor by correction")

    @rule(who=PICK, which=st.integers(0, 10_000), mode=st.sampled_from(["inside", "inside", "before", "after"]),
          frac=st.integers(0, 100), dt=DT)  # fmt: skip
    def correct_time(self, who: tuple[int, int], which: int, mode: str, frac: int, dt: int) -> None:
        person = self.choose(who, lambda p: True)
        if person is None:
            return
        self.tick(dt)
        k = which % len(person.stays)
        stay = person.stays[k]
        prev = person.stays[k - 1] if k else None
        nxt = person.stays[k + 1] if k + 1 < len(person.stays) else None
        if "neighbour-ties" in KNOWN_BUGS and stay.time in {x.time for x in (prev, nxt) if x is not None}:
            return  # a tie: which neighbours the register finds is up to the database
        minute = timedelta(minutes=1)
        if mode == "before" and prev is not None:
            new, refusal = prev.time - minute * (1 + frac % 30), "before the previous event"
        elif mode == "after":  # after the next event, or after the correction is recorded
            new, refusal = (nxt.time if nxt else self.clock.now) + minute * (1 + frac % 30), "reorders, or not yet"
        else:
            low = prev.time if prev else stay.time - 30 * minute
            high = nxt.time if nxt else self.now
            new, refusal = low + minute * round((high - low) / minute * frac / 100), None
        fields = {"occurred_at": format_instant(new)}
        self.run("correct time", refusal,
                 lambda: self.svc.correct("user:records", stay.event_id, fields, "logged late", self.now),
                 ["event.corrected"])  # fmt: skip
        if self.applied:
            if new != stay.time:
                self.tally("moved an event in time")
            if stay is not person.now and stay.time == person.now.time:
                person.since_moved = True
            if any(x is not stay and x.time == stay.time for x in person.stays):
                person.tangled = True
            stay.time = new

    @rule(what=st.sampled_from(BAD_CORRECTIONS), who=PICK, dt=DT)
    def correct_refused(self, what: str, who: tuple[int, int], dt: int) -> None:
        person = self.choose(who, lambda p: True)
        if person is None:
            return
        self.tick(dt)
        target, fields = person.registered_event_id, {"given_names": "Otra"}
        if what == "not-correctable-type":
            if not self.other_events:
                return
            target = self.other_events[who[1] % len(self.other_events)]
        elif what == "unknown-event":
            target = str(uuid.UUID(int=who[1] + 1, version=4))
        elif what == "custody-field":
            target, fields = person.now.event_id, {"cell_id": "fac1-U1-C1"}
        else:
            fields = {"bad-sex": {"sex": "Q"}, "no-fields": {}, "bad-date": {"birth_date": "15/03/1990"},
                      "empty-name": {"given_names": ""}, "bad-time": {"occurred_at": "yesterday"}}[what]  # fmt: skip
            if what == "bad-time":
                target = person.now.event_id
        self.run(f"correction ({what})", what,
                 lambda: self.svc.correct("user:records", target, fields, "wrong", self.now))  # fmt: skip

    @rule(hours=st.sampled_from([1, 6, 30]))
    def fall_behind(self, hours: int) -> None:
        """Records entered late (a backlog, a paper register): what happens now is recorded hours later."""
        self.clock.now = max(self.clock.now, self.now) + timedelta(hours=hours)
        self.tally("fell behind")

    @precondition(lambda self: self.size - self.size_at_rebuild >= 25)
    @rule()
    def rebuild_midway(self) -> None:
        self.check_everything()
        self.tally("rebuilt midway")

    # --- invariants -----------------------------------------------------------------------------

    @invariant()
    def register_agrees_with_the_model(self) -> None:
        held_here: Counter[tuple[str, str]] = Counter()
        with self.engine.connect() as conn:
            for p in self.people.values():
                got = queries.where_at(conn, self.ledger, p.pid, self.now)
                want = p.now
                assert got is not None
                assert (got.status, got.facility_id, got.cell_id, got.unit_id, got.place, got.since) == (
                    want.status, want.facility, want.cell, want.unit, want.place, want.time
                ), f"{p.pid} now"  # fmt: skip
                if p.held:
                    held_here[(want.facility, want.status)] += 1
            rows = conn.execute(
                select(episodes.c.person_id, episodes.c.status, episodes.c.cell_id, episodes.c.facility_id,
                       episodes.c.since)
                .where(episodes.c.ledger_id == self.ledger)
                .order_by(episodes.c.admitted_seq)
            ).all()  # fmt: skip
            last = {r.person_id: r for r in rows}
            open_ = Counter(r.person_id for r in rows if r.status in HELD_STATUSES)
            for p in self.people.values():  # exactly one status, and at most one open episode
                assert open_[p.pid] == (1 if p.held else 0), p.pid
                r = last[p.pid]
                assert (r.status, r.cell_id, r.facility_id) == (p.now.status, p.now.cell, p.now.facility)
                if "stay-ends" not in KNOWN_BUGS or not p.since_moved:
                    assert r.since == p.now.time, f"{p.pid} since"
            cells = {
                r.cell_id: r for r in conn.execute(select(cell_table).where(cell_table.c.ledger_id == self.ledger))
            }
            in_cells = 0
            for cell_id, model in self.cells.items():
                occupants = sorted(o.pid for o in self.occupants(cell_id))
                in_cells += len(occupants)
                assert (cells[cell_id].occupants, bool(cells[cell_id].in_service)) == (
                    len(occupants), model.in_service), cell_id  # fmt: skip
                assert queries.who_in_cell(conn, self.ledger, cell_id, self.now) == occupants, cell_id
            assert sum(c.occupants for c in cells.values()) == in_cells
            counts = queries.headcount(conn, self.ledger)
        assert {h.facility_id: h.by_status for h in counts} == {
            f: {s: n for (g, s), n in sorted(held_here.items()) if g == f} for f in (FAC1, FAC2)
        }
        assert sum(h.total for h in counts) == sum(p.held for p in self.people.values())
        self.healthy = True

    def check_everything(self) -> None:
        """History, identity, alerts; then rebuild and compare every projection row; then verify."""
        self.healthy = False
        with self.engine.connect() as conn:
            for p in self.people.values():
                self.check_history(conn, p)
            rows = {r.person_id: r for r in conn.execute(select(people).where(people.c.ledger_id == self.ledger))}
            for p in self.people.values():
                r = rows[p.pid]
                assert (r.given_names, r.family_names, r.birth_date, r.sex, r.gender_identity) == (
                    p.given_names, p.family_names, p.birth_date, p.sex, p.gender_identity), p.pid  # fmt: skip
                assert (r.group_affiliation, r.group_substantiated, r.risk_level) == (
                    p.group, p.group_substantiated, p.risk), p.pid  # fmt: skip
                assert r.name_key == normalize_name(f"{r.given_names} {r.family_names}"), p.pid
            kinds = Counter(e.type for e in read_events(conn, self.ledger, types=sorted(SAFEGUARD_EVENTS)))
            rows = conn.execute(select(alerts.c.resolved_at).where(alerts.c.ledger_id == self.ledger)).all()
            assert (len(rows), sum(r.resolved_at is not None for r in rows)) == (
                kinds["alert.raised"], kinds["alert.resolved"]
            )  # fmt: skip
            self.check_cells_in_the_past(conn)
            before = snapshot(conn, self.ledger)
        assert rebuild(self.engine, self.ledger) == self.size
        self.size_at_rebuild = self.size
        with self.engine.connect() as conn:
            after = snapshot(conn, self.ledger)
            for table in before:
                assert after[table] == before[table], f"rebuilding changed {table}"
            report = verify_ledger(conn, self.ledger)
            assert report.ok, report
        self.healthy = True

    def check_history(self, conn: Any, p: Person) -> None:
        """where_at at every change of the person's history, and just after: what the model says."""
        first = p.stays[0].time
        assert queries.where_at(conn, self.ledger, p.pid, first - timedelta(minutes=1)) is None
        for k, s in enumerate(p.stays):
            for t in (s.time, s.time + timedelta(minutes=1)):
                want = p.at(t)
                if t > self.now:
                    continue
                assert want is not None
                got = queries.where_at(conn, self.ledger, p.pid, t)
                assert got is not None
                assert (got.status, got.facility_id, got.cell_id, got.place, got.since) == (
                    want.status, want.facility, want.cell, want.place, want.time
                ), f"{p.pid} at {t} (stay {k})"  # fmt: skip
                if self.untangled(p):
                    later = [x.time for x in p.stays if x.time > t]
                    assert got.until == (later[0] if later else None), f"{p.pid} until, at {t}"

    def untangled(self, p: Person) -> bool:
        return "stay-ends" not in KNOWN_BUGS or not p.tangled

    def check_cells_in_the_past(self, conn: Any) -> None:
        """who_in_cell at a dozen past instants: who the model had there then."""
        times = sorted({s.time for p in self.people.values() for s in p.stays})
        skip = {p.pid for p in self.people.values() if not self.untangled(p)}
        for t in times[:: max(1, len(times) // 12)]:
            for cell_id in self.cells:
                want = sorted(
                    p.pid
                    for p in self.people.values()
                    if (x := p.at(t)) and x.status == "in_cell" and x.cell == cell_id and p.pid not in skip
                )
                got = [pid for pid in queries.who_in_cell(conn, self.ledger, cell_id, t) if pid not in skip]
                assert got == want, f"{cell_id} at {t}"

    def teardown(self) -> None:
        try:
            if self.healthy:  # after a failed step, report that failure, not what it left behind
                self.check_everything()
        finally:
            self.close_engine()


# --- running it -----------------------------------------------------------------------------------


def drive(open_engine: Callable[[], tuple[Engine, Callable[[], None]]], examples: int, steps: int) -> Counter[str]:
    stats: Counter[str] = Counter()
    run_state_machine_as_test(
        lambda: RegisterMachine(open_engine, stats),
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            # The suite must give the same answer every run; explore new seeds on demand with
            # HYPOTHESIS_PROFILE or by editing this (a random seed once found a failure on PostgreSQL
            # that did not reproduce: see the closing note of issue #3).
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    return stats


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite database, copied for every example (migrating takes a second)."""
    template = tmp_path_factory.mktemp("state-machine") / "template.db"
    engine = make_engine(f"sqlite:///{template}")
    migrate.upgrade(engine)
    engine.dispose()
    return template


@pytest.fixture
def sqlite_databases(template_db: Path, tmp_path: Path) -> Iterator[Callable[[], tuple[Engine, Callable[[], None]]]]:
    """A fresh, migrated SQLite database per example."""
    template = template_db
    numbers = itertools.count()

    def open_engine() -> tuple[Engine, Callable[[], None]]:
        path = tmp_path / f"example-{next(numbers)}.db"
        shutil.copy(template, path)
        fresh = make_engine(f"sqlite:///{path}")

        def close() -> None:
            fresh.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

        return fresh, close

    yield open_engine


def test_rebuilding_after_any_history_gives_identical_projections(sqlite_databases: Any) -> None:
    stats = drive(sqlite_databases, examples=16, steps=40)
    # Swarm testing switches rules off per example, so only robust totals are asserted here;
    # the scripted tour below shows every command (and its refusal) at least once.
    moves = sum(stats[k] for k in ("place", "place batch", "housing proposal confirmed", "return", "arrive"))
    ends = sum(stats[k] for k in ("release", "transfer out", "death"))
    assert moves >= 20 and ends >= 5, dict(stats)
    assert stats["moved an event in time"] and stats["correct identity"] and stats["rebuilt midway"], dict(stats)
    assert sum(n for k, n in stats.items() if k.startswith("refused")) >= 20, dict(stats)


COVERED = ("admit", "admit batch", "admitted a returning person", "place", "moved between cells", "place batch",
           "housing proposal confirmed", "depart to court", "depart to hospital", "return", "returned to a cell",
           "start transit", "arrive", "release", "transfer out", "death", "classify", "examine", "roll call",
           "roll call: someone missing", "roll call: someone extra", "close cell", "reopen cell",
           "correct identity", "correct time", "moved an event in time", "rebuilt midway", "fell behind",
           "safeguard alerts after a command",
           "refused admit", "refused admit batch", "refused place", "refused place batch", "refused return",
           "refused arrive", "refused release", "refused close cell", "refused reopen cell", "refused correct time",
           *(f"refused correction ({what})" for what in BAD_CORRECTIONS))  # fmt: skip


def test_a_scripted_tour_of_the_machine_covers_every_command(sqlite_databases: Any) -> None:
    """The same machine, steps chosen by hand: every command, its refusals, both kinds of correction."""
    stats: Counter[str] = Counter()
    m = RegisterMachine(sqlite_databases, stats)

    def who(n: int) -> tuple[int, int]:
        return (0, n)  # the n-th person admitted, whatever their status

    m.first_intake(sexes=["M", "M", "F"])  # people 0, 1, 2: fac1, untried
    m.admit(rows=[("new", "M", "convicted", 0), ("new", "X", "untried", 0)], facility=FAC1, dt=10)  # 3, 4
    m.admit(rows=[("new", "M", "untried", 0)], facility=FAC2, dt=10)  # 5
    m.admit(rows=[("held", "M", "untried", 0)], facility=FAC1, dt=10)  # already held
    m.admit(rows=[("new", "M", "untried", 0), ("new", "F", "untried", 0)], facility="nowhere", dt=10)
    steps: list[Callable[[], None]] = [
        lambda: m.place(who=who(0), cell=0, anywhere=False, override=False, dt=10),
        lambda: m.place(who=who(0), cell=1, anywhere=False, override=False, dt=10),  # a move
        lambda: m.place(who=who(0), cell=1, anywhere=False, override=False, dt=10),  # already there
        lambda: m.place(who=who(2), cell=1, anywhere=False, override=False, dt=10),  # MR 11(a)
        lambda: m.place(who=who(2), cell=1, anywhere=False, override=True, dt=10),  # overridden
        lambda: m.place(who=who(1), cell=1, anywhere=False, override=True, dt=10),  # no free bed
        lambda: m.place_many(a=who(1), b=who(3), cells=(1, 2), dt=10),  # the first has no bed: neither
        lambda: m.place_many(a=who(1), b=who(3), cells=(0, 2), dt=10),
        lambda: m.cell_service(cell=3, close=True, dt=10),
        lambda: m.cell_service(cell=3, close=True, dt=10),  # already closed
        lambda: m.cell_service(cell=0, close=True, dt=10),  # occupied
        lambda: m.place(who=who(4), cell=3, anywhere=False, override=True, dt=10),  # closed
        lambda: m.place(who=who(4), cell=22, anywhere=False, override=False, dt=10),  # no such cell
        lambda: m.cell_service(cell=3, close=False, dt=10),
        lambda: m.cell_service(cell=3, close=False, dt=10),  # already open
        lambda: m.housing_assigner(facility=FAC1, dt=10),
        lambda: m.depart(who=who(0), purpose="court", dt=10),
        lambda: m.depart(who=who(1), purpose="hospital", dt=10),
        lambda: m.return_to_cell(who=who(0), explicit=False, cell=0, dt=10),  # its cell now holds a woman
        lambda: m.return_to_cell(who=who(0), explicit=True, cell=0, dt=10),
        lambda: m.return_to_cell(who=who(1), explicit=False, cell=0, dt=10),
        lambda: m.start_transit(who=who(3), bad=1, dt=10),
        lambda: m.arrive(who=who(3), wrong=None, dt=10),
        lambda: m.arrive(who=who(3), wrong=None, dt=10),  # not in transit any more
        lambda: m.classify(who=who(0), group="MS", documented=True, risk="high", dt=10),
        lambda: m.classify(who=who(5), group="18", documented=False, risk="low", dt=10),
        lambda: m.examine(who=who(5), dt=10),
        lambda: m.roll_call(unit=0, absent=1, others=1, strangers=1, dt=10),
        lambda: m.correct_identity(who=who(2), fix={"given_names": "Ana María", "birth_date": "1970-12-31"}, dt=10),
        lambda: m.correct_identity(who=who(2), fix={"family_names": "Peña Núñez", "sex": "F"}, dt=10),
        lambda: m.correct_time(who=who(0), which=1, mode="inside", frac=50, dt=10),
        lambda: m.correct_time(who=who(0), which=2, mode="before", frac=5, dt=10),
        lambda: m.correct_time(who=who(0), which=1, mode="after", frac=5, dt=10),
        *(lambda what=what: m.correct_refused(what=what, who=who(0), dt=10) for what in BAD_CORRECTIONS),
        lambda: m.end_custody(who=who(0), how="release", dt=10),
        lambda: m.end_custody(who=who(0), how="release", dt=10),  # released already
        lambda: m.end_custody(who=who(1), how="transfer", dt=10),
        lambda: m.end_custody(who=who(2), how="death", dt=10),
        lambda: m.admit(rows=[("again", "M", "untried", 0)], facility=FAC2, dt=10),  # person 0 again
        lambda: m.admit(rows=[("again", "M", "untried", 1)], facility=FAC2, dt=10),  # 2 died: refused
        lambda: m.admit(rows=[("new", "F", "civil", 0), ("new", "F", "civil", 0)], facility=FAC2, dt=10),  # 6, 7
        lambda: m.place_many(a=who(6), b=who(7), cells=(0, 0), dt=10),  # both into one cell: fine
        lambda: m.fall_behind(hours=30),  # recorded a day late: the court trip is overdue when recorded
        lambda: m.depart(who=who(7), purpose="court", dt=1),
        lambda: m.return_to_cell(who=who(7), explicit=False, cell=0, dt=1),
        m.rebuild_midway,
    ]
    for step in steps:
        step()
        m.register_agrees_with_the_model()
    m.teardown()
    missed = [name for name in COVERED if not stats[name]]
    assert not missed, f"the tour never exercised: {missed}; saw {dict(stats)}"


@pytest.mark.postgres
def test_rebuilding_after_any_history_gives_identical_projections_on_postgresql(postgres_engine: Engine) -> None:
    stats = drive(lambda: (postgres_engine, lambda: None), examples=5, steps=25)  # a fresh ledger per example
    assert sum(stats.values()) >= 30, dict(stats)


# --- what this machine found: minimal reproductions ------------------------------------------------
# Each was a defect in src/ when the machine first ran; all but the last are fixed and stay here as
# regressions.  The last is listed in KNOWN_BUGS and marked xfail(strict=True).


@pytest.fixture
def register(sqlite_databases: Any, ledger_id: str) -> Iterator[tuple[RegisterService, list[str], list[str]]]:
    engine, close = sqlite_databases()
    svc, _ = service(engine, ledger_id, now=at(600), policy=RIVALS)
    yield svc, small_facility(svc, units=1, cells_per_unit=2, beds=2), small_facility(svc, facility_id=FAC2)
    close()


def refused(call: Callable[[], Any]) -> bool:
    try:
        call()
    except HabeasError:
        return True
    return False


def to_fac2(svc: RegisterService, person_id: str, minutes: int) -> None:
    svc.start_transit("u", person_id, at(minutes), destination_facility_id=FAC2, authority="DGCP", escort="E",
                      deadline=at(minutes + 1000))  # fmt: skip


def court(svc: RegisterService, person_id: str, minutes: int, back_by: int = 1000) -> None:
    svc.depart("u", person_id, at(minutes), purpose="court", destination="Juzgado", authority="Juzgado", escort="E",
               expected_return=at(back_by))  # fmt: skip


def test_found_booking_numbers_stay_unique_after_a_transit(register: Any) -> None:
    svc, _, _ = register
    first = svc.admit("u", admission(0))
    svc.admit("u", admission(1))
    to_fac2(svc, first.person_id, 2)
    svc.arrive("u", first.person_id, FAC2, "user:gate", at(3))
    assert svc.admit("u", admission(4)).booking_number == "FAC1-2025-000003"  # was: IntegrityError


def test_found_a_dead_person_cannot_be_admitted_again(register: Any) -> None:
    svc, _, _ = register
    a = svc.admit("u", admission(0))
    svc.record_death("u", a.person_id, at(1), place="infirmary", circumstances="found unresponsive")
    assert refused(lambda: svc.admit("u", admission(2, identity=None, person_id=a.person_id)))


def test_found_nobody_is_placed_in_another_facilitys_cell(register: Any) -> None:
    svc, _, elsewhere = register
    a = svc.admit("u", admission(0))
    assert refused(lambda: svc.place("u", a.person_id, elsewhere[0], at(1)))


def test_found_a_transit_arrives_only_where_it_was_going(register: Any) -> None:
    svc, _, _ = register
    a = svc.admit("u", admission(0))
    to_fac2(svc, a.person_id, 1)
    assert refused(lambda: svc.arrive("u", a.person_id, "nowhere", "user:gate", at(2)))
    assert refused(lambda: svc.arrive("u", a.person_id, FAC1, "user:gate", at(2)))


def test_found_back_from_court_not_into_a_cell_of_the_facility_left_before(register: Any) -> None:
    svc, cells, _ = register
    a = svc.admit("u", admission(0))
    svc.place("u", a.person_id, cells[0], at(1))
    to_fac2(svc, a.person_id, 2)
    svc.arrive("u", a.person_id, FAC2, "user:gate", at(3))
    court(svc, a.person_id, 4)
    svc.return_to_cell("u", a.person_id, at(5), received_by="user:gate")
    with svc.engine.connect() as conn:
        back = queries.where_at(conn, svc.ledger_id, a.person_id, at(5))
    assert back is not None
    assert (back.facility_id, back.cell_id) == (FAC2, None)  # was: at fac2, in fac1's cell


def test_found_an_adult_is_not_placed_with_a_minor(register: Any) -> None:
    svc, cells, _ = register
    minor = svc.admit("u", admission(0, identity=identity(birth_date=date(2010, 6, 1)), confirm_new_person=True))
    svc.place("u", minor.person_id, cells[0], at(1))
    adult = svc.admit("u", admission(2))
    assert refused(lambda: svc.place("u", adult.person_id, cells[0], at(3)))  # MR 11(d)


def test_found_a_second_identity_correction_keeps_the_first_in_search(register: Any) -> None:
    svc, _, _ = register
    a = svc.admit("u", admission(0, identity=identity(given_names="Jhon", family_names="Smiht")))
    with svc.engine.connect() as conn:
        registered = queries.timeline(conn, svc.ledger_id, a.person_id)[0]
    svc.correct("u", registered.event_id, {"given_names": "John"}, "typo", at(1))
    svc.correct("u", registered.event_id, {"family_names": "Smith"}, "typo", at(2))
    with svc.engine.connect() as conn:
        found = queries.find_people(conn, svc.ledger_id, name="john smith")
    assert [p["person_id"] for p in found] == [a.person_id]  # was: name_key "jhon smith"


def test_found_no_event_is_corrected_to_after_the_correction_is_recorded(register: Any) -> None:
    svc, cells, _ = register
    a = svc.admit("u", admission(0))
    svc.place("u", a.person_id, cells[0], at(1))
    with svc.engine.connect() as conn:
        placed = queries.timeline(conn, svc.ledger_id, a.person_id)[-1]
    future = {"occurred_at": format_instant(at(60 * 24 * 365))}  # the clock says at(600)
    assert refused(lambda: svc.correct("u", placed.event_id, future, "r", at(2)))


def test_found_a_second_time_correction_closes_the_previous_stay(register: Any) -> None:
    svc, cells, _ = register
    a = svc.admit("u", admission(0))
    svc.place("u", a.person_id, cells[0], at(10))
    court(svc, a.person_id, 20)
    with svc.engine.connect() as conn:
        departed = queries.timeline(conn, svc.ledger_id, a.person_id)[-1]
    svc.correct("u", departed.event_id, {"occurred_at": format_instant(at(30))}, "left later", at(40))
    svc.correct("u", departed.event_id, {"occurred_at": format_instant(at(25))}, "not that late", at(41))
    with svc.engine.connect() as conn:
        assert queries.who_in_cell(conn, svc.ledger_id, cells[0], at(27)) == []  # was: still in the cell


def test_found_the_same_alert_can_be_raised_again_at_the_same_instant(register: Any) -> None:
    svc, _, _ = register  # everything is recorded at at(600): a backlog entered in one go
    a = svc.admit("u", admission(0))
    for t in (1, 3):  # each trip is overdue when recorded (R13), then resolved by the return
        court(svc, a.person_id, t, back_by=t + 1)
        svc.return_to_cell("u", a.person_id, at(t + 1), received_by="user:gate")  # was: IntegrityError, t=3


def test_found_a_readmission_closes_the_released_stay(register: Any) -> None:
    svc, _, _ = register
    a = svc.admit("u", admission(0))
    svc.release("u", a.person_id, at(10), **RELEASE)
    svc.admit("u", admission(20, identity=None, person_id=a.person_id))
    with svc.engine.connect() as conn:
        released = queries.where_at(conn, svc.ledger_id, a.person_id, at(15))
    assert released is not None
    assert released.until == at(20)  # was: None, the released stay was never closed


def test_bug_a_time_correction_moves_every_stay_that_ended_at_that_time(register: Any) -> None:
    svc, cells, _ = register
    b = svc.admit("u", admission(0))
    svc.place("u", b.person_id, cells[0], at(1))
    court(svc, b.person_id, 30)
    svc.return_to_cell("u", b.person_id, at(40), received_by="user:gate")  # returned, and placed, at 40
    with svc.engine.connect() as conn:
        placed = queries.timeline(conn, svc.ledger_id, b.person_id)[-1]
    svc.correct("u", placed.event_id, {"occurred_at": format_instant(at(45))}, "housed later", at(50))
    with svc.engine.connect() as conn:
        out = queries.where_at(conn, svc.ledger_id, b.person_id, at(35))
    assert out is not None
    assert out.until == at(40)  # was at(45): the court trip's end moved with the placement (fixed)


@pytest.mark.postgres
def test_bug_two_events_at_one_instant_are_ordered_by_chance(postgres_engine: Engine, ledger_id: str) -> None:
    # The plan PostgreSQL picks for small tables: a sequential scan, then a sort on valid_from alone.
    options = "-c enable_indexscan=off -c enable_bitmapscan=off -c enable_indexonlyscan=off"
    engine = make_engine(postgres_engine.url.render_as_string(hide_password=False), connect_args={"options": options})
    try:
        svc, _ = service(engine, ledger_id, now=at(600))
        cells = small_facility(svc, units=1, cells_per_unit=2, beds=2)
        a = svc.admit("u", admission(0))
        svc.place("u", a.person_id, cells[0], at(10))
        court(svc, a.person_id, 20)
        svc.return_to_cell("u", a.person_id, at(30), received_by="user:gate")  # returned, and placed, at 30
        with engine.connect() as conn:
            returned = queries.timeline(conn, ledger_id, a.person_id)[-2]
        assert returned.type == "custody.returned"
        # Confirming the time rewrites the row, which now lies after the placement's on disk...
        svc.correct("u", returned.event_id, {"occurred_at": format_instant(at(30))}, "checked", at(40))
        # ...so the placement is taken for the event before it, and the window becomes [30, end).
        assert not refused(
            lambda: svc.correct("u", returned.event_id, {"occurred_at": format_instant(at(25))}, "earlier", at(41))
        )
    finally:
        engine.dispose()
