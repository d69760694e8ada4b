"""The law over HTTP on SQLite and PostgreSQL: legal bases, cases, court orders, sentences, notifications."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from habeas.api.app import PREFIX
from habeas.domain.access import Role
from habeas.ledger.log import read_events
from tests.api.support import SCOPES, Api
from tests.api.test_api_register import admission_json, head, reads_logged, register
from tests.conftest import at
from tests.register.support import admission, small_facility

COURT = SCOPES[Role.COURT]
OTHER_COURT = "Juzgado Segundo de Paz Sintético"


def z(minutes: float) -> str:
    """An instant as the API writes it back (pydantic's JSON form of a UTC datetime)."""
    return at(minutes).isoformat().replace("+00:00", "Z")


iso = z


def last_event(api: Api, kind: str) -> dict[str, Any]:
    """The payload of the latest event of this type (a command's safeguards may append alerts after it)."""
    with api.engine.connect() as conn:
        found = list(read_events(conn, api.ledger_id, types=[kind]))
    assert found, kind
    payload: dict[str, Any] = orjson.loads(found[-1].body)["payload"]
    return payload


class LawContract:
    @pytest.fixture
    def api(self) -> Api:
        raise NotImplementedError

    @pytest.fixture
    def cells(self, api: Api) -> list[str]:
        return small_facility(register(api))

    def admit(self, api: Api) -> str:
        response = api.client.post(f"{PREFIX}/admissions", json=admission_json(), headers=api.as_(Role.INTAKE))
        assert response.status_code == 201, response.text
        person: str = response.json()["person_id"]
        return person

    def post(self, api: Api, path: str, body: dict[str, Any], role: Role = Role.RECORDS) -> Any:
        return api.client.post(PREFIX + path, json=body, headers=api.as_(role))

    def open_case(self, api: Api, case_id: str, court: str, people: list[str]) -> dict[str, Any]:
        response = self.post(
            api, "/cases",
            {"at": iso(20), "case_id": case_id, "court": court, "reference": f"REF-{case_id}", "group_case": True,
             "charges": [{"charge_id": "c1", "offence": "agrupaciones ilícitas", "article": "CP 345"}],
             "defendants": [{"person_id": p, "counsel": f"Defensor {i}"} for i, p in enumerate(people)]},
        )  # fmt: skip
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def order(self, api: Api, person: str, role: Role = Role.COURT, **overrides: Any) -> Any:
        body = {"at": iso(30), "person_id": person, "kind": "produce", "court": COURT, "reference": "P-1",
                "issued_at": iso(25), "deadline": iso(3000), "place": "Juzgado A", **overrides}  # fmt: skip
        return self.post(api, "/orders", body, role)

    # --- legal bases ---------------------------------------------------------------------------------

    def test_legal_file_shows_the_clocks_and_an_instrument_stops_and_starts_them(
        self, api: Api, cells: list[str]
    ) -> None:
        person = self.admit(api)
        legal = api.client.get(f"{PREFIX}/people/{person}/legal", headers=api.as_(Role.DIRECTOR)).json()
        assert (legal["person_id"], legal["held"], legal["at"]) == (person, True, z(600))
        # Arrested at T-120 min: ICCPR 9(3) (intl policy), 48 h to be brought before a judge.
        assert legal["clocks"] == [
            {"rule": "R3", "what": "administrative detention before a judge", "started_at": z(-120),
             "due": z(-120 + 48 * 60), "basis": legal["clocks"][0]["basis"], "refs": [],
             "seconds_left": (48 * 60 - 720) * 60, "passed": False},
        ]  # fmt: skip
        assert legal["clocks"][0]["basis"].startswith("ICCPR 9(3)")
        [arrest] = legal["instruments"]
        assert (arrest["kind"], arrest["reference"], arrest["in_force"], arrest["clocks"]) == (
            "arrest_record", "AR-2025-001", True, []
        )  # fmt: skip
        assert (legal["cases"], legal["orders"], legal["sentences"]) == ([], [], [])

        recorded = self.post(
            api, f"/people/{person}/instruments",
            {"at": iso(40), "instrument_id": f"pd-{api.ledger_id}", "kind": "provisional_detention_order",
             "reference": "PD-7/2025", "issued_by": "Juzgado A", "issued_at": iso(30), "article": "CPP 329",
             "expires_at": iso(10_000), "offence_class": "serious"},
        )  # fmt: skip
        assert recorded.status_code == 201, recorded.text
        instrument = recorded.json()
        assert {k: instrument[k] for k in ("instrument_id", "person_id", "kind", "issued_at", "expires_at")} == {
            "instrument_id": f"pd-{api.ledger_id}", "person_id": person, "kind": "provisional_detention_order",
            "issued_at": z(30), "expires_at": z(10_000),
        }  # fmt: skip
        assert (instrument["in_force"], instrument["ended_at"], instrument["article"]) == (True, None, "CPP 329")
        expiry, limit = instrument["clocks"]
        assert (expiry["rule"], expiry["due"], expiry["seconds_left"], expiry["passed"]) == (
            "R6", z(10_000), (10_000 - 600) * 60, False
        )  # fmt: skip
        # CPP 8 (intl: 24 months for a serious offence) from the start of the detention (the arrest).
        assert (limit["rule"], limit["started_at"], limit["due"]) == ("R5", z(-120), "2027-03-15T20:04:00Z")
        legal = api.client.get(f"{PREFIX}/people/{person}/legal", headers=api.as_(Role.DIRECTOR)).json()
        assert legal["clocks"] == []  # a judge's instrument stops the administrative clock (R3)
        assert [i["reference"] for i in legal["instruments"]] == ["AR-2025-001", "PD-7/2025"]
        assert legal["instruments"][1] == instrument

        early = self.post(api, f"/instruments/{instrument['instrument_id']}/end", {"at": iso(20), "reason": "x"})
        assert early.status_code == 422 and early.json()["errors"][0]["field"] == "at"
        assert self.post(api, "/instruments/none/end", {"at": iso(50), "reason": "x"}).status_code == 404
        ended = self.post(api, f"/instruments/{instrument['instrument_id']}/end", {"at": iso(50), "reason": "revoked"})
        assert ended.status_code == 200, ended.text
        assert (ended.json()["ended_at"], ended.json()["in_force"], ended.json()["clocks"]) == (z(50), False, [])
        before = head(api)
        again = self.post(api, f"/instruments/{instrument['instrument_id']}/end", {"at": iso(51), "reason": "x"})
        assert again.status_code == 409 and "already ended" in again.json()["detail"]
        taken = self.post(
            api, f"/people/{person}/instruments",
            {"at": iso(40), "instrument_id": f"pd-{api.ledger_id}", "kind": "judicial_order", "reference": "J-1",
             "issued_by": "Juzgado A", "issued_at": iso(30)},
        )  # fmt: skip
        assert taken.status_code == 409 and taken.json()["errors"][0]["field"] == "instrument_id"
        late = self.post(
            api, f"/people/{person}/instruments",
            {"at": iso(40), "kind": "judicial_order", "reference": "J-1", "issued_by": "Juzgado A",
             "issued_at": iso(45)},
        )  # fmt: skip
        assert late.status_code == 422 and late.json()["errors"][0]["field"] == "issued_at"
        nobody = self.post(
            api, "/people/nobody/instruments",
            {"at": iso(40), "kind": "judicial_order", "reference": "J-1", "issued_by": "Juzgado A",
             "issued_at": iso(30)},
        )  # fmt: skip
        assert nobody.status_code == 404
        assert head(api) == before  # no refusal wrote anything

    # --- cases ---------------------------------------------------------------------------------------

    def test_group_case_with_counsel_hearings_and_verdicts(self, api: Api, cells: list[str]) -> None:
        people = [self.admit(api) for _ in range(3)]
        case_id = f"gc-{api.ledger_id}"
        case = self.open_case(api, case_id, COURT, people)
        assert case == {
            "case_id": case_id, "court": COURT, "reference": f"REF-{case_id}", "group_case": True,
            "charges": [{"charge_id": "c1", "offence": "agrupaciones ilícitas", "article": "CP 345", "counts": 1}],
            "defendants": sorted(
                ({"case_id": case_id, "person_id": p, "counsel": f"Defensor {i}", "hearings": 0, "verdict": None}
                 for i, p in enumerate(people)),
                key=lambda d: str(d["person_id"]),
            ),
        }  # fmt: skip
        heard = self.post(
            api, f"/cases/{case_id}/hearings",
            {"at": iso(60), "person_id": people[0], "kind": "initial_appearance", "outcome": "provisional detention",
             "counsel": "Defensora Pública"},
        )  # fmt: skip
        assert heard.status_code == 201, heard.text
        assert heard.json() == {
            "case_id": case_id,
            "person_id": people[0],
            "counsel": "Defensora Pública",
            "hearings": 1,
            "verdict": None,
        }
        verdict = self.post(
            api, f"/cases/{case_id}/verdicts", {"at": iso(70), "person_id": people[1], "verdict": "acquitted"}
        )
        assert verdict.status_code == 201 and verdict.json()["verdict"] == "acquitted"

        stranger = self.admit(api)
        before = head(api)
        outside = self.post(
            api, f"/cases/{case_id}/hearings",
            {"at": iso(60), "person_id": stranger, "kind": "trial", "outcome": "x"},
        )  # fmt: skip
        assert outside.status_code == 404
        twice = self.post(
            api, "/cases",
            {"at": iso(20), "case_id": case_id, "court": COURT, "reference": "R",
             "defendants": [{"person_id": stranger}]},
        )  # fmt: skip
        assert twice.status_code == 409 and twice.json()["errors"][0]["field"] == "case_id"
        unknown = self.post(
            api, "/cases",
            {"at": iso(20), "case_id": "new", "court": COURT, "reference": "R",
             "defendants": [{"person_id": stranger}, {"person_id": "nobody"}]},
        )  # fmt: skip
        assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "defendants[1]"
        assert head(api) == before

        read = api.client.get(
            f"{PREFIX}/cases/{case_id}", headers={**api.as_(Role.COURT), "X-Habeas-Reason": "hearing 2025-04"}
        )
        assert read.status_code == 200
        assert [(d["person_id"], d["hearings"], d["verdict"]) for d in read.json()["defendants"]] == sorted(
            [(people[0], 1, None), (people[1], 0, "acquitted"), (people[2], 0, None)]
        )
        for p in people:
            assert [(r.role, r.action, r.reason) for r in reads_logged(api, p)] == [
                ("court", f"GET {PREFIX}/cases/{{case_id}}", "hearing 2025-04")
            ]

    def test_a_court_reads_only_its_own_cases(self, api: Api, cells: list[str]) -> None:
        person = self.admit(api)
        theirs = f"other-{api.ledger_id}"
        self.open_case(api, theirs, OTHER_COURT, [person])
        response = api.client.get(f"{PREFIX}/cases/{theirs}", headers=api.as_(Role.COURT))
        assert response.status_code == 404 and response.json()["detail"] == f"no case {theirs!r}"
        assert api.client.get(f"{PREFIX}/cases/{theirs}", headers=api.as_(Role.LIAISON)).status_code == 404
        assert api.client.get(f"{PREFIX}/cases/{theirs}", headers=api.as_(Role.OVERSIGHT)).status_code == 200
        assert api.client.get(f"{PREFIX}/people/{person}/legal", headers=api.as_(Role.COURT)).status_code == 404
        assert [r.role for r in reads_logged(api, person)] == ["oversight"]

    # --- orders --------------------------------------------------------------------------------------

    def test_a_court_issues_orders_only_in_its_own_name_and_on_its_own_cases(self, api: Api, cells: list[str]) -> None:
        person = self.admit(api)
        mine, theirs = f"mine-{api.ledger_id}", f"theirs-{api.ledger_id}"
        self.open_case(api, mine, COURT, [person])
        self.open_case(api, theirs, OTHER_COURT, [person])
        before = head(api)
        forged = self.order(api, person, court=OTHER_COURT)
        assert forged.status_code == 403
        assert forged.json()["detail"] == f"a court account issues orders only in its own name: court must be {COURT!r}"
        borrowed = self.order(api, person, case_id=theirs)
        assert borrowed.status_code == 403 and "only on its own cases" in borrowed.json()["detail"]
        assert self.order(api, person, role=Role.DIRECTOR).status_code == 403  # the director does not issue orders
        assert head(api) == before

        issued = self.order(api, person, order_id=f"o-{api.ledger_id}", case_id=mine)
        assert issued.status_code == 201, issued.text
        assert issued.json() == {
            "order_id": f"o-{api.ledger_id}", "person_id": person, "kind": "produce", "court": COURT,
            "court_state": "SLV", "reference": "P-1", "issued_at": z(25), "deadline": z(3000), "place": "Juzgado A",
            "status": "active", "closed_at": None, "executed": False, "in_time": True, "overdue": False,
        }  # fmt: skip
        assert self.order(api, person, order_id=f"o-{api.ledger_id}").status_code == 409
        # A records officer records a foreign court's order received on paper.
        paper = self.order(
            api, person, role=Role.RECORDS, kind="no_transfer", court="Juzgado Federal Sintético", court_state="USA",
            reference="NT-77", issued_at=iso(26), deadline=None, place=None,
        )  # fmt: skip
        assert paper.status_code == 201, paper.text
        assert api.client.get(f"{PREFIX}/orders", headers=api.as_(Role.COURT)).json() == [issued.json()]
        everyone = api.client.get(f"{PREFIX}/orders", params={"person_id": person}, headers=api.as_(Role.OVERSIGHT))
        assert [o["reference"] for o in everyone.json()] == ["P-1", "NT-77"]
        assert api.client.get(f"{PREFIX}/orders", headers=api.as_(Role.LIAISON)).json() == []  # not its transferee
        assert last_event(api, "order.issued")["court_state"] == "USA"

    def test_execution_and_lift(self, api: Api, cells: list[str]) -> None:
        person = self.admit(api)
        produce = self.order(api, person, order_id=f"p-{api.ledger_id}").json()["order_id"]
        executed = self.post(api, f"/orders/{produce}/execution", {"at": iso(500), "note": "produced before Juzgado A"})
        assert executed.status_code == 200, executed.text
        assert {k: executed.json()[k] for k in ("status", "closed_at", "executed", "in_time", "overdue")} == {
            "status": "executed", "closed_at": z(500), "executed": True, "in_time": True, "overdue": False,
        }  # fmt: skip
        assert last_event(api, "order.executed") == {
            "order_id": produce,
            "person_id": person,
            "note": "produced before Juzgado A",
            "execution_event_id": None,
        }
        before = head(api)
        again = self.post(api, f"/orders/{produce}/execution", {"at": iso(510), "note": "again"})
        assert again.status_code == 409 and "already executed" in again.json()["detail"]
        assert head(api) == before
        early = self.order(api, person, order_id=f"e-{api.ledger_id}").json()["order_id"]
        before = head(api)
        before_issue = self.post(api, f"/orders/{early}/execution", {"at": iso(20), "note": "x"})
        assert before_issue.status_code == 422 and before_issue.json()["errors"] == [
            {"field": "at", "rule": "is before order P-1 was issued"}
        ]
        by_court = self.post(api, f"/orders/{early}/execution", {"at": iso(500), "note": "x"}, Role.COURT)
        assert by_court.status_code == 403 and by_court.json()["detail"] == "a court account may not order.execute"
        assert head(api) == before

        late = self.order(api, person, order_id=f"l-{api.ledger_id}", deadline=iso(100)).json()
        assert (late["overdue"], late["in_time"]) == (True, False)

        # Its R26 alert is about the order (its subject), and its court reads it; a liaison does not.
        def r26(role: Role) -> list[str]:
            found = api.client.get(f"{PREFIX}/alerts", params={"rule": "R26"}, headers=api.as_(role)).json()
            return [a["subject"] for a in found]

        assert late["order_id"] in r26(Role.COURT) and late["order_id"] in r26(Role.OVERSIGHT)
        assert r26(Role.LIAISON) == []
        no_transfer = self.order(
            api, person, role=Role.RECORDS, order_id=f"nt-{api.ledger_id}", kind="no_transfer", court=OTHER_COURT,
            reference="NT-1", deadline=None, place=None,
        ).json()["order_id"]  # fmt: skip
        before = head(api)
        hidden = self.post(api, f"/orders/{no_transfer}/lift", {"at": iso(550), "reason": "case closed"}, Role.COURT)
        assert hidden.status_code == 404  # another court's order looks absent to a court
        nameless = self.post(api, f"/orders/{no_transfer}/lift", {"at": iso(550), "reason": "case closed"})
        assert nameless.status_code == 422 and nameless.json()["errors"][0]["field"] == "authority"
        assert head(api) == before
        lifted = self.post(
            api, f"/orders/{no_transfer}/lift", {"at": iso(550), "authority": OTHER_COURT, "reason": "case closed"}
        )
        assert lifted.status_code == 200, lifted.text
        assert (lifted.json()["status"], lifted.json()["closed_at"], lifted.json()["in_time"]) == (
            "lifted", z(550), None
        )  # fmt: skip
        own = self.post(api, f"/orders/{late['order_id']}/lift", {"at": iso(560), "reason": "moot"}, Role.COURT)
        assert own.status_code == 200 and own.json()["status"] == "lifted"
        payload = last_event(api, "order.lifted")
        assert (payload["order_id"], payload["authority"], payload["reason"]) == (late["order_id"], COURT, "moot")
        listed = api.client.get(f"{PREFIX}/orders", params={"status": "active"}, headers=api.as_(Role.COURT)).json()
        assert [o["order_id"] for o in listed] == [early]

    # --- sentences -----------------------------------------------------------------------------------

    def test_a_sentence_gives_its_release_date_and_why(self, api: Api, cells: list[str]) -> None:
        person = self.admit(api)
        case_id = f"c-{api.ledger_id}"
        self.open_case(api, case_id, COURT, [person])
        sentence = {
            "at": iso(100), "sentence_id": f"s-{api.ledger_id}", "case_id": case_id, "person_id": person,
            "court": "Tribunal de Sentencia Sintético", "sentenced_on": "2025-06-01",
            "counts": [
                {"count_id": "n1", "offence": "robo", "article": "CP 212", "term": {"years": 2}},
                {"count_id": "n2", "offence": "lesiones", "article": "CP 142", "term": {"months": 6},
                 "runs": "concurrent", "concurrent_with": "n1"},
            ],
            "credits": [{"start": "2025-03-15", "end": "2025-05-31", "reason": "provisional detention"}],
            "announced_aggregate": {"years": 2, "months": 6},
        }  # fmt: skip
        recorded = self.post(api, "/sentences", sentence)
        assert recorded.status_code == 201, recorded.text
        out = recorded.json()
        # 2 years from 2025-06-01 is served through 2027-05-31; 78 days of credit (15 Mar – 31 May) bring
        # release 78 days earlier: 2027-03-15, at 08:00 local (intl: UTC).
        assert {k: out[k] for k in ("sentence_id", "aggregate", "enforceable", "release_on", "release_at")} == {
            "sentence_id": f"s-{api.ledger_id}", "aggregate": "2 years 6 months", "enforceable": "2 years",
            "release_on": "2027-03-15", "release_at": "2027-03-15T08:00:00Z",
        }  # fmt: skip
        assert len(out["explanation"]) == 9 and out["warnings"] == []
        assert (
            out["explanation"][6]
            == "7. Credit for 78 days held since 2025-03-15 through 2025-05-31 (provisional detention)."
        )
        assert out["explanation"][-1].startswith("9. Release on 2027-03-15 at 08:00 UTC")
        legal = api.client.get(f"{PREFIX}/people/{person}/legal", headers=api.as_(Role.COURT)).json()
        assert legal["sentences"] == [out]

        before = head(api)
        assert self.post(api, "/sentences", sentence).status_code == 409  # the id is taken
        stranger = self.admit(api)
        before = head(api)
        outside = self.post(api, "/sentences", {**sentence, "sentence_id": "s-2", "person_id": stranger})
        assert outside.status_code == 404
        no_count = self.post(api, "/sentences", {**sentence, "sentence_id": "s-3", "counts": []})
        assert no_count.status_code == 422 and no_count.json()["errors"][0]["field"] == "counts"
        assert head(api) == before

    # --- the legal file ------------------------------------------------------------------------------

    def test_the_legal_file_is_logged_and_scoped(self, api: Api, cells: list[str]) -> None:
        person = self.admit(api)
        self.order(api, person, order_id=f"o-{api.ledger_id}")
        self.order(api, person, role=Role.RECORDS, order_id=f"x-{api.ledger_id}", court=OTHER_COURT, reference="X-1")
        seen = api.client.get(
            f"{PREFIX}/people/{person}/legal", headers={**api.as_(Role.OVERSIGHT), "X-Habeas-Reason": "inspection"}
        )
        assert seen.status_code == 200 and [o["reference"] for o in seen.json()["orders"]] == ["P-1", "X-1"]
        by_court = api.client.get(f"{PREFIX}/people/{person}/legal", headers=api.as_(Role.COURT)).json()
        assert [o["reference"] for o in by_court["orders"]] == ["P-1"]  # a court sees its own orders only
        assert api.client.get(f"{PREFIX}/people/{person}/legal", headers=api.as_(Role.LIAISON)).status_code == 404
        assert api.client.get(f"{PREFIX}/people/nobody/legal", headers=api.as_(Role.RECORDS)).status_code == 404
        logged = reads_logged(api, person)
        assert [(r.username, r.action, r.reason) for r in logged] == [
            (api.usernames[Role.OVERSIGHT], f"GET {PREFIX}/people/{{person_id}}/legal", "inspection"),
            (api.usernames[Role.COURT], f"GET {PREFIX}/people/{{person_id}}/legal", None),
        ]
        api.client.get(f"{PREFIX}/orders", params={"person_id": person}, headers=api.as_(Role.RECORDS))
        assert reads_logged(api, person)[-1].action == f"GET {PREFIX}/orders"
        from_log = api.client.get(f"{PREFIX}/access-log", params={"person_id": person}, headers=api.as_(Role.OVERSIGHT))
        assert len(from_log.json()) == 3

    # --- notifications -------------------------------------------------------------------------------

    def test_notifications_and_authorized_delays(self, api: Api, cells: list[str]) -> None:
        person = self.admit(api)
        told = self.post(
            api, f"/people/{person}/notifications", {"at": iso(30), "kind": "family", "recipient": "Madre"}
        )
        assert told.status_code == 201, told.text
        out = told.json()
        assert {k: v for k, v in out.items() if k != "notification_id"} == {
            "person_id": person, "kind": "family", "recipient": "Madre", "at": z(30), "delayed_until": None,
            "delay_authority": None, "delay_reason": None,
        }  # fmt: skip
        payload = last_event(api, "notification.recorded")
        assert (payload["notification_id"], payload["by"]) == (
            out["notification_id"], f"user:{api.usernames[Role.RECORDS]}"
        )  # fmt: skip
        before = head(api)
        unauthorized = self.post(
            api, f"/people/{person}/notifications",
            {"at": iso(30), "kind": "consulate", "recipient": "Consulado", "delayed_until": iso(300)},
        )  # fmt: skip
        assert unauthorized.status_code == 422 and unauthorized.json()["errors"][0]["field"] == "delay_authority"
        backwards = self.post(
            api, f"/people/{person}/notifications",
            {"at": iso(30), "kind": "family", "recipient": "Padre", "delayed_until": iso(10),
             "delay_authority": "Juzgado A", "delay_reason": "investigation"},
        )  # fmt: skip
        assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "delayed_until"
        assert self.post(api, f"/people/{person}/notifications", {"at": iso(30), "kind": "family"}).status_code == 422
        assert (
            self.post(
                api, "/people/nobody/notifications", {"at": iso(30), "kind": "family", "recipient": "X"}
            ).status_code
            == 404
        )
        assert (
            self.post(
                api, f"/people/{person}/notifications", {"at": iso(30), "kind": "family", "recipient": "X"}, Role.COURT
            ).status_code
            == 403
        )
        assert head(api) == before
        delayed = self.post(
            api, f"/people/{person}/notifications",
            {"at": "2025-03-16T00:34:00+02:00", "kind": "family", "recipient": "Padre",
             "delayed_until": iso(300), "delay_authority": "Juzgado A", "delay_reason": "investigation"},
        )  # fmt: skip
        assert delayed.status_code == 201, delayed.text
        assert (delayed.json()["at"], delayed.json()["delayed_until"]) == (z(30), z(300))  # an offset is read as UTC


class TestLawApiOnSQLite(LawContract):
    @pytest.fixture
    def api(self, sqlite_api: Api) -> Api:
        return sqlite_api


@pytest.mark.postgres
class TestLawApiOnPostgreSQL(LawContract):
    @pytest.fixture
    def api(self, postgres_api: Api) -> Api:
        return postgres_api


def test_law_routes_are_documented(sqlite_api: Api) -> None:
    description = sqlite_api.client.get(f"{PREFIX}/openapi.json").json()
    for path, method, statuses in (
        ("/orders", "post", {"201", "400", "401", "403", "404", "409", "422"}),
        ("/orders", "get", {"200", "401", "403", "422"}),
        ("/cases/{case_id}", "get", {"200", "401", "403", "404", "422"}),
        ("/people/{person_id}/legal", "get", {"200", "401", "403", "404", "422"}),
    ):
        assert set(description["paths"][PREFIX + path][method]["responses"]) == statuses, (path, method)
    assert "OrderIn" in description["components"]["schemas"]


def test_a_group_case_of_hundreds_each_with_counsel(sqlite_api: Api) -> None:
    api = sqlite_api
    small_facility(register(api), units=10, cells_per_unit=10)
    admitted = register(api).admit_many("user:intake", [admission(confirm_new_person=True) for _ in range(300)])
    people = [a.person_id for a in admitted]
    case_id = "gc-803"
    body = {
        "at": iso(20), "case_id": case_id, "court": COURT, "reference": "Decreto 803 / grupo 1", "group_case": True,
        "defendants": [{"person_id": p, "counsel": f"Defensor {i % 7}"} for i, p in enumerate(people)],
    }  # fmt: skip
    opened = api.client.post(f"{PREFIX}/cases", json=body, headers=api.as_(Role.RECORDS))
    assert opened.status_code == 201, opened.text
    assert len(opened.json()["defendants"]) == 300
    read = api.client.get(f"{PREFIX}/cases/{case_id}", headers=api.as_(Role.COURT)).json()
    assert {(d["person_id"], d["counsel"]) for d in read["defendants"]} == {
        (p, f"Defensor {i % 7}") for i, p in enumerate(people)
    }
    log = api.client.get(f"{PREFIX}/access-log", params={"limit": 5000}, headers=api.as_(Role.OVERSIGHT)).json()
    assert sorted(e["person_id"] for e in log if e["username"] == api.usernames[Role.COURT]) == sorted(people)
