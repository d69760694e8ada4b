"""Alerts through the pages (SQLite and PostgreSQL): by severity, filters, scope, acknowledging and resolving."""

from __future__ import annotations

import re

from sqlalchemy import select

from habeas.domain.access import Role
from habeas.store.register_tables import alerts
from tests.web.roles_support import Scenario, client, fresh, head, main_of, person_id_of, reads_logged, scenario
from tests.web.support import csrf_of

__all__ = ["fresh", "scenario"]
ROW = re.compile(r'<tr class="sev-(\w+)">.*?<a href="/alerts/([^"]+)">(R\d+)</a>', re.S)


def rows(html: str) -> list[tuple[str, str, str]]:
    return ROW.findall(main_of(html))


def alert_about(s: Scenario, rule: str, subject: str | None = None) -> str:
    query = select(alerts.c.alert_id).where(alerts.c.ledger_id == s.site.ledger_id, alerts.c.rule == rule,
                                            alerts.c.resolved_at.is_(None))  # fmt: skip
    if subject is not None:
        query = query.where(alerts.c.subject == subject)
    with s.site.engine.connect() as conn:
        return str(conn.execute(query.limit(1)).scalar_one())


def test_open_alerts_are_listed_most_severe_first_with_their_rule(scenario: Scenario) -> None:
    page = client(scenario, Role.RECORDS, "en").get("/alerts")
    found = rows(page.text)
    assert found, "the sweep raised alerts"
    order = {"critical": 0, "high": 1, "medium": 2, "info": 3}
    assert [order[sev] for sev, _, _ in found] == sorted(order[sev] for sev, _, _ in found)
    # The R26 alert names the order behind it and the person it concerns.
    r26 = main_of(page.text)
    assert f'href="/orders/{scenario.bruno_order}">order HC-77-2025</a>' in r26 and "Bruno Ficticio Sintético" in r26


def test_alerts_filter_by_rule_and_severity(scenario: Scenario) -> None:
    officer = client(scenario, Role.RECORDS)
    assert {rule for _, _, rule in rows(officer.get("/alerts?rule=R26").text)} == {"R26"}
    assert {sev for sev, _, _ in rows(officer.get("/alerts?severity=high").text)} == {"high"}
    assert rows(officer.get("/alerts?status=resolved").text) == []
    assert rows(officer.get("/alerts?rule=nonsense").text) == rows(officer.get("/alerts").text)


def test_a_liaison_and_a_court_see_only_alerts_about_their_people(scenario: Scenario) -> None:
    liaison = main_of(client(scenario, Role.LIAISON).get("/alerts").text)
    people = set(re.findall(r'href="/people/([^"]+)"', liaison))
    assert people and people <= set(scenario.usa), "a liaison sees alerts about its own transferees only"
    court = main_of(client(scenario, Role.COURT).get("/alerts").text)
    assert "Bruno Ficticio Sintético" in court and "Ana Lucía" not in court and "Persona" not in court
    # R26's subject is the order, not the person: the court that issued it still sees it (its refs name Bruno).
    order_alert = alert_about(scenario, "R26", scenario.bruno_order)
    assert f'href="/alerts/{order_alert}"' in court
    assert client(scenario, Role.COURT).get(f"/alerts/{order_alert}").status_code == 200
    assert client(scenario, Role.LIAISON).get(f"/alerts/{order_alert}").status_code == 404  # not its transferee
    ana = alert_about(scenario, "R11", _person(scenario, "Ana Lucía"))
    assert client(scenario, Role.COURT).get(f"/alerts/{ana}").status_code == 404
    assert client(scenario, Role.LIAISON).get(f"/alerts/{ana}").status_code == 404


def test_oversight_reads_an_alert_and_cannot_change_it(fresh: Scenario) -> None:
    alert_id = alert_about(fresh, "R26", fresh.bruno_order)
    inspector = client(fresh, Role.OVERSIGHT, "en")
    page = inspector.get(f"/alerts/{alert_id}")
    assert page.status_code == 200 and "Alert R26" in page.text
    assert f'href="/orders/{fresh.bruno_order}"' in page.text and "/acknowledge" not in page.text
    assert "staff of the facility acknowledge and resolve them" in page.text
    before = head(fresh)
    token = csrf_of(page.text)
    for action in ("acknowledge", "resolve"):
        assert inspector.post(f"/alerts/{alert_id}/{action}", data={action: "seen", "csrf": token}).status_code == 403
    assert head(fresh) == before
    assert _person(fresh, "Bruno") in reads_logged(fresh, fresh.site.usernames[Role.OVERSIGHT])


def test_staff_acknowledge_and_resolve_with_a_reason(fresh: Scenario) -> None:
    alert_id = alert_about(fresh, "R26", fresh.bruno_order)
    officer = client(fresh, Role.RECORDS, "en")
    token = csrf_of(officer.get(f"/alerts/{alert_id}").text)
    before = head(fresh)
    empty = officer.post(f"/alerts/{alert_id}/resolve", data={"resolve": "  ", "csrf": token})
    assert empty.status_code == 422 and 'id="resolve-error"' in empty.text and head(fresh) == before
    acknowledged = officer.post(f"/alerts/{alert_id}/acknowledge",
                                data={"acknowledge": "release being prepared", "csrf": token})  # fmt: skip
    assert acknowledged.status_code == 200 and "release being prepared" in acknowledged.text
    resolved = officer.post(f"/alerts/{alert_id}/resolve", data={"resolve": "order carried out", "csrf": token})
    assert "The alert is resolved." in resolved.text and "order carried out" in resolved.text
    with fresh.site.engine.connect() as conn:
        row = conn.execute(select(alerts).where(alerts.c.ledger_id == fresh.site.ledger_id,
                                                alerts.c.alert_id == alert_id)).one()  # fmt: skip
    assert row.resolved_at is not None and row.resolution == "order carried out"
    again = officer.post(f"/alerts/{alert_id}/resolve", data={"resolve": "twice", "csrf": token})
    assert again.status_code == 422 and "is already resolved" in again.text
    assert 'action="/alerts/' not in again.text, "a resolved alert offers no form"


def _person(s: Scenario, given: str) -> str:
    return person_id_of(s.site, given)
