"""Chromium through the court-order, alert, sending-state and oversight pages, in Spanish and English.

Each role's main task: the records officer executes a release order, oversight reads an alert,
the liaison reads its transferees, the court reads its orders.  ``check_page`` saves each
screenshot and fails on serious or critical axe-core violations.  The register is this module's
own (``tests.web.roles_support``), served on its own port, so other browser tests keep theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page

from habeas.domain.access import Role
from tests.web.browser.live_server import serving
from tests.web.roles_support import Scenario, add_scenario
from tests.web.support import GENEROUS_LIMITS, Site, build_site, sqlite_engine_in

pytestmark = pytest.mark.browser
TEXT = {
    "es": {"orders": "Órdenes judiciales",
           "released": "La persona fue excarcelada y la orden quedó registrada como ejecutada.",
           "in_time": "ejecutada a tiempo", "late": "ejecutada con retraso", "state": "Estado remitente: USA",
           "differs": "no coincide (R27)", "alert": "Alerta R26", "ledger": "Supervisión: el libro",
           "missing": "R15: indique a quién se entregó a la persona excarcelada."},
    "en": {"orders": "Court orders", "released": "The person was released and the order is recorded as executed.",
           "in_time": "executed in time", "late": "executed late", "state": "Sending state: USA",
           "differs": "differs (R27)", "alert": "Alert R26", "ledger": "Oversight: the ledger",
           "missing": "R15: name the person the released person was handed over to."},
}  # fmt: skip


@pytest.fixture(scope="module")
def roles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    with sqlite_engine_in(tmp_path_factory.mktemp("roles-browser")) as engine:
        yield add_scenario(build_site(engine, "browser-roles", **GENEROUS_LIMITS))


@pytest.fixture(scope="module")
def live_site(roles: Scenario) -> Site:
    return roles.site


@pytest.fixture(scope="module")
def server_url(live_site: Site) -> Iterator[str]:
    with serving(live_site.app, "uvicorn-roles") as url:
        yield url


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_records_officer_executes_a_release_order(
    lang: str, roles: Scenario, page_as: Callable[[Role, str], Page], check_page: Callable[[Page, str], None]
) -> None:
    words = TEXT[lang]
    # One order per language: Diego's is still within its deadline, Bruno's overdue since 16 March.
    order_id, reference, standing = ((roles.diego_order, "HC-91-2025", "in_time") if lang == "es"
                                     else (roles.bruno_order, "HC-77-2025", "late"))  # fmt: skip
    page = page_as(Role.RECORDS, lang)
    page.click("nav a[href='/orders']")
    assert page.inner_text("h1") == words["orders"]
    check_page(page, "orders-records")
    page.click(f"a[href='/orders/{order_id}']")
    assert reference in page.inner_text("h1")
    check_page(page, "order-release-form")
    page.fill("#verified_by", "Oficial Verificador Sintético")
    page.fill("#health_check", "examinado: apto")
    page.click("form[action$='/release'] button[type=submit]")
    assert page.evaluate("document.querySelector('#handed_over_to').validity.valueMissing"), "the browser stops it"
    page.evaluate("document.querySelector('#handed_over_to').removeAttribute('required')")
    page.click("form[action$='/release'] button[type=submit]")  # sent empty: refused by the server, inline
    assert words["missing"] in page.inner_text("#handed_over_to-error")
    assert page.get_attribute("#handed_over_to", "aria-invalid") == "true"
    check_page(page, "order-release-refused")
    page.fill("#handed_over_to", "Hermana Sintética")
    page.click("form[action$='/release'] button[type=submit]")
    page.wait_for_url(f"**/orders/{order_id}?done=released")
    assert page.inner_text("p.notice") == words["released"]
    assert words[standing] in page.inner_text("main")
    check_page(page, "order-released")


@pytest.mark.parametrize("lang", ["es", "en"])
def test_oversight_reads_an_alert_and_the_ledger(
    lang: str, roles: Scenario, page_as: Callable[[Role, str], Page], check_page: Callable[[Page, str], None]
) -> None:
    page = page_as(Role.OVERSIGHT, lang)
    page.goto("/alerts?rule=R26")
    check_page(page, "alerts-oversight")
    page.click("a[href^='/alerts/']:text('R26')")
    assert page.inner_text("h1").startswith(TEXT[lang]["alert"])
    assert page.locator("form[action$='/resolve']").count() == 0, "oversight reads only"
    check_page(page, "alert-oversight")
    page.goto("/oversight")
    assert page.inner_text("h1") == TEXT[lang]["ledger"]
    page.click("form[action='/oversight/verify'] button")
    page.wait_for_load_state()
    assert page.locator("dl.located .standing-ok").count() == 1, "the check just run, on top"
    check_page(page, "oversight-ledger")
    page.goto("/oversight/access-log")
    check_page(page, "oversight-access-log")
    page.goto("/oversight/inspections")
    check_page(page, "oversight-inspections")


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_liaison_reads_its_transferees(
    lang: str, roles: Scenario, page_as: Callable[[Role, str], Page], check_page: Callable[[Page, str], None]
) -> None:
    page = page_as(Role.LIAISON, lang)
    page.click("nav a[href='/sending-state']")
    assert page.inner_text("h1") == TEXT[lang]["state"]
    text = page.inner_text("main")
    assert "Persona2 Sintetica2 Vuelo" in text and "Persona50" not in text and TEXT[lang]["differs"] in text
    check_page(page, "sending-state-liaison")


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_court_reads_its_orders(
    lang: str, roles: Scenario, page_as: Callable[[Role, str], Page], check_page: Callable[[Page, str], None]
) -> None:
    page = page_as(Role.COURT, lang)
    page.click("nav a[href='/orders']")
    assert page.inner_text("h1") == TEXT[lang]["orders"]
    text = page.inner_text("main")
    assert "HC-77-2025" in text and "PROD-5-2025" not in text
    check_page(page, "orders-court")
    page.click(f"a[href='/orders/{roles.diego_order}']")
    assert page.locator("form[action$='/release']").count() == 0
    check_page(page, "order-court")
