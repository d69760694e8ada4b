"""The register commands end to end, as an officer runs them (SQLite file, real CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from habeas.cli.app import app

runner = CliRunner()
DATA = Path(__file__).parent.parent / "domain" / "data"

LAYOUT = """
facility: {facility_id: tst, name: Centro de Prueba, responsible_authority: Dirección de Centros Penales,
           declared_capacity: 40, jurisdiction: slv, place: Ciudad Sintética}
units:
  - unit_id: A
    name: Pabellón A
    cell_series: {count: 2, prefix: "A-C", digits: 2, beds: 4, floor_area_m2: "12"}
"""

ADMISSION = {
    "facility_id": "tst",
    "identity": {"given_names": "Persona", "family_names": "Sintética Uno", "sex": "M", "birth_date": "1990-05-01",
                 "documents": [{"kind": "national_id", "number": "00000001-1", "issuer": "SLV"}]},
    "legal_status": "untried",
    "legal_basis": {"instrument_id": "ar-1", "kind": "arrest_record", "reference": "AR-1",
                    "issued_by": "Policía Nacional Civil", "issued_at": "2025-03-15T20:00:00Z"},
    "detaining_authority": "Policía Nacional Civil",
    "ordering_authority": "Fiscalía General",
    "arrested_at": "2025-03-15T19:00:00Z",
    "arrest_place": "Colonia Ejemplo",
    "admitted_at": "2025-03-15T22:00:00Z",
    "family_contacts": [{"name": "Madre Sintética", "relationship": "mother"}],
}  # fmt: skip


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HABEAS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("HABEAS_DATABASE_URL", raising=False)
    monkeypatch.setenv("HABEAS_ACTOR", "user:officer-1")
    monkeypatch.setenv("COLUMNS", "250")  # room for whole ids in tables
    assert runner.invoke(app, ["init"]).exit_code == 0
    (tmp_path / "layout.yaml").write_text(LAYOUT)
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, " ".join((result.stdout + (result.stderr or "")).split())


def admit(home: Path, **changes: object) -> str:
    data = json.loads(json.dumps(ADMISSION))
    data.update(changes)
    path = home / "admission.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    code, out = run("admit", str(path))
    assert code == 0, out
    return out.split()[1]


def test_a_day_at_the_facility(home: Path) -> None:
    code, out = run("facility", "load", str(home / "layout.yaml"), "--at", "2025-03-01T00:00:00")
    assert code == 0 and "2 cells, 8 beds, 24 m²" in out, out
    person = admit(home)
    code, out = run("assign", "--facility", "tst", "--at", "2025-03-15T22:30:00")
    assert code == 0 and "1 placed" in out and "nothing recorded" in out
    code, out = run("assign", "--facility", "tst", "--confirm", "--at", "2025-03-15T22:30:00")
    assert "recorded 1 placements" in out
    code, out = run("where", person, "--at", "2025-03-15T23:00:00")
    assert "in_cell, tst A-C01" in out
    code, out = run("move", person, "A-C02", "--reason", "cell repairs", "--at", "2025-03-16T08:00:00")
    assert code == 0, out
    code, out = run("facility", "show", "tst")
    assert code == 0 and "1 held" in out
    code, out = run("person", "find", "--name", "sintetica")
    assert person in out
    code, out = run("person", "history", person)
    assert "custody.admitted" in out and "custody.placed" in out
    absent = home / "present.txt"
    absent.write_text("someone-else\n")
    code, out = run("count", "A", "--present", str(absent), "--at", "2025-03-16T09:00:00")
    assert code == 1 and f"R13 missing: {person}" in out and "R1 not on the register: someone-else" in out
    code, out = run(
        "release", person, "--authority", "Juzgado 1", "--order", "L-1", "--verified-by", "user:records",
        "--handed-over-to", "Madre Sintética", "--health-check", "fit", "--at", "2025-03-20T10:00:00",
    )  # fmt: skip
    assert code == 0, out
    code, out = run("move", person, "A-C01", "--reason", "x", "--at", "2025-03-21T10:00:00")
    assert code == 2 and "not held here" in out
    code, out = run("rebuild")
    assert code == 0 and "rebuilt the projections" in out
    code, out = run("verify")
    assert code == 0, out


def test_admission_refused_names_the_field(home: Path) -> None:
    run("facility", "load", str(home / "layout.yaml"), "--at", "2025-03-01T00:00:00")
    data = dict(ADMISSION)
    del data["legal_basis"]
    (home / "bad.yaml").write_text(yaml.safe_dump(data))
    code, out = run("admit", str(home / "bad.yaml"))
    assert code == 2 and "legal_basis" in out


def test_import_is_all_or_nothing_unless_told(home: Path) -> None:
    run("facility", "load", str(home / "layout.yaml"), "--at", "2025-03-01T00:00:00")
    code, out = run("import", str(DATA / "manifests" / "bad.csv"), "--facility", "tst",
                    "--rejected", str(home / "rejected.csv"))  # fmt: skip
    assert code == 1 and "nothing admitted" in out and "line " in out
    assert (home / "rejected.csv").read_text().splitlines()[0].endswith("errors")
    code, out = run("person", "find", "--name", "a")
    assert "│" not in out.replace("person", "")  # no rows
    code, out = run("import", str(DATA / "manifests" / "bad.csv"), "--facility", "tst", "--accept-valid")
    assert code == 1 and "admitted" in out
    code, out = run("import", str(DATA / "manifests" / "flight-sample.csv"), "--facility", "tst")
    assert code == 0 and "admitted" in out, out


def test_cells_one_by_one_classification_and_corrections(home: Path) -> None:
    code, out = run("facility", "load", str(home / "layout.yaml"), "--at", "2025-03-01T00:00:00")
    code, out = run("facility", "add-cell", "tst", "B", "B-C01", "--beds", "2", "--area", "6.5", "--unit-name",
                    "Pabellón B", "--at", "2025-03-02T00:00:00")  # fmt: skip
    assert code == 0, out
    code, out = run("facility", "add-cell", "tst", "B", "B-C01", "--beds", "2", "--area", "6.5")
    assert code == 2 and "already exists" in out
    code, out = run("facility", "add-cell", "tst", "Z", "Z-C01", "--beds", "2", "--area", "6.5")
    assert code == 2 and "no unit 'Z'" in out
    person = admit(home)
    code, out = run("classify", person, "--risk", "high", "--group", "MS", "--at", "2025-03-15T22:10:00")
    assert code == 0 and "UNSUBSTANTIATED" in out
    code, out = run("assign", person, "B-C01", "--at", "2025-03-15T22:20:00")
    assert code == 0, out
    code, out = run("log", "--json", "--type", "person.registered")
    registered = json.loads(out)["event_id"]
    code, out = run("correct", registered, "--field", "given_names=Persona Corregida", "--reason", "typo at intake")
    assert code == 0, out
    code, out = run("person", "show", person)
    assert "Persona Corregida" in out
    code, out = run("correct", registered, "--field", "cell_id=x", "--reason", "r")
    assert code == 2 and "corrected_fields.cell_id" in out
