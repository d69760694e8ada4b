"""The legal service's own refusals, whatever the caller (CLI, API, demo): ids chosen by the caller name one
record for ever, and nothing is carried out before it was issued.  Each refusal names the field and changes
nothing (the ledger's size is the same after it), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine

from habeas.domain import law
from habeas.errors import Conflict, InvalidInput
from tests.conftest import at
from tests.safeguards.test_rules_facility import World, new_world, small

COURT = "Juzgado Primero de Paz"


def order(order_id: str, person: str, issued: float, deadline: float | None = None) -> law.OrderIssued:
    return law.OrderIssued(
        order_id=order_id, person_id=person, kind="release", court=COURT, court_state="SLV",
        reference=f"LIB-{order_id}", issued_at=at(issued), deadline=at(deadline) if deadline is not None else None,
    )  # fmt: skip


def instrument(instrument_id: str, issued: float) -> dict[str, object]:
    return {"instrument_id": instrument_id, "kind": "judicial_order", "reference": f"OJ-{instrument_id}",
            "issued_by": "Juzgado de Instrucción", "issued_at": at(issued)}  # fmt: skip


class TestLegalRefusals:  # on both backends (the engine fixture of tests/conftest.py)
    @pytest.fixture
    def world(self, engine: Engine, ledger_id: str) -> World:
        return new_world(engine, ledger_id)

    def test_an_order_id_already_recorded_is_refused_naming_it(self, world: World) -> None:
        small(world)
        a, b = world.admit_many(2, 0)
        world.now(10)
        world.legal.issue_order("user:clerk", order("o-1", a, 5, 100), at(10))
        error = world.refused(Conflict, lambda: world.legal.issue_order("user:clerk", order("o-1", b, 6), at(10)))
        assert error.field == "order_id" and "'o-1' is already recorded" in str(error)

    def test_an_order_is_neither_executed_nor_lifted_before_it_was_issued(self, world: World) -> None:
        small(world)
        (a,) = world.admit_many(1, 0)
        world.now(30)
        world.legal.issue_order("user:clerk", order("o-2", a, 20, 100), at(30))
        for call in (
            lambda: world.legal.execute_order("user:records", "o-2", "released", at(19)),
            lambda: world.legal.lift_order("user:clerk", "o-2", COURT, "appeal decided", at(19)),
        ):
            error = world.refused(InvalidInput, call)
            [(field, rule)] = [(p.field, p.rule) for p in error.problems]
            assert field == "at" and rule == "is before order LIB-o-2 was issued"
        world.legal.execute_order("user:records", "o-2", "released", at(20))  # the boundary: at the issue instant

    def test_an_instrument_id_already_recorded_is_refused(self, world: World) -> None:
        small(world)
        a, b = world.admit_many(2, 0)
        world.now(10)
        world.legal.record_instrument("user:clerk", a, instrument("i-1", 5), at(10))
        error = world.refused(
            Conflict, lambda: world.legal.record_instrument("user:clerk", b, instrument("i-1", 6), at(10))
        )
        assert error.field == "instrument_id"

    def test_an_instrument_does_not_end_before_it_was_issued(self, world: World) -> None:
        small(world)
        (a,) = world.admit_many(1, 0)
        world.now(30)
        world.legal.record_instrument("user:clerk", a, instrument("i-2", 20), at(30))
        error = world.refused(InvalidInput, lambda: world.legal.end_instrument("user:clerk", "i-2", "revoked", at(19)))
        [(field, rule)] = [(p.field, p.rule) for p in error.problems]
        assert field == "at" and rule == "is before instrument OJ-i-2 was issued"
        world.legal.end_instrument("user:clerk", "i-2", "revoked", at(20))

    def test_a_sentence_id_already_recorded_is_refused(self, world: World) -> None:
        small(world)
        a, b = world.admit_many(2, 0)
        world.now(10)
        world.legal.open_case(
            "user:clerk", law.CaseOpened(case_id="c-1", court="Tribunal de Sentencia", reference="C-1"), [a, b], at(10)
        )

        def sentence(person: str) -> law.SentenceRecorded:
            return law.SentenceRecorded(
                sentence_id="s-1", case_id="c-1", person_id=person, court="Tribunal de Sentencia",
                sentenced_on=date(2025, 3, 15),
                counts=[law.CountPayload(count_id=f"s-1-{person}", offence="agrupaciones ilícitas", article="CP 345",
                                         term=law.TermPayload(years=20))],
            )  # fmt: skip

        world.legal.record_sentence("user:records", sentence(a), at(10))
        error = world.refused(Conflict, lambda: world.legal.record_sentence("user:records", sentence(b), at(10)))
        assert error.field == "sentence_id"
