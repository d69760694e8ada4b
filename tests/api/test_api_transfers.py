"""Transfers over HTTP: a flight through the API, the liaison's own-state view, feed and invoices."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from habeas.api.config import PREFIX
from habeas.domain.access import Role
from habeas.services.transfers import TransferService
from tests.api.support import Api, build_api
from tests.register.support import small_facility
from tests.transfer.support import AGREEMENT, agreement, flight, foreign_order

ARRIVED = datetime(2025, 3, 16, 2, 0, tzinfo=UTC)


class TransferApiContract:
    @pytest.fixture
    def engine(self) -> Engine:
        raise NotImplementedError

    @pytest.fixture
    def api(self, engine: Engine, ledger_id: str) -> Api:
        api = build_api(engine, ledger_id)
        api.clock.now = datetime(2025, 3, 16, 6, 0, tzinfo=UTC)
        from habeas.services.register import RegisterService

        small_facility(RegisterService(engine, ledger_id, api.clock), units=4, cells_per_unit=8, beds=8)
        conclude = api.client.post(
            f"{PREFIX}/agreements",
            json={"at": "2025-03-02T00:00:00Z", "agreement": agreement().model_dump(mode="json", exclude_none=True)},
            headers=api.as_(Role.DIRECTOR),
        )  # fmt: skip
        assert conclude.status_code == 201, conclude.text
        return api

    def import_flight(self, api: Api, code: str, text: str) -> dict:  # type: ignore[type-arg]
        response = api.client.post(
            f"{PREFIX}/agreements/{AGREEMENT}/flights/{code}", content=text.encode(),
            headers={**api.as_(Role.INTAKE), "content-type": "text/csv"},
        )  # fmt: skip
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def test_flight_with_a_recorded_return_order_refuses_that_person_and_names_the_order(self, api: Api) -> None:
        transfers = TransferService(api.engine, api.ledger_id, api.clock)
        order = foreign_order("ord-1", numbers=["A200000002"])
        transfers.record_order("user:records", order, datetime(2025, 3, 15, 20, 0, tzinfo=UTC))
        result = self.import_flight(api, "SYN-238", flight(1, 5, ARRIVED))
        assert result["committed"] is True
        assert len(result["admitted"]) == 4
        assert [r["order_ids"] for r in result["refused"]] == [["ord-1"]]
        alerts = api.client.get(f"{PREFIX}/alerts", params={"rule": "R26"}, headers=api.as_(Role.OVERSIGHT)).json()
        assert any("SYN-ord-1" in a["message"] for a in alerts)

    def test_liaison_sees_its_own_state_only_at_facility_level(self, api: Api) -> None:
        self.import_flight(api, "SYN-1", flight(1, 3, ARRIVED))
        view = api.client.get(f"{PREFIX}/states/USA", headers=api.as_(Role.LIAISON))
        assert view.status_code == 200
        body = view.json()
        assert len(body["transferees"]) == 3 and body["agreements"] == [AGREEMENT]
        assert "cell" not in str(body["transferees"]).lower().replace("cell_", "")
        other = api.client.get(f"{PREFIX}/states/VEN", headers=api.as_(Role.LIAISON))
        assert other.status_code == 403
        person = body["transferees"][0]["person_id"]
        record = api.client.get(f"{PREFIX}/people/{person}", headers=api.as_(Role.LIAISON)).json()
        assert all(e["cell_id"] is None and e["unit_id"] is None for e in record["episodes"])
        feed = api.client.get(f"{PREFIX}/states/USA/feed", headers=api.as_(Role.LIAISON)).json()
        seqs = [e["seq"] for e in feed]
        assert seqs == sorted(seqs) and {e["person_id"] for e in feed if e["person_id"]} >= {person}
        later = api.client.get(f"{PREFIX}/states/USA/feed", params={"after": seqs[-1]}, headers=api.as_(Role.LIAISON))
        assert later.json() == []

    def test_invoice_issued_read_as_csv_and_printable_by_the_liaison(self, api: Api) -> None:
        self.import_flight(api, "SYN-1", flight(1, 2, ARRIVED))
        api.clock.now = datetime(2025, 4, 2, tzinfo=UTC)
        issued = api.client.post(
            f"{PREFIX}/agreements/{AGREEMENT}/invoices", json={"at": "2025-04-02T00:00:00Z", "month": "2025-03"},
            headers=api.as_(Role.DIRECTOR),
        )  # fmt: skip
        assert issued.status_code == 201, issued.text
        invoice = issued.json()
        # admitted 16 March (local day 15 March, 20:00): 15..31 March = 17 days each, at 54.79
        assert invoice["total"] == "1862.86" and {line["days"] for line in invoice["lines"]} == {17}
        mine = api.client.get(f"{PREFIX}/invoices/{invoice['invoice_id']}", headers=api.as_(Role.LIAISON))
        assert mine.json()["total"] == "1862.86"
        csv = api.client.get(f"{PREFIX}/invoices/{invoice['invoice_id']}/csv", headers=api.as_(Role.LIAISON))
        assert csv.headers["content-type"].startswith("text/csv") and "1862.86" in csv.text
        html = api.client.get(f"{PREFIX}/invoices/{invoice['invoice_id']}/printable", headers=api.as_(Role.LIAISON))
        assert html.headers["content-type"].startswith("text/html") and "<script" not in html.text
        again = api.client.post(
            f"{PREFIX}/agreements/{AGREEMENT}/invoices", json={"at": "2025-04-02T00:00:00Z", "month": "2025-03"},
            headers=api.as_(Role.DIRECTOR),
        )  # fmt: skip
        assert again.status_code == 409

    def test_another_states_liaison_sees_nothing(self, api: Api) -> None:
        self.import_flight(api, "SYN-1", flight(1, 2, ARRIVED))
        other = api.accounts
        other.add(None, f"liaison-ven-{api.ledger_id}", "VEN liaison", "liaison", None, scope="VEN")
        token = other.issue_token(None, f"liaison-ven-{api.ledger_id}", "t").token
        headers = {"Authorization": f"Bearer {token}"}
        assert api.client.get(f"{PREFIX}/agreements", headers=headers).json() == []
        assert api.client.get(f"{PREFIX}/agreements/{AGREEMENT}", headers=headers).status_code == 404
        assert api.client.get(f"{PREFIX}/states/VEN", headers=headers).json()["transferees"] == []
        assert api.client.get(f"{PREFIX}/states/USA", headers=headers).status_code == 403

    def test_bad_manifest_is_reported_by_line_and_admits_nobody(self, api: Api) -> None:
        text = flight(1, 3, ARRIVED).replace("1981-02-02", "not-a-date")
        result = self.import_flight(api, "SYN-2", text)
        assert result["committed"] is False and result["admitted"] == []
        assert any(e["field"] == "birth_date" for e in result["errors"])


class TestTransferApiOnSQLite(TransferApiContract):
    @pytest.fixture
    def engine(self, sqlite_engine: Engine) -> Engine:
        return sqlite_engine


@pytest.mark.postgres
class TestTransferApiOnPostgreSQL(TransferApiContract):
    @pytest.fixture
    def engine(self, postgres_engine: Engine) -> Engine:
        return postgres_engine
