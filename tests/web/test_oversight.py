"""Oversight's pages (SQLite and PostgreSQL): ledger verification on demand, checkpoints and proofs to download,
the read-access log, inspections; and that oversight changes no operational record."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from habeas.domain.access import Role
from habeas.ledger import verify
from habeas.ledger.checkpoint import Signer, Verifier
from habeas.ledger.heads import sign_checkpoint
from habeas.ledger.log import read_events
from habeas.ledger.proofs import check_consistency, check_inclusion
from habeas.services import ledger_checks
from habeas.services.ledger_checks import recent_checks, record_check
from habeas.store.register_tables import alerts
from habeas.web.routes import oversight
from tests.web.roles_support import Scenario, client, fresh, head, main_of
from tests.web.support import csrf_of

__all__ = ["fresh"]


def test_verification_runs_on_request_only_and_its_result_is_recorded(
    fresh: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[int] = []

    def counted(*args: object, **kwargs: object) -> verify.VerifyReport:
        runs.append(1)
        return verify.verify_in_snapshot(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(oversight, "verify_in_snapshot", counted)
    inspector = client(fresh, Role.OVERSIGHT, "en")
    page = inspector.get("/oversight")
    assert page.status_code == 200 and "Never checked." in page.text
    assert f"<dd>{head(fresh)}</dd>" in page.text and runs == [], "a page load never reads the whole ledger"
    checked = inspector.post("/oversight/verify", data={"csrf": csrf_of(page.text)})
    assert runs == [1] and "intact" in checked.text
    assert checked.history == [], "the answer itself, not a redirect"
    assert f"{head(fresh)} events and 0 checkpoints verified" in checked.text
    assert "checkpoint signatures were not checked" in checked.text  # the report's own note, not hidden
    with fresh.site.engine.connect() as conn:
        (recorded,) = recent_checks(conn, fresh.site.ledger_id)
    assert (recorded.ok, recorded.via, recorded.size) == (True, "web", head(fresh))
    assert recorded.checked_by == fresh.site.usernames[Role.OVERSIGHT]
    assert client(fresh, Role.RECORDS).get("/oversight").status_code == 403  # no ledger.read
    director = client(fresh, Role.DIRECTOR, "en").get("/oversight")
    assert director.status_code == 200 and "intact" in director.text, "another account sees the recorded check"
    assert runs == [1], "the result is read back, not recomputed"


def test_the_page_shows_checks_recorded_anywhere_failures_included(fresh: Scenario) -> None:
    # A check run elsewhere (the CLI, another server worker) is on the page: it is read from the database.
    failed = verify.VerifyReport(fresh.site.ledger_id, size=head(fresh)).fail(7, "hash does not match")
    record_check(fresh.site.engine, verify.VerifyReport(fresh.site.ledger_id, size=3), fresh.site.clock.now,
                 "inspector-a", "api")  # fmt: skip
    record_check(fresh.site.engine, failed, fresh.site.clock.now, "cli:auditor", "cli")
    page = main_of(client(fresh, Role.OVERSIGHT, "en").get("/oversight").text)
    assert "FAILED" in page and "cli:auditor" in page and "at event 7" in page and "hash does not match" in page
    assert "Earlier checks" in page and "inspector-a" in page and "Never checked." not in page
    for _ in range(oversight.CHECKS_SHOWN):  # passing checks run after it do not push the failure off the page
        record_check(fresh.site.engine, verify.VerifyReport(fresh.site.ledger_id, size=3), fresh.site.clock.now,
                     "director-x", "api")  # fmt: skip
    page = main_of(client(fresh, Role.OVERSIGHT, "en").get("/oversight").text)
    assert "Last failed check" in page and "cli:auditor" in page and "hash does not match" in page
    assert "the API" in page  # where each was run from, in words
    spanish = main_of(client(fresh, Role.OVERSIGHT).get("/oversight").text)
    assert "Última verificación fallida" in spanish and "la API" in spanish


def test_a_check_that_cannot_be_recorded_is_still_shown(fresh: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> int:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(ledger_checks, "record_check", refuse)
    inspector = client(fresh, Role.OVERSIGHT, "en")
    checked = inspector.post("/oversight/verify", data={"csrf": csrf_of(inspector.get("/oversight").text)})
    assert checked.status_code == 200 and "intact" in checked.text
    assert "this check could not be recorded: database is locked" in checked.text
    with fresh.site.engine.connect() as conn:
        assert recent_checks(conn, fresh.site.ledger_id) == []


def test_checkpoints_and_proofs_download_and_check_offline(fresh: Scenario) -> None:
    signer = Signer.generate("habeas.test")
    first = sign_checkpoint(fresh.site.engine, fresh.site.ledger_id, signer, fresh.site.clock.now)
    client(fresh, Role.RECORDS).get(f"/orders/{fresh.bruno_order}")  # reads add no events; a sweep would
    inspector = client(fresh, Role.OVERSIGHT, "en")
    latest = inspector.get("/oversight/checkpoints/latest.txt")
    assert latest.status_code == 200 and latest.text == first.note
    assert "attachment" in latest.headers["content-disposition"]
    assert inspector.get(f"/oversight/checkpoints/{first.size}.txt").text == first.note
    assert inspector.get("/oversight/checkpoints/1.txt").status_code == 404
    checkpoint = Verifier.from_text(signer.verifier_key_text()).verify(first.note)
    proof = inspector.get(f"/oversight/proofs/inclusion?seq=5&tree_size={first.size}")
    assert proof.headers["content-type"].startswith("application/json")
    assert "event 5" in check_inclusion(json.loads(proof.text), checkpoint)
    consistency = inspector.get(f"/oversight/proofs/consistency?size1={first.size}&size2={first.size}")
    check_consistency(json.loads(consistency.text), checkpoint, checkpoint)
    page = inspector.get("/oversight").text
    assert "Download the latest checkpoint" in page and f"/oversight/checkpoints/{first.size}.txt" in page


def test_a_bad_proof_request_is_refused_inline(fresh: Scenario) -> None:
    inspector = client(fresh, Role.OVERSIGHT)
    size = head(fresh)
    beyond = inspector.get(f"/oversight/proofs/inclusion?seq={size + 5}&tree_size={size}")
    assert beyond.status_code == 422 and 'id="seq-error"' in beyond.text and 'aria-invalid="true"' in beyond.text
    words = inspector.get("/oversight/proofs/consistency?size1=ten&size2=")
    assert words.status_code == 422 and "Indique un número entero, 1 o más." in words.text
    assert 'id="size1-error"' in words.text and 'id="size2-error"' in words.text


def test_the_access_log_says_who_read_whom(fresh: Scenario) -> None:
    client(fresh, Role.LIAISON).get("/sending-state")
    inspector = client(fresh, Role.OVERSIGHT, "en")
    page = main_of(inspector.get("/oversight/access-log").text)
    liaison = fresh.site.usernames[Role.LIAISON]
    assert liaison in page and "page GET /sending-state" in page and "sending-state liaison" in page
    for person in fresh.usa:
        assert f"/people/{person}" in page
    only = main_of(inspector.get(f"/oversight/access-log?username={fresh.site.usernames[Role.COURT]}").text)
    assert "No reads match." in only
    assert client(fresh, Role.DIRECTOR).get("/oversight/access-log").status_code == 403


def test_oversight_records_an_inspection(fresh: Scenario) -> None:
    inspector = client(fresh, Role.OVERSIGHT, "en")
    form = inspector.get("/oversight/inspections")
    assert "No inspection is recorded yet." in form.text
    token, before = csrf_of(form.text), head(fresh)
    missing = inspector.post("/oversight/inspections", data={
        "visited_on": "2025-04-01", "inspectors": "", "places": "\n", "findings": "", "csrf": token})  # fmt: skip
    assert missing.status_code == 422 and head(fresh) == before
    for field in ("inspectors", "places", "findings"):
        assert f'id="{field}-error"' in missing.text
    future = inspector.post("/oversight/inspections", data={"visited_on": "2025-05-01", "inspectors": "A",
                                                            "places": "B", "findings": "C", "csrf": token})  # fmt: skip
    assert future.status_code == 422 and "is after the day the visit is recorded" in future.text
    done = inspector.post("/oversight/inspections", data={
        "visited_on": "2025-04-01", "inspectors": "Inspectora Sintética Uno\nInspector Sintético Dos",
        "places": "Pabellón 1\nEnfermería", "findings": "Celdas con más de 60 personas (R18).",
        "csrf": token})  # fmt: skip
    assert done.status_code == 200 and "The inspection is recorded." in done.text
    assert "Inspectora Sintética Uno, Inspector Sintético Dos" in done.text and "Pabellón 1, Enfermería" in done.text
    with fresh.site.engine.connect() as conn:
        [event] = read_events(conn, fresh.site.ledger_id, types=["inspection.recorded"])
    assert event.payload["places"] == ["Pabellón 1", "Enfermería"] and event.payload["visited_on"] == "2025-04-01"
    assert event.actor == f"user:{fresh.site.usernames[Role.OVERSIGHT]}"
    assert client(fresh, Role.DIRECTOR).get("/oversight/inspections").status_code == 403


def test_oversight_changes_no_operational_record(fresh: Scenario) -> None:
    inspector = client(fresh, Role.OVERSIGHT)
    token = csrf_of(inspector.get("/oversight").text)
    with fresh.site.engine.connect() as conn:
        alert_id = conn.execute(select(alerts.c.alert_id).where(alerts.c.ledger_id == fresh.site.ledger_id)
                                .limit(1)).scalar_one()  # fmt: skip
    before = head(fresh)
    for path, data in ((f"/orders/{fresh.diego_order}/release", {"verified_by": "x"}),
                       (f"/orders/{fresh.other_order}/execution", {"note": "x"}),
                       (f"/alerts/{alert_id}/resolve", {"resolve": "x"}),
                       (f"/alerts/{alert_id}/acknowledge", {"acknowledge": "x"})):  # fmt: skip
        assert inspector.post(path, data={**data, "csrf": token}).status_code == 403, path
    assert head(fresh) == before
