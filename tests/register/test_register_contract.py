"""The register's commands and questions, on SQLite and PostgreSQL.

Architecture invariant 4 (nobody disappears); standards.md §1 (MR 7, ICPPED 17(3),
BoP 12), §2 (space standards); safeguards R1, R2, R13, R16–R21 as far as the
register itself enforces them.  Every refusal names the field and changes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from habeas.domain.admission import Admission
from habeas.domain.custody import LegalBasis
from habeas.domain.housing import HousingPolicy
from habeas.errors import Conflict, InvalidInput, NotFound
from habeas.ledger.log import read_head
from habeas.ledger.verify import verify_ledger
from habeas.services import queries
from habeas.services.rebuild import rebuild, snapshot
from habeas.services.register import PossibleDuplicates, RegisterService, parse_request
from tests.conftest import at
from tests.register.support import Clock, admission, identity, service, small_facility

RELEASE = {"authority": "Juzgado Primero", "order_reference": "ORD-1", "verified_by": "user:records",
           "handed_over_to": "Madre Sintetica", "health_check": "examined, fit"}  # fmt: skip


class RegisterContract:
    @pytest.fixture
    def engine(self) -> Engine:
        raise NotImplementedError

    @pytest.fixture
    def setup(self, engine: Engine, ledger_id: str) -> tuple[RegisterService, Clock, list[str]]:
        svc, clock = service(engine, ledger_id)
        return svc, clock, small_facility(svc)

    def size(self, svc: RegisterService) -> int:
        with svc.engine.connect() as conn:
            return read_head(conn, svc.ledger_id).size

    def refused(self, svc: RegisterService, error: type[Exception], call: Any, match: str) -> Exception:
        """The command is refused with ``error`` whose message matches, and nothing is appended."""
        before = self.size(svc)
        with pytest.raises(error, match=match) as caught:
            call()
        assert self.size(svc) == before
        return caught.value

    # --- admission -----------------------------------------------------------------------------

    def test_admission_records_every_required_field(self, setup: Any) -> None:
        svc, _, _ = setup
        done = svc.admit("user:intake", admission(0))
        assert done.booking_number == "FAC1-2025-000001" and done.new_person
        with svc.engine.connect() as conn:
            record = queries.person_record(conn, svc.ledger_id, done.person_id)
            (episode,) = record["episodes"]
            assert episode["status"] == "admitted"
            assert episode["legal_basis"]["kind"] == "arrest_record"
            assert episode["detaining_authority"] == "Policía Nacional Civil"
            assert episode["custodian_of_record"] == "Prison Directorate"  # defaults to the facility's authority
            assert episode["arrested_at"] == at(-120) and episode["admitted_at"] == at(0)
            (admitted,) = [e for e in queries.timeline(conn, svc.ledger_id, done.person_id)
                           if e.type == "custody.admitted"]  # fmt: skip
            assert admitted.payload["injuries_observed"][0]["body_part"] == "left wrist"
            assert admitted.payload["family_contacts"][0]["relationship"] == "mother"
        second = svc.admit("user:intake", admission(1))
        assert second.booking_number == "FAC1-2025-000002"

    def test_missing_legal_basis_is_refused_naming_the_field(self, setup: Any) -> None:
        svc, _, _ = setup
        data = admission(0).model_dump()
        del data["legal_basis"]
        error = self.refused(svc, InvalidInput, lambda: svc.admit("u", parse_request(Admission, data)), "legal_basis")
        assert [p.field for p in error.problems] == ["legal_basis"]  # type: ignore[attr-defined]

    @pytest.mark.parametrize(
        ("overrides", "field", "rule"),
        [
            ({"admitted_at": at(700)}, "admitted_at", "in the future"),
            ({"arrested_at": at(5)}, "arrested_at", "after admitted_at"),
            ({"family_contacts": ()}, "family_contacts", "MR 7"),
            ({"custodian_of_record": " "}, "custodian_of_record", "never be empty"),
            ({"detaining_authority": " "}, "detaining_authority", "must not be empty"),
            ({"facility_id": "nowhere"}, "facility_id", "no facility"),
            ({"legal_basis": LegalBasis(instrument_id="i1", kind="judicial_order", reference="J-1", issued_by="Juzgado",
                                        issued_at=at(-500), expires_at=at(-1))},
             "legal_basis.expires_at", "R2"),
            ({"legal_basis": LegalBasis(instrument_id="i1", kind="judicial_order", reference="J-1", issued_by="Juzgado",
                                        issued_at=at(30))}, "legal_basis.issued_at", "R2"),
            ({"person_id": "p-1"}, "identity", "either identity"),
        ],
    )  # fmt: skip
    def test_admission_refusals(self, setup: Any, overrides: dict[str, Any], field: str, rule: str) -> None:
        svc, _, _ = setup
        error = self.refused(svc, InvalidInput, lambda: svc.admit("u", admission(0, **overrides)), rule)
        assert field in [p.field for p in error.problems]  # type: ignore[attr-defined]

    def test_the_same_document_is_the_same_person(self, setup: Any) -> None:
        svc, _, _ = setup
        first = svc.admit("u", admission(0))
        svc.release("u", first.person_id, at(10), **RELEASE)
        again = admission(20, identity=identity(given_names="Otro", documents=(
            {"kind": "national_id", "number": f"{first_doc(svc, first.person_id)}", "issuer": "SLV"},)))  # fmt: skip
        self.refused(svc, Conflict, lambda: svc.admit("u", again), f"belongs to person {first.person_id}")
        back = svc.admit("u", admission(20, identity=None, person_id=first.person_id))
        assert back.person_id == first.person_id and not back.new_person

    def test_a_likely_duplicate_by_name_and_birth_date_needs_confirmation(self, setup: Any) -> None:
        svc, _, _ = setup
        who = identity(given_names="José Luis", family_names="Hernández Gutiérrez", documents=())
        first = svc.admit("u", admission(0, identity=who))
        svc.release("u", first.person_id, at(10), **RELEASE)
        variant = identity(given_names="Jose Luis", family_names="Hernandez Gutierres", documents=(),
                           birth_date=who.birth_date)  # fmt: skip
        error = self.refused(svc, PossibleDuplicates, lambda: svc.admit("u", admission(20, identity=variant)),
                             "may already be registered")  # fmt: skip
        assert error.candidates[0].person_id == first.person_id  # type: ignore[attr-defined]
        confirmed = svc.admit("u", admission(20, identity=variant, confirm_new_person=True))
        assert confirmed.person_id != first.person_id

    def test_nobody_is_held_twice(self, setup: Any) -> None:
        svc, _, _ = setup
        first = svc.admit("u", admission(0))
        self.refused(svc, Conflict, lambda: svc.admit("u", admission(5, identity=None, person_id=first.person_id)),
                     "already held")  # fmt: skip

    def test_a_batch_admission_is_all_or_nothing(self, setup: Any) -> None:
        svc, _, _ = setup
        good = [admission(i) for i in range(3)]
        bad = admission(3, family_contacts=())
        error = self.refused(svc, InvalidInput, lambda: svc.admit_many("u", [*good, bad]), "MR 7")
        assert error.problems[0].field == "rows[3].family_contacts"  # type: ignore[attr-defined]
        assert len(svc.admit_many("u", good)) == 3

    # --- housing and movements -----------------------------------------------------------------

    def test_placement_refusals(self, setup: Any) -> None:
        svc, _, cells = setup
        a = svc.admit("u", admission(0))
        self.refused(svc, NotFound, lambda: svc.place("u", a.person_id, "no-such-cell", at(5)), "no cell")
        svc.set_cell_service("u", cells[1], False, "flooded", at(1))
        self.refused(svc, Conflict, lambda: svc.place("u", a.person_id, cells[1], at(5)), "out of service")
        woman = svc.admit("u", admission(2, identity=identity(sex="F")))
        svc.place("u", a.person_id, cells[0], at(5))
        self.refused(svc, Conflict, lambda: svc.place("u", woman.person_id, cells[0], at(6)), r"MR 11\(a\)")
        svc.place("u", woman.person_id, cells[0], at(6), override_reason="mother and son, court order 12")
        with svc.engine.connect() as conn:
            placed = [e for e in queries.timeline(conn, svc.ledger_id, woman.person_id) if e.type == "custody.placed"]
        assert placed[0].payload["override_reason"] == "mother and son, court order 12"

    def test_no_free_bed_cannot_be_overridden(self, engine: Engine, ledger_id: str) -> None:
        svc, _ = service(engine, ledger_id)
        cells = small_facility(svc, beds=1)
        a, b = svc.admit("u", admission(0)), svc.admit("u", admission(1))
        svc.place("u", a.person_id, cells[0], at(5))
        self.refused(svc, Conflict, lambda: svc.place("u", b.person_id, cells[0], at(6), override_reason="full"),
                     "no free bed")  # fmt: skip

    def test_movements_check_the_current_state(self, setup: Any) -> None:
        svc, _, cells = setup
        a = svc.admit("u", admission(0))
        self.refused(svc, Conflict, lambda: svc.release("u", "nobody-known", at(1), **RELEASE), "") if False else None
        self.refused(svc, NotFound, lambda: svc.release("u", "nobody-known", at(1), **RELEASE), "no person")
        svc.place("u", a.person_id, cells[0], at(5))
        self.refused(svc, Conflict, lambda: svc.place("u", a.person_id, cells[0], at(6)), "already in cell")
        self.refused(svc, Conflict, lambda: svc.place("u", a.person_id, cells[2], at(4)), "before the last recorded")
        svc.depart("u", a.person_id, at(10), purpose="court", destination="Juzgado Primero", authority="Juzgado",
                   escort="Custodia 3", expected_return=at(300))  # fmt: skip
        self.refused(svc, Conflict, lambda: svc.place("u", a.person_id, cells[1], at(11)), "status is out")
        svc.return_to_cell("u", a.person_id, at(200), received_by="user:gate")
        svc.release("u", a.person_id, at(210), **RELEASE)
        self.refused(svc, Conflict, lambda: svc.place("u", a.person_id, cells[1], at(220)), "not held here")
        self.refused(svc, Conflict, lambda: svc.release("u", a.person_id, at(220), **RELEASE), "not held here")
        with svc.engine.connect() as conn:
            where = lambda minutes: queries.where_at(conn, svc.ledger_id, a.person_id, at(minutes))  # noqa: E731
            assert where(-1) is None
            assert (where(1).status, where(1).cell_id) == ("admitted", None)  # type: ignore[union-attr]
            assert where(7).cell_id == cells[0]  # type: ignore[union-attr]
            assert (where(50).status, where(50).place) == ("out", "Juzgado Primero")  # type: ignore[union-attr]
            assert where(200).cell_id == cells[0]  # back in the cell they left
            assert where(500).status == "released"  # type: ignore[union-attr]
            assert queries.who_in_cell(conn, svc.ledger_id, cells[0], at(7)) == [a.person_id]
            assert queries.who_in_cell(conn, svc.ledger_id, cells[0], at(50)) == []

    def test_every_end_of_custody_keeps_the_person_findable(self, setup: Any) -> None:
        svc, _, cells = setup
        people = [svc.admit("u", admission(i)).person_id for i in range(3)]
        for p in people:
            svc.place("u", p, cells[0], at(10))
        svc.release("u", people[0], at(20), **RELEASE)
        svc.transfer_out("u", people[1], at(20), destination="Centro Penal de Apanteos",
                         receiving_authority="DGCP", authority="Juzgado", order_reference="T-9")  # fmt: skip
        svc.record_death("u", people[2], at(20), place="cell fac1-U1-C1", circumstances="found unresponsive")
        with svc.engine.connect() as conn:
            states = [queries.where_at(conn, svc.ledger_id, p, at(30)) for p in people]
            assert [s.status for s in states] == ["released", "transferred", "deceased"]  # type: ignore[union-attr]
            assert states[1].place == "Centro Penal de Apanteos"  # type: ignore[union-attr]
            assert queries.cell_occupancy(conn, svc.ledger_id, cells[0])["occupants"] == 0

    def test_transit_between_facilities(self, engine: Engine, ledger_id: str) -> None:
        svc, _ = service(engine, ledger_id)
        small_facility(svc)
        other = small_facility(svc, facility_id="fac2")
        a = svc.admit("u", admission(0))
        svc.start_transit("u", a.person_id, at(10), destination_facility_id="fac2", authority="DGCP",
                          escort="Custodia 1", deadline=at(200))  # fmt: skip
        svc.arrive("u", a.person_id, "fac2", "user:gate-2", at(100))
        svc.place("u", a.person_id, other[0], at(110))
        with engine.connect() as conn:
            assert queries.where_at(conn, ledger_id, a.person_id, at(50)).status == "in_transit"  # type: ignore[union-attr]
            counts = {h.facility_id: h.total for h in queries.headcount(conn, ledger_id)}
        assert counts == {"fac1": 0, "fac2": 1}

    # --- the questions ---------------------------------------------------------------------------

    def test_occupancy_against_every_capacity(self, engine: Engine, ledger_id: str) -> None:
        # 2 units × 3 cells of 12 m², 4 beds: ICRC 3 per cell (12/3.4), CPT 3 (12/4).
        svc, _ = service(engine, ledger_id)
        cells = small_facility(svc)
        people = [svc.admit("u", admission(i)).person_id for i in range(5)]
        svc.place_many("u", [(p, cells[0]) for p in people[:4]] + [(people[4], cells[3])], at(10))
        with engine.connect() as conn:
            facility, units = queries.occupancy(conn, ledger_id, "fac1")
            cell = queries.cell_occupancy(conn, ledger_id, cells[0])
        assert (facility.population, facility.beds, facility.declared_capacity) == (5, 24, 24)
        assert (facility.icrc_capacity, facility.cpt_capacity) == (18, 18)
        assert facility.floor_area_m2 == Decimal(72)
        assert [u.population for u in units] == [4, 1]
        assert (cell["icrc_capacity"], cell["m2_per_person"]) == (3, Decimal("3.00"))

    def test_stock_is_not_flow(self, setup: Any) -> None:
        svc, _, _ = setup
        people = [svc.admit("u", admission(i)).person_id for i in range(4)]
        for p in people[:3]:
            svc.release("u", p, at(50), **RELEASE)
        with svc.engine.connect() as conn:
            assert queries.headcount(conn, svc.ledger_id)[0].total == 1
            assert queries.admissions_between(conn, svc.ledger_id, "fac1", at(-1), at(100)) == 4

    def test_roll_call_names_the_missing_and_the_extra(self, setup: Any) -> None:
        svc, _, cells = setup
        people = [svc.admit("u", admission(i)).person_id for i in range(3)]
        for p in people:
            svc.place("u", p, cells[0], at(10))
        record = svc.record_count("user:officer", "fac1-U1", [people[0], people[1], "stranger-1"], at(20))
        assert record.missing == (people[2],) and record.extra == ("stranger-1",)
        from habeas.store.register_tables import alerts

        with svc.engine.connect() as conn:
            rows = conn.execute(alerts.select().where(alerts.c.ledger_id == svc.ledger_id)).all()
        assert sorted((r.rule, r.subject) for r in rows) == [("R1", "stranger-1"), ("R13", people[2])]
        assert svc.record_count("user:officer", "fac1-U1", people, at(30)).missing == ()

    def test_find_people(self, setup: Any) -> None:
        svc, _, _ = setup
        who = svc.admit("u", admission(0, identity=identity(given_names="María José", family_names="Peña Núñez")))
        with svc.engine.connect() as conn:
            assert [p["person_id"] for p in queries.find_people(conn, svc.ledger_id, name="pena nunez")] == [
                who.person_id
            ]

    # --- corrections, rebuild, integrity ----------------------------------------------------------

    def test_corrections_keep_both_facts_in_the_timeline(self, setup: Any) -> None:
        svc, _, cells = setup
        a = svc.admit("u", admission(0, identity=identity(given_names="Jhon")))
        svc.place("u", a.person_id, cells[0], at(60))
        with svc.engine.connect() as conn:
            registered, _, placed = queries.timeline(conn, svc.ledger_id, a.person_id)
        svc.correct("user:records", registered.event_id, {"given_names": "John"}, "typo at intake", at(70))
        svc.correct("user:records", placed.event_id, {"occurred_at": "2025-03-15T22:34:00Z"},
                    "placed at 22:34, logged late", at(71))  # fmt: skip
        self.refused(svc, Conflict, lambda: svc.correct("u", placed.event_id, {"occurred_at": "2025-03-15T21:00:00Z"},
                                                        "wrong", at(72)), "order")  # fmt: skip
        self.refused(svc, InvalidInput, lambda: svc.correct("u", placed.event_id, {"cell_id": "x"}, "r", at(72)),
                     "can have occurred_at corrected")  # fmt: skip
        with svc.engine.connect() as conn:
            assert queries.person_record(conn, svc.ledger_id, a.person_id)["given_names"] == "John"
            types = [e.type for e in queries.timeline(conn, svc.ledger_id, a.person_id)]
            assert types == ["person.registered", "custody.admitted", "custody.placed", "event.corrected",
                             "event.corrected"]  # fmt: skip
            assert queries.where_at(conn, svc.ledger_id, a.person_id, at(35)).cell_id == cells[0]  # type: ignore[union-attr]

    def test_rebuild_reproduces_the_projections(self, setup: Any) -> None:
        svc, _, cells = setup
        people = [svc.admit("u", admission(i)).person_id for i in range(6)]
        svc.place_many("u", [(p, cells[i % 3]) for i, p in enumerate(people)], at(10))
        svc.release("u", people[0], at(20), **RELEASE)
        svc.record_count("u", "fac1-U1", people[2:], at(30))
        with svc.engine.connect() as conn:
            before = snapshot(conn, svc.ledger_id)
            registered = queries.timeline(conn, svc.ledger_id, people[1])[0]
        svc.correct("u", registered.event_id, {"family_names": "Corregido"}, "typo", at(40))
        with svc.engine.connect() as conn:
            before = snapshot(conn, svc.ledger_id)
        assert rebuild(svc.engine, svc.ledger_id) == self.size(svc)
        with svc.engine.connect() as conn:
            assert snapshot(conn, svc.ledger_id) == before
            assert verify_ledger(conn, svc.ledger_id).ok

    def test_housing_proposal_respects_separation(self, engine: Engine, ledger_id: str) -> None:
        policy = HousingPolicy(rival_groups=frozenset({frozenset({"MS", "18"})}))
        svc, _ = service(engine, ledger_id, policy=policy)
        small_facility(svc)
        people = [svc.admit("u", admission(i)).person_id for i in range(6)]
        for i, p in enumerate(people):
            svc.classify("u", p, {"group_affiliation": "MS" if i % 2 else "18", "risk_level": "high"}, at(5))
        proposal = svc.propose_housing("u", "fac1")
        assert set(proposal.assignments) == set(people)
        svc.confirm_housing("u", proposal, at(10))
        with engine.connect() as conn:
            for cell in {*proposal.assignments.values()}:
                groups = {i % 2 for i, p in enumerate(people) if proposal.assignments[p] == cell}
                assert len(groups) == 1, "rivals share a cell"
                assert len(queries.who_in_cell(conn, ledger_id, cell, at(11))) >= 1


def first_doc(svc: RegisterService, person_id: str) -> str:
    with svc.engine.connect() as conn:
        key = queries.person_record(conn, svc.ledger_id, person_id)["documents"][0]
    return str(key).split(":")[-1]


class TestRegisterOnSQLite(RegisterContract):
    @pytest.fixture
    def engine(self, sqlite_engine: Engine) -> Engine:
        return sqlite_engine


@pytest.mark.postgres
class TestRegisterOnPostgreSQL(RegisterContract):
    @pytest.fixture
    def engine(self, postgres_engine: Engine) -> Engine:
        return postgres_engine


def test_time_passes(engine_unused: None = None) -> None:
    assert at(1) - at(0) == timedelta(minutes=1)
