"""The register over HTTP on SQLite and PostgreSQL: commands, problem details, scopes, the access log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from habeas.api.app import PREFIX
from habeas.domain.access import Role
from habeas.domain.law import OrderIssued
from habeas.ledger.log import read_head
from habeas.services.legal import LegalService
from habeas.services.register import RegisterService
from habeas.store.account_tables import access_log
from tests.api.support import SCOPES, Api
from tests.conftest import at
from tests.register.support import admission, small_facility


def register(api: Api) -> RegisterService:
    return RegisterService(api.engine, api.ledger_id, api.clock)


def admission_json(**overrides: Any) -> dict[str, Any]:
    return admission(**overrides).model_dump(mode="json", exclude_none=True)


def head(api: Api) -> int:
    with api.engine.connect() as conn:
        return read_head(conn, api.ledger_id).size


def reads_logged(api: Api, person_id: str) -> list[Any]:
    with api.engine.connect() as conn:
        return list(
            conn.execute(select(access_log).where(access_log.c.person_id == person_id).order_by(access_log.c.entry_id))
        )


class ApiContract:
    @pytest.fixture
    def api(self) -> Api:
        raise NotImplementedError

    @pytest.fixture
    def cells(self, api: Api) -> list[str]:
        return small_facility(register(api))

    def admit(self, api: Api, **overrides: Any) -> dict[str, Any]:
        response = api.client.post(
            f"{PREFIX}/admissions", json=admission_json(**overrides), headers=api.as_(Role.INTAKE)
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def test_admit_place_and_find_where(self, api: Api, cells: list[str]) -> None:
        admitted = self.admit(api)
        person = admitted["person_id"]
        placed = api.client.post(
            f"{PREFIX}/people/{person}/placement", json={"at": at(5).isoformat(), "cell_id": cells[0]},
            headers=api.as_(Role.HOUSING),
        )  # fmt: skip
        assert placed.status_code == 200, placed.text
        where = api.client.get(
            f"{PREFIX}/people/{person}/where", params={"at": at(10).isoformat()}, headers=api.as_(Role.DIRECTOR)
        ).json()
        assert (where["status"], where["cell_id"]) == ("in_cell", cells[0])
        record = api.client.get(f"{PREFIX}/people/{person}", headers=api.as_(Role.RECORDS)).json()
        assert record["episodes"][0]["booking_number"] == admitted["booking_number"]

    def test_refusal_is_a_problem_naming_field_and_rule_and_changes_nothing(self, api: Api, cells: list[str]) -> None:
        before = head(api)
        body = admission_json()
        body.pop("legal_basis")
        response = api.client.post(f"{PREFIX}/admissions", json=body, headers=api.as_(Role.INTAKE))
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == 422 and problem["type"].startswith("urn:habeas:problem:")
        assert "legal_basis" in [e["field"] for e in problem["errors"]]
        future = api.client.post(
            f"{PREFIX}/admissions", json=admission_json(admitted_minutes=10_000), headers=api.as_(Role.INTAKE)
        ).json()
        assert {"field": "admitted_at", "rule": "is in the future"} in future["errors"]
        assert head(api) == before

    def test_malformed_json_is_400(self, api: Api, cells: list[str]) -> None:
        headers = {**api.as_(Role.INTAKE), "content-type": "application/json"}
        response = api.client.post(f"{PREFIX}/admissions", content=b"{not json", headers=headers)
        assert response.status_code == 400

    def test_state_conflicts_are_409_and_a_safeguard_names_its_rule(self, api: Api, cells: list[str]) -> None:
        person = self.admit(api)["person_id"]
        release = {
            "at": at(30).isoformat(), "authority": "Juzgado A", "order_reference": "LIB-1", "verified_by": "Clerk",
            "handed_over_to": "Madre Sintetica", "health_check": "no injuries",
        }  # fmt: skip
        LegalService(api.engine, api.ledger_id, api.clock).issue_order(
            "user:court",
            OrderIssued(order_id=f"o-{api.ledger_id}", person_id=person, kind="no_transfer", court="Juzgado A",
                        court_state="SLV", reference="NT-7", issued_at=at(1)),
            at(2),
        )  # fmt: skip
        transfer = {"at": at(30).isoformat(), "destination": "Elsewhere", "receiving_authority": "X",
                    "authority": "Y", "order_reference": "T-1"}  # fmt: skip
        refused = api.client.post(
            f"{PREFIX}/people/{person}/transfer-out", json=transfer, headers=api.as_(Role.RECORDS)
        )
        assert refused.status_code == 409
        assert refused.json()["rule_id"] == "R26" and "NT-7" in refused.json()["detail"]
        assert (
            api.client.post(
                f"{PREFIX}/people/{person}/release", json=release, headers=api.as_(Role.RECORDS)
            ).status_code
            == 200
        )
        again = api.client.post(f"{PREFIX}/people/{person}/release", json=release, headers=api.as_(Role.RECORDS))
        assert again.status_code == 409

    def test_nul_characters_are_refused_everywhere_not_a_500(self, api: Api, cells: list[str]) -> None:
        # PostgreSQL cannot store NUL in text; no identifier or name holds one (found by fuzzing).
        before = head(api)
        assert api.client.get(f"{PREFIX}/people/a%00b", headers=api.as_(Role.DIRECTOR)).status_code == 422
        assert (
            api.client.get(f"{PREFIX}/people", params={"name": "a\x00b"}, headers=api.as_(Role.DIRECTOR)).status_code
            == 422
        )
        placed = api.client.post(
            f"{PREFIX}/people/p1/placement", json={"at": at(5).isoformat(), "cell_id": "x\x00"},
            headers=api.as_(Role.HOUSING),
        )  # fmt: skip
        assert placed.status_code == 422 and placed.json()["errors"][0]["field"] == "body"
        signed = api.client.post(f"{PREFIX}/auth/sign-in", json={"username": "a\x00", "password": "x" * 12})
        assert signed.status_code in (401, 422)
        assert head(api) == before

    def test_unknown_person_is_404(self, api: Api, cells: list[str]) -> None:
        response = api.client.get(f"{PREFIX}/people/nobody", headers=api.as_(Role.DIRECTOR))
        assert response.status_code == 404 and response.json()["title"] == "Not found"

    def test_every_personal_read_is_logged_with_its_reason(self, api: Api, cells: list[str]) -> None:
        person = self.admit(api)["person_id"]
        api.client.get(
            f"{PREFIX}/people/{person}", headers={**api.as_(Role.OVERSIGHT), "X-Habeas-Reason": "inspection 2025-03"}
        )  # fmt: skip
        api.client.get(f"{PREFIX}/people/{person}/timeline", headers=api.as_(Role.MEDICAL))
        api.client.get(f"{PREFIX}/people/{person}/where", headers=api.as_(Role.HOUSING))
        logged = reads_logged(api, person)
        assert [(r.role, r.reason) for r in logged] == [
            ("oversight", "inspection 2025-03"), ("medical", None), ("housing_officer", None),
        ]  # fmt: skip
        assert logged[1].action == f"GET {PREFIX}/people/{{person_id}}/timeline"
        seen = api.client.get(f"{PREFIX}/access-log", params={"person_id": person}, headers=api.as_(Role.OVERSIGHT))
        assert [e["username"] for e in seen.json()] == [
            api.usernames[r] for r in (Role.OVERSIGHT, Role.MEDICAL, Role.HOUSING)
        ]
        assert api.client.get(f"{PREFIX}/access-log", headers=api.as_(Role.DIRECTOR)).status_code == 403

    def test_liaison_sees_nobody_outside_its_scope(self, api: Api, cells: list[str]) -> None:
        person = self.admit(api)["person_id"]  # a domestic detainee
        for path in (f"/people/{person}", f"/people/{person}/where"):
            assert api.client.get(PREFIX + path, headers=api.as_(Role.LIAISON)).status_code == 404
        found = api.client.get(f"{PREFIX}/people", params={"name": "Persona"}, headers=api.as_(Role.LIAISON))
        assert found.status_code == 200 and found.json() == []
        assert api.client.get(f"{PREFIX}/people/{person}/timeline", headers=api.as_(Role.LIAISON)).status_code == 403
        assert reads_logged(api, person) == []  # nothing was read

    def test_court_sees_the_people_its_orders_concern_only(self, api: Api, cells: list[str]) -> None:
        mine, other = self.admit(api)["person_id"], self.admit(api)["person_id"]
        LegalService(api.engine, api.ledger_id, api.clock).issue_order(
            "user:court",
            OrderIssued(order_id=f"p-{api.ledger_id}", person_id=mine, kind="produce", court=SCOPES[Role.COURT],
                        court_state="SLV", reference="P-1", issued_at=at(1), deadline=at(3000), place="Juzgado A"),
            at(2),
        )  # fmt: skip
        assert api.client.get(f"{PREFIX}/people/{mine}", headers=api.as_(Role.COURT)).status_code == 200
        assert api.client.get(f"{PREFIX}/people/{other}", headers=api.as_(Role.COURT)).status_code == 404

    def test_token_expiry_and_revocation_over_http(self, api: Api, cells: list[str]) -> None:
        signed = api.client.post(
            f"{PREFIX}/auth/sign-in", json={"username": api.usernames[Role.INTAKE], "password": "correct horse battery"}
        ).json()
        headers = {"Authorization": f"Bearer {signed['token']}"}
        assert api.client.get(f"{PREFIX}/auth/me", headers=headers).status_code == 200
        api.clock.now += timedelta(minutes=31)
        expired = api.client.get(f"{PREFIX}/auth/me", headers=headers)
        assert expired.status_code == 401 and expired.headers["www-authenticate"] == "Bearer"
        assert "expired" in expired.json()["detail"]
        issued = api.client.post(
            f"{PREFIX}/accounts/{api.usernames[Role.RECORDS]}/tokens", json={"name": "records system"},
            headers=api.as_(Role.DIRECTOR),
        ).json()  # fmt: skip
        system = {"Authorization": f"Bearer {issued['token']}"}
        assert api.client.get(f"{PREFIX}/auth/me", headers=system).json()["role"] == "records_officer"
        revoked = api.client.post(
            f"{PREFIX}/tokens/{issued['token_id']}/revoke", json={"reason": "rotated"}, headers=api.as_(Role.DIRECTOR)
        )
        assert revoked.status_code == 200
        assert api.client.get(f"{PREFIX}/auth/me", headers=system).status_code == 401

    def test_lockout_over_http_and_oversight_cannot_be_locked_out(self, api: Api, cells: list[str]) -> None:
        for _ in range(5):
            api.client.post(
                f"{PREFIX}/auth/sign-in", json={"username": api.usernames[Role.INTAKE], "password": "x" * 12}
            )
        locked = api.client.post(
            f"{PREFIX}/auth/sign-in", json={"username": api.usernames[Role.INTAKE], "password": "correct horse battery"}
        )
        assert locked.status_code == 429
        disable = api.client.post(
            f"{PREFIX}/accounts/{api.usernames[Role.OVERSIGHT]}/disable", json={"reason": "inconvenient"},
            headers=api.as_(Role.DIRECTOR),
        )  # fmt: skip
        assert disable.status_code == 403 and "only oversight" in disable.json()["detail"]
        assert api.client.get(f"{PREFIX}/ledger/verify", headers=api.as_(Role.OVERSIGHT)).json()["ok"] is True

    def test_public_locator_gives_facility_and_status_only(self, api: Api, cells: list[str]) -> None:
        body = admission_json()
        doc = body["identity"]["documents"][0]
        person = self.admit(api, identity=admission().identity.model_copy(update={"documents": (doc,)}))["person_id"]
        register(api).place("user:h", person, cells[0], at(5))
        found = api.client.get(
            f"{PREFIX}/public/locator",
            params={"document_kind": "national_id", "issuer": "slv", "number": doc["number"]},
        ).json()["found"]
        assert len(found) == 1 and found[0]["status"] == "held" and found[0]["facility"] == "Test Facility"
        assert cells[0] not in str(found) and "cell" not in " ".join(found[0])
        nothing = api.client.get(
            f"{PREFIX}/public/locator", params={"document_kind": "national_id", "issuer": "SLV", "number": "999"}
        )
        assert nothing.json()["found"] == []
        vague = api.client.get(f"{PREFIX}/public/locator", params={"full_name": "Persona"})
        assert vague.status_code == 422

    def test_public_statistics_suppress_small_numbers(self, api: Api, cells: list[str]) -> None:
        for _ in range(3):
            self.admit(api)
        stats = api.client.get(f"{PREFIX}/public/statistics").json()
        facility = stats["facilities"][0]
        assert facility["population"] == {"value": None, "suppressed": True}
        assert facility["m2_per_person"] is None  # would reveal the suppressed count
        for _ in range(3):
            self.admit(api)
        facility = api.client.get(f"{PREFIX}/public/statistics").json()["facilities"][0]
        assert facility["population"] == {"value": 6, "suppressed": False}
        flows = api.client.get(f"{PREFIX}/public/statistics").json()["flows"]
        assert [(f["month"], f["admissions"]["value"]) for f in flows] == [("2025-03", 6)]  # counted by the database
        assert flows[0]["releases"] == {"value": 0, "suppressed": False}
        assert facility["declared_capacity"] == 24 and facility["icrc_capacity"] == 6 * 3  # 12 m² / 3.4 = 3 per cell


class TestApiOnSQLite(ApiContract):
    @pytest.fixture
    def api(self, sqlite_api: Api) -> Api:
        return sqlite_api


@pytest.mark.postgres
class TestApiOnPostgreSQL(ApiContract):
    @pytest.fixture
    def api(self, postgres_api: Api) -> Api:
        return postgres_api


def test_public_endpoints_are_rate_limited(sqlite_engine: Any, ledger_id: str) -> None:
    from tests.api.support import build_api

    api = build_api(sqlite_engine, ledger_id, public_rate="3/minute")
    statuses = [api.client.get(f"{PREFIX}/public/statistics").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = api.client.get(f"{PREFIX}/public/statistics")
    assert int(limited.headers["retry-after"]) >= 1 and limited.json()["type"] == "urn:habeas:problem:rate-limited"


def test_access_log_is_append_only(sqlite_api: Api) -> None:
    from sqlalchemy import insert, text
    from sqlalchemy.exc import DBAPIError

    with sqlite_api.engine.begin() as conn:
        row = {"at": at(), "account_id": "a", "username": "u", "role": "oversight", "person_id": "p", "action": "GET"}
        conn.execute(insert(access_log).values(ledger_id=sqlite_api.ledger_id, **row))
    with pytest.raises(DBAPIError, match="append-only"), sqlite_api.engine.begin() as conn:
        conn.execute(text("DELETE FROM access_log"))
    with sqlite_api.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(access_log)).scalar() == 1
