"""A replay of the reported sequence (standards.md §5), with synthetic people only.

15–16 March 2025: a flight of 238 people (137 removed under one statute, 101 under another)
arrives at the receiving state's prison while a court of the sending state has already ordered
the people returned.  The order is recorded before the flight lands (against the flight, or
against some people's sending-state identifiers); intake refuses as the agreement's policy says
and every alert names the order.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from habeas.services import liaison
from habeas.store.register_tables import alerts, episodes
from habeas.store.tables import events
from habeas.store.transfer_tables import refusals, transferees
from tests.transfer import support as s

ORDER_AT = datetime(2025, 3, 15, 23, 0, tzinfo=UTC)  # the order, while the planes are in the air
LANDED = datetime(2025, 3, 16, 3, 30, tzinfo=UTC)
NOW = datetime(2025, 3, 16, 6, 0, tzinfo=UTC)
FLIGHT = "SYN-FLT-0315"
ORDER_TEXT = "return order SYN-TRO-1 of Synthetic District Court (USA), order id tro-1"


def manifest() -> str:
    return s.manifest(
        s.person_row(n, LANDED, sending_basis="SYN-STATUTE-1798" if n <= 137 else "SYN-STATUTE-INA")
        for n in range(1, 239)
    )


def setup(engine: Engine, ledger_id: str, policy: str = "refuse_person") -> s.World:
    w = s.world(engine, ledger_id, NOW)
    w.transfers.conclude("user:director", s.agreement(order_policy=policy), datetime(2025, 3, 1, tzinfo=UTC))
    return w


def counts(w: s.World) -> tuple[int, int, list[str]]:
    with w.engine.connect() as conn:
        admitted = conn.execute(select(func.count()).select_from(episodes).where(episodes.c.ledger_id == w.ledger))
        refused = conn.execute(select(func.count()).select_from(refusals).where(refusals.c.ledger_id == w.ledger))
        messages = conn.execute(
            select(alerts.c.message).where(
                alerts.c.ledger_id == w.ledger, alerts.c.rule == "R26", alerts.c.severity == "critical"
            )
        ).scalars()
        return int(admitted.scalar_one()), int(refused.scalar_one()), list(messages)


def test_a_return_order_for_the_flight_refuses_all_238_and_every_alert_names_it(engine: Engine, ledger_id: str) -> None:
    w = setup(engine, ledger_id)
    order = s.foreign_order("tro-1", flight_code=FLIGHT, reference="SYN-TRO-1", issued_at=ORDER_AT,
                            agreement_id=s.AGREEMENT)  # fmt: skip
    w.transfers.record_order("user:records", order, ORDER_AT)
    result = w.transfers.import_flight("user:intake", s.AGREEMENT, FLIGHT, manifest())
    assert result.admitted == () and len(result.refused) == 238
    admitted, refused, messages = counts(w)
    assert (admitted, refused, len(messages)) == (0, 238, 238)
    assert all(ORDER_TEXT in m for m in messages)
    with w.engine.connect() as conn:
        kinds = Counter(conn.execute(select(events.c.type).where(events.c.ledger_id == w.ledger)).scalars())
    assert kinds["custody.admitted"] == 0 and kinds["transfer.admission_refused"] == 238
    # The sending state is told: its feed lists the 238 refusals.
    with w.engine.connect() as conn:
        feed = liaison.feed(conn, ledger_id, "USA", limit=5000)
    assert [e.type for e in feed].count("transfer.admission_refused") == 238


def test_an_order_for_three_people_refuses_those_three_by_default(engine: Engine, ledger_id: str) -> None:
    w = setup(engine, ledger_id)
    protected = ["A200000017", "A200000101", "A200000200"]
    order = s.foreign_order("tro-1", numbers=protected, reference="SYN-TRO-1", issued_at=ORDER_AT)
    w.transfers.record_order("user:records", order, ORDER_AT)
    result = w.transfers.import_flight("user:intake", s.AGREEMENT, FLIGHT, manifest())
    assert len(result.admitted) == 235 and result.errors == ()
    assert sorted(r.line for r in result.refused) == [18, 102, 201]  # the header is line 1
    admitted, refused, messages = counts(w)
    assert (admitted, refused, len(messages)) == (235, 3, 3)
    assert all(ORDER_TEXT in m for m in messages)
    for number in protected:  # each alert names the person by the sending state's identifier
        assert sum(f"USA foreign_registration {number})" in m for m in messages) == 1


def test_under_refuse_flight_nobody_is_admitted_and_the_alerts_name_the_order(engine: Engine, ledger_id: str) -> None:
    w = setup(engine, ledger_id, policy="refuse_flight")
    order = s.foreign_order("tro-1", numbers=["A200000017"], reference="SYN-TRO-1", issued_at=ORDER_AT)
    w.transfers.record_order("user:records", order, ORDER_AT)
    head = w.head()
    result = w.transfers.import_flight("user:intake", s.AGREEMENT, FLIGHT, manifest())
    assert result.admitted == () and len(result.refused) == 238
    admitted, refused, messages = counts(w)
    assert (admitted, refused, len(messages)) == (0, 238, 1) and ORDER_TEXT in messages[0]
    assert w.head() == head + 238 + 1  # the refusals and the alert, nothing else


def test_without_the_order_all_238_are_admitted_with_both_legal_bases(engine: Engine, ledger_id: str) -> None:
    w = setup(engine, ledger_id)
    result = w.transfers.import_flight("user:intake", s.AGREEMENT, FLIGHT, manifest())
    assert len(result.admitted) == 238
    with w.engine.connect() as conn:
        bases = Counter(
            ("1798" in b) for b in conn.execute(
                select(transferees.c.sending_basis).where(transferees.c.ledger_id == ledger_id)
            ).scalars()
        )  # fmt: skip
        custodians = set(
            conn.execute(select(episodes.c.custodian_of_record).where(episodes.c.ledger_id == ledger_id)).scalars()
        )
    assert bases == {True: 137, False: 101}
    assert custodians == {s.agreement().custodian_of_record}
