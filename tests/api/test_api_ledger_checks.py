"""``GET /ledger/verify`` records what it found; ``GET /ledger/checks`` lists the recorded checks (both backends)."""

from __future__ import annotations

from sqlalchemy import Engine

from habeas.api.config import PREFIX
from habeas.domain.access import Role
from habeas.ledger.verify import VerifyReport
from habeas.services.ledger_checks import record_check
from tests.api.support import build_api
from tests.conftest import at


def test_a_verification_over_the_api_is_recorded_and_listed_newest_first(engine: Engine, ledger_id: str) -> None:
    api = build_api(engine, ledger_id)
    record_check(engine, VerifyReport(ledger_id, size=1).fail(1, "hash does not match"), at(1), "cli:auditor", "cli")
    verified = api.client.get(f"{PREFIX}/ledger/verify", headers=api.as_(Role.OVERSIGHT))
    assert verified.status_code == 200 and verified.json()["ok"] is True
    listed = api.client.get(f"{PREFIX}/ledger/checks", headers=api.as_(Role.OVERSIGHT))
    assert listed.status_code == 200
    newest, older = listed.json()
    assert (newest["via"], newest["checked_by"], newest["ok"]) == ("api", api.usernames[Role.OVERSIGHT], True)
    assert newest["size"] == verified.json()["size"] and newest["root"] == verified.json()["root"]
    assert (older["via"], older["ok"], older["bad_seq"], older["problem"]) == ("cli", False, 1, "hash does not match")
    one = api.client.get(f"{PREFIX}/ledger/checks", params={"limit": 1}, headers=api.as_(Role.OVERSIGHT)).json()
    assert [c["via"] for c in one] == ["api"]
    refused = api.client.get(f"{PREFIX}/ledger/checks", params={"limit": 0}, headers=api.as_(Role.OVERSIGHT))
    assert refused.status_code == 422 and "limit" in refused.text
    assert api.client.get(f"{PREFIX}/ledger/checks", headers=api.as_(Role.RECORDS)).status_code == 403


def test_failures_and_older_checks_are_reached_by_filter_and_cursor(engine: Engine, ledger_id: str) -> None:
    api = build_api(engine, ledger_id)
    failed = record_check(engine, VerifyReport(ledger_id, size=2).fail(2, "deleted"), at(1), "cli:auditor", "cli")
    for n in range(3):
        record_check(engine, VerifyReport(ledger_id, size=2), at(2 + n), api.usernames[Role.DIRECTOR], "api")
    headers = api.as_(Role.OVERSIGHT)
    failures = api.client.get(f"{PREFIX}/ledger/checks", params={"ok": "false"}, headers=headers).json()
    assert [(c["check_id"], c["problem"]) for c in failures] == [(failed, "deleted")]
    first = api.client.get(f"{PREFIX}/ledger/checks", params={"limit": 2}, headers=headers).json()
    rest = api.client.get(f"{PREFIX}/ledger/checks", params={"before": first[-1]["check_id"]}, headers=headers).json()
    assert [c["ok"] for c in first + rest] == [True, True, True, False]
    assert len({c["check_id"] for c in first + rest}) == 4
