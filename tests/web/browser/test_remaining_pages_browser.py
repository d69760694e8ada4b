"""The pages no main task passes through still pass axe-core: a manifest's validation report, the 403 and
404 pages — in both languages (issue #7: every page, no serious or critical violation)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from habeas.domain.access import Role
from tests.web.test_intake import MANIFEST_HEAD, manifest_row

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_manifest_report_and_the_refusal_pages_pass_axe(
    lang: str, page_as: Callable[[Role, str], Page], check_page: Callable[[Page, str], None]
) -> None:
    intake = page_as(Role.INTAKE, lang)
    intake.goto("/intake/manifest")
    # One bad line: nothing is admitted (the shared site is left as it was) and the report lists it.
    text = "\n".join([MANIFEST_HEAD, manifest_row(1), manifest_row(2, sex="Q")]) + "\n"
    intake.set_input_files("#manifest", files=[{"name": "flight.csv", "mimeType": "text/csv", "buffer": text.encode()}])
    intake.click("form[action='/intake/manifest'] button[type=submit]")
    intake.wait_for_selector("table caption", timeout=20_000)  # the status page refreshes itself until done
    assert "sex" in intake.inner_text("table")
    check_page(intake, "intake-job-report")

    court = page_as(Role.COURT, lang)
    forbidden = court.goto("/intake")
    assert forbidden is not None and forbidden.status == 403
    check_page(court, "forbidden")

    records = page_as(Role.RECORDS, lang)
    missing = records.goto("/people/nobody-with-this-id")
    assert missing is not None and missing.status == 404
    check_page(records, "not-found")
