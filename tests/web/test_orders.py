"""Court orders through the pages (SQLite and PostgreSQL): scope, standing (R26), executing a release order (R15)."""

from __future__ import annotations

from sqlalchemy import select

from habeas.domain.access import Role
from habeas.ledger.log import read_events
from habeas.store.law_tables import orders
from habeas.store.register_tables import episodes
from tests.web.roles_support import COURT, Scenario, client, fresh, head, main_of, reads_logged, scenario
from tests.web.support import csrf_of

__all__ = ["fresh", "scenario"]  # the fixtures, imported for pytest

RELEASE_FORM = {"at": "2025-04-02T05:30", "verified_by": "Oficial Verificador Sintético",
                "handed_over_to": "Hermana Sintética",
                "health_check": "examinado: apto, sin lesiones nuevas"}  # fmt: skip


def order_row(s: Scenario, order_id: str) -> tuple[str, object]:
    with s.site.engine.connect() as conn:
        row = conn.execute(select(orders.c.status, orders.c.closed_at).where(
            orders.c.ledger_id == s.site.ledger_id, orders.c.order_id == order_id)).one()  # fmt: skip
    return row.status, row.closed_at


def status_of(s: Scenario, person_id: str) -> str:
    with s.site.engine.connect() as conn:
        return str(conn.execute(select(episodes.c.status).where(
            episodes.c.ledger_id == s.site.ledger_id, episodes.c.person_id == person_id)).scalar_one())  # fmt: skip


def test_a_court_sees_only_its_own_orders(scenario: Scenario) -> None:
    court = client(scenario, Role.COURT)
    page = court.get("/orders")
    assert page.status_code == 200
    shown = main_of(page.text)
    assert "HC-77-2025" in shown and "HC-91-2025" in shown and COURT in shown
    assert "PROD-5-2025" not in shown and "Ana Lucía" not in shown, "another court's order"
    assert court.get(f"/orders/{scenario.other_order}").status_code == 404, "looks absent, as in the API"
    own = court.get(f"/orders/{scenario.diego_order}")
    assert own.status_code == 200 and "/release" not in main_of(own.text), "a court does not operate the facility"


def test_staff_see_every_order_with_its_deadline_and_standing(scenario: Scenario) -> None:
    page = main_of(client(scenario, Role.RECORDS).get("/orders").text)
    for reference in ("HC-77-2025", "HC-91-2025", "PROD-5-2025"):
        assert reference in page
    # R26 at 2 April: Bruno's order was due 16 March (overdue), Diego's is due 10 April (pending).
    assert page.count("vencida: no ejecutada en su plazo") == 2 and page.count(">pendiente<") == 1
    english = main_of(client(scenario, Role.DIRECTOR, "en").get("/orders?status=active").text)
    assert "overdue: not executed by its deadline" in english and "Orders shown: 3" in english
    assert "Orders shown: 0" in client(scenario, Role.DIRECTOR, "en").get("/orders?status=lifted").text


def test_a_liaison_sees_no_order_about_anyone_else(scenario: Scenario) -> None:
    page = main_of(client(scenario, Role.LIAISON).get("/orders").text)
    assert "No hay órdenes que mostrar." in page and "HC-77-2025" not in page
    assert client(scenario, Role.LIAISON).get(f"/orders/{scenario.bruno_order}").status_code == 404


def test_executing_a_release_order_releases_the_person_through_the_register(fresh: Scenario) -> None:
    officer = client(fresh, Role.RECORDS)
    page = officer.get(f"/orders/{fresh.diego_order}")
    assert 'action="/orders/' in page.text and 'id="verified_by"' in page.text
    done = officer.post(f"/orders/{fresh.diego_order}/release", data={**RELEASE_FORM, "csrf": csrf_of(page.text)},
                        follow_redirects=False)  # fmt: skip
    assert done.status_code == 303 and done.headers["location"].endswith("?done=released")
    shown = officer.get(done.headers["location"]).text
    assert "La persona fue excarcelada y la orden quedó registrada como ejecutada." in shown
    assert "ejecutada a tiempo" in shown and "executed by custody.released" in shown
    assert order_row(fresh, fresh.diego_order)[0] == "executed" and status_of(fresh, fresh.diego) == "released"
    with fresh.site.engine.connect() as conn:
        release = [e for e in read_events(conn, fresh.site.ledger_id, types=["custody.released"])][-1]
    # R15 / ICPPED 21: the verifier, the handover and the health check, and the order it carries out.
    assert release.payload["verified_by"] == "Oficial Verificador Sintético"
    assert release.payload["handed_over_to"] == "Hermana Sintética"
    assert release.payload["order_reference"] == "HC-91-2025" and release.payload["authority"] == COURT
    assert release.actor == f"user:{fresh.site.usernames[Role.RECORDS]}"


def test_a_release_order_executed_after_its_deadline_shows_late(fresh: Scenario) -> None:
    officer = client(fresh, Role.RECORDS, "en")
    page = officer.get(f"/orders/{fresh.bruno_order}")
    officer.post(f"/orders/{fresh.bruno_order}/release", data={**RELEASE_FORM, "csrf": csrf_of(page.text)})
    assert order_row(fresh, fresh.bruno_order)[0] == "executed"
    assert "executed late" in main_of(officer.get("/orders").text)


def test_a_release_without_the_r15_facts_is_refused_inline_and_changes_nothing(fresh: Scenario) -> None:
    officer = client(fresh, Role.RECORDS)
    token = csrf_of(officer.get(f"/orders/{fresh.diego_order}").text)
    before = head(fresh)
    missing = officer.post(f"/orders/{fresh.diego_order}/release",
                           data={**RELEASE_FORM, "handed_over_to": " ", "health_check": "", "csrf": token})  # fmt: skip
    assert missing.status_code == 422
    assert 'id="handed_over_to-error"' in missing.text and 'id="health_check-error"' in missing.text
    assert "R15: indique a quién se entregó a la persona excarcelada." in missing.text
    assert 'id="verified_by" name="verified_by"' in missing.text and "Oficial Verificador Sintético" in missing.text
    future = officer.post(f"/orders/{fresh.diego_order}/release",
                          data={**RELEASE_FORM, "at": "2025-04-03T09:00", "csrf": token})  # fmt: skip
    assert future.status_code == 422 and 'id="at-error"' in future.text and "No puede estar en el futuro" in future.text
    early = officer.post(f"/orders/{fresh.diego_order}/release",
                         data={**RELEASE_FORM, "at": "2025-03-15T09:00", "csrf": token})  # fmt: skip
    assert early.status_code == 422 and "Es anterior a la emisión de la orden." in early.text
    forged = officer.post(f"/orders/{fresh.diego_order}/release", data={**RELEASE_FORM, "csrf": "0" * 64})
    assert forged.status_code == 400
    assert head(fresh) == before and order_row(fresh, fresh.diego_order) == ("active", None)
    assert status_of(fresh, fresh.diego) == "admitted"


def test_a_service_refusal_is_shown_next_to_the_field_it_names(fresh: Scenario) -> None:
    officer = client(fresh, Role.RECORDS, "en")
    token = csrf_of(officer.get(f"/orders/{fresh.diego_order}").text)
    # Diego was admitted on 16 March at 06:44 UTC: a release before that breaks the custody order of events.
    refused = officer.post(f"/orders/{fresh.diego_order}/release",
                           data={**RELEASE_FORM, "at": "2025-03-16T00:20", "csrf": token})  # fmt: skip
    assert refused.status_code == 422 and "Nothing was recorded." in refused.text
    assert order_row(fresh, fresh.diego_order) == ("active", None)


def test_other_orders_are_recorded_executed_with_a_note(fresh: Scenario) -> None:
    director = client(fresh, Role.DIRECTOR, "en")
    page = director.get(f"/orders/{fresh.other_order}")
    assert 'action="/orders/' in page.text and "/execution" in page.text and "/release" not in main_of(page.text)
    token = csrf_of(page.text)
    empty = director.post(f"/orders/{fresh.other_order}/execution", data={"at": "2025-04-01T10:00", "note": "",
                                                                          "csrf": token})  # fmt: skip
    assert empty.status_code == 422 and 'id="note-error"' in empty.text
    assert order_row(fresh, fresh.other_order) == ("active", None)
    done = director.post(
        f"/orders/{fresh.other_order}/execution",
        data={"at": "2025-04-01T10:00", "note": "produced before Juzgado Segundo", "csrf": token},
    )
    assert done.status_code == 200 and "The order is recorded as executed." in done.text
    assert "executed late" in done.text and "produced before Juzgado Segundo" in done.text
    assert order_row(fresh, fresh.other_order)[0] == "executed"


def test_roles_without_the_permission_cannot_execute(fresh: Scenario) -> None:
    before = head(fresh)
    for role in (Role.COURT, Role.OVERSIGHT, Role.LIAISON, Role.INTAKE):
        someone = client(fresh, role)
        token = csrf_of(someone.get("/dashboard").text)
        refused = someone.post(f"/orders/{fresh.diego_order}/release", data={**RELEASE_FORM, "csrf": token})
        assert refused.status_code == 403, role
        assert someone.post(f"/orders/{fresh.diego_order}/execution",
                            data={"at": "2025-04-01T10:00", "note": "x", "csrf": token}).status_code == 403  # fmt: skip
    assert head(fresh) == before


def test_orders_shown_are_in_the_access_log(fresh: Scenario) -> None:
    client(fresh, Role.COURT).get("/orders")
    assert reads_logged(fresh, fresh.site.usernames[Role.COURT]) == {
        fresh.diego,
        *(p for p in [_person_of(fresh, fresh.bruno_order)]),
    }


def _person_of(s: Scenario, order_id: str) -> str:
    with s.site.engine.connect() as conn:
        return str(conn.execute(select(orders.c.person_id).where(
            orders.c.ledger_id == s.site.ledger_id, orders.c.order_id == order_id)).scalar_one())  # fmt: skip


def test_a_refusal_quoting_stored_text_is_escaped_not_rendered_as_html(fresh: Scenario) -> None:
    # The service's refusal names the order by its reference, which an API client chose: it must reach the
    # page as text (escaped), and a "%" in it must not break the page (newstyle gettext %-formats msgids).
    from habeas.domain import law
    from habeas.services.legal import LegalService
    from tests.conftest import at

    site = fresh.site
    site.clock.now = at(700)
    LegalService(site.engine, site.ledger_id, site.clock).issue_order("user:court", law.OrderIssued(
        order_id="o-markup", person_id=fresh.diego, kind="produce", court=COURT, court_state="SLV",
        reference='<img src=x onerror="alert(1)"> 100% sure', issued_at=at(700), place="Juzgado Segundo",
    ), at(700))  # fmt: skip
    officer = client(fresh, Role.RECORDS, "en")
    token = csrf_of(officer.get("/orders/o-markup").text)
    before = head(fresh)
    refused = officer.post("/orders/o-markup/execution",
                           data={"at": "2025-03-16T00:00", "note": "produced", "csrf": token})  # fmt: skip
    assert refused.status_code == 422
    assert "&lt;img src=x onerror=" in refused.text and "100% sure was issued" in refused.text
    assert '<img src=x onerror="alert(1)">' not in refused.text
    assert head(fresh) == before
