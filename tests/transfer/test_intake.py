"""Transfer in: a flight under an agreement, each person checked against its eligibility rules and
against court orders recorded for them, some before they were in the register (R26; standards §5).

Eligibility refusals name their rule and change nothing; court-order refusals are recorded (with a
critical alert naming the order) because the person is at the gate and must be accounted for.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select

from habeas.domain import transfer as t
from habeas.errors import Conflict
from habeas.safeguards.sweep import sweep
from habeas.store.register_tables import alerts, episodes
from habeas.store.tables import events
from habeas.store.transfer_tables import refusals, transferees
from tests.transfer import support as s

NOW = datetime(2025, 3, 20, tzinfo=UTC)
CONCLUDED = datetime(2025, 3, 1, tzinfo=UTC)
ARRIVAL = datetime(2025, 3, 16, 3, 0, tzinfo=UTC)  # 2025-03-15 21:00 in El Salvador
FLIGHT = "SYN-FLT-1"


def setup(engine: Engine, ledger_id: str, **terms: object) -> s.World:
    w = s.world(engine, ledger_id, NOW)
    w.transfers.conclude("user:director", s.agreement(**terms), CONCLUDED)
    return w


def count(w: s.World, table: object, *where: object) -> int:
    with w.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())  # type: ignore[arg-type]


def event_types(w: s.World, after: int) -> list[str]:
    with w.engine.connect() as conn:
        return list(
            conn.execute(
                select(events.c.type).where(events.c.ledger_id == w.ledger, events.c.seq > after).order_by(events.c.seq)
            ).scalars()
        )


def rules(result: object) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for e in result.errors:  # type: ignore[attr-defined]
        out.setdefault(e.line, []).append(e.rule.split(":", 1)[0])
    return out


def test_a_clean_flight_is_admitted_with_both_legal_bases_and_the_custodian(engine: Engine, ledger_id: str) -> None:
    w = setup(engine, ledger_id)
    result = w.transfers.import_flight("user:intake", s.AGREEMENT, FLIGHT, s.flight(1, 5, ARRIVAL))
    assert result.committed and result.errors == () and len(result.admitted) == 5
    with w.engine.connect() as conn:
        rows = conn.execute(
            select(transferees, episodes.c.custodian_of_record.label("ep_custodian"), episodes.c.legal_basis)
            .join(episodes, episodes.c.episode_id == transferees.c.episode_id)
            .where(transferees.c.ledger_id == ledger_id)
        ).all()
    assert len(rows) == 5
    for row in rows:
        # Standards §5: a custodian of record, never empty, and both states' legal bases.
        assert row.custodian_of_record == row.ep_custodian == s.agreement().custodian_of_record
        assert '"kind":"transfer_instrument"' in row.legal_basis and "SYN-MOU-1" in row.legal_basis
        assert '"reference":"SYN-STATUTE-' in row.sending_basis
        assert row.sending_doc_key.startswith("FOREIGN_REGISTRATION:USA:A2")


@pytest.mark.parametrize(
    ("overrides", "terms", "rule"),
    [
        ({"nationalities": "SLV;VEN"}, {"eligibility": t.Eligibility(excluded_nationalities=("SLV",))},
         "eligibility.excluded_nationalities"),
        ({"birth_date": "2008-03-17"}, {}, "eligibility.no_minors"),  # 17 on admission day
        ({"birth_date": ""}, {}, "eligibility.no_minors"),  # bypass: leave the birth date out
        ({"sending_state_id": ""}, {}, "eligibility.sending_state_id"),
        ({"admitted_at": "2025-03-16T01:00:00Z"}, {"effective_from": datetime(2025, 3, 16, 2, tzinfo=UTC)},
         "agreement.in_force"),
        ({"custodian_of_record": "Nobody in particular"}, {}, "R25"),  # bypass: another custodian in the file
    ],
)  # fmt: skip
def test_each_eligibility_rule_refuses_naming_itself_and_changes_nothing(
    engine: Engine, ledger_id: str, overrides: dict[str, str], terms: dict[str, object], rule: str
) -> None:
    w = setup(engine, ledger_id, **terms)
    rows = [s.person_row(n, ARRIVAL) for n in range(1, 4)]
    rows[1] = {**rows[1], **overrides}
    header = (*s.HEADER, "custodian_of_record") if "custodian_of_record" in overrides else s.HEADER
    text = s.manifest(rows) if header == s.HEADER else _with_columns(rows, header)
    head = w.head()
    result = w.transfers.import_flight("user:intake", s.AGREEMENT, FLIGHT, text)
    assert not result.committed and result.admitted == ()
    assert rule in rules(result)[3], result.errors
    assert set(rules(result)) == {3}  # only that person (line 3)
    assert w.head() == head  # a refusal changes nothing


def _with_columns(rows: list[dict[str, str]], header: tuple[str, ...]) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def test_a_sending_state_id_issued_by_another_state_does_not_count(engine: Engine, ledger_id: str) -> None:
    """Bypass: a passport of another state in the document columns is not the sending state's identifier."""
    w = setup(engine, ledger_id)
    row = {k: v for k, v in s.person_row(1, ARRIVAL).items() if k != "sending_state_id"}
    row |= {"document_kind": "passport", "document_number": "P0001", "document_issuer": "VEN"}
    header = (*(h for h in s.HEADER if h != "sending_state_id"), "document_kind", "document_number", "document_issuer")
    result = w.transfers.import_flight("user:intake", s.AGREEMENT, FLIGHT, _with_columns([row], header))
    assert rules(result) == {2: ["eligibility.sending_state_id"]}


def test_the_legal_basis_must_be_the_transfer_instrument(engine: Engine, ledger_id: str) -> None:
    w = setup(engine, ledger_id)
    result = w.transfers.import_flight(
        "user:intake", s.AGREEMENT, FLIGHT, s.flight(1, 2, ARRIVAL), defaults={"basis_kind": "arrest_record"}
    )
    assert not result.committed and {e.field for e in result.errors} == {"basis_kind"}


def test_max_held_refuses_the_people_beyond_it_and_counts_those_already_held(engine: Engine, ledger_id: str) -> None:
    w = setup(engine, ledger_id, eligibility=t.Eligibility(max_held=3))
    head = w.head()
    result = w.transfers.import_flight("user:intake", s.AGREEMENT, FLIGHT, s.flight(1, 5, ARRIVAL))
    assert rules(result) == {5: ["eligibility.max_held"], 6: ["eligibility.max_held"]}
    assert w.head() == head
    result = w.transfers.import_flight("user:intake", s.AGREEMENT, FLIGHT, s.flight(1, 5, ARRIVAL), accept_valid=True)
    assert result.committed and len(result.admitted) == 3
    # With --accept-valid the people refused are recorded: they are at the gate, someone must hand them back.
    assert count(w, refusals, refusals.c.ledger_id == ledger_id, refusals.c.rule == "eligibility.max_held") == 2
    later = w.transfers.import_flight("user:intake", s.AGREEMENT, "SYN-FLT-2", s.flight(10, 1, ARRIVAL))
    assert rules(later) == {2: ["eligibility.max_held"]}


def test_a_return_order_recorded_before_arrival_refuses_that_person_and_alerts_naming_it(
    engine: Engine, ledger_id: str
) -> None:
    w = setup(engine, ledger_id)
    w.transfers.record_order(
        "user:records", s.foreign_order("o-1", numbers=["A200000003"]), datetime(2025, 3, 15, 19, tzinfo=UTC)
    )
    head = w.head()
    result = w.transfers.import_flight("user:intake", s.AGREEMENT, FLIGHT, s.flight(1, 5, ARRIVAL))
    assert result.committed and len(result.admitted) == 4 and result.errors == ()
    [refused] = result.refused
    assert refused.line == 4 and refused.rule == "R26" and refused.order_ids == ("o-1",)
    with w.engine.connect() as conn:
        [alert] = conn.execute(select(alerts).where(alerts.c.ledger_id == ledger_id, alerts.c.rule == "R26")).all()
    assert alert.severity == "critical"
    assert "return order SYN-o-1 of Synthetic District Court (USA), order id o-1" in alert.message
    assert "Persona3 Sintetica3 Vuelo" in alert.message and "A200000003" in alert.message
    types = event_types(w, head)
    assert types.count("custody.admitted") == 4 and types.count("transfer.admission_refused") == 1
    # The sweep keeps the alert open while the person is at the gate, and handing them back closes it.
    sweep(w.engine, ledger_id, NOW, NOW)
    assert (
        count(w, alerts, alerts.c.ledger_id == ledger_id, alerts.c.rule == "R26", alerts.c.resolved_at.is_(None)) == 1
    )
    w.transfers.hand_back("user:intake", alert.subject, "Sending State escort (synthetic)", "Airport command", NOW)
    assert (
        count(w, alerts, alerts.c.ledger_id == ledger_id, alerts.c.rule == "R26", alerts.c.resolved_at.is_(None)) == 0
    )
    sweep(w.engine, ledger_id, NOW, NOW)
    assert (
        count(w, alerts, alerts.c.ledger_id == ledger_id, alerts.c.rule == "R26", alerts.c.resolved_at.is_(None)) == 0
    )


def test_an_order_refusal_is_recorded_even_when_the_rest_is_refused_and_only_once(
    engine: Engine, ledger_id: str
) -> None:
    w = setup(engine, ledger_id)
    w.transfers.record_order("user:records", s.foreign_order("o-1", numbers=["A200000001"]), NOW)
    rows = [s.person_row(n, ARRIVAL) for n in range(1, 4)]
    rows[2]["birth_date"] = "2010-01-01"  # a minor on line 4: the import is refused
    head = w.head()
    result = w.transfers.import_flight("user:intake", s.AGREEMENT, FLIGHT, s.manifest(rows))
    assert not result.committed and rules(result) == {4: ["eligibility.no_minors"]}
    assert event_types(w, head) == ["transfer.admission_refused", "alert.raised"]
    again = w.head()
    w.transfers.import_flight("user:intake", s.AGREEMENT, FLIGHT, s.manifest(rows))
    assert w.head() == again  # the same refusal is not recorded twice


def test_an_order_for_the_whole_flight_refuses_everyone_on_it(engine: Engine, ledger_id: str) -> None:
    w = setup(engine, ledger_id)
    w.transfers.record_order("user:records", s.foreign_order("o-f", flight_code=FLIGHT), NOW)
    result = w.transfers.import_flight("user:intake", s.AGREEMENT, FLIGHT, s.flight(1, 4, ARRIVAL))
    assert result.admitted == () and len(result.refused) == 4 and len(result.alerts) == 4
    assert count(w, episodes, episodes.c.ledger_id == ledger_id) == 0
    # Another flight is not concerned.
    other = w.transfers.import_flight("user:intake", s.AGREEMENT, "SYN-FLT-9", s.flight(10, 2, ARRIVAL))
    assert len(other.admitted) == 2


def test_refuse_flight_policy_refuses_everyone_when_one_is_protected(engine: Engine, ledger_id: str) -> None:
    w = setup(engine, ledger_id, order_policy="refuse_flight")
    w.transfers.record_order("user:records", s.foreign_order("o-1", numbers=["A200000002"]), NOW)
    result = w.transfers.import_flight("user:intake", s.AGREEMENT, FLIGHT, s.flight(1, 4, ARRIVAL))
    assert result.admitted == ()
    assert sorted((r.line, r.rule) for r in result.refused) == [
        (2, "R26.refuse_flight"), (3, "R26"), (4, "R26.refuse_flight"), (5, "R26.refuse_flight"),
    ]  # fmt: skip
    assert len(result.alerts) == 1 and "SYN-o-1" in result.alerts[0]


@pytest.mark.parametrize(("country", "admitted"), [("SLV", 1), (None, 1), ("HND", 2)])
def test_a_protection_order_against_removal_to_this_country_refuses(
    engine: Engine, ledger_id: str, country: str | None, admitted: int
) -> None:
    """Standards §5: a man protected from removal to El Salvador since 2019 was sent anyway."""
    w = setup(engine, ledger_id)
    order = s.foreign_order("o-p", numbers=["A200000001"], kind="no_removal", country=country,
                            issued_at=datetime(2019, 10, 1, tzinfo=UTC), place=None)  # fmt: skip
    w.transfers.record_order("user:records", order, NOW)
    result = w.transfers.import_flight("user:intake", s.AGREEMENT, FLIGHT, s.flight(1, 2, ARRIVAL))
    assert len(result.admitted) == admitted


def test_a_lifted_order_no_longer_refuses(engine: Engine, ledger_id: str) -> None:
    w = setup(engine, ledger_id)
    w.transfers.record_order("user:records", s.foreign_order("o-1", numbers=["A200000001"]), NOW)
    w.transfers.lift_order("user:records", "o-1", "Synthetic Court of Appeals", "stayed on appeal", NOW)
    result = w.transfers.import_flight("user:intake", s.AGREEMENT, FLIGHT, s.flight(1, 2, ARRIVAL))
    assert len(result.admitted) == 2 and result.refused == ()


def test_an_order_for_someone_already_in_the_register_goes_through_order_issue(engine: Engine, ledger_id: str) -> None:
    w = setup(engine, ledger_id)
    w.transfers.import_flight("user:intake", s.AGREEMENT, FLIGHT, s.flight(1, 1, ARRIVAL))
    head = w.head()
    with pytest.raises(Conflict, match="order issue"):
        w.transfers.record_order("user:records", s.foreign_order("o-1", numbers=["A200000001"]), NOW)
    assert w.head() == head


def test_a_person_sent_again_is_checked_against_their_register_orders(engine: Engine, ledger_id: str) -> None:
    """Bypass: returned, then sent again on a later flight while a no-transfer order stands."""
    from habeas.domain.law import OrderIssued
    from habeas.services.legal import LegalService

    w = setup(engine, ledger_id)
    [first] = w.transfers.import_flight("user:intake", s.AGREEMENT, FLIGHT, s.flight(1, 1, ARRIVAL)).admitted
    w.transfers.leave("user:director", first.person_id, "return_to_sending_state", datetime(2025, 3, 17, tzinfo=UTC),
                      destination_state="USA", authority="Ministry (synthetic)", order_reference="RET-1",
                      handed_over_to="Sending State escort (synthetic)")  # fmt: skip
    legal = LegalService(w.engine, ledger_id, w.clock)
    legal.issue_order(
        "user:records",
        OrderIssued(order_id="o-reg", person_id=first.person_id, kind="no_transfer", court="Synthetic District Court",
                    court_state="USA", reference="NT-9", issued_at=datetime(2025, 3, 18, tzinfo=UTC)),
        datetime(2025, 3, 18, tzinfo=UTC),
    )  # fmt: skip
    later = datetime(2025, 3, 19, 3, tzinfo=UTC)
    result = w.transfers.import_flight("user:intake", s.AGREEMENT, "SYN-FLT-2", s.flight(1, 2, later))
    assert [r.line for r in result.refused] == [2] and "NT-9" in result.refused[0].reason
    assert len(result.admitted) == 1
