"""The ledger commands as a person runs them: init, info, checkpoint, verify, proofs, log."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from habeas.cli.app import app
from habeas.services.ledger_checks import recent_checks
from habeas.store.engine import make_engine
from tests.ledger.support import tamper

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HABEAS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("HABEAS_DATABASE_URL", raising=False)
    monkeypatch.delenv("HABEAS_SIGNING_KEY", raising=False)
    monkeypatch.setenv("HABEAS_ACTOR", "user:test-clerk")
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    errors = result.stderr if result.stderr_bytes is not None else ""
    return result.exit_code, result.stdout + errors


def test_init_creates_database_key_and_ledger_and_never_overwrites_the_key(home: Path) -> None:
    code, out = run("init")
    assert code == 0, out
    key = home / "data" / "keys" / "main.key"
    assert key.exists() and stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert (home / "data" / "habeas.db").exists()
    first = key.read_bytes()
    code, out = run("init")
    assert code == 0 and "never overwrites" in out
    assert key.read_bytes() == first
    code, out = run("info")
    assert "size      1 events" in out and str(home / "data" / "habeas.db") in out


def test_info_before_init_says_what_to_do(home: Path) -> None:
    code, out = run("info")
    assert code == 0 and "run habeas init" in out


def test_database_url_option_and_environment(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = home / "elsewhere.db"
    code, _ = run("--database-url", f"sqlite:///{other}", "init")
    assert code == 0 and other.exists()
    monkeypatch.setenv("HABEAS_DATABASE_URL", f"sqlite:///{other}")
    code, out = run("info")
    assert str(other) in out


def test_checkpoint_verify_and_offline_proofs(home: Path) -> None:
    run("init")
    code, first_note = run("checkpoint")
    assert code == 0 and first_note.startswith("habeas.local/main\n1\n")
    (home / "cp1.txt").write_text(first_note)
    # Add events through the ledger API (the register commands come with the register issue).
    from habeas.cli.context import Settings, now
    from tests.ledger.support import note

    Settings().open_ledger().append([note(f"person:{i}") for i in range(9)], now())
    code, second_note = run("checkpoint")
    assert second_note.split("\n")[1] == "10"
    (home / "cp2.txt").write_text(second_note)
    _, key = run("verifier-key")
    (home / "key.txt").write_text(key)

    code, out = run("verify")
    assert code == 0 and "intact: 10 events" in out and "2 checkpoint(s)" in out
    with Settings().engine.connect() as conn:  # recorded for oversight, under the CLI's actor
        (check,) = recent_checks(conn, "main")
    assert (check.ok, check.via, check.size, check.checkpoints_checked) == (True, "cli", 10, 2)
    assert check.checked_by == Settings().who

    code, out = run("proof", "inclusion", "4")
    assert code == 0
    proof = json.loads(out)
    assert proof["tree_size"] == 10 and proof["seq"] == 4
    (home / "inc.json").write_text(out)
    code, out = run("verify-proof", str(home / "inc.json"), "--checkpoint", str(home / "cp2.txt"),
                    "--verifier-key", str(home / "key.txt"))  # fmt: skip
    assert code == 0 and "valid: event 4" in out

    proof["proof"][0] = proof["proof"][1]
    (home / "bad.json").write_text(json.dumps(proof))
    code, out = run("verify-proof", str(home / "bad.json"), "--checkpoint", str(home / "cp2.txt"),
                    "--verifier-key", str(home / "key.txt"))  # fmt: skip
    assert code == 1 and "NOT valid" in out

    code, out = run("proof", "consistency", "1", "10")
    (home / "con.json").write_text(out)
    code, out = run("verify-proof", str(home / "con.json"), "--checkpoint", str(home / "cp2.txt"),
                    "--old-checkpoint", str(home / "cp1.txt"), "--verifier-key", key.strip())  # fmt: skip
    assert code == 0 and "prefix" in out

    # Another log's key does not vouch for this checkpoint.
    from habeas.ledger.checkpoint import Signer

    stranger = Signer.generate("habeas.local/main").verifier_key_text()
    code, out = run("verify-proof", str(home / "inc.json"), "--checkpoint", str(home / "cp2.txt"),
                    "--verifier-key", stranger)  # fmt: skip
    assert code == 1 and "NOT valid" in out


def test_verify_fails_naming_the_first_bad_sequence_number(home: Path) -> None:
    run("init")
    from habeas.cli.context import Settings, now
    from tests.ledger.support import note

    Settings().open_ledger().append([note(f"person:{i}") for i in range(5)], now())
    engine = make_engine(f"sqlite:///{home / 'data' / 'habeas.db'}")
    tamper(
        engine,
        [
            (
                "UPDATE events SET body = CAST(replace(CAST(body AS TEXT), 'person:2', 'person:7') AS BLOB) "
                "WHERE seq = 4",
                {},
            )
        ],
    )
    engine.dispose()
    code, out = run("verify")
    assert code == 1
    assert "NOT intact: event 4: hash does not match" in " ".join(out.split())
    with make_engine(f"sqlite:///{home / 'data' / 'habeas.db'}").connect() as conn:  # a failure is recorded too
        (check,) = recent_checks(conn, "main")
    assert (check.ok, check.bad_seq) == (False, 4) and (check.problem or "").startswith("hash does not match")


def test_proof_before_any_checkpoint_says_what_to_do(home: Path) -> None:
    run("init")
    code, out = run("proof", "inclusion", "1")
    assert code == 2 and "habeas checkpoint" in out


def test_log_filters_by_type_actor_and_time(home: Path) -> None:
    run("init")
    from habeas.cli.context import Settings
    from tests.conftest import at
    from tests.ledger.support import note

    Settings().open_ledger().append(
        [note("person:1", occurred_at=at(0), actor="user:a"), note("person:2", occurred_at=at(60), actor="user:b")],
        at(120),
    )
    code, out = run("log", "--json", "--type", "note.recorded")
    assert code == 0 and len(out.splitlines()) == 2
    _, out = run("log", "--json", "--actor", "user:b")
    assert [json.loads(line)["payload"]["subject"] for line in out.splitlines()] == ["person:2"]
    _, out = run("log", "--json", "--type", "note.recorded", "--until", "2025-03-15T22:30:00")
    assert [json.loads(line)["payload"]["subject"] for line in out.splitlines()] == ["person:1"]
    _, out = run("log", "--json", "--since", "2025-03-15T22:30:00+00:00", "--type", "note.recorded")
    assert [json.loads(line)["payload"]["subject"] for line in out.splitlines()] == ["person:2"]


def test_tamper_helper_restores_triggers(home: Path) -> None:
    run("init")
    engine = make_engine(f"sqlite:///{home / 'data' / 'habeas.db'}")
    tamper(engine, [])
    with engine.connect() as conn:
        names = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type='trigger'")).scalars())
    assert "events_no_update" in names


def test_tour_runs_in_a_throwaway_database_and_finds_the_hidden_edit(home: Path) -> None:
    code, out = run("tour")
    assert code == 0, out
    flat = " ".join(out.split())
    assert "refused: habeas: events is append-only" in flat
    assert "habeas verify: event 4: hash does not match" in flat
    assert not (home / "data" / "habeas.db").exists()  # the person's own register is untouched


def test_verify_on_a_copy_that_cannot_record_still_reports(home: Path) -> None:
    # A restored backup from before migration 0010 (or a read-only copy): the verdict stands, with a note.
    run("init")
    engine = make_engine(f"sqlite:///{home / 'data' / 'habeas.db'}")
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE ledger_checks"))
    engine.dispose()
    code, out = run("verify")
    assert code == 0 and "intact: 1 events" in out
    assert "not recorded for oversight" in " ".join(out.split())


def test_verify_no_record_leaves_a_backup_copy_as_it_was(home: Path) -> None:
    run("init")
    code, out = run("verify", "--no-record")
    assert code == 0 and "intact: 1 events" in out
    with make_engine(f"sqlite:///{home / 'data' / 'habeas.db'}").connect() as conn:
        assert recent_checks(conn, "main") == []
