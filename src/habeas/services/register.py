"""The register's commands: what staff do, checked against the current state.

Each command reads the state it needs inside one write transaction (the ledger's
head locked first), lets the domain decide, and appends the resulting events, which
update the projections in the same transaction.  Every refusal names the field and
the rule, and changes nothing.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

import orjson
from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError

from habeas.domain import custody as c
from habeas.domain.admission import Admission, Identity, admission_rules
from habeas.domain.alerts import AlertRaised
from habeas.domain.corrections import check_correction
from habeas.domain.events import REGISTRY
from habeas.domain.facility import CellClosed, CellRegistered, CellReopened, FacilityRegistered, UnitRegistered
from habeas.domain.housing import HousingPolicy, Occupant, Proposal, check_placement, propose
from habeas.domain.identity import (
    Candidate,
    IdentityDocument,
    KnownPerson,
    blocking_keys,
    document_key,
    find_duplicates,
)
from habeas.domain.law import OrderExecuted, goes_where_ordered
from habeas.domain.person import PersonClassified, PersonRegistered
from habeas.domain.rollcall import CountRecorded, compare_count
from habeas.errors import Conflict, InvalidInput, NotFound, Problem
from habeas.ledger.envelope import StoredEvent
from habeas.ledger.log import Ledger, read_events_by_id
from habeas.services import state
from habeas.services.queries import unit_of, who_in_unit
from habeas.services.safeguarding import after_command, refuse_contrary_orders
from habeas.services.unit_of_work import Work, unit_of_work
from habeas.store.bulk import among
from habeas.store.engine import refresh_statistics, statistics_are_stale
from habeas.store.law_tables import duties, instruments, orders
from habeas.store.register_tables import (
    alerts,
    episodes,
    people,
    person_documents,
    person_events,
    person_keys,
    population,
    stays,
)

Clock = Callable[[], datetime]
# From this many people an intake may change the tables' sizes enough that the planner needs
# new statistics (a flight manifest; checked, not assumed: see _refresh_statistics_if_stale).
MASS_INTAKE = 100
M = TypeVar("M", bound=BaseModel)


def parse_request(model: type[M], data: Any) -> M:
    """Build a request model from outside data (CLI, API, a file), refusing with named fields."""
    try:
        # Through JSON, so times and dates may be given as ISO 8601 text (strict JSON mode
        # parses them; strict Python mode would demand datetime objects).
        return model.model_validate_json(orjson.dumps(data))
    except (TypeError, orjson.JSONEncodeError) as error:
        raise InvalidInput.one("request", f"is not JSON-like data: {error}") from None
    except ValidationError as error:
        raise InvalidInput(_named(error)) from None


@dataclass(frozen=True)
class Admitted:
    person_id: str
    episode_id: str
    booking_number: str
    new_person: bool


@dataclass
class PossibleDuplicates(Conflict):
    candidates: tuple[Candidate, ...] = ()


class RegisterService:
    def __init__(
        self,
        engine: Engine,
        ledger_id: str,
        clock: Clock,
        housing_policy: HousingPolicy | None = None,
        new_id: Callable[[], UUID] = uuid4,
    ) -> None:
        self.engine = engine
        self.ledger_id = ledger_id
        self.clock = clock
        self.housing_policy = housing_policy or HousingPolicy()
        self.new_id = new_id
        # The safeguards re-checked inside every command's transaction (services.safeguarding).
        self.safeguards: Callable[[Work], None] | None = after_command

    def _work(self, actor: str) -> AbstractContextManager[Work]:
        return unit_of_work(self.engine, self.ledger_id, actor, self.clock(), after=self.safeguards)

    # --- facilities ----------------------------------------------------------------------------

    def register_facility(
        self,
        actor: str,
        facility: FacilityRegistered,
        units: Sequence[UnitRegistered],
        cells: Sequence[CellRegistered],
        at: datetime,
    ) -> list[StoredEvent]:
        with self._work(actor) as work:
            try:
                state.facility(work.conn, self.ledger_id, facility.facility_id)
                raise Conflict("facility_id", f"facility {facility.facility_id} is already registered")
            except NotFound:
                pass
            _check_layout(facility, units, cells)
            existing = {
                r["cell_id"] for r in state.cell_rows(work.conn, self.ledger_id, cell_ids=[x.cell_id for x in cells])
            }
            if existing:
                raise Conflict("cells", f"cell ids already in use: {', '.join(sorted(map(str, existing))[:5])}")
            work.add("facility.registered", facility, at)
            for unit in units:
                work.add("unit.registered", unit, at)
            for cell in cells:
                work.add("cell.registered", cell, at)
            return work.flush()

    def add_to_facility(
        self,
        actor: str,
        facility_id: str,
        units: Sequence[UnitRegistered],
        cells: Sequence[CellRegistered],
        at: datetime,
    ) -> list[StoredEvent]:
        """Add units and cells one by one to a registered facility."""
        with self._work(actor) as work:
            state.facility(work.conn, self.ledger_id, facility_id)
            known_units = state.unit_ids(work.conn, self.ledger_id)
            for i, unit in enumerate(units):
                if unit.unit_id in known_units:
                    raise Conflict(f"units[{i}].unit_id", f"unit {unit.unit_id} already exists")
                if unit.facility_id != facility_id:
                    raise InvalidInput.one(f"units[{i}].facility_id", f"must be {facility_id}")
            new_units = {u.unit_id for u in units}
            for i, cell in enumerate(cells):
                if cell.facility_id != facility_id:
                    raise InvalidInput.one(f"cells[{i}].facility_id", f"must be {facility_id}")
                if cell.unit_id not in new_units and known_units.get(cell.unit_id) != facility_id:
                    raise NotFound("unit", cell.unit_id)
            taken = state.cell_rows(work.conn, self.ledger_id, cell_ids=[x.cell_id for x in cells])
            if taken:
                raise Conflict("cell_id", f"cell {taken[0]['cell_id']} already exists")
            for unit in units:
                work.add("unit.registered", unit, at)
            for cell in cells:
                work.add("cell.registered", cell, at)
            return work.flush()

    def set_cell_service(self, actor: str, cell_id: str, in_service: bool, reason: str, at: datetime) -> None:
        with self._work(actor) as work:
            rows = state.cell_rows(work.conn, self.ledger_id, cell_ids=[cell_id])
            if not rows:
                raise NotFound("cell", cell_id)
            if bool(rows[0]["in_service"]) == in_service:
                raise Conflict("cell_id", f"cell {cell_id} is already {'in service' if in_service else 'closed'}")
            if not in_service and int(rows[0]["occupants"]):  # type: ignore[call-overload]
                raise Conflict("cell_id", f"cell {cell_id} still holds {rows[0]['occupants']} people; move them first")
            if in_service:
                work.add("cell.reopened", CellReopened(cell_id=cell_id, reason=reason), at)
            else:
                work.add("cell.closed", CellClosed(cell_id=cell_id, reason=reason), at)

    # --- admission -----------------------------------------------------------------------------

    def admit(self, actor: str, request: Admission) -> Admitted:
        return self.admit_many(actor, [request])[0]

    def admit_many(
        self,
        actor: str,
        requests: Sequence[Admission],
        *,
        progress: Callable[[int, int], None] | None = None,
        chunk: int = 1000,
    ) -> list[Admitted]:
        """Admit everyone in ``requests`` in one transaction, or no one."""
        with self._work(actor) as work:
            results: list[Admitted] = []
            for start in range(0, len(requests), chunk):
                results.extend(self._admit(work, requests[start : start + chunk], offset=start))
                # The safeguards for this chunk's people, before the next chunk (same transaction).
                work.check()
                if progress:
                    progress(min(start + chunk, len(requests)), len(requests))
        if len(requests) >= MASS_INTAKE:
            self._refresh_statistics_if_stale()
        return results

    def _refresh_statistics_if_stale(self) -> None:
        """After a mass intake (committed), new statistics if the tables outgrew the old ones.

        What autovacuum does on PostgreSQL, done when it matters: the next commands (the
        intake's examinations and placements, their safeguards) are planned on the new sizes.
        """
        try:
            with self.engine.connect() as conn:  # every episode of every ledger is counted once, by status
                rows = conn.execute(select(func.coalesce(func.sum(population.c.count), 0))).scalar_one()
            if statistics_are_stale(self.engine, episodes.name, int(rows)):
                refresh_statistics(self.engine, INTAKE_TABLES)
        except DBAPIError:
            # The intake is committed: statistics are an optimization, never a reason to report
            # a recorded admission as failed (a busy database gets them on the next intake).
            pass

    def check_admissions(self, actor: str, requests: Sequence[Admission]) -> None:
        """Every check of ``admit_many`` without recording anything (raises what it would)."""
        with self.engine.connect() as conn, conn.begin() as transaction:
            work = Work(conn, Ledger(self.engine, self.ledger_id, REGISTRY), actor, self.clock())
            self._admit(work, requests)
            transaction.rollback()

    def _admit(self, work: Work, requests: Sequence[Admission], offset: int = 0) -> list[Admitted]:
        conn, ledger = work.conn, self.ledger_id
        problems: list[Problem] = []
        facilities: dict[str, dict[str, object]] = {}
        many = len(requests) > 1 or offset > 0
        for i, r in enumerate(requests, start=offset):
            where = f"rows[{i}]." if many else ""
            try:
                if r.facility_id not in facilities:  # once per facility, not once per row
                    facilities[r.facility_id] = state.facility(conn, ledger, r.facility_id)
            except NotFound:
                problems.append(Problem(f"{where}facility_id", f"no facility {r.facility_id!r}"))
            problems.extend(Problem(f"{where}{p.field}", p.rule) for p in admission_rules(r, work.recorded_at))
        if problems:
            raise InvalidInput(problems)
        # Who is already known: by id, by document, or possibly by name and birth date.
        doc_keys = {
            i: [
                document_key(IdentityDocument(d.get("kind", ""), d.get("number", ""), d.get("issuer", "")))
                for d in r.identity.documents
            ]
            for i, r in enumerate(requests)
            if r.identity is not None
        }
        by_doc = state.people_by_document(conn, ledger, [k for keys in doc_keys.values() for k in keys])
        # One probe for the whole chunk (not a query per person): the people who share a
        # blocking key with anyone in it, and whether the people named by id exist.
        probes = {
            i: _probe(r.identity)
            for i, r in enumerate(requests)
            if r.person_id is None and r.identity is not None and not r.confirm_new_person
        }
        known = state.known_people_many(conn, ledger, probes)
        existing = state.people_exist(conn, ledger, [r.person_id for r in requests if r.person_id is not None])
        person_ids: list[str] = []
        new_people: list[PersonRegistered | None] = []
        seen_docs: dict[str, int] = {}
        for i, r in enumerate(requests):
            where = f"rows[{i + offset}]." if many else ""
            if r.person_id is not None:
                if r.person_id not in existing:
                    raise NotFound("person", r.person_id)
                person_ids.append(r.person_id)
                new_people.append(None)
                continue
            assert r.identity is not None
            for key in doc_keys[i]:
                if key in by_doc:
                    raise Conflict(
                        f"{where}identity.documents",
                        f"document {key} belongs to person {by_doc[key]}: admit with person_id={by_doc[key]}",
                    )
                if key in seen_docs:
                    raise Conflict(f"{where}identity.documents", f"document {key} is also on row {seen_docs[key]}")
                seen_docs[key] = i
            if not r.confirm_new_person:
                _refuse_possible_duplicates(r.identity, known[i], where)
            person_id = str(self.new_id())
            person_ids.append(person_id)
            new_people.append(PersonRegistered(person_id=person_id, **r.identity.model_dump()))
        # Only people already on the register can be dead or held: an id minted just now has no episode.
        known_ids = [p for p, new in zip(person_ids, new_people, strict=True) if new is None]
        dead = (
            conn.execute(
                select(episodes.c.person_id).where(
                    episodes.c.ledger_id == ledger,
                    among(conn, episodes.c.person_id, known_ids),
                    episodes.c.status == c.Status.DECEASED.value,
                )
            ).first()
            if known_ids
            else None
        )
        if dead is not None:
            raise Conflict("person_id", f"{dead.person_id} is recorded as deceased: a death is corrected, not admitted")
        held = state.open_episodes(conn, ledger, known_ids) if known_ids else {}
        if held:
            pid, ep = next(iter(held.items()))
            raise Conflict(
                "person_id",
                f"{pid} is already held (booking {ep.booking_number}, status {ep.status.value}): "
                "nobody is in two places at once",
            )
        if len(set(person_ids)) != len(person_ids):
            raise Conflict("person_id", "the same person appears twice in this intake")

        results: list[Admitted] = []
        counters: dict[tuple[str, int], int] = {}
        admissions = []
        for r, person_id, new in zip(requests, person_ids, new_people, strict=True):
            facility = facilities[r.facility_id]
            year = r.admitted_at.year
            prefix = f"{r.facility_id.upper()}-{year}-"
            if (r.facility_id, year) not in counters:
                counters[(r.facility_id, year)] = state.bookings_this_year(conn, ledger, r.facility_id, prefix)
            counters[(r.facility_id, year)] += 1
            booking = f"{prefix}{counters[(r.facility_id, year)]:06d}"
            episode_id = str(self.new_id())
            if new is not None:
                work.add("person.registered", new, r.admitted_at)
            admissions.append(
                (
                    c.CustodyAdmitted(
                        episode_id=episode_id,
                        person_id=person_id,
                        facility_id=r.facility_id,
                        booking_number=booking,
                        legal_status=r.legal_status,
                        legal_basis=r.legal_basis,
                        detaining_authority=r.detaining_authority,
                        ordering_authority=r.ordering_authority,
                        custodian_of_record=r.custodian_of_record or str(facility["responsible_authority"]),
                        arrested_at=r.arrested_at,
                        arrest_place=r.arrest_place,
                        injuries_observed=r.injuries_observed,
                        ill_treatment_complaint=r.ill_treatment_complaint,
                        property=r.property,
                        family_contacts=r.family_contacts,
                        no_contact_reason=r.no_contact_reason,
                    ),
                    r.admitted_at,
                )
            )
            results.append(Admitted(person_id, episode_id, booking, new is not None))
        # All registrations first, then all admissions: consecutive events of one type fold in one batch.
        for admission, at in admissions:
            work.add("custody.admitted", admission, at)
        return results

    # --- during custody ------------------------------------------------------------------------

    def examine(self, actor: str, person_id: str, exam: dict[str, Any], at: datetime) -> None:
        with self._work(actor) as work:
            episode = state.require_open_episode(work.conn, self.ledger_id, person_id)
            c.check_transition(episode, "medical.examined", at)
            work.add(
                "medical.examined", c.MedicalExamined(episode_id=episode.episode_id, person_id=person_id, **exam), at
            )

    def examine_many(self, actor: str, exams: Sequence[tuple[str, dict[str, Any], datetime]]) -> None:
        """MR 30, 34: many examinations (person, findings, when) in one unit of work, or none.

        The checks of :meth:`examine` for each (held here, status allows it, not before the
        episode's last change), with one query for every episode; the safeguards run once,
        over the whole batch, before it commits.  A refusal names the row and records nothing.
        """
        with self._work(actor) as work:
            held = state.open_episodes(work.conn, self.ledger_id, [p for p, _, _ in exams])
            repeated = Counter(p for p, _, _ in exams)
            many = len(exams) > 1
            for i, (person_id, exam, at) in enumerate(exams):
                where = f"exams[{i}]." if many else ""
                episode = held.get(person_id)
                try:
                    if episode is None:  # unknown (NotFound) or not held here (Conflict naming the status)
                        episode = state.require_open_episode(work.conn, self.ledger_id, person_id)
                    c.check_transition(episode, "medical.examined", at)
                except Conflict as error:
                    raise Conflict(f"{where}{error.field}", error.rule) from None
                payload = _build_row(
                    c.MedicalExamined, where, episode_id=episode.episode_id, person_id=person_id, **exam
                )
                work.add("medical.examined", payload, at)
                # A second examination of the same person in this batch is checked against the first.
                if repeated[person_id] > 1 and at > episode.last_event_at:
                    held[person_id] = replace(episode, last_event_at=at)

    def classify(self, actor: str, person_id: str, details: dict[str, Any], at: datetime) -> None:
        with self._work(actor) as work:
            episode = state.require_open_episode(work.conn, self.ledger_id, person_id)
            c.check_transition(episode, "person.classified", at)
            payload = build_payload(  # a missing or bad field is refused by name, never a bare ValidationError
                PersonClassified, person_id=person_id, episode_id=episode.episode_id, classified_by=actor, **details
            )
            work.add("person.classified", payload, at)

    def classify_many(self, actor: str, items: Sequence[tuple[str, dict[str, Any], datetime]]) -> None:
        """MR 8: many classifications (person, details, when) in one unit of work, or none.

        The checks of :meth:`classify` for each, with one query for every episode; a group label
        without a document is recorded as unsubstantiated, as one by one.
        """
        with self._work(actor) as work:
            held = state.open_episodes(work.conn, self.ledger_id, [p for p, _, _ in items])
            many = len(items) > 1
            for i, (person_id, details, at) in enumerate(items):
                where = f"items[{i}]." if many else ""
                episode = held.get(person_id)
                try:
                    if episode is None:
                        episode = state.require_open_episode(work.conn, self.ledger_id, person_id)
                    c.check_transition(episode, "person.classified", at)
                except Conflict as error:
                    raise Conflict(f"{where}{error.field}", error.rule) from None
                payload = _build_row(
                    PersonClassified, where, person_id=person_id, episode_id=episode.episode_id,
                    classified_by=actor, **details,
                )  # fmt: skip
                work.add("person.classified", payload, at)
                held[person_id] = replace(episode, last_event_at=max(episode.last_event_at, at))

    def place(
        self,
        actor: str,
        person_id: str,
        cell_id: str,
        at: datetime,
        *,
        reason: str | None = None,
        override_reason: str | None = None,
    ) -> None:
        """House a person in a cell (from intake, or a move).  Separation rules refuse unless overridden."""
        self.place_many(actor, [(person_id, cell_id)], at, reason=reason, override_reason=override_reason)

    def place_many(
        self,
        actor: str,
        placements: Sequence[tuple[str, str]],
        at: datetime,
        *,
        reason: str | None = None,
        override_reason: str | None = None,
    ) -> None:
        with self._work(actor) as work:
            self._place(work, placements, at, reason, override_reason)

    def _place(
        self,
        work: Work,
        placements: Sequence[tuple[str, str]],
        at: datetime,
        reason: str | None,
        override_reason: str | None,
    ) -> None:
        conn, ledger = work.conn, self.ledger_id
        held = state.open_episodes(conn, ledger, [p for p, _ in placements])
        cells, cell_facility = state.housing(conn, ledger, cell_ids={cid for _, cid in placements}, today=at.date())
        profiles = self._profiles(work, [p for p, _ in placements])
        for person_id, cell_id in placements:
            episode = held.get(person_id) or state.require_open_episode(conn, ledger, person_id)
            c.check_transition(episode, "custody.placed", at)
            cell = cells.get(cell_id)
            if cell is None:
                raise NotFound("cell", cell_id)
            if cell_facility[cell_id] != episode.facility_id:
                raise Conflict(
                    "cell_id",
                    f"cell {cell_id} is in {cell_facility[cell_id]}; {person_id} is held at {episode.facility_id}",
                )
            if episode.cell_id == cell_id:
                raise Conflict("cell_id", f"{person_id} is already in cell {cell_id}")
            broken = check_placement(profiles[person_id], cell, self.housing_policy)
            hard = [b for b in broken if _is_physical(b)]
            if hard:
                raise Conflict("cell_id", f"cannot place {person_id} in {cell_id}: {hard[0]}")
            if broken and not override_reason:
                raise Conflict(
                    "cell_id",
                    f"placing {person_id} in {cell_id} breaks: {'; '.join(broken)} "
                    "(an officer may override with a recorded reason)",
                )
            work.add(
                "custody.placed",
                c.CustodyPlaced(
                    episode_id=episode.episode_id,
                    person_id=person_id,
                    cell_id=cell_id,
                    unit_id=cell.unit_id,
                    from_cell_id=episode.cell_id,
                    reason=reason,
                    override_reason=override_reason if broken else None,
                ),
                at,
            )
            # Later placements in the same batch see this one.
            cells[cell_id] = _with_occupant(cell, profiles[person_id])
            if episode.cell_id and episode.cell_id in cells:
                cells[episode.cell_id] = _without_occupant(cells[episode.cell_id], person_id)

    def _profiles(self, work: Work, person_ids: Sequence[str]) -> dict[str, Occupant]:
        ids = list(set(person_ids))
        rows = work.conn.execute(
            select(
                people.c.person_id,
                people.c.sex,
                people.c.birth_date,
                people.c.group_affiliation,
                episodes.c.legal_status,
            )
            .join(episodes, (episodes.c.ledger_id == people.c.ledger_id) & (episodes.c.person_id == people.c.person_id))
            .where(
                people.c.ledger_id == self.ledger_id,
                among(work.conn, people.c.person_id, ids),
                episodes.c.status.in_([s.value for s in c.HELD]),
            )
        )
        today = work.recorded_at.date()
        return {
            r.person_id: Occupant(
                r.person_id, r.sex, r.legal_status, _is_minor(r.birth_date, today), r.group_affiliation
            )
            for r in rows
        }

    def propose_housing(self, actor: str, facility_id: str, person_ids: Sequence[str] | None = None) -> Proposal:
        """Cells for everyone in intake (or the people named), by the assigner; nothing is recorded."""
        with self.engine.connect() as conn:
            if person_ids is None:
                person_ids = list(
                    conn.execute(
                        select(episodes.c.person_id)
                        .where(
                            episodes.c.ledger_id == self.ledger_id,
                            episodes.c.facility_id == facility_id,
                            episodes.c.status == c.Status.ADMITTED.value,
                        )
                        .order_by(episodes.c.admitted_seq)
                    ).scalars()
                )
            work = Work(conn, None, actor, self.clock())  # type: ignore[arg-type]
            profiles = self._profiles(work, person_ids)
            cells = state.housing_cells(conn, self.ledger_id, facility_id, today=work.recorded_at.date())
        missing = [p for p in person_ids if p not in profiles]
        if missing:
            raise Conflict("person_ids", f"not held here: {', '.join(missing[:5])}")
        return propose([profiles[p] for p in person_ids], list(cells.values()), self.housing_policy)

    def confirm_housing(self, actor: str, proposal: Proposal, at: datetime) -> int:
        placements = sorted(proposal.assignments.items())
        self.place_many(actor, placements, at, reason="assigned by the housing proposal")
        return len(placements)

    def _transition(
        self, actor: str, event_type: str, person_id: str, at: datetime, build: Callable[[c.Episode], BaseModel]
    ) -> None:
        with self._work(actor) as work:
            episode = state.require_open_episode(work.conn, self.ledger_id, person_id)
            c.check_transition(episode, event_type, at)
            if event_type in FORBIDDEN_BY:
                refuse_contrary_orders(work, person_id, FORBIDDEN_BY[event_type], VERBS_FOR_ORDERS[event_type])
            event_id = self.new_id()
            try:
                payload = build(episode)
            except ValidationError as error:  # R14, R15: the facts a transfer or release must state
                raise InvalidInput(_named(error)) from None
            work.add(event_type, payload, at, event_id)
            self._execute_orders(work, person_id, event_type, str(event_id), at, getattr(payload, "destination", None))

    def _execute_orders(
        self, work: Work, person_id: str, event_type: str, event_id: str, at: datetime, destination: str | None = None
    ) -> None:
        """An order is executed by the event that does what it ordered (a release order by the release).

        A return order only by a transfer to where it orders the person returned (``law.goes_where_ordered``): a
        transfer anywhere else leaves it active, and R26 goes on reporting it once its deadline passes.
        """
        kinds = EXECUTES.get(event_type)
        if not kinds:
            return
        rows = work.conn.execute(
            select(orders.c.order_id, orders.c.reference, orders.c.court_state, orders.c.place).where(
                orders.c.ledger_id == self.ledger_id,
                orders.c.person_id == person_id,
                orders.c.status == "active",
                orders.c.kind.in_(kinds),
            )
        ).all()
        for row in rows:
            if event_type == "custody.transferred" and not goes_where_ordered(destination, row.court_state, row.place):
                continue
            work.add(
                "order.executed",
                OrderExecuted(
                    order_id=row.order_id,
                    person_id=person_id,
                    note=f"executed by {event_type}",
                    execution_event_id=event_id,
                ),
                at,
            )

    def depart(self, actor: str, person_id: str, at: datetime, **details: Any) -> None:
        if not isinstance(details.get("expected_return"), datetime):
            raise InvalidInput.one("expected_return", "R13: an external movement needs an expected return")
        if details["expected_return"] <= at:
            raise InvalidInput.one("expected_return", "must be after the departure")
        self._transition(
            actor,
            "custody.departed",
            person_id,
            at,
            lambda e: c.CustodyDeparted(episode_id=e.episode_id, person_id=person_id, **details),
        )

    def return_to_cell(
        self, actor: str, person_id: str, at: datetime, received_by: str, cell_id: str | None = None
    ) -> None:
        """Back from court or hospital: received, and housed again (by default in the cell they left)."""
        with self._work(actor) as work:
            episode = state.require_open_episode(work.conn, self.ledger_id, person_id)
            c.check_transition(episode, "custody.returned", at)
            previous = cell_id or _last_cell(work, self.ledger_id, person_id, episode)
            work.add(
                "custody.returned",
                c.CustodyReturned(episode_id=episode.episode_id, person_id=person_id, received_by=received_by),
                at,
            )
            work.flush()
            if previous:
                self._place(work, [(person_id, previous)], at, "returned", None)

    def start_transit(self, actor: str, person_id: str, at: datetime, **details: Any) -> None:
        if not isinstance(details.get("deadline"), datetime):
            raise InvalidInput.one("deadline", "R14: a transfer needs the deadline by which arrival is confirmed")
        if details["deadline"] <= at:
            raise InvalidInput.one("deadline", "must be after the departure")
        with self._work(actor) as work:
            refuse_contrary_orders(work, person_id, ("no_transfer",), "a transfer to another facility")
            episode = state.require_open_episode(work.conn, self.ledger_id, person_id)
            payload = build_payload(c.TransitStarted, episode_id=episode.episode_id, person_id=person_id, **details)
            state.facility(work.conn, self.ledger_id, payload.destination_facility_id)
            c.check_transition(episode, "custody.transit_started", at)
            work.add("custody.transit_started", payload, at)

    def arrive(self, actor: str, person_id: str, facility_id: str, received_by: str, at: datetime) -> None:
        with self.engine.connect() as conn:
            state.facility(conn, self.ledger_id, facility_id)
            episode = state.require_open_episode(conn, self.ledger_id, person_id)
            destination = conn.execute(
                select(episodes.c.place).where(
                    episodes.c.ledger_id == self.ledger_id, episodes.c.episode_id == episode.episode_id
                )
            ).scalar()
        if episode.status == c.Status.IN_TRANSIT and destination != facility_id:
            raise Conflict("facility_id", f"{person_id} is in transit to {destination}, not to {facility_id}")
        self._transition(
            actor,
            "custody.transit_arrived",
            person_id,
            at,
            lambda e: c.TransitArrived(
                episode_id=e.episode_id, person_id=person_id, facility_id=facility_id, received_by=received_by
            ),
        )

    def release(self, actor: str, person_id: str, at: datetime, **details: Any) -> None:
        """ICPPED 21: a verifiable release (authority, order, verifier, handover, health check)."""
        self._end_custody(actor, "custody.released", person_id, at, details)

    def transfer_out(self, actor: str, person_id: str, at: datetime, **details: Any) -> None:
        """R14: out to another authority, naming the destination and the receiving authority."""
        self._end_custody(actor, "custody.transferred", person_id, at, details)

    def record_death(self, actor: str, person_id: str, at: datetime, **details: Any) -> None:
        """MR 71: a death in custody (place, circumstances; cause and notices may follow)."""
        self._end_custody(actor, "custody.died", person_id, at, details)

    def transfer_out_many(self, actor: str, items: Sequence[tuple[str, datetime, dict[str, Any]]]) -> None:
        """R14: many transfers out (person, when, facts) in one unit of work, or none: a flight leaving.

        Each is checked as :meth:`transfer_out` checks one (held here, the status allows it, no active
        order forbids it, R26); a refusal names the row.  Orders a transfer carries out are executed.
        """
        event_type = "custody.transferred"
        many = len(items) > 1
        if len({p for p, _, _ in items}) != len(items):
            raise InvalidInput.one("items", "a person appears twice")
        with self._work(actor) as work:
            held = state.open_episodes(work.conn, self.ledger_id, [p for p, _, _ in items])
            done = []
            for i, (person_id, at, details) in enumerate(items):
                where = f"items[{i}]." if many else ""
                episode = held.get(person_id)
                try:
                    if episode is None:  # unknown (NotFound) or not held here (Conflict naming the status)
                        episode = state.require_open_episode(work.conn, self.ledger_id, person_id)
                    c.check_transition(episode, event_type, at)
                    refuse_contrary_orders(work, person_id, FORBIDDEN_BY[event_type], VERBS_FOR_ORDERS[event_type])
                except Conflict as error:
                    raise Conflict(f"{where}{error.field}", error.rule) from None
                payload = _build_row(
                    c.CustodyTransferred, where, episode_id=episode.episode_id, person_id=person_id, **details
                )
                new_id = self.new_id()
                work.add(event_type, payload, at, new_id)
                done.append((person_id, str(new_id), at))
            # After all the transfers (consecutive events of one type fold in one batch).
            for (person_id, event_id, when), (_, _, details) in zip(done, items, strict=True):
                self._execute_orders(work, person_id, event_type, event_id, when, details.get("destination"))

    def _end_custody(self, actor: str, event_type: str, person_id: str, at: datetime, details: dict[str, Any]) -> None:
        model = ENDINGS[event_type]
        self._transition(
            actor, event_type, person_id, at, lambda e: model(episode_id=e.episode_id, person_id=person_id, **details)
        )

    def complete_death_record(self, actor: str, person_id: str, at: datetime, **details: Any) -> None:
        """Add what a death record lacked (R12): cause, notices, destination of remains."""
        with self._work(actor) as work:
            row = work.conn.execute(
                select(episodes.c.episode_id).where(
                    episodes.c.ledger_id == self.ledger_id,
                    episodes.c.person_id == person_id,
                    episodes.c.status == c.Status.DECEASED.value,
                )
            ).first()
            if row is None:
                raise Conflict("person_id", f"no death is recorded for {person_id}")
            payload = build_payload(c.DeathReportCompleted, episode_id=row.episode_id, person_id=person_id, **details)
            if not any(v is not None for k, v in payload.model_dump().items() if k not in ("episode_id", "person_id")):
                raise InvalidInput.one("details", "give at least one fact the death record lacked")
            work.add("death.report_completed", payload, at)

    # --- roll call -----------------------------------------------------------------------------

    def record_count(self, actor: str, unit_id: str, present: Sequence[str], at: datetime) -> CountRecorded:
        """MR 7–8 / R1, R13: a physical count; each difference raises an alert naming the person."""
        with self._work(actor) as work:
            facility_id = unit_of(work.conn, self.ledger_id, unit_id)
            result = compare_count(who_in_unit(work.conn, self.ledger_id, unit_id, at), present)
            count_id = str(self.new_id())
            record = CountRecorded(
                count_id=count_id,
                facility_id=facility_id,
                unit_id=unit_id,
                counted_by=actor,
                present=tuple(sorted(set(present))),
                expected=result.expected,
                missing=result.missing,
                extra=result.extra,
            )
            work.add("count.recorded", record, at)
            for person in result.missing:
                work.add(
                    "alert.raised",
                    AlertRaised(
                        alert_id=str(self.new_id()),
                        rule="R13",
                        severity="critical",
                        subject=person,
                        message=f"{person} is on the register in unit {unit_id} but was not seen at the count",
                        refs=(f"count:{count_id}",),
                    ),
                    at,
                )
            for person in result.extra:
                work.add(
                    "alert.raised",
                    AlertRaised(
                        alert_id=str(self.new_id()),
                        rule="R1",
                        severity="critical",
                        subject=person,
                        message=f"{person} was present at the count in unit {unit_id} but is not on its register",
                        refs=(f"count:{count_id}",),
                    ),
                    at,
                )
            return record

    # --- corrections ---------------------------------------------------------------------------

    def correct(self, actor: str, event_id: str, fields: dict[str, Any], reason: str, at: datetime) -> None:
        """Architecture invariant 2: fix a mistake by an event that names the one it corrects."""
        with self._work(actor) as work:
            try:
                (original,) = read_events_by_id(work.conn, self.ledger_id, [event_id])
            except NotFound:
                raise NotFound("event", event_id) from None
            neighbours = _neighbour_times(work, self.ledger_id, original)
            check_correction(original.type, original.payload, fields, neighbours, work.recorded_at)
            work.add(
                "event.corrected", {"corrects_event_id": event_id, "reason": reason, "corrected_fields": fields}, at
            )


# --- helpers -------------------------------------------------------------------------------------


def _documents(identity: Identity) -> list[IdentityDocument]:
    return [IdentityDocument(d.get("kind", ""), d.get("number", ""), d.get("issuer", "")) for d in identity.documents]


def _probe(identity: Identity) -> frozenset[str]:
    """The blocking keys under which people who may be this one are indexed."""
    return blocking_keys(
        identity.given_names,
        identity.family_names,
        identity.birth_date,
        aliases=identity.aliases,
        documents=_documents(identity),
    ).probe


def _refuse_possible_duplicates(identity: Identity, known: Sequence[KnownPerson], where: str) -> None:
    """Exact document or fuzzy name and birth date (domain.identity): a person reviews, not the machine."""
    candidates = find_duplicates(
        identity.given_names, identity.family_names, identity.birth_date, _documents(identity), known
    )
    if candidates:
        best = candidates[0]
        raise PossibleDuplicates(
            f"{where}identity",
            f"may already be registered as {best.person_id} ({best.score}%: {'; '.join(best.reasons)}); "
            "admit with that person_id, or set confirm_new_person after checking",
            tuple(candidates),
        )


def _named(error: ValidationError) -> list[Problem]:
    return [Problem(".".join(str(p) for p in e["loc"]) or "request", e["msg"]) for e in error.errors()]


def build_payload(model: type[M], **fields: Any) -> M:
    """A payload from keyword facts, refusing with the missing or bad fields named (never a bare error)."""
    try:
        return model(**fields)
    except ValidationError as error:
        raise InvalidInput(_named(error)) from None


def _build_row(model: type[M], where: str, **fields: Any) -> M:
    """:func:`build_payload` for one row of a batch: the fields named with the row (``exams[3].findings``)."""
    try:
        return model(**fields)
    except ValidationError as error:
        raise InvalidInput([Problem(f"{where}{p.field}", p.rule) for p in _named(error)]) from None


# The events that end custody here, each with the facts it must state.
ENDINGS: dict[str, type[BaseModel]] = {
    "custody.released": c.CustodyReleased,
    "custody.transferred": c.CustodyTransferred,
    "custody.died": c.CustodyDied,
}

# The read models an admission grows (their statistics are refreshed after a mass intake).
INTAKE_TABLES = tuple(
    t.name for t in (people, person_documents, person_keys, person_events, episodes, stays, alerts, instruments, duties)
)

# R26: which active orders forbid an event, and which an event carries out.
FORBIDDEN_BY = {"custody.transferred": ("no_transfer",), "custody.transit_started": ("no_transfer",)}
VERBS_FOR_ORDERS = {"custody.transferred": "a transfer out", "custody.transit_started": "a transfer"}


EXECUTES = {
    "custody.released": ("release",),
    "custody.transferred": ("return", "facilitate_return"),
    "custody.departed": ("produce",),
}


def _check_layout(
    facility: FacilityRegistered, units: Sequence[UnitRegistered], cells: Sequence[CellRegistered]
) -> None:
    unit_ids = [u.unit_id for u in units]
    if len(set(unit_ids)) != len(unit_ids):
        raise InvalidInput.one("units", "unit ids repeat")
    cell_ids = [x.cell_id for x in cells]
    if len(set(cell_ids)) != len(cell_ids):
        raise InvalidInput.one("cells", "cell ids repeat")
    for i, u in enumerate(units):
        if u.facility_id != facility.facility_id:
            raise InvalidInput.one(f"units[{i}].facility_id", f"must be {facility.facility_id}")
    known = set(unit_ids)
    for i, x in enumerate(cells):
        if x.unit_id not in known:
            raise InvalidInput.one(f"cells[{i}].unit_id", f"no unit {x.unit_id} in this layout")
        if x.facility_id != facility.facility_id:
            raise InvalidInput.one(f"cells[{i}].facility_id", f"must be {facility.facility_id}")
        if x.floor_area_m2 <= 0:
            raise InvalidInput.one(f"cells[{i}].floor_area_m2", "must be more than 0")


def _is_physical(message: str) -> bool:
    """Beds and a closed cell are facts no officer can override; separation rules can be, with a reason."""
    return any(fact in message for fact in ("out of service", "no free bed", "already an occupant"))


def _with_occupant(cell: Any, person: Occupant) -> Any:
    return replace(cell, occupants=(*cell.occupants, person))


def _without_occupant(cell: Any, person_id: str) -> Any:
    return replace(cell, occupants=tuple(o for o in cell.occupants if o.person_id != person_id))


_is_minor = state.is_minor


def _last_cell(work: Work, ledger: str, person_id: str, episode: c.Episode) -> str | None:
    """The cell the person left for this outing (None if they left from intake or another facility)."""
    rows = work.conn.execute(
        select(stays.c.cell_id, stays.c.facility_id, stays.c.status)
        .where(stays.c.ledger_id == ledger, stays.c.person_id == person_id, stays.c.episode_id == episode.episode_id)
        .order_by(stays.c.valid_from.desc(), stays.c.seq.desc())
        .limit(3)
    ).all()
    # rows[0] is the stay the return just closed or the outing itself; find the outing, then what preceded it
    for current, before in itertools.pairwise(rows):
        if current.status == c.Status.OUT.value:
            if before.status == c.Status.IN_CELL.value and before.facility_id == episode.facility_id:
                return str(before.cell_id)
            return None
    return None


def _neighbour_times(work: Work, ledger: str, original: StoredEvent) -> tuple[datetime | None, datetime | None]:
    """The times of the person's events just before and after ``original``, for a time correction."""
    person = original.payload.get("person_id")
    if person is None:
        return None, None
    rows = work.conn.execute(
        select(stays.c.valid_from, stays.c.seq)
        .where(stays.c.ledger_id == ledger, stays.c.person_id == person)
        .order_by(stays.c.valid_from, stays.c.seq)  # ties: the order they were recorded
    ).all()
    times = [r.valid_from for r in rows]
    seqs = [r.seq for r in rows]
    if original.seq not in seqs:
        return None, None
    i = seqs.index(original.seq)
    return (times[i - 1] if i > 0 else None), (times[i + 1] if i + 1 < len(times) else None)
