"""Mass intake as one unit of work per command: ``examine_many``, chunked admissions, batched probes.

MR 30, 34 (an examination on admission); ICPPED 17(3) and MR 7 (the admission record);
the safeguards re-checked inside each command's transaction, once per chunk of a mass
intake (services.safeguarding.after_command, Work.check).  Every refusal names the row
and field, and changes nothing.  On SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from habeas.domain.custody import Injury
from habeas.errors import Conflict, InvalidInput, NotFound
from habeas.ledger.log import read_events, read_head
from habeas.services import queries, safeguarding, state
from habeas.services.register import MASS_INTAKE, PossibleDuplicates, RegisterService
from habeas.services.unit_of_work import Work
from habeas.store.engine import STALE_FLOOR, statistics_are_stale
from habeas.store.law_tables import duties
from habeas.store.register_tables import episodes, person_keys
from tests.conftest import at
from tests.register.support import Clock, admission, identity, service, small_facility

RELEASE = {"authority": "Juzgado Primero", "order_reference": "ORD-1", "verified_by": "user:records",
           "handed_over_to": "Madre Sintetica", "health_check": "examined, fit"}  # fmt: skip
FIT = {"examiner": "Dra. Alemán", "findings": "fit for detention"}


class MassIntakeContract:
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

    def events(self, svc: RegisterService, after: int = 0) -> list[Any]:
        with svc.engine.connect() as conn:
            return list(read_events(conn, svc.ledger_id, after_seq=after))

    def refused(self, svc: RegisterService, error: type[Exception], call: Any, match: str) -> Exception:
        before = self.size(svc)
        with pytest.raises(error, match=match) as caught:
            call()
        assert self.size(svc) == before
        return caught.value

    # --- examine_many ----------------------------------------------------------------------------

    def test_examine_many_records_every_exam_in_one_transaction(self, setup: Any) -> None:
        svc, _, _ = setup
        people = svc.admit_many("u", [admission(i) for i in range(3)])
        before = self.size(svc)
        svc.examine_many("medic", [(p.person_id, FIT, at(30 + i)) for i, p in enumerate(people)])
        new = [e for e in self.events(svc, before) if e.type == "medical.examined"]
        assert [e.payload["person_id"] for e in new] == [p.person_id for p in people]
        assert {e.recorded_at for e in new} == {svc.clock()}  # one command
        with svc.engine.connect() as conn:
            last = dict(
                conn.execute(
                    select(episodes.c.person_id, episodes.c.last_event_at).where(episodes.c.ledger_id == svc.ledger_id)
                ).all()
            )
        assert [last[p.person_id] for p in people] == [at(30), at(31), at(32)]

    def test_examine_many_checks_a_second_exam_against_the_first(self, setup: Any) -> None:
        svc, _, _ = setup
        (person,) = svc.admit_many("u", [admission(0)])
        self.refused(
            svc,
            Conflict,
            lambda: svc.examine_many("medic", [(person.person_id, FIT, at(40)), (person.person_id, FIT, at(35))]),
            "before the last recorded change",
        )
        svc.examine_many("medic", [(person.person_id, FIT, at(35)), (person.person_id, FIT, at(40))])

    def test_examine_many_refuses_an_unknown_person_and_writes_nothing(self, setup: Any) -> None:
        svc, _, _ = setup
        (known,) = svc.admit_many("u", [admission(0)])
        error = self.refused(
            svc,
            NotFound,
            lambda: svc.examine_many("medic", [(known.person_id, FIT, at(30)), ("nobody", FIT, at(30))]),
            "no person 'nobody'",
        )
        assert error.key == "nobody"  # type: ignore[attr-defined]

    def test_examine_many_refuses_a_released_person_naming_the_row(self, setup: Any) -> None:
        svc, _, _ = setup
        held, gone = svc.admit_many("u", [admission(0), admission(1)])
        svc.release("u", gone.person_id, at(10), **RELEASE)
        error = self.refused(
            svc,
            Conflict,
            lambda: svc.examine_many("medic", [(held.person_id, FIT, at(30)), (gone.person_id, FIT, at(30))]),
            "not held here",
        )
        assert error.field == "exams[1].person_id"  # type: ignore[attr-defined]

    def test_examine_many_refuses_a_bad_field_naming_the_row(self, setup: Any) -> None:
        svc, _, _ = setup
        a, b = svc.admit_many("u", [admission(0), admission(1)])
        error = self.refused(
            svc,
            InvalidInput,
            lambda: svc.examine_many(
                "medic", [(a.person_id, FIT, at(30)), (b.person_id, {"examiner": "Dr. Funes"}, at(30))]
            ),
            "findings",
        )
        assert [p.field for p in error.problems] == ["exams[1].findings"]  # type: ignore[attr-defined]
        self.refused(
            svc,
            InvalidInput,
            lambda: svc.examine_many("medic", [(a.person_id, {**FIT, "blood_type": "O+"}, at(30))]),
            "blood_type",
        )

    def test_examine_many_of_one_refuses_like_examine(self, setup: Any) -> None:
        svc, _, _ = setup
        (person,) = svc.admit_many("u", [admission(0)])
        svc.release("u", person.person_id, at(10), **RELEASE)
        for call in (
            lambda: svc.examine("medic", person.person_id, FIT, at(30)),
            lambda: svc.examine_many("medic", [(person.person_id, FIT, at(30))]),
        ):
            error = self.refused(svc, Conflict, call, "not held here")
            assert error.field == "person_id"  # type: ignore[attr-defined]

    def test_examine_many_sets_the_duty_clocks_of_each_exam_in_order(self, setup: Any) -> None:
        """MR 30, 34 / R10, R11: the batch's exam, injury and referral clocks, as exams one by one would."""
        svc, _, _ = setup
        clean = {"injuries_observed": ()}
        referred, injured, fit, indicator, twice, twice_back = svc.admit_many(
            "u", [admission(0), admission(1), admission(2), *(admission(3 + i, **clean) for i in range(3))]
        )
        hurt = {**FIT, "injuries": (Injury(body_part="left wrist", description="bruising"),)}
        sent = {**hurt, "referred_to": "Hospital Rosales"}
        svc.examine_many(
            "medic",
            [
                (referred.person_id, sent, at(30)),
                (injured.person_id, hurt, at(31)),
                (fit.person_id, FIT, at(32)),
                (indicator.person_id, {**FIT, "torture_indicators": True}, at(33)),
                (twice.person_id, hurt, at(34)),  # an injury, then its referral: nothing left to refer
                (twice.person_id, sent, at(35)),
                (twice_back.person_id, sent, at(36)),  # a referral, then a new injury: that one is open
                (twice_back.person_id, hurt, at(37)),
            ],
        )
        with svc.engine.connect() as conn:
            clocks = {
                r.person_id: (r.examined_at, r.injury_at, r.referred_at)
                for r in conn.execute(
                    select(duties.c.person_id, duties.c.examined_at, duties.c.injury_at, duties.c.referred_at).where(
                        duties.c.ledger_id == svc.ledger_id
                    )
                )
            }
        assert clocks[referred.person_id] == (at(30), None, at(30))
        assert clocks[injured.person_id] == (at(31), at(1), None)  # the injury seen at admission is the first
        assert clocks[fit.person_id] == (at(32), at(2), None)
        assert clocks[indicator.person_id] == (at(33), at(33), None)
        assert clocks[twice.person_id] == (at(34), None, at(35))
        assert clocks[twice_back.person_id] == (at(36), at(37), at(36))

    def test_document_keys_are_found_through_person_documents_alone(self, setup: Any) -> None:
        """The duplicate check's document key (rule 1) is answered by person_documents, not copied into person_keys."""
        svc, _, _ = setup
        person = svc.admit("u", admission(0))
        with svc.engine.connect() as conn:
            keys = conn.execute(
                select(person_keys.c.key).where(
                    person_keys.c.ledger_id == svc.ledger_id, person_keys.c.person_id == person.person_id
                )
            ).scalars()
            assert [k for k in keys if k.startswith("doc:")] == []
            (doc_key,) = queries.person_record(conn, svc.ledger_id, person.person_id)["documents"]
            found = state.known_people(conn, svc.ledger_id, {f"doc:{doc_key}"})
        assert [p.person_id for p in found] == [person.person_id]
        kind, issuer, number = str(doc_key).split(":", 2)
        again = identity(documents=({"kind": kind.lower(), "number": number, "issuer": issuer},))
        self.refused(svc, Conflict, lambda: svc.admit("u", admission(5, identity=again)), "belongs to person")

    # --- chunked admissions --------------------------------------------------------------------

    def test_a_chunk_that_breaches_a_safeguard_raises_the_alert(self, setup: Any, monkeypatch: Any) -> None:
        """R3 (intl: 48 h of administrative detention) for one person of the second chunk."""
        svc, _, _ = setup
        checked: list[int] = []

        def counting(work: Work) -> None:
            checked.append(len(work.unchecked()))
            safeguarding.after_command(work)

        svc.safeguards = counting
        requests = [admission(i) for i in range(5)]
        requests[3] = admission(3, arrested_at=at(-4000))  # arrested ~67 h before admission, no judge
        before = self.size(svc)
        people = svc.admit_many("u", requests, chunk=2)
        assert len(checked) == 3  # once per chunk, in the one transaction
        raised = [e.payload for e in self.events(svc, before) if e.type == "alert.raised"]
        r3 = [p for p in raised if p["rule"] == "R3"]
        assert [p["subject"] for p in r3] == [people[3].person_id]

    def test_a_refusal_in_a_later_chunk_leaves_nothing_of_the_earlier_ones(self, setup: Any) -> None:
        svc, _, _ = setup
        requests = [admission(i) for i in range(5)]
        requests[4] = admission(4, person_id="nobody", identity=None)
        self.refused(svc, NotFound, lambda: svc.admit_many("u", requests, chunk=2), "no person 'nobody'")
        with svc.engine.connect() as conn:
            assert conn.execute(select(episodes).where(episodes.c.ledger_id == svc.ledger_id)).first() is None

    def test_the_duplicate_probe_of_a_chunk_sees_the_earlier_chunks(self, setup: Any) -> None:
        """The same refusals as one query per person: exact document, then name + birth date."""
        svc, _, _ = setup
        who = identity(given_names="José Luis", family_names="Hernández Gutiérrez", documents=())
        variant = identity(given_names="Jose Luis", family_names="Hernandez Gutierres", documents=(),
                           birth_date=who.birth_date)  # fmt: skip
        requests = [admission(0, identity=who), admission(1), admission(2, identity=variant)]
        error = self.refused(
            svc, PossibleDuplicates, lambda: svc.admit_many("u", requests, chunk=2), "may already be registered"
        )
        assert error.field == "rows[2].identity"  # type: ignore[attr-defined]
        # in one chunk the fuzzy check compares with the register only (rows are checked against
        # each other by document), as before the probe was batched
        assert len(svc.admit_many("u", requests, chunk=3)) == 3

    def test_a_document_already_registered_is_refused_in_any_chunk(self, setup: Any) -> None:
        svc, _, _ = setup
        first = svc.admit("u", admission(0))
        svc.release("u", first.person_id, at(10), **RELEASE)
        with svc.engine.connect() as conn:
            key = str(queries.person_record(conn, svc.ledger_id, first.person_id)["documents"][0])
        kind, issuer, number = key.split(":", 2)
        same = {"kind": kind.lower(), "number": number, "issuer": issuer}
        requests = [admission(20 + i) for i in range(3)] + [admission(25, identity=identity(documents=(same,)))]
        error = self.refused(svc, Conflict, lambda: svc.admit_many("u", requests, chunk=2), "belongs to person")
        assert error.field == "rows[3].identity.documents"  # type: ignore[attr-defined]
        self.refused(svc, Conflict, lambda: svc.check_admissions("u", requests), "belongs to person")

    def test_a_mass_intake_leaves_statistics_for_the_planner(self, setup: Any) -> None:
        svc, _, _ = setup
        count = STALE_FLOOR + MASS_INTAKE
        svc.admit_many("u", [admission(i / 10, confirm_new_person=True) for i in range(count)], chunk=200)
        with svc.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(episodes)).scalar_one()
        assert not statistics_are_stale(svc.engine, "episodes", total)


class TestMassIntakeOnSQLite(MassIntakeContract):
    @pytest.fixture
    def engine(self, sqlite_engine: Engine) -> Engine:
        return sqlite_engine


@pytest.mark.postgres
class TestMassIntakeOnPostgreSQL(MassIntakeContract):
    @pytest.fixture
    def engine(self, postgres_engine: Engine) -> Engine:
        return postgres_engine
