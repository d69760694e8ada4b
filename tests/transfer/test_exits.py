"""Leaving: back to the sending state, repatriation, a third state, release into a third state's hands,
each with its authority and handover (ICPPED 17(3)(h), R14, R15) and court orders respected (R26)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from habeas.domain import law
from habeas.errors import Conflict, InvalidInput
from habeas.safeguards.sweep import find
from habeas.services.legal import LegalService
from habeas.store.law_tables import orders
from habeas.store.register_tables import episodes
from habeas.store.transfer_tables import transferees
from tests.transfer import support as s

NOW = datetime(2025, 4, 2, tzinfo=UTC)
ARRIVAL = datetime(2025, 3, 16, 3, tzinfo=UTC)
DETAILS = {"authority": "Ministry (synthetic)", "order_reference": "EXIT-1", "handed_over_to": "Escort (synthetic)"}


def setup(engine: Engine, ledger_id: str, n: int = 1) -> tuple[s.World, list[str]]:
    w = s.world(engine, ledger_id, NOW)
    w.transfers.conclude("user:director", s.agreement(), datetime(2025, 3, 1, tzinfo=UTC))
    admitted = w.transfers.import_flight("user:intake", s.AGREEMENT, "F-1", s.flight(1, n, ARRIVAL)).admitted
    return w, [a.person_id for a in admitted]


def state_of(w: s.World, person: str) -> tuple[str, str | None, str | None, str | None]:
    with w.engine.connect() as conn:
        row = conn.execute(
            select(episodes.c.status, episodes.c.place, transferees.c.exit_kind, transferees.c.exit_state)
            .join(transferees, transferees.c.episode_id == episodes.c.episode_id)
            .where(episodes.c.ledger_id == w.ledger, episodes.c.person_id == person)
        ).one()
    return row.status, row.place, row.exit_kind, row.exit_state


@pytest.mark.parametrize(
    ("kind", "state", "status"),
    [("return_to_sending_state", "USA", "transferred"), ("repatriation", "VEN", "transferred"),
     ("third_state", "COL", "transferred")],
)  # fmt: skip
def test_each_exit_records_the_handover(engine: Engine, ledger_id: str, kind: str, state: str, status: str) -> None:
    w, [person] = setup(engine, ledger_id)
    w.transfers.leave("user:director", person, kind, NOW, destination_state=state, **DETAILS)  # type: ignore[arg-type]
    assert state_of(w, person) == (status, f"{state}: Escort (synthetic)", kind, state)


def test_release_to_a_third_state_is_a_verifiable_release(engine: Engine, ledger_id: str) -> None:
    w, [person] = setup(engine, ledger_id)
    head = w.head()
    with pytest.raises(InvalidInput):  # R15: a release needs its verifier and health check
        w.transfers.leave("user:director", person, "release_to_third_state", NOW, destination_state="COL", **DETAILS)
    assert w.head() == head
    w.transfers.leave("user:director", person, "release_to_third_state", NOW, destination_state="COL",
                      verified_by="Officer Sintetico", health_check="fit to travel", **DETAILS)  # fmt: skip
    assert state_of(w, person)[0] == "released"


@pytest.mark.parametrize(
    ("kind", "state", "match"),
    [("return_to_sending_state", "VEN", "sending state"), ("repatriation", "COL", "nationality"),
     ("third_state", "USA", "neither party")],
)  # fmt: skip
def test_exit_rules_refuse_and_change_nothing(
    engine: Engine, ledger_id: str, kind: str, state: str, match: str
) -> None:
    w, [person] = setup(engine, ledger_id)
    head = w.head()
    with pytest.raises(InvalidInput, match=match):
        w.transfers.leave("user:director", person, kind, NOW, destination_state=state, **DETAILS)  # type: ignore[arg-type]
    assert w.head() == head


def test_a_protection_order_refuses_removal_to_that_country(engine: Engine, ledger_id: str) -> None:
    w = s.world(engine, ledger_id, NOW)
    w.transfers.conclude("user:director", s.agreement(), datetime(2025, 3, 1, tzinfo=UTC))
    w.transfers.record_order("user:records", s.foreign_order("o-ven", numbers=["A200000001"], kind="no_removal",
                                                            country="VEN", place=None), NOW)  # fmt: skip
    [person] = w.transfers.import_flight("user:intake", s.AGREEMENT, "F-1", s.flight(1, 1, ARRIVAL)).admitted
    head = w.head()
    with pytest.raises(Conflict, match=r"R26.*SYN-o-ven"):
        w.transfers.leave("user:director", person.person_id, "repatriation", NOW, destination_state="VEN", **DETAILS)
    assert w.head() == head
    w.transfers.leave("user:director", person.person_id, "return_to_sending_state", NOW, destination_state="USA",
                      **DETAILS)  # fmt: skip


def test_only_a_transferee_leaves_this_way(engine: Engine, ledger_id: str) -> None:
    from tests.register.support import admission

    w, _ = setup(engine, ledger_id)
    domestic = w.register.admit("user:intake", admission(admitted_minutes=60)).person_id
    with pytest.raises(Conflict, match="not held under a transfer agreement"):
        w.transfers.leave("user:director", domestic, "third_state", NOW, destination_state="COL", **DETAILS)


# --- R26: a return order is carried out only by a return to where it says ------------------------------------


def _return_order(w: s.World, person: str, order_id: str) -> None:
    LegalService(w.engine, w.ledger, w.clock).issue_order(
        "user:records",
        law.OrderIssued(order_id=order_id, person_id=person, kind="return", court="Synthetic District Court",
                        court_state="USA", reference=f"SYN-{order_id}", issued_at=ARRIVAL,
                        deadline=datetime(2025, 3, 20, tzinfo=UTC), place="United States"),
        ARRIVAL,
    )  # fmt: skip


def _order_status(w: s.World, order_id: str) -> str:
    with w.engine.connect() as conn:
        return str(
            conn.execute(
                select(orders.c.status).where(orders.c.ledger_id == w.ledger, orders.c.order_id == order_id)
            ).scalar_one()
        )


def test_a_return_to_the_ordering_state_carries_out_the_return_order(engine: Engine, ledger_id: str) -> None:
    w, [person] = setup(engine, ledger_id)
    _return_order(w, person, "ret-1")
    w.transfers.leave("user:director", person, "return_to_sending_state", NOW, destination_state="USA", **DETAILS)
    assert _order_status(w, "ret-1") == "executed"
    with w.engine.connect() as conn:
        assert not any(f.subject == "ret-1" for f in find(conn, w.ledger, NOW))


@pytest.mark.parametrize(("kind", "state"), [("repatriation", "VEN"), ("third_state", "COL")])
def test_a_transfer_elsewhere_leaves_the_return_order_unexecuted_and_reported(
    engine: Engine, ledger_id: str, kind: str, state: str
) -> None:
    """The reports' case: people a US court ordered returned were flown to a third country months later.
    The order was never carried out: it stays active, and R26 keeps saying so after the person left."""
    w, people = setup(engine, ledger_id, 2)
    for n, person in enumerate(people):
        _return_order(w, person, f"ret-{n}")
    w.transfers.leave_many("user:director", people, kind, NOW, destination_state=state, **DETAILS)  # type: ignore[arg-type]
    assert {_order_status(w, f"ret-{n}") for n in range(2)} == {"active"}
    with w.engine.connect() as conn:
        late = {f.subject: f.message for f in find(conn, w.ledger, NOW) if f.rule == "R26"}
    assert set(late) == {"ret-0", "ret-1"}
    assert "not executed by its deadline" in late["ret-0"]


@pytest.mark.parametrize(
    ("destination", "court_state", "place", "carried_out"),
    [
        ("USA: ICE (synthetic)", "USA", None, True),  # to the ordering court's state, as the transfer services write it
        ("usa : ICE (synthetic)", "USA", None, True),
        ("VEN: Autoridades (sintético)", "USA", "United States", False),  # a third country
        ("Centro Penal La Esperanza", "SLV", "Centro Penal  la Esperanza", True),  # the very place ordered
        ("Centro Penal de Izalco", "SLV", "Centro Penal La Esperanza", False),  # a domestic transfer elsewhere
        ("Centro Penal La Esperanza", "SLV", None, False),  # no place named, no state: cannot be the return
        (None, "USA", "United States", False),
        ("", "USA", "United States", False),
    ],
)
def test_goes_where_ordered(destination: str | None, court_state: str, place: str | None, carried_out: bool) -> None:
    assert law.goes_where_ordered(destination, court_state, place) is carried_out
