"""The sending state's page (SQLite and PostgreSQL): only its own transferees, its agreements, invoices and R27."""

from __future__ import annotations

from habeas.domain.access import Role
from tests.web.roles_support import Scenario, client, main_of, reads_logged, scenario

__all__ = ["scenario"]


def test_a_liaison_sees_its_transferees_and_no_one_else(scenario: Scenario) -> None:
    liaison = client(scenario, Role.LIAISON, "en")
    page = main_of(liaison.get("/sending-state").text)
    assert "Sending state: USA" in page and "People shown: 3" in page
    for n in (1, 2, 3):
        assert f"Persona{n} Sintetica{n} Vuelo" in page
    assert "Persona50" not in page, "another state's transferee"
    assert "Ana Lucía" not in page and "Bruno" not in page, "people held on domestic grounds"
    assert "released" in page and "cell" not in page.lower(), "status at facility level, never a cell"
    # Asking for another state changes nothing: the scope is the account's.
    other = main_of(liaison.get("/sending-state?state=CAN").text)
    assert "Sending state: USA" in other and "Persona50" not in other
    assert reads_logged(scenario, scenario.site.usernames[Role.LIAISON]) == set(scenario.usa)


def test_the_invoice_is_checked_against_the_register(scenario: Scenario) -> None:
    page = main_of(client(scenario, Role.LIAISON).get("/sending-state").text)
    # March 2025: 3 people from 16 March billed 16 days each (48); one was released on 25 March,
    # recorded after the invoice, so the register holds 41 person-days: R27.
    assert "marzo de 2025" in page and "USD 2.629,92" in page
    assert '<td class="num">48</td><td class="num">41</td>' in page
    assert "no coincide (R27)" in page and "7 días facturados que no constan en el registro" in page
    assert "USD 54,79 por persona y día" in page


def test_staff_may_look_at_any_sending_state_and_a_court_may_not(scenario: Scenario) -> None:
    officer = client(scenario, Role.RECORDS, "en")
    can = main_of(officer.get("/sending-state?state=CAN").text)
    assert "Sending state: CAN" in can and "Persona50" in can and "Persona1 " not in can
    assert "No invoices issued." in can
    assert 'name="state"' in officer.get("/sending-state").text
    assert client(scenario, Role.COURT).get("/sending-state").status_code == 403
    assert client(scenario, Role.INTAKE).get("/sending-state").status_code == 403
