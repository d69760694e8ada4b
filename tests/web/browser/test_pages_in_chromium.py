"""Chromium through the pages, in Spanish and English: the family locator, sign-in, each role's dashboard."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from habeas.domain.access import Role
from tests.web.support import Site

pytestmark = pytest.mark.browser
HEADINGS = {"es": ("Buscar a una persona detenida", "Resultado", "Panel", "Estadísticas públicas"),
            "en": ("Find a person in custody", "Result", "Dashboard", "Public statistics")}  # fmt: skip


@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_relative_finds_a_person_with_the_locator(
    lang: str, new_page: Callable[[str], Page], check_page: Callable[[Page, str], None], live_site: Site
) -> None:
    page = new_page(lang)
    page.goto("/")
    assert page.get_attribute("html", "lang") == lang
    assert page.inner_text("h1") == HEADINGS[lang][0]
    check_page(page, "locator")
    page.fill("#full_name", live_site.held.full_name)
    page.fill("#birth_date", live_site.held.birth_date.isoformat())
    page.click("form:has(#full_name) button[type=submit]")
    result = page.locator(".result")
    assert result.locator("h2").inner_text() == HEADINGS[lang][1]
    assert "Centro de Confinamiento del Terrorismo" in result.inner_text()
    assert live_site.cell_id not in page.content(), "the locator never shows a cell"
    check_page(page, "locator-result")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the forms stack, nothing scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    check_page(page, "locator-phone")
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto("/statistics")
    assert page.inner_text("h1") == HEADINGS[lang][3]
    check_page(page, "statistics")


@pytest.mark.parametrize("lang", ["es", "en"])
def test_each_role_signs_in_and_sees_its_dashboard(
    lang: str, page_as: Callable[[Role, str], Page], new_page: Callable[[str], Page],
    check_page: Callable[[Page, str], None],
) -> None:  # fmt: skip
    sign_in = new_page(lang)
    sign_in.goto("/sign-in")
    check_page(sign_in, "sign-in")
    sign_in.fill("#username", "nobody-here")
    sign_in.fill("#password", "not the password at all")
    sign_in.click("form[action='/sign-in'] button[type=submit]")
    assert sign_in.get_attribute("#username", "aria-invalid") == "true"
    check_page(sign_in, "sign-in-wrong-password")  # the refusal is shown inline, in the reader's language
    for role in Role:
        page = page_as(role, lang)
        assert page.get_attribute("html", "lang") == lang
        assert page.inner_text("h1") == HEADINGS[lang][2]
        check_page(page, f"dashboard-{role.value}")
    page.click("form.sign-out button[type=submit]")
    page.wait_for_url("**/sign-in?signed_out=1")
    page.goto("/dashboard")
    assert "/sign-in" in page.url, "signed out: the dashboard asks to sign in again"


def test_the_language_switch_works_with_the_keyboard(new_page: Callable[[str], Page]) -> None:
    page = new_page("es")
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip", "the skip link comes first"
    page.locator("form.lang button[value=en]").focus()
    # A key press, unlike a click, does not wait for the navigation it starts: wait for it explicitly
    # (wait_for_load_state alone could return on the page that was already loaded).
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_attribute("html", "lang") == "en"
    page.goto("/statistics")
    assert page.get_attribute("html", "lang") == "en", "the choice is remembered"
