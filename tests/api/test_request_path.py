"""What one request costs the database, on SQLite and PostgreSQL: connections and statements.

The person lookup is the API's hot path (benchmarks/api.py).  It takes one pooled
connection for the whole request (the token check and the route share it), runs a
bounded number of statements, and its access-log row is committed before the
response is sent (an audited read must not be lost).  Revocation still takes effect
on the very next request: nothing caches a token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, event, func, select

from habeas.api.app import PREFIX
from habeas.api.config import REQUEST_CONNECTIONS
from habeas.api.person_view import person_view
from habeas.domain.access import Role
from habeas.errors import NotFound
from habeas.services import queries
from habeas.store.account_tables import access_log, api_tokens
from habeas.store.engine import make_engine
from habeas.store.migrate import upgrade
from tests.api.support import Api, build_api
from tests.api.test_api_register import admission_json, register
from tests.conftest import at
from tests.register.support import admission, small_facility


@dataclass
class Traffic:
    checkouts: int = 0
    statements: list[str] = field(default_factory=list)


@contextmanager
def watched(engine: Engine) -> Iterator[Traffic]:
    """Pool checkouts and SQL statements sent while the block runs (BEGIN/COMMIT are not statements)."""
    traffic = Traffic()

    def on_checkout(*_: Any) -> None:
        traffic.checkouts += 1

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA")):
            traffic.statements.append(statement)

    event.listen(engine, "checkout", on_checkout)
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield traffic
    finally:
        event.remove(engine, "checkout", on_checkout)
        event.remove(engine, "before_cursor_execute", on_execute)


def logged_reads(api: Api, person_id: str) -> int:
    with api.engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(access_log.c.person_id == person_id)).scalar_one())


class RequestPathContract:
    @pytest.fixture
    def api(self) -> Api:
        raise NotImplementedError

    @pytest.fixture
    def person(self, api: Api) -> str:
        small_facility(register(api))
        response = api.client.post(f"{PREFIX}/admissions", json=admission_json(), headers=api.as_(Role.INTAKE))
        assert response.status_code == 201, response.text
        person_id: str = response.json()["person_id"]
        return person_id

    def test_lookup_takes_one_connection_and_three_statements(self, api: Api, person: str) -> None:
        with watched(api.engine) as traffic:
            response = api.client.get(f"{PREFIX}/people/{person}", headers=api.as_(Role.RECORDS))
        assert response.status_code == 200, response.text
        assert response.json()["episodes"][0]["status"] == "admitted"
        assert traffic.checkouts == 1
        # The token and its account; the person with documents and episodes; the access-log row.
        assert len(traffic.statements) == 3, traffic.statements

    def test_one_statement_view_is_the_register_s_person_record(self, api: Api, person: str) -> None:
        # A second episode: released, then admitted again (one row per episode in the joined view).
        released = api.client.post(
            f"{PREFIX}/people/{person}/release",
            json={"at": at(20).isoformat(), "authority": "Juzgado Primero", "order_reference": "REL-1",
                  "verified_by": "Oficial", "handed_over_to": "Familia", "health_check": "sin lesiones"},
            headers=api.as_(Role.RECORDS),
        )  # fmt: skip
        assert released.status_code == 200, released.text
        returning = {**admission(40).model_dump(mode="json", exclude_none=True), "person_id": person}
        returning.pop("identity")
        again = api.client.post(f"{PREFIX}/admissions", json=returning, headers=api.as_(Role.INTAKE))
        assert again.status_code == 201, again.text
        with api.engine.connect() as conn:
            view = person_view(conn, api.ledger_id, person)
            record = queries.person_record(conn, api.ledger_id, person)
            with pytest.raises(NotFound):
                person_view(conn, api.ledger_id, "no-such-person")
        assert len(view["episodes"]) == 2
        assert view["documents"]
        assert view == {**record, "documents": sorted(record["documents"])}

    def test_lookup_is_logged_and_committed_before_the_answer(self, api: Api, person: str) -> None:
        before = logged_reads(api, person)
        response = api.client.get(
            f"{PREFIX}/people/{person}", headers={**api.as_(Role.RECORDS), "X-Habeas-Reason": "case review"}
        )
        assert response.status_code == 200
        assert logged_reads(api, person) == before + 1  # seen from another connection: committed

    def test_scoped_lookup_outside_scope_is_absent_and_logs_nothing(self, api: Api, person: str) -> None:
        with watched(api.engine) as traffic:
            response = api.client.get(f"{PREFIX}/people/{person}", headers=api.as_(Role.LIAISON))
        assert response.status_code == 404
        assert traffic.checkouts == 1
        assert logged_reads(api, person) == 0

    def test_lookup_of_an_unknown_person_is_404_and_logs_nothing(self, api: Api, person: str) -> None:
        response = api.client.get(f"{PREFIX}/people/no-such-person", headers=api.as_(Role.RECORDS))
        assert response.status_code == 404
        assert response.json()["status"] == 404
        assert logged_reads(api, "no-such-person") == 0

    def test_revoked_token_is_refused_on_the_next_request(self, api: Api, person: str) -> None:
        issued = api.accounts.issue_token(None, api.usernames[Role.RECORDS], "short-lived system")
        headers = {"Authorization": f"Bearer {issued.token}"}
        assert api.client.get(f"{PREFIX}/people/{person}", headers=headers).status_code == 200
        api.accounts.revoke_token(None, issued.token_id, "system retired")
        refused = api.client.get(f"{PREFIX}/people/{person}", headers=headers)
        assert refused.status_code == 401
        assert "revoked" in refused.json()["detail"]

    def test_command_never_holds_two_connections_at_once(self, api: Api, person: str) -> None:
        held = 0
        most = 0

        def out(*_: Any) -> None:
            nonlocal held, most
            held += 1
            most = max(most, held)

        def back(*_: Any) -> None:
            nonlocal held
            held -= 1

        event.listen(api.engine, "checkout", out)
        event.listen(api.engine, "checkin", back)
        try:
            response = api.client.post(f"{PREFIX}/admissions", json=admission_json(), headers=api.as_(Role.INTAKE))
        finally:
            event.remove(api.engine, "checkout", out)
            event.remove(api.engine, "checkin", back)
        assert response.status_code in (201, 409), response.text
        assert most == 1

    def test_unknown_token_is_refused_without_touching_the_register(self, api: Api, person: str) -> None:
        with api.engine.connect() as conn:
            tokens_before = conn.execute(select(func.count()).select_from(api_tokens)).scalar_one()
        response = api.client.get(f"{PREFIX}/people/{person}", headers={"Authorization": "Bearer hbs_nope"})
        assert response.status_code == 401
        assert logged_reads(api, person) == 0
        with api.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(api_tokens)).scalar_one() == tokens_before


class TestRequestPathSqlite(RequestPathContract):
    @pytest.fixture
    def api(self, sqlite_api: Api) -> Api:
        return sqlite_api


@pytest.mark.postgres
class TestRequestPathPostgres(RequestPathContract):
    @pytest.fixture
    def api(self, postgres_api: Api) -> Api:
        return postgres_api


@pytest.mark.postgres
def test_concurrent_lookups_beyond_the_pool_all_answer(postgres_url: str, ledger_id: str) -> None:
    """More requests at once than connections: none starves (REQUEST_CONNECTIONS gate), each read is logged.

    Without the gate, token checks blocked on an exhausted pool hold every worker thread while the
    requests holding the connections wait for a thread: nothing moves until the pool times out.
    """
    engine = make_engine(postgres_url, pool_size=REQUEST_CONNECTIONS, max_overflow=0, pool_timeout=5)
    upgrade(engine)
    try:
        api = build_api(engine, ledger_id)
        small_facility(register(api))
        admitted = api.client.post(f"{PREFIX}/admissions", json=admission_json(), headers=api.as_(Role.INTAKE))
        person = admitted.json()["person_id"]
        before = logged_reads(api, person)

        async def burst() -> list[int]:
            transport = httpx.ASGITransport(app=api.client.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                responses = await asyncio.gather(
                    *(client.get(f"{PREFIX}/people/{person}", headers=api.as_(Role.RECORDS)) for _ in range(60))
                )
            return [r.status_code for r in responses]

        assert asyncio.run(burst()) == [200] * 60
        assert logged_reads(api, person) == before + 60
    finally:
        engine.dispose()


def test_a_client_hanging_up_mid_body_changes_nothing_and_raises_nothing(sqlite_api: Api) -> None:
    """A command whose client disconnects before its body arrives is dropped quietly (no server error)."""
    api = sqlite_api
    token = api.tokens[Role.INTAKE].encode()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": f"{PREFIX}/admissions", "raw_path": f"{PREFIX}/admissions".encode(), "query_string": b"",
        "root_path": "", "headers": [(b"authorization", b"Bearer " + token), (b"content-type", b"application/json"),
                                     (b"content-length", b"2000")],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }  # fmt: skip
    with api.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(api_tokens)).scalar_one()
        events_before = conn.exec_driver_sql("SELECT count(*) FROM events").scalar_one()
    asyncio.run(api.client.app(scope, receive, send))  # raised ClientDisconnect before the handler
    assert sent[0]["status"] == 400
    with api.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(api_tokens)).scalar_one() == before
        assert conn.exec_driver_sql("SELECT count(*) FROM events").scalar_one() == events_before
