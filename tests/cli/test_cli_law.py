"""Law and safeguards from the command line: the sweep, alerts, orders, sentences."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.cli import test_cli_register as register
from tests.cli.test_cli_register import admit, run

home = register.home  # the same fixture: an initialized data folder with a small slv layout

SENTENCE = {
    "sentence_id": "s-1", "case_id": "c-1", "person_id": "set-by-the-test", "court": "Tribunal de Sentencia Sintético",
    "sentenced_on": "2025-06-01",
    "counts": [{"count_id": f"n{i}", "offence": "agrupaciones ilícitas", "article": "CP 345",
                "term": {"years": 20}} for i in range(1, 25)],
    "credits": [{"start": "2025-03-15", "end": "2025-05-31", "reason": "provisional detention"}],
    "announced_aggregate": {"years": 480},
}  # fmt: skip


def test_the_sweep_finds_what_time_alone_breaks(home: Path) -> None:
    run("facility", "load", str(home / "layout.yaml"), "--at", "2025-03-01T00:00:00")
    person = admit(home)
    # Five days in, under the state of exception (administrative maximum 15 days): no R3 yet.
    code, out = run("safeguards", "check", "--at", "2025-03-20T22:00:00")
    assert code == 0 and "R3" not in out and "R10 1" in out and "R8 1" in out, out
    code, out = run("safeguards", "check", "--at", "2025-04-15T22:00:00")
    assert "R3 1" in out
    code, out = run("alerts", "--rule", "R3")
    assert f"CRITICAL R3 {person} held 31.1 days" in out and "Cn. 29" in out, out
    code, out = run("notify", person, "--kind", "family", "--recipient", "Madre Sintética", "--at",
                    "2025-04-15T23:00:00")  # fmt: skip
    assert code == 0, out
    code, out = run("alerts", "--rule", "R8")
    assert "0 alert(s)" in out  # the command re-checked the person and resolved it
    code, out = run("safeguards", "rules")
    assert "R26" in out


def test_a_no_transfer_order_refuses_the_transfer_naming_the_order(home: Path) -> None:
    run("facility", "load", str(home / "layout.yaml"), "--at", "2025-03-01T00:00:00")
    person = admit(home)
    code, out = run("order", "issue", person, "--kind", "no_transfer", "--court", "Juzgado Federal Sintético",
                    "--reference", "NT-77", "--state", "USA", "--issued-at", "2025-03-15T23:00:00")  # fmt: skip
    assert code == 0, out
    code, out = run("order", "list")
    assert "usa-NT-77" in out
    code, out = run("transfer", person, "--destination", "Aeropuerto (vuelo de retorno)", "--receiving-authority",
                    "Estado Remitente", "--authority", "Dirección General", "--order", "TR-1")  # fmt: skip
    assert code == 2 and "R26" in out and "usa-NT-77" in out and "Juzgado Federal Sintético" in out, out
    (home / "sentence.yaml").write_text(yaml.safe_dump({**SENTENCE, "person_id": person}))
    code, out = run("case", "open", str(_case(home, person)))
    assert code == 0, out
    code, out = run("sentence", "record", str(home / "sentence.yaml"))
    assert code == 0 and "aggregate 480 years" in out and "R29" in out, out


def _case(folder: Path, person: str) -> Path:
    path = folder / "case.yaml"
    path.write_text(yaml.safe_dump({"case_id": "c-1", "court": "Tribunal de Sentencia Sintético",
                                    "reference": "TS-1-2025", "group_case": True, "defendants": [person]}))  # fmt: skip
    return path
