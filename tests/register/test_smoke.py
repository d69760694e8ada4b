from __future__ import annotations

from sqlalchemy import Engine

from habeas.services import queries
from tests.conftest import at
from tests.register.support import admission, service, small_facility


def test_admit_place_move_release(sqlite_engine: Engine, ledger_id: str) -> None:
    svc, _ = service(sqlite_engine, ledger_id)
    cells = small_facility(svc)
    a = svc.admit("user:intake", admission(0))
    svc.place("user:housing", a.person_id, cells[0], at(10))
    svc.place("user:housing", a.person_id, cells[1], at(20), reason="moved")
    svc.release(
        "user:records",
        a.person_id,
        at(30),
        authority="Juzgado 1",
        order_reference="O-1",
        verified_by="user:records",
        handed_over_to="Madre Sintetica",
        health_check="fit",
    )
    with sqlite_engine.connect() as conn:
        assert queries.where_at(conn, ledger_id, a.person_id, at(15)).cell_id == cells[0]
        assert queries.where_at(conn, ledger_id, a.person_id, at(25)).cell_id == cells[1]
        assert queries.where_at(conn, ledger_id, a.person_id, at(35)).status == "released"
        assert [h.total for h in queries.headcount(conn, ledger_id)] == [0]
        print(queries.occupancy(conn, ledger_id, "fac1"))
        print([e.type for e in queries.timeline(conn, ledger_id, a.person_id)])
