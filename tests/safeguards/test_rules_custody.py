"""Custody safeguards R3–R12 (standards.md §4, §6): breach, non-breach and boundary of each, on SQLite and PostgreSQL.

Each rule is checked three ways: ``find`` at chosen instants (exactly at a limit is lawful, one minute after is
not: a deadline is "at most"); the full ``sweep`` (an ``alert.raised`` naming the rule and the limit, nothing more
on a second sweep at the same instant, ``alert.resolved`` once the finding no longer holds); and the checks each
command re-runs for the people it touches, in its own transaction (services.safeguarding.after_command).

Time limits are read from the policy files, never hard-coded where the law is dated: the state-of-exception
windows come from slv.toml's decree records (Cn. 13(2), Cn. 29), Decree 803 from its extension record (CPP 8).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select

from habeas.domain import law
from habeas.domain.custody import Injury, LegalBasis
from habeas.domain.facility import CellRegistered, FacilityRegistered, UnitRegistered
from habeas.errors import InvalidInput
from habeas.ledger.envelope import StoredEvent
from habeas.ledger.log import read_events, read_head
from habeas.ledger.timefmt import format_instant
from habeas.policy.loader import load_policy
from habeas.safeguards.checks import Finding
from habeas.safeguards.sweep import ACTOR, SweepResult, find, sweep
from habeas.services.legal import LegalService
from habeas.services.register import RegisterService
from habeas.store.register_tables import alerts
from tests.conftest import at
from tests.ledger.support import new_ledger
from tests.register.support import Clock, admission, identity

H = timedelta(hours=1)
D = timedelta(days=1)
MIN = timedelta(minutes=1)

INTL = "fi"  # a facility under the international minimum (intl.toml: ICCPR 9(3), 48 h)
SLV = "fs"  # a facility under El Salvador's law (slv.toml: Cn. 13(2), 72 h; decrees)
SLV2 = "fs2"  # a second Salvadoran facility, the destination of transfers (R8)

SLV_POLICY = load_policy("slv")
ADMIN_ARTICLE = SLV_POLICY.limits.administrative_article  # "Cn. 13(2)"
# Before Decree 333 (27 Mar 2022): the ordinary 72 h of Cn. 13(2) apply in El Salvador.
BEFORE_DECREES = datetime(2021, 6, 1, 12, 0, tzinfo=UTC)


def first_decree_start() -> datetime:
    return min(d.in_force_from for d in SLV_POLICY.decrees if d.suspends(ADMIN_ARTICLE))


def last_lapse() -> datetime:
    """The end of the last recorded suspension of Cn. 13(2) with no renewal starting at that instant."""
    ends = [
        d.in_force_to
        for d in SLV_POLICY.decrees
        if d.suspends(ADMIN_ARTICLE)
        and d.in_force_to is not None
        and not SLV_POLICY.is_suspended(ADMIN_ARTICLE, d.in_force_to)
    ]
    return max(ends)


def decree_803() -> Any:
    (extension,) = [e for e in SLV_POLICY.extensions if e.name.startswith("Decree 803")]
    return extension


# --- a world: a ledger with its facilities, both services on one settable clock ----------------------------------


@dataclass
class World:
    engine: Engine
    ledger: str
    clock: Clock
    reg: RegisterService
    legal: LegalService
    bases: dict[str, str] = field(default_factory=dict)  # person -> the instrument id of their admission

    def set(self, when: datetime) -> datetime:
        self.clock.now = when
        return when

    # commands (each recorded when it happens: nothing is back-dated, R23 stays quiet)

    def admit(
        self,
        facility: str,
        admitted: datetime,
        *,
        arrested: datetime | None = None,
        kind: str = "arrest_record",
        issued: datetime | None = None,
        expires: datetime | None = None,
        injuries: tuple[Injury, ...] = (),
        complaint: str | None = None,
        nationalities: tuple[str, ...] = ("SLV",),
    ) -> str:
        self.set(admitted)
        basis = LegalBasis(
            instrument_id=str(uuid.uuid4()),
            kind=kind,  # type: ignore[arg-type]
            reference=f"{kind.upper()}-{next(_refs)}",
            issued_by="Policía Nacional Civil" if kind == "arrest_record" else "Juzgado de Paz",
            issued_at=issued or admitted - H,
            expires_at=expires,
        )
        request = admission(
            facility_id=facility,
            identity=identity(nationalities=nationalities),
            legal_basis=basis,
            arrested_at=arrested or admitted - 2 * H,
            admitted_at=admitted,
            injuries_observed=injuries,
            ill_treatment_complaint=complaint,
        )
        person = self.reg.admit("user:intake", request).person_id
        self.bases[person] = basis.instrument_id
        return person

    def notify(self, person: str, kind: str, when: datetime, **delay: Any) -> None:
        self.set(when)
        self.legal.notify("user:records", person, kind, "Madre Sintetica", when, **delay)  # type: ignore[arg-type]

    def instrument(self, person: str, when: datetime, kind: str = "judicial_order", **details: Any) -> str:
        self.set(when)
        data = {"kind": kind, "reference": f"{kind.upper()}-{next(_refs)}", "issued_by": "Juzgado de Instrucción",
                "issued_at": when, **details}  # fmt: skip
        return self.legal.record_instrument("user:clerk", person, data, when)

    def appear(self, person: str, when: datetime) -> None:
        """Placed at the judge's disposal: an initial-appearance hearing in a case of their own (Cn. 13(3))."""
        self.set(when)
        case = f"case-{next(_refs)}"
        self.legal.open_case(
            "user:clerk", law.CaseOpened(case_id=case, court="Juzgado de Paz", reference=case), [person], when
        )
        hearing = law.HearingRecorded(
            case_id=case, hearing_id=f"h-{case}", person_id=person, kind="initial_appearance", outcome="heard"
        )
        self.legal.record_hearing("user:clerk", hearing, when)

    def examine(self, person: str, when: datetime, **exam: Any) -> None:
        self.set(when)
        self.reg.examine("user:doctor", person, {"examiner": "Dra. Médica", "findings": "examined", **exam}, when)

    def transfer(self, person: str, start: datetime, arrive: datetime, to: str = SLV2) -> None:
        self.set(start)
        self.reg.start_transit(
            "user:transfers", person, start, destination_facility_id=to, authority="Dirección General de Centros "
            "Penales", escort="Unidad de Traslados", deadline=start + 12 * H,
        )  # fmt: skip
        self.set(arrive)
        self.reg.arrive("user:intake", person, to, "user:intake", arrive)

    # the safeguards

    def find(self, when: datetime, rule: str, person: str | None = None) -> list[Finding]:
        with self.engine.connect() as conn:
            found = find(conn, self.ledger, when)
        return [f for f in found if f.rule == rule and (person is None or f.subject == person)]

    def subjects(self, when: datetime, rule: str) -> set[str]:
        return {f.subject for f in self.find(when, rule)}

    def size(self) -> int:
        with self.engine.connect() as conn:
            return read_head(conn, self.ledger).size

    def events_after(self, seq: int) -> list[StoredEvent]:
        with self.engine.connect() as conn:
            return list(read_events(conn, self.ledger, after_seq=seq))

    def appended(self, action: Callable[[], object]) -> list[StoredEvent]:
        before = self.size()
        action()
        return self.events_after(before)

    def sweep(self, when: datetime, recorded: datetime | None = None) -> tuple[SweepResult, list[StoredEvent]]:
        before = self.size()
        result = sweep(self.engine, self.ledger, when, recorded or when)
        return result, self.events_after(before)

    def open_alerts(self, rule: str, subject: str) -> list[Any]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(alerts).where(
                        alerts.c.ledger_id == self.ledger,
                        alerts.c.rule == rule,
                        alerts.c.subject == subject,
                        alerts.c.resolved_at.is_(None),
                    )
                )
            )


_refs = itertools.count(1)


def raised(events: list[StoredEvent], rule: str, subject: str | None = None) -> list[dict[str, Any]]:
    return [
        e.payload
        for e in events
        if e.type == "alert.raised"
        and e.payload["rule"] == rule
        and (subject is None or e.payload["subject"] == subject)
    ]


def resolved(events: list[StoredEvent]) -> set[str]:
    return {e.payload["alert_id"] for e in events if e.type == "alert.resolved"}


Layout = tuple[FacilityRegistered, list[UnitRegistered], list[CellRegistered]]


def facility(facility_id: str, jurisdiction: str) -> Layout:
    return (
        FacilityRegistered(
            facility_id=facility_id,
            name=f"Centro {facility_id}",
            responsible_authority="Dirección General de Centros Penales",
            declared_capacity=8,
            jurisdiction=jurisdiction,
            place="Tecoluca",
        ),
        [UnitRegistered(facility_id=facility_id, unit_id=f"{facility_id}-U1", name="Unit 1")],
        [
            CellRegistered(
                facility_id=facility_id, unit_id=f"{facility_id}-U1", cell_id=f"{facility_id}-U1-C1", beds=8,
                floor_area_m2=Decimal("40"),
            )
        ],
    )  # fmt: skip


class CustodyRulesContract:
    @pytest.fixture
    def engine(self) -> Engine:
        raise NotImplementedError

    @pytest.fixture
    def world(self, engine: Engine, ledger_id: str) -> Callable[..., World]:
        """``world(start, *more)``: a ledger opened well before ``start`` with a slv facility (and ``more``)."""

        def make(start: datetime, *more: str) -> World:
            opened = start - 30 * D
            new_ledger(engine, ledger_id, opened)
            clock = Clock(opened)
            ids = (uuid.uuid5(uuid.NAMESPACE_URL, f"{ledger_id}/{i}") for i in itertools.count(1))
            reg = RegisterService(engine, ledger_id, clock, new_id=lambda: next(ids))
            legal = LegalService(engine, ledger_id, clock)
            for fid in (SLV, *more):
                reg.register_facility("user:director", *facility(fid, "intl" if fid == INTL else "slv"), opened)
            return World(engine, ledger_id, clock, reg, legal)

        return make

    # --- R3: administrative detention (Cn. 13(2); Cn. 29; ICCPR 9(3)) ------------------------------------------

    def test_r3_ordinary_limits_intl_48h_and_slv_72h(self, world: Callable[..., World]) -> None:
        w = world(BEFORE_DECREES, INTL)
        arrest = BEFORE_DECREES
        intl = w.admit(INTL, arrest + H, arrested=arrest)
        slv = w.admit(SLV, arrest + H, arrested=arrest)
        judged = w.admit(SLV, arrest + 2 * H, arrested=arrest)
        w.instrument(judged, arrest + 71 * H)  # a judicial order within the limit: the clock stops
        # intl.toml: ICCPR 9(3) / GC 35, 48 h
        assert w.subjects(arrest + 47 * H + 59 * MIN, "R3") == set()
        assert w.subjects(arrest + 48 * H, "R3") == set()  # "at most 48 hours": at the limit, no breach
        (finding,) = w.find(arrest + 48 * H + MIN, "R3")
        assert finding.subject == intl
        assert f"the limit ended {format_instant(arrest + 48 * H)}" in finding.message
        assert "ICCPR 9(3)" in finding.message
        # slv.toml outside any decree: Cn. 13(2), 72 h
        assert w.subjects(arrest + 71 * H + 59 * MIN, "R3") == {intl}
        assert w.subjects(arrest + 72 * H, "R3") == {intl}
        assert w.subjects(arrest + 72 * H + MIN, "R3") == {intl, slv}
        (finding,) = w.find(arrest + 72 * H + MIN, "R3", slv)
        assert f"the limit ended {format_instant(arrest + 72 * H)}" in finding.message
        assert "Cn. 13(2)" in finding.message and "72 hours" in finding.message
        assert finding.refs[1:] == ()  # no decree relied on
        # the judicial order, though recorded late in the window, is a decision: no R3 ever after
        assert judged not in w.subjects(arrest + 30 * D, "R3")

    def test_r3_sweep_raises_once_and_a_judicial_order_resolves_it_in_its_own_transaction(
        self, world: Callable[..., World]
    ) -> None:
        w = world(BEFORE_DECREES)
        arrest = BEFORE_DECREES
        person = w.admit(SLV, arrest + H, arrested=arrest)
        result, events = w.sweep(arrest + 72 * H)
        assert raised(events, "R3") == [] and result.findings["R3"] == 0
        breach = arrest + 72 * H + MIN
        result, events = w.sweep(breach)
        (alert,) = raised(events, "R3", person)
        assert alert["severity"] == "critical"
        assert "Cn. 13(2): administrative (police) detention at most 72 hours" in alert["message"]
        assert {e.occurred_at for e in events} == {breach} and {e.actor for e in events} == {ACTOR}
        assert result.findings["R3"] == 1 and result.raised >= 1
        # idempotent: the same instant again appends nothing
        assert w.sweep(breach)[1] == []
        assert w.sweep(breach, breach + H)[1] == []
        # the duty done by a command: its own transaction resolves the alert
        events = w.appended(lambda: w.instrument(person, arrest + 80 * H))
        assert events[0].type == "instrument.recorded"
        assert alert["alert_id"] in resolved(events)
        assert {e.recorded_at for e in events} == {arrest + 80 * H}
        assert w.open_alerts("R3", person) == []
        assert raised(w.sweep(arrest + 81 * H)[1], "R3") == []  # and a later sweep does not raise it again

    def test_a_sweep_skips_only_the_messages_of_breaches_already_open(self, world: Callable[..., World]) -> None:
        # The full sweep reads the open alerts first and passes them to find as ``known``: their findings come
        # without a message (nobody reads it), every other finding keeps its own, and raising is unchanged.
        w = world(BEFORE_DECREES)
        arrest = BEFORE_DECREES
        first = w.admit(SLV, arrest + H, arrested=arrest)
        breach = arrest + 72 * H + MIN
        (alert,) = raised(w.sweep(breach)[1], "R3", first)
        second = w.admit(SLV, arrest + 2 * H, arrested=arrest + H)  # R3 from arrest + 73 h
        later = arrest + 74 * H
        with w.engine.connect() as conn:
            full = {f.subject: f for f in find(conn, w.ledger, later) if f.rule == "R3"}
            lazy = {f.subject: f for f in find(conn, w.ledger, later, known={"R3": {first}}) if f.rule == "R3"}
        assert set(full) == set(lazy) == {first, second}
        assert lazy[first].message == "" and lazy[first].refs == ()
        assert full[first].message.startswith("held 3.1 days since arrest") and full[first].refs
        assert alert["message"].startswith("held 3.0 days since arrest")  # as raised, at its own instant
        assert lazy[second] == full[second] and "72 hours" in lazy[second].message
        result, events = w.sweep(later)
        (new,) = raised(events, "R3")  # only the second person's: the first is still open
        assert new["subject"] == second and new["message"] == full[second].message
        assert result.findings["R3"] == 2 and result.resolved == 0

    def test_r3_state_of_exception_allows_the_decrees_15_days(self, world: Callable[..., World]) -> None:
        arrest = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
        maximum = SLV_POLICY.decrees_in_force(arrest)[0].administrative_max
        assert maximum == 15 * D
        # the decrees run without a gap over the whole detention (renewals count as one suspension)
        assert all(SLV_POLICY.is_suspended(ADMIN_ARTICLE, arrest + h * H) for h in range(16 * 24 + 1))
        w = world(arrest, INTL)
        person = w.admit(SLV, arrest + H, arrested=arrest)
        other = w.admit(INTL, arrest + H, arrested=arrest)  # intl has no decrees: 48 h still
        assert w.subjects(arrest + 72 * H + MIN, "R3") == {other}
        assert w.subjects(arrest + maximum - MIN, "R3") == {other}
        assert w.subjects(arrest + maximum, "R3") == {other}
        (finding,) = w.find(arrest + maximum + MIN, "R3", person)
        assert f"the limit ended {format_instant(arrest + maximum)}" in finding.message
        assert "15 days" in finding.message and "Cn. 29" in finding.message
        numbers = {d.number for d in SLV_POLICY.decrees_in_force(arrest)}
        assert numbers <= set(finding.refs)  # the decree relied on is named
        _, events = w.sweep(arrest + maximum + MIN)
        (alert,) = raised(events, "R3", person)
        assert "at most 15 days while Cn. 13(2) is suspended" in alert["message"]

    def test_r3_decree_lapsing_mid_detention(self, world: Callable[..., World]) -> None:
        end = last_lapse()  # from slv.toml: the last recorded renewal, with none after it
        assert SLV_POLICY.is_suspended(ADMIN_ARTICLE, end - MIN) and not SLV_POLICY.is_suspended(ADMIN_ARTICLE, end)
        w = world(end - 10 * D)
        long_held = w.admit(SLV, end - 7 * D + H, arrested=end - 7 * D)  # 7 days held when the decree ends
        recent = w.admit(SLV, end - 2 * D + H, arrested=end - 2 * D)  # 2 days held: keeps the rest of its 72 h
        after = w.admit(SLV, end + H, arrested=end)  # arrested at the lapse: 72 h
        assert w.subjects(end - MIN, "R3") == set()
        assert w.subjects(end, "R3") == set()
        (finding,) = w.find(end + MIN, "R3")
        assert finding.subject == long_held
        assert f"the suspension of {ADMIN_ARTICLE} ended at" in finding.message
        assert f"the limit ended {format_instant(end)}" in finding.message
        # no fresh 72 h from the lapse: the recent arrest keeps 72 h from its own arrest
        assert w.subjects(end - 2 * D + 72 * H, "R3") == {long_held}
        assert w.subjects(end - 2 * D + 72 * H + MIN, "R3") == {long_held, recent}
        assert w.subjects(end + 72 * H, "R3") == {long_held, recent}
        assert w.subjects(end + 72 * H + MIN, "R3") == {long_held, recent, after}

    def test_r3_decree_coming_into_force_within_the_72_hours(self, world: Callable[..., World]) -> None:
        start = first_decree_start()
        w = world(start - 10 * D)
        within = w.admit(SLV, start - 48 * H + H, arrested=start - 48 * H)  # 48 h held when the decree starts
        expired = w.admit(SLV, start - 96 * H + H, arrested=start - 96 * H)  # its 72 h had run out before
        assert w.subjects(start - 24 * H, "R3") == set()  # 72 h exactly
        assert w.subjects(start - 24 * H + MIN, "R3") == {expired}
        assert w.subjects(start + 10 * D, "R3") == {expired}  # a later decree does not cure a breach
        assert w.subjects(start - 48 * H + 15 * D, "R3") == {expired}
        assert w.subjects(start - 48 * H + 15 * D + MIN, "R3") == {expired, within}

    # --- R4: judicial decision within 72 h of being placed at the judge's disposal (Cn. 13(3)) --------------

    def test_r4_judicial_decision_boundary_and_resolution(self, world: Callable[..., World]) -> None:
        start = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)  # under the state of exception: Cn. 13(3) is never suspended
        w = world(start, INTL)
        slv = w.admit(SLV, start + H, arrested=start)
        intl = w.admit(INTL, start + H, arrested=start)
        decided = w.admit(SLV, start + H, arrested=start)
        heard = start + 5 * H
        for person in (slv, intl, decided):
            w.appear(person, heard)
        w.instrument(decided, heard + 71 * H, kind="provisional_detention_order", offence_class="serious")
        # intl.toml: 24 h (policy choice); slv.toml: 72 h
        assert w.subjects(heard + 24 * H, "R4") == set()
        assert w.subjects(heard + 24 * H + MIN, "R4") == {intl}
        assert w.subjects(heard + 72 * H, "R4") == {intl}
        assert w.subjects(heard + 72 * H + MIN, "R4") == {intl, slv}
        (finding,) = w.find(heard + 72 * H + MIN, "R4", slv)
        assert f"before a judge since {format_instant(heard)}" in finding.message and "Cn. 13(3)" in finding.message
        # appearing before a judge stops the administrative clock (R3): nobody is in R3 after 15 days
        assert w.subjects(start + 16 * D, "R3") == set()
        _, events = w.sweep(heard + 72 * H + MIN)
        (alert,) = raised(events, "R4", slv)
        assert alert["severity"] == "critical" and "72 hours" in alert["message"]
        assert w.sweep(heard + 72 * H + MIN)[1] == []
        events = w.appended(lambda: w.instrument(slv, heard + 80 * H, kind="provisional_detention_order"))
        assert alert["alert_id"] in resolved(events)
        assert w.subjects(heard + 80 * H, "R4") == {intl}

    def test_r4_cleared_by_a_decision_when_admitted_on_a_warrant(self, world: Callable[..., World]) -> None:
        start = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
        w = world(start)
        person = w.admit(SLV, start + H, arrested=start, kind="judicial_order", issued=start - D)  # a judge's warrant
        w.appear(person, start + 5 * H)
        w.instrument(person, start + 30 * H, kind="provisional_detention_order", offence_class="serious")
        assert w.subjects(start + 5 * H + 72 * H + MIN, "R4") == set()

    # --- R5: provisional detention (CPP 8: 12 / 24 months; Decree 803) --------------------------------------

    def test_r5_ordinary_12_and_24_months_on_the_local_calendar(self, world: Callable[..., World]) -> None:
        arrest = datetime(2020, 1, 10, 18, 0, tzinfo=UTC)  # 12:00 in El Salvador (UTC-6, no DST)
        w = world(arrest)
        less = w.admit(SLV, arrest + H, arrested=arrest)
        serious = w.admit(SLV, arrest + H, arrested=arrest)
        for person, klass in ((less, "less_serious"), (serious, "serious")):
            w.instrument(person, arrest + 2 * D, kind="provisional_detention_order", offence_class=klass)
        twelve = datetime(2021, 1, 10, 18, 0, tzinfo=UTC)
        twenty_four = datetime(2022, 1, 10, 18, 0, tzinfo=UTC)
        assert w.subjects(twelve - MIN, "R5") == set()
        assert w.subjects(twelve, "R5") == set()
        (finding,) = w.find(twelve + MIN, "R5")
        assert finding.subject == less
        assert "less_serious" in finding.message and "CPP 8" in finding.message and "12 months" in finding.message
        assert f"the limit ended {format_instant(twelve)}" in finding.message
        assert w.subjects(twenty_four, "R5") == {less}
        assert w.subjects(twenty_four + MIN, "R5") == {less, serious}
        (finding,) = w.find(twenty_four + MIN, "R5", serious)
        assert "24 months" in finding.message
        _, events = w.sweep(twelve + MIN)
        (alert,) = raised(events, "R5", less)
        assert alert["severity"] == "high" and "12 months" in alert["message"]
        assert w.sweep(twelve + MIN)[1] == []
        # the instant moves back before the limit: the finding no longer holds and the sweep resolves it
        _, events = w.sweep(twelve, twelve + 2 * MIN)
        assert alert["alert_id"] in resolved(events)

    def test_r5_decree_803_extends_only_cases_in_its_scope(self, world: Callable[..., World]) -> None:
        extension = decree_803()
        assert extension.scope == "state_of_exception"
        arrest = datetime(2022, 4, 1, 18, 0, tzinfo=UTC)  # under the state of exception
        ordinary_end = datetime(2023, 4, 1, 18, 0, tzinfo=UTC)  # 12 months, less serious
        w = world(arrest)
        scoped = w.admit(SLV, arrest + H, arrested=arrest)
        unscoped = w.admit(SLV, arrest + H, arrested=arrest)
        w.instrument(scoped, arrest + D, kind="provisional_detention_order", offence_class="less_serious",
                     scope="state_of_exception")  # fmt: skip
        w.instrument(unscoped, arrest + D, kind="provisional_detention_order", offence_class="less_serious")
        assert w.subjects(ordinary_end, "R5") == set()
        assert w.subjects(ordinary_end + MIN, "R5") == {scoped, unscoped}
        entry = extension.in_force_from  # not in force yet one minute before: both in breach
        assert w.subjects(entry - MIN, "R5") == {scoped, unscoped}
        assert w.subjects(entry, "R5") == {unscoped}
        (finding,) = w.find(entry, "R5", unscoped)
        assert "Decree 803" not in finding.message and "12 months" in finding.message
        assert w.subjects(extension.in_force_to - MIN, "R5") == {unscoped}
        # the 2025 reform takes over without a gap (slv.toml), so the scoped case stays within its limit
        assert w.subjects(extension.in_force_to + D, "R5") == {unscoped}
        # the sweep: raised before the decree, resolved once it is in force
        _, events = w.sweep(entry - MIN)
        (alert,) = raised(events, "R5", scoped)
        _, events = w.sweep(entry)
        assert resolved(events) == {alert["alert_id"]}

    # --- R6: held with no legal basis in force (ICCPR 9(1); F1) ---------------------------------------------

    def test_r6_expiry_boundary_and_a_new_basis(self, world: Callable[..., World]) -> None:
        start = BEFORE_DECREES
        w = world(start)
        expires = start + 10 * D
        lapsing = w.admit(SLV, start, kind="judicial_order", issued=start - H, expires=expires)
        renewed = w.admit(SLV, start, kind="judicial_order", issued=start - H, expires=expires)
        w.instrument(renewed, expires - D)  # a new order before the first expires
        assert w.subjects(expires - MIN, "R6") == set()
        # the basis is in force over [issued_at, expires_at): at expires_at it no longer is
        (finding,) = w.find(expires, "R6")
        assert finding.subject == lapsing
        assert finding.message.startswith("held with no legal basis in force; the last, JUDICIAL_ORDER-")
        assert f"lapsed {format_instant(expires)}" in finding.message
        _, events = w.sweep(expires)
        (alert,) = raised(events, "R6", lapsing)
        assert alert["severity"] == "critical"
        assert w.sweep(expires)[1] == []
        events = w.appended(lambda: w.instrument(lapsing, expires + H))
        assert alert["alert_id"] in resolved(events)
        assert w.subjects(expires + H, "R6") == set()

    def test_r6_ending_the_last_basis_raises_in_the_same_command(self, world: Callable[..., World]) -> None:
        start = BEFORE_DECREES
        w = world(start)
        person = w.admit(SLV, start, kind="judicial_order", issued=start - H)
        order = w.instrument(person, start + H, kind="provisional_detention_order", offence_class="serious")
        w.set(start + 2 * H)
        events = w.appended(lambda: w.legal.end_instrument("user:clerk", order, "revoked on appeal", start + 2 * H))
        assert raised(events, "R6") == []  # the admission's order is still in force
        w.set(start + 3 * H)
        events = w.appended(lambda: w.legal.end_instrument("user:clerk", w.bases[person], "annulled", start + 3 * H))
        assert [e.type for e in events] == ["instrument.ended", "alert.raised"]
        (alert,) = raised(events, "R6", person)
        assert alert["message"].startswith("held with no legal basis in force; the last, ")
        assert {e.recorded_at for e in events} == {start + 3 * H}
        events = w.appended(lambda: w.instrument(person, start + 4 * H))
        assert resolved(events) == {alert["alert_id"]}

    def test_r6_message_names_the_basis_that_lapsed_last(self, world: Callable[..., World]) -> None:
        start = BEFORE_DECREES
        w = world(start)
        person = w.admit(SLV, start, kind="judicial_order", issued=start - H, expires=start + 10 * D)
        w.instrument(person, start + H, kind="provisional_detention_order", expires_at=start + 5 * D)
        (finding,) = w.find(start + 11 * D, "R6", person)
        assert f"lapsed {format_instant(start + 10 * D)}" in finding.message  # says start + 5 days

    # --- R7: told the reasons and rights (BoP 13, 14; Cn. 12(2)) --------------------------------------------

    def test_r7_rights_within_24h(self, world: Callable[..., World]) -> None:
        a0 = at(0)
        w = world(a0)
        told = w.admit(SLV, a0)
        untold = w.admit(SLV, a0)
        w.notify(told, "rights_informed", a0 + 23 * H)
        assert w.subjects(a0 + 24 * H, "R7") == set()
        (finding,) = w.find(a0 + 24 * H + MIN, "R7")
        assert finding.subject == untold
        assert finding.message.startswith("not told the reasons and rights 24 h after admission (policy choice: 24 h")
        _, events = w.sweep(a0 + 25 * H)
        (alert,) = raised(events, "R7", untold)
        assert alert["severity"] == "high" and "24 h from admission" in alert["message"]
        assert raised(events, "R7", told) == []
        assert w.sweep(a0 + 25 * H)[1] == []
        # told late: the duty is done, the notification's own transaction resolves the alert
        events = w.appended(lambda: w.notify(untold, "rights_informed", a0 + 26 * H))
        assert resolved(events) == {alert["alert_id"]}
        assert w.subjects(a0 + 40 * H, "R7") == set()

    def test_r7_find_at_a_past_instant_ignores_later_duties(self, world: Callable[..., World]) -> None:
        a0 = at(0)
        w = world(a0)
        person = w.admit(SLV, a0)
        w.notify(person, "rights_informed", a0 + 30 * H)
        assert w.subjects(a0 + 25 * H, "R7") == {person}  # at +25 h they had not been told

    # --- R8: family notified within 24 h of admission and of every transfer (BoP 16(1); MR 68) --------------

    def test_r8_after_admission_and_the_notification_resolves_in_its_transaction(
        self, world: Callable[..., World]
    ) -> None:
        a0 = at(0)
        w = world(a0)
        told = w.admit(SLV, a0)
        untold = w.admit(SLV, a0)
        w.notify(told, "family", a0 + 23 * H)
        assert w.subjects(a0 + 24 * H, "R8") == set()
        (finding,) = w.find(a0 + 24 * H + MIN, "R8")
        assert finding.subject == untold
        assert finding.message.startswith("family not notified 24 h after admission (R8 (standards §6)")
        _, events = w.sweep(a0 + 25 * H)
        (alert,) = raised(events, "R8", untold)
        assert alert["severity"] == "high" and "within 24 h of admission" in alert["message"]
        assert w.sweep(a0 + 25 * H)[1] == []
        assert len(w.open_alerts("R8", untold)) == 1
        events = w.appended(lambda: w.notify(untold, "family", a0 + 26 * H))
        assert events[0].type == "notification.recorded"
        assert resolved(events) == {alert["alert_id"]}
        assert {e.recorded_at for e in events} == {a0 + 26 * H}  # one command, one transaction
        assert w.open_alerts("R8", untold) == []
        assert w.sweep(a0 + 27 * H)[1] == []
        assert raised(w.events_after(0), "R8", untold) == [alert]  # raised once, in the whole ledger

    def test_r8_authorized_delay(self, world: Callable[..., World]) -> None:
        a0 = at(0)
        w = world(a0)
        delayed = w.admit(SLV, a0)
        undelayed = w.admit(SLV, a0)
        until = a0 + 72 * H
        size = w.size()
        with pytest.raises(InvalidInput, match="authority"):
            w.notify(delayed, "family", a0 + H, delayed_until=until)  # a delay needs an authority and a reason
        assert w.size() == size
        w.notify(delayed, "family", a0 + 2 * H, delayed_until=until, delay_authority="Juzgado Especializado",
                 delay_reason="the family's safety")  # fmt: skip
        assert w.subjects(a0 + 24 * H + MIN, "R8") == {undelayed}
        assert w.subjects(until, "R8") == {undelayed}  # the delay still holds at its last instant
        assert w.subjects(until + MIN, "R8") == {undelayed, delayed}  # expired, and still nobody told
        _, events = w.sweep(until + MIN)
        (alert,) = raised(events, "R8", delayed)
        assert "24 h" in alert["message"]
        events = w.appended(lambda: w.notify(delayed, "family", until + H))
        assert resolved(events) == {alert["alert_id"]}

    def test_r8_after_a_transfer_to_another_facility(self, world: Callable[..., World]) -> None:
        a0 = at(0)
        w = world(a0, SLV2)
        moved = w.admit(SLV, a0)
        told_again = w.admit(SLV, a0)
        for person in (moved, told_again):
            w.notify(person, "family", a0 + H)
        arrival = a0 + 32 * H
        for person in (moved, told_again):
            w.transfer(person, a0 + 30 * H, arrival)
        w.notify(told_again, "family", arrival + 2 * H)
        # the admission's notification does not tell the family of the new place
        assert w.subjects(arrival + 24 * H, "R8") == set()
        (finding,) = w.find(arrival + 24 * H + MIN, "R8")
        assert finding.subject == moved
        assert finding.message.startswith(f"family not told of the transfer of {format_instant(arrival)}")
        _, events = w.sweep(arrival + 25 * H)
        (alert,) = raised(events, "R8", moved)
        assert "every transfer" in alert["message"]
        assert w.sweep(arrival + 25 * H)[1] == []
        events = w.appended(lambda: w.notify(moved, "family", arrival + 26 * H))
        assert resolved(events) == {alert["alert_id"]}
        assert w.subjects(arrival + 30 * D, "R8") == set()

    def test_r8_late_notification_after_a_transfer_clears_the_admission_breach(
        self, world: Callable[..., World]
    ) -> None:
        a0 = at(0)
        w = world(a0, SLV2)
        person = w.admit(SLV, a0)
        w.transfer(person, a0 + 2 * H, a0 + 4 * H)
        w.notify(person, "family", a0 + 5 * H)  # the family is told where the person is now
        assert w.subjects(a0 + 48 * H, "R8") == set()

    def test_r8_authorized_delay_also_covers_a_transfer(self, world: Callable[..., World]) -> None:
        a0 = at(0)
        w = world(a0, SLV2)
        person = w.admit(SLV, a0)
        w.notify(person, "family", a0 + H, delayed_until=a0 + 10 * D, delay_authority="Juzgado Especializado",
                 delay_reason="the family's safety")  # fmt: skip
        w.transfer(person, a0 + 2 * H, a0 + 4 * H)
        assert w.subjects(a0 + 3 * D, "R8") == set()  # the delay is in force until day 10

    # --- R9: consular notification for foreign nationals (VCCR 36; BoP 16(2)) ------------------------------

    def test_r9_foreign_nationals_only(self, world: Callable[..., World]) -> None:
        a0 = at(0)
        w = world(a0)
        foreign = w.admit(SLV, a0, nationalities=("VEN",))
        offered = w.admit(SLV, a0, nationalities=("VEN",))
        national = w.admit(SLV, a0, nationalities=("SLV",))
        dual = w.admit(SLV, a0, nationalities=("VEN", "SLV"))
        w.notify(offered, "consular_rights", a0 + 23 * H)
        assert w.subjects(a0 + 24 * H, "R9") == set()
        (finding,) = w.find(a0 + 24 * H + MIN, "R9")
        assert finding.subject == foreign
        assert finding.message.startswith("foreign national with no consular notification offered 24 h after")
        assert national not in w.subjects(a0 + 30 * D, "R9") and dual not in w.subjects(a0 + 30 * D, "R9")
        _, events = w.sweep(a0 + 25 * H)
        (alert,) = raised(events, "R9", foreign)
        assert alert["severity"] == "high" and "24 h" in alert["message"]
        assert raised(events, "R9", national) == []
        assert w.sweep(a0 + 25 * H)[1] == []
        events = w.appended(lambda: w.notify(foreign, "consulate", a0 + 26 * H))
        assert resolved(events) == {alert["alert_id"]}

    # --- R10: admission medical examination within 24 h (MR 30; BoP 24) ------------------------------------

    def test_r10_examination_within_24h_and_a_sweep_resolves_it(self, world: Callable[..., World]) -> None:
        a0 = at(0)
        w = world(a0)
        examined = w.admit(SLV, a0)
        unexamined = w.admit(SLV, a0)
        w.examine(examined, a0 + 24 * H, findings="fit")  # at the limit: in time
        assert w.subjects(a0 + 24 * H, "R10") == set()
        (finding,) = w.find(a0 + 24 * H + MIN, "R10")
        assert finding.subject == unexamined
        assert finding.message.startswith("no medical examination 24 h after admission (R10 (standards §6)")
        _, events = w.sweep(a0 + 25 * H)
        (alert,) = raised(events, "R10", unexamined)
        assert alert["severity"] == "high" and "MR 30" in alert["message"]
        assert w.sweep(a0 + 25 * H)[1] == []
        # recorded without the command's checks (as an import would be): the next sweep resolves the alert
        w.reg.safeguards = None
        events = w.appended(lambda: w.examine(unexamined, a0 + 26 * H, findings="fit"))
        assert resolved(events) == set()
        result, events = w.sweep(a0 + 27 * H)
        assert resolved(events) == {alert["alert_id"]} and result.resolved == 1
        assert events[0].payload["resolution"] == f"no longer holds at {format_instant(a0 + 27 * H)}"
        assert w.sweep(a0 + 27 * H)[1] == []

    # --- R11: injuries and torture indicators referred within 24 h (MR 34; Istanbul Protocol) --------------

    def test_r11_injury_or_complaint_at_admission(self, world: Callable[..., World]) -> None:
        a0 = at(0)
        w = world(a0)
        bruise = (Injury(body_part="left wrist", description="bruising"),)
        injured = w.admit(SLV, a0, injuries=bruise)
        referred = w.admit(SLV, a0, injuries=bruise)
        complained = w.admit(SLV, a0, complaint="beaten during arrest")
        unhurt = w.admit(SLV, a0)
        w.examine(referred, a0 + 20 * H, injuries=bruise, referred_to="Procuraduría para la Defensa de los DDHH")
        w.examine(unhurt, a0 + 20 * H)  # examined, nothing found: nothing to refer
        assert w.subjects(a0 + 24 * H, "R11") == set()
        assert w.subjects(a0 + 24 * H + MIN, "R11") == {injured, complained}
        (finding,) = w.find(a0 + 24 * H + MIN, "R11", injured)
        assert finding.message.startswith(f"injury or ill-treatment noted {format_instant(a0)}, not referred")
        assert "MR 34" in finding.message
        _, events = w.sweep(a0 + 25 * H)
        (alert,) = raised(events, "R11", injured)
        assert alert["severity"] == "critical" and "within 24 h" in alert["message"]
        assert w.sweep(a0 + 25 * H)[1] == []
        events = w.appended(lambda: w.examine(injured, a0 + 26 * H, injuries=bruise, referred_to="Fiscalía General"))
        assert alert["alert_id"] in resolved(events)  # (with the R10 alert: the examination was late too)
        assert w.open_alerts("R11", injured) == []
        assert w.subjects(a0 + 30 * D, "R11") == {complained}

    def test_r11_torture_indicators_at_an_examination(self, world: Callable[..., World]) -> None:
        a0 = at(0)
        w = world(a0)
        person = w.admit(SLV, a0)
        referred = w.admit(SLV, a0)
        exam = a0 + 5 * H
        w.examine(person, exam, torture_indicators=True, findings="marks consistent with suspension")
        w.examine(referred, exam, torture_indicators=True, referred_to="Fiscalía General")
        assert w.subjects(a0 + 24 * H + MIN, "R11") == set()  # counted from the examination, not the admission
        assert w.subjects(exam + 24 * H, "R11") == set()
        (finding,) = w.find(exam + 24 * H + MIN, "R11")
        assert finding.subject == person and f"noted {format_instant(exam)}" in finding.message
        _, events = w.sweep(exam + 24 * H + MIN)
        (alert,) = raised(events, "R11", person)
        assert w.sweep(exam + 24 * H + MIN)[1] == []
        w.reg.safeguards = None
        w.examine(person, exam + 30 * H, torture_indicators=True, referred_to="Fiscalía General")
        _, events = w.sweep(exam + 31 * H)
        assert resolved(events) == {alert["alert_id"]}

    def test_r11_new_indicators_after_an_earlier_referral(self, world: Callable[..., World]) -> None:
        a0 = at(0)
        w = world(a0)
        person = w.admit(SLV, a0, injuries=(Injury(body_part="left wrist", description="bruising"),))
        w.examine(person, a0 + 2 * H, referred_to="Fiscalía General")
        w.examine(person, a0 + 10 * D, torture_indicators=True, findings="new burns on the back")  # not referred
        assert w.subjects(a0 + 12 * D, "R11") == {person}

    # --- R12: a death record is complete (MR 71, 72; ICPPED 17(3)(g)) --------------------------------------

    def test_r12_each_missing_part_of_a_death_record(self, world: Callable[..., World]) -> None:
        a0 = at(0)
        w = world(a0)
        died = a0 + 2 * D
        complete = {
            "place": "Centro fs, Unit 1",
            "circumstances": "found unresponsive in the cell",
            "cause": "pulmonary oedema (autopsy)",
            "next_of_kin_notified_at": died + H,
            "independent_authority": "Instituto de Medicina Legal",
            "independent_authority_notified_at": died + H,
            "remains_destination": "handed to the family",
        }
        lacking = {
            "next_of_kin_notified_at": "next-of-kin notice",
            "independent_authority": "independent report",
            "independent_authority_notified_at": "independent report",
            "cause": "cause",
            "remains_destination": "destination of remains",
        }
        people = {part: w.admit(SLV, a0) for part in [*lacking, "all", "none"]}
        w.set(died + 2 * H)
        appended: dict[str, list[StoredEvent]] = {}
        for part, person in people.items():
            record = dict(complete)
            if part == "all":
                record = {k: v for k, v in record.items() if k not in lacking}
            elif part != "none":
                del record[part]
            appended[part] = w.appended(lambda p=person, r=record: w.reg.record_death("user:director", p, died, **r))
        # the death command itself raises the alert, in its transaction; a complete record raises none
        assert raised(appended["none"], "R12") == []
        assert w.find(died + 3 * H, "R12", people["none"]) == []
        for name, part in lacking.items():
            (alert,) = raised(appended[name], "R12", people[name])
            assert alert["severity"] == "critical"
            assert alert["message"] == f"died {format_instant(died)}; the record lacks {part}"
        (everything,) = raised(appended["all"], "R12", people["all"])
        assert everything["message"].endswith(
            "lacks next-of-kin notice, independent report, cause, destination of remains"
        )
        assert {f.subject for f in w.find(died + 3 * H, "R12")} == set(people.values()) - {people["none"]}
        # the sweep finds them already open: nothing to append, twice
        result, events = w.sweep(died + 3 * H)
        assert raised(events, "R12") == [] and resolved(events) == set() and result.findings["R12"] == 6
        assert w.sweep(died + 3 * H)[1] == []
        # a death recorded without the command's checks (an import): the sweep raises it
        imported = w.admit(SLV, died + 4 * H)
        w.reg.safeguards = None
        w.set(died + 5 * H)
        w.reg.record_death("user:import", imported, died + 5 * H, place="hospital", circumstances="unknown")
        assert w.open_alerts("R12", imported) == []
        _, events = w.sweep(died + 6 * H)
        (alert,) = raised(events, "R12", imported)
        assert [a["subject"] for a in raised(events, "R12")] == [imported]
        assert alert["message"].endswith("lacks next-of-kin notice, independent report, cause, destination of remains")
        assert w.sweep(died + 6 * H)[1] == []
        # the dead are not swept for the duties of the living (R7, R8, R10)
        assert w.find(died + 10 * D, "R8", imported) == [] and w.find(died + 10 * D, "R10", imported) == []

    def test_r9_needs_to_know_the_country_a_facility_is_in(self, world: Callable[..., World]) -> None:
        """An "intl" facility names no country: nobody can be called foreign there, so nobody is flagged."""
        a0 = at(0)
        w = world(a0, INTL)
        visitor = w.admit(INTL, a0, nationalities=("VEN",))
        assert visitor not in w.subjects(a0 + 30 * D, "R9")

    def test_r12_a_death_record_completed_later_resolves_the_alert(self, world: Callable[..., World]) -> None:
        a0 = at(0)
        w = world(a0)
        person = w.admit(SLV, a0)
        w.set(a0 + 2 * D)
        w.reg.record_death("user:medical", person, a0 + 2 * D, place="celda fs-U1-C1", circumstances="hallado sin vida")
        (finding,) = w.find(a0 + 2 * D + H, "R12", person)
        assert "cause" in finding.message and "next-of-kin notice" in finding.message
        w.set(a0 + 5 * D)
        w.reg.complete_death_record("user:medical", person, a0 + 5 * D, cause="autopsy: blunt trauma",
                                    next_of_kin_notified_at=a0 + 3 * D)  # fmt: skip
        (finding,) = w.find(a0 + 5 * D + H, "R12", person)
        assert "cause" not in finding.message and "independent report" in finding.message
        w.set(a0 + 6 * D)
        events = w.appended(lambda: w.reg.complete_death_record(
            "user:medical", person, a0 + 6 * D, independent_authority="Procuraduría (PDDH)",
            independent_authority_notified_at=a0 + 6 * D, remains_destination="entregado a la familia"))  # fmt: skip
        assert w.find(a0 + 6 * D + H, "R12", person) == []
        assert resolved(events)  # the completing command resolved the open R12 alert itself
        with pytest.raises(InvalidInput, match="at least one fact"):
            w.reg.complete_death_record("user:medical", person, a0 + 6 * D)


class TestCustodyRulesOnSQLite(CustodyRulesContract):
    @pytest.fixture
    def engine(self, sqlite_engine: Engine) -> Engine:
        return sqlite_engine


@pytest.mark.postgres
class TestCustodyRulesOnPostgreSQL(CustodyRulesContract):
    @pytest.fixture
    def engine(self, postgres_engine: Engine) -> Engine:
        return postgres_engine
