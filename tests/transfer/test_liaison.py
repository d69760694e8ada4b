"""The sending state's liaison (architecture: roles): only its own transferees, at facility level,
the alerts that concern them, its invoices; and its outbox feed, in order, with a cursor."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from habeas.domain import transfer as t
from habeas.safeguards.sweep import sweep
from habeas.services import liaison
from habeas.services.legal import LegalService
from habeas.services.rebuild import rebuild, snapshot
from tests.register.support import admission
from tests.transfer import support as s

NOW = datetime(2025, 4, 2, tzinfo=UTC)
ARRIVAL = datetime(2025, 3, 16, 3, tzinfo=UTC)
CAN = "AGR-CAN-SLV-2025"


def setup(engine: Engine, ledger_id: str) -> tuple[s.World, list[str], list[str], str]:
    w = s.world(engine, ledger_id, NOW)
    w.transfers.conclude("user:director", s.agreement(), datetime(2025, 3, 1, tzinfo=UTC))
    w.transfers.conclude("user:director", s.agreement(agreement_id=CAN, sending_state="CAN"),
                         datetime(2025, 3, 1, tzinfo=UTC))  # fmt: skip
    usa = [
        a.person_id
        for a in w.transfers.import_flight("user:intake", s.AGREEMENT, "F-USA", s.flight(1, 3, ARRIVAL)).admitted
    ]
    can = [
        a.person_id for a in w.transfers.import_flight("user:intake", CAN, "F-CAN", s.flight(50, 2, ARRIVAL)).admitted
    ]
    domestic = w.register.admit("user:intake", admission(admitted_minutes=60)).person_id
    return w, usa, can, domestic


def test_the_liaison_sees_only_its_own_people_at_facility_level(engine: Engine, ledger_id: str) -> None:
    w, usa, can, domestic = setup(engine, ledger_id)
    w.register.place("user:housing", usa[0], "fac1-U1-C1", datetime(2025, 3, 16, 4, tzinfo=UTC))
    w.register.place("user:housing", domestic, "fac1-U1-C2", datetime(2025, 3, 16, 4, tzinfo=UTC))
    sweep(w.engine, ledger_id, NOW, NOW)  # R8, R10 ... alerts for everyone
    with w.engine.connect() as conn:
        view = liaison.view(conn, ledger_id, "USA")
        other = liaison.view(conn, ledger_id, "CAN")
        nobody = liaison.view(conn, ledger_id, "MEX")
    assert view.agreements == (s.AGREEMENT,)
    assert sorted(p.person_id for p in view.transferees) == sorted(usa)
    assert sorted(p.person_id for p in other.transferees) == sorted(can)
    assert nobody.transferees == () and nobody.alerts == () and nobody.invoices == ()
    placed = next(p for p in view.transferees if p.person_id == usa[0])
    assert placed.status == "in_cell" and placed.facility_name == "Test Facility" and placed.place is None
    assert not {"cell_id", "unit_id"} & set(vars(placed))  # facility level only, never the cell
    assert view.alerts and {a.subject for a in view.alerts} <= set(usa)
    assert {a.subject for a in other.alerts} <= set(can)


def test_the_outbox_is_in_order_only_for_that_states_people_and_never_shows_a_cell(
    engine: Engine, ledger_id: str
) -> None:
    w, usa, can, domestic = setup(engine, ledger_id)
    w.register.place("user:housing", usa[0], "fac1-U1-C1", datetime(2025, 3, 16, 4, tzinfo=UTC))
    w.register.place("user:housing", domestic, "fac1-U1-C2", datetime(2025, 3, 16, 4, tzinfo=UTC))
    with w.engine.connect() as conn:
        entries = liaison.feed(conn, ledger_id, "USA")
        can_entries = liaison.feed(conn, ledger_id, "CAN")
    seqs = [e.seq for e in entries]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert {e.person_id for e in entries} - {None} == set(usa)
    assert {e.person_id for e in can_entries} - {None} == set(can)
    types = [e.type for e in entries]
    assert types[0] == "transfer.agreement_concluded"
    assert types.count("custody.admitted") == 3 and types.count("transfer.transferee_admitted") == 3
    placed = [e for e in entries if e.type == "custody.placed"]
    assert [e.person_id for e in placed] == [usa[0]]
    assert all("cell_id" not in e.summary and "unit_id" not in e.summary for e in entries)
    # The cursor: nothing after the last entry, until something happens to one of its people.
    cursor = seqs[-1]
    with w.engine.connect() as conn:
        assert liaison.feed(conn, ledger_id, "USA", after=cursor) == []
    LegalService(w.engine, ledger_id, w.clock).notify("user:records", usa[1], "consulate", "Consulate (synthetic)",
                                                      datetime(2025, 3, 16, 5, tzinfo=UTC))  # fmt: skip
    LegalService(w.engine, ledger_id, w.clock).notify("user:records", domestic, "family", "Familia (synthetic)",
                                                      datetime(2025, 3, 16, 5, tzinfo=UTC))  # fmt: skip
    with w.engine.connect() as conn:
        new = liaison.feed(conn, ledger_id, "USA", after=cursor)
    assert [(e.type, e.person_id) for e in new][:1] == [("notification.recorded", usa[1])]
    assert all(e.person_id != domestic for e in new)


def test_the_liaison_sees_only_its_invoices(engine: Engine, ledger_id: str) -> None:
    w, _, _, _ = setup(engine, ledger_id)
    w.transfers.issue_invoice("user:finance", s.AGREEMENT, "2025-03", NOW)
    w.transfers.issue_invoice("user:finance", CAN, "2025-03", NOW)
    with w.engine.connect() as conn:
        mine = liaison.invoices_of(conn, ledger_id, "USA")
        feed = liaison.feed(conn, ledger_id, "USA")
    assert [(i.agreement_id, i.month, str(i.total)) for i in mine] == [(s.AGREEMENT, "2025-03", "2794.29")]  # 3 × 17 d
    assert [e.type for e in feed].count("invoice.issued") == 1


def test_a_rebuild_gives_the_same_read_models_outbox_included(engine: Engine, ledger_id: str) -> None:
    w, usa, _, _ = setup(engine, ledger_id)
    w.transfers.record_order("user:records", s.foreign_order("o-1", numbers=["A200000099"]), NOW)
    w.transfers.import_flight("user:intake", s.AGREEMENT, "F-2", s.flight(99, 2, ARRIVAL))
    w.transfers.claim("user:records", s.AGREEMENT, "USA", "disclaims", "synthetic filing", NOW)
    sweep(w.engine, ledger_id, NOW, NOW)
    w.transfers.issue_invoice("user:finance", s.AGREEMENT, "2025-03", NOW)
    w.transfers.leave("user:director", usa[0], "repatriation", NOW, destination_state="VEN", authority="Ministry",
                      order_reference="REP-1", handed_over_to="VEN authorities (synthetic)")  # fmt: skip
    with w.engine.connect() as conn:
        before = snapshot(conn, ledger_id)
    rebuild(w.engine, ledger_id)
    with w.engine.connect() as conn:
        after = snapshot(conn, ledger_id)
    assert before["transfer_outbox"] and before["transfer_refusals"] and before["invoices"]
    assert after == before


def test_a_state_code_is_checked() -> None:
    import pytest

    from habeas.errors import InvalidInput

    with pytest.raises(InvalidInput, match="alpha-3"):
        liaison.feed(None, "x", "usa")  # type: ignore[arg-type]
    assert t.is_code("SYN-FLT-1") and not t.is_code("bad flight")


def test_an_alert_that_names_a_unit_reaches_the_liaison_at_facility_level(engine: Engine, ledger_id: str) -> None:
    w, usa, _, _ = setup(engine, ledger_id)
    w.register.place("user:housing", usa[0], "fac1-U1-C1", datetime(2025, 3, 16, 4, tzinfo=UTC))
    w.register.record_count("user:housing", "fac1-U1", [], datetime(2025, 3, 16, 5, tzinfo=UTC))  # R13: not seen
    with w.engine.connect() as conn:
        [alert] = [a for a in liaison.alerts_about(conn, ledger_id, "USA") if a.rule == "R13"]
        feed = liaison.feed(conn, ledger_id, "USA")
    assert alert.subject == usa[0] and "unit (withheld)" in alert.message and "fac1-U1" not in alert.message
    assert not any("fac1-U1" in str(e.summary) for e in feed)
