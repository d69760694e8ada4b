"""``habeas transfers`` end to end, as an officer runs it (SQLite file, real CLI, synthetic data)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import yaml

from habeas.cli.app import app
from tests.cli import test_cli_register as register
from tests.cli.test_cli_register import run
from tests.transfer import support as s

home = register.home  # an initialized data folder with a small layout (facility "tst")
ARRIVAL = datetime(2025, 3, 16, 3, tzinfo=UTC)


def agreement_file(folder: Path) -> Path:
    data = s.agreement(facility_id="tst", effective_to=datetime(2027, 1, 1, tzinfo=UTC)).model_dump(mode="json")
    path = folder / "agreement.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def test_agreement_flight_invoice_feed_and_liaison(home: Path) -> None:
    assert run("facility", "load", str(home / "layout.yaml"), "--at", "2025-03-01T00:00:00")[0] == 0
    code, out = run("transfers", "agreement", "add", str(agreement_file(home)), "--at", "2025-03-01T00:00:00")
    assert code == 0 and "custodian of record" in out, out
    code, out = run("transfers", "agreement", "show", s.AGREEMENT)
    assert code == 0 and "USA → SLV" in out and "America/El_Salvador" in out, out
    order = s.foreign_order("o-1", numbers=["A200000002"]).model_dump(mode="json")
    (home / "order.yaml").write_text(yaml.safe_dump(order))
    assert run("transfers", "order", "add", str(home / "order.yaml"), "--at", "2025-03-15T19:00:00")[0] == 0
    (home / "flight.csv").write_text(s.flight(1, 3, ARRIVAL))
    code, out = run("transfers", "import", str(home / "flight.csv"), "--agreement", s.AGREEMENT, "--flight", "F-1")
    assert code == 0 and "2 admitted, 1 refused" in out and "SYN-o-1" in out, out
    code, out = run("alerts", "--rule", "R26")
    assert "CRITICAL R26" in out and "SYN-o-1" in out, out
    code, out = run("transfers", "invoice", s.AGREEMENT, "--month", "2025-03", "--csv", str(home / "inv.csv"),
                    "--html", str(home / "inv.html"))  # fmt: skip
    assert code == 0 and "total 1862.86 USD" in out, out  # 2 people × 17 days × 54.79
    assert (home / "inv.csv").read_text().splitlines()[-1].endswith(",total,,,,,1862.86,USD,,")
    assert "<!DOCTYPE html>" in (home / "inv.html").read_text()
    code, out = run("transfers", "invoice", s.AGREEMENT, "--month", "2025-03")
    assert code == 2 and "was issued" in out, out
    result = register.runner.invoke(app, ["transfers", "feed", "USA"])
    assert result.exit_code == 0
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert lines and all("cell_id" not in x["summary"] for x in lines)
    last = lines[-1]["seq"]
    code, out = run("transfers", "feed", "USA", "--after", str(last))
    assert code == 0 and "0 entries" in out
    code, out = run("transfers", "liaison", "USA")
    assert code == 0 and "2 transferee(s)" in out and "1 refusal(s)" in out and "1 invoice(s)" in out, out
    code, out = run("transfers", "liaison", "usa")
    assert code == 2 and "alpha-3" in out


def test_a_refused_flight_exits_2_and_names_the_rule(home: Path) -> None:
    run("facility", "load", str(home / "layout.yaml"), "--at", "2025-03-01T00:00:00")
    run("transfers", "agreement", "add", str(agreement_file(home)), "--at", "2025-03-01T00:00:00")
    (home / "flight.csv").write_text(s.manifest([s.person_row(1, ARRIVAL, birth_date="2010-01-01")]))
    code, out = run("transfers", "import", str(home / "flight.csv"), "--agreement", s.AGREEMENT)
    assert code == 2 and "eligibility.no_minors" in out, out
    code, out = run("transfers", "agreement", "add", str(agreement_file(home)))
    assert code == 2 and "already exists" in out
