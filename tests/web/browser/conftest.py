"""Browser fixtures: Debian's Chromium driven by Playwright against a live server, axe-core on every page.

- ``server_url``: uvicorn in a background thread on a free loopback port, serving a fresh
  SQLite register seeded through the services (tests.web.support: CECOT's layout, a few
  synthetic people, one account per role, password ``tests.api.support.PASSWORD``).
- ``browser``: one Chromium for the whole test session (launching is the slow part).
- ``new_page(lang)``: a fresh context (no cookies) whose browser asks for ``lang``.
- ``page_as(role, lang)``: such a page, signed in through the sign-in form.
- ``check_page(page, name)``: saves ``test-artifacts/screenshots/<lang>-<name>.png`` and fails on
  any serious or critical axe-core violation.

No Chromium at /usr/bin/chromium: the tests skip, or fail when HABEAS_REQUIRE_BROWSER=1
(``.ci/run`` sets it after ``scripts/ensure-chromium``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from habeas.domain.access import Role
from tests.api.support import PASSWORD
from tests.web.browser.live_server import serving
from tests.web.support import GENEROUS_LIMITS, Site, build_site, sqlite_engine_in

CHROMIUM = Path("/usr/bin/chromium")
# machine-notes: without the background-networking flags Chromium keeps dialling out of a closed network.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
LOCALES = {"es": "es-SV", "en": "en-US"}
BLOCKING = ("serious", "critical")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium (scripts/ensure-chromium)"
        if os.environ.get("HABEAS_REQUIRE_BROWSER") == "1":
            pytest.fail(f"HABEAS_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="session")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with sqlite_engine_in(tmp_path_factory.mktemp("web")) as engine:
        # Generous limits: one test session signs in sixteen times from one address.
        yield build_site(engine, "browser", **GENEROUS_LIMITS)


@pytest.fixture(scope="session")
def server_url(live_site: Site) -> Iterator[str]:
    with serving(live_site.app, "uvicorn") as url:
        yield url


@pytest.fixture(scope="session")
def browser(chromium: Path) -> Iterator[Browser]:
    # Playwright gives each launch a fresh temporary user-data directory and removes it after.
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Browser, server_url: str) -> Iterator[Callable[[str], Page]]:
    contexts: list[BrowserContext] = []

    def make(lang: str) -> Page:
        context = browser.new_context(
            base_url=server_url, locale=LOCALES[lang], viewport={"width": 1024, "height": 768}
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page_as(new_page: Callable[[str], Page], live_site: Site) -> Callable[[Role, str], Page]:
    def sign_in(role: Role, lang: str) -> Page:
        page = new_page(lang)
        page.goto("/sign-in")
        page.fill("#username", live_site.usernames[role])
        page.fill("#password", PASSWORD)
        page.click("form[action='/sign-in'] button[type=submit]")
        page.wait_for_url("**/dashboard")
        return page

    return sign_in


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe()


@pytest.fixture
def check_page(axe: Axe) -> Callable[[Page, str], None]:
    def check(page: Page, name: str) -> None:
        lang = page.get_attribute("html", "lang") or "unknown"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{lang}-{name}.png"), full_page=True)
        results = axe.run(page)
        blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING]
        assert not blocking, f"{lang}-{name}: " + "; ".join(
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in blocking
        )

    return check
