"""Chromium through the intake officer's main task (admit a person with the form), in Spanish and English;
the person page and the facility map, with screenshots and axe-core on each."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from habeas.domain.access import Role
from tests.web.support import Site

pytestmark = pytest.mark.browser
TEXT = {
    "es": {"admit": "Ingresar a una persona", "required": "Este dato es obligatorio.", "map": "Mapa del centro",
           "clocks": "Plazos en curso", "ok": "cumple CICR y CPT"},
    "en": {"admit": "Admit a person", "required": "This field is required.", "map": "Facility map",
           "clocks": "Time limits running", "ok": "meets ICRC and CPT"},
}  # fmt: skip
# Local times at the facility (UTC-6); the live site's clock is 2025-03-16 02:04 there.
FIELDS = {
    "#admitted_at": "2025-03-16T01:30", "#birth_date": "1994-05-17", "#gender_identity": "mujer",
    "#nationalities": "SLV", "#document_number": "", "#document_issuer": "SLV", "#basis_reference": "AR-2025-0999",
    "#basis_issued_by": "Policía Nacional Civil", "#basis_issued_at": "2025-03-15T22:00",
    "#detaining_authority": "Policía Nacional Civil", "#ordering_authority": "Fiscalía General",
    "#arrested_at": "2025-03-15T21:00", "#injuries": "right knee: scrape", "#property": "2x shirt\nbelt",
    "#contact_name": "Hermano Ficticio", "#contact_relationship": "brother",
}  # fmt: skip


@pytest.mark.parametrize("lang", ["es", "en"])
def test_an_intake_officer_admits_a_person_through_the_form(
    lang: str, page_as: Callable[[Role, str], Page], check_page: Callable[[Page, str], None]
) -> None:
    page = page_as(Role.INTAKE, lang)
    page.get_by_role("link", name=TEXT[lang]["admit"]).click()
    page.wait_for_url("**/intake")
    assert page.inner_text("h1") == TEXT[lang]["admit"]
    check_page(page, "intake")
    given = {"es": "Marta Elena", "en": "Julia Beatriz"}[lang]
    page.fill("#given_names", given)
    page.fill("#family_names", "Ejemplo Navegador")
    page.select_option("#sex", "F")
    page.select_option("#document_kind", "national_id")
    page.select_option("#legal_status", "untried")
    page.select_option("#basis_kind", "arrest_record")
    for selector, value in FIELDS.items():
        page.fill(selector, value)
    page.fill("#document_number", {"es": "55667788-1", "en": "55667788-2"}[lang])
    # The place of arrest left out (ICPPED 17(3)(b)): refused beside the field, everything else kept.
    page.locator("form.intake button[type=submit]").click()
    page.wait_for_load_state()
    assert page.inner_text("#arrest_place-error") == TEXT[lang]["required"]
    assert page.get_attribute("#arrest_place", "aria-invalid") == "true"
    assert page.input_value("#given_names") == given and page.input_value("#property") == "2x shirt\nbelt"
    check_page(page, "intake-refused")
    page.locator(".error-summary a[href='#arrest_place']").click()
    page.keyboard.type("Barrio Ficticio, Ilopango")  # the summary's link puts the cursor in the field
    page.locator("form.intake button[type=submit]").click()
    page.wait_for_url("**/people/**")
    assert page.inner_text("h1") == f"{given} Ejemplo Navegador"
    assert TEXT[lang]["clocks"] in page.inner_text("main")
    check_page(page, "intake-admitted")


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_person_page_the_map_and_the_manifest_upload_read_well(
    lang: str, page_as: Callable[[Role, str], Page], check_page: Callable[[Page, str], None], live_site: Site
) -> None:
    records = page_as(Role.RECORDS, lang)
    records.goto(f"/people/{live_site.held.person_id}")
    assert records.inner_text("h1") == live_site.held.full_name
    check_page(records, "person")
    housing = page_as(Role.HOUSING, lang)
    housing.get_by_role("link", name=TEXT[lang]["map"]).click()
    housing.wait_for_url("**/facilities/cecot/map")
    assert TEXT[lang]["ok"] in housing.inner_text("#main")
    check_page(housing, "facility-map")
    intake = page_as(Role.INTAKE, lang)
    intake.goto("/intake/manifest")
    check_page(intake, "intake-manifest")
