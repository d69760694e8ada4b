"""Any single tampering done behind the triggers' back is found by verification.

Architecture invariant 5; APT's register checklist (entries deleted, inserted or
altered afterwards, entries out of order).  Hypothesis builds a random history,
optionally signs a checkpoint, then applies one tampering as someone with direct
database access would (triggers dropped), and ``verify_ledger`` must fail.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from habeas.ledger import merkle
from habeas.ledger.checkpoint import Signer, Verifier
from habeas.ledger.envelope import GENESIS_HASH
from habeas.ledger.heads import sign_checkpoint
from habeas.ledger.verify import verify_ledger
from habeas.store import migrate
from habeas.store.engine import make_engine
from tests.conftest import at
from tests.ledger.support import new_ledger, note, tamper

LEDGER = "cecot"
SIGNER = Signer.generate(f"habeas.test/{LEDGER}")
VERIFIER = Verifier.from_text(SIGNER.verifier_key_text())


@pytest.fixture(scope="module")
def template_db() -> Any:
    folder = Path(tempfile.mkdtemp())
    engine = make_engine(f"sqlite:///{folder / 'template.db'}")
    migrate.upgrade(engine)
    engine.dispose()
    yield folder / "template.db"
    shutil.rmtree(folder)


def fresh_engine(template: Path) -> Engine:
    folder = Path(tempfile.mkdtemp())
    shutil.copy(template, folder / "h.db")
    return make_engine(f"sqlite:///{folder / 'h.db'}")


def rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        result = conn.execute(text("SELECT * FROM events WHERE ledger_id = :l ORDER BY seq"), {"l": LEDGER})
        return [dict(r._mapping) for r in result]


def rechain(all_rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bytes, bytes]:
    """What a careful forger does: recompute every hash, Merkle node and the head."""
    prev, frontier = GENESIS_HASH, []
    for size, row in enumerate(all_rows):
        row["prev_hash"] = prev
        row["hash"] = hashlib.sha256(prev + row["body"]).digest()
        row["merkle_nodes"] = b"".join(merkle.append_leaf(frontier, size, merkle.leaf_hash(row["hash"])))
        prev = row["hash"]
    return all_rows, prev, b"".join(frontier)


def rewrite(engine: Engine, new_rows: list[dict[str, Any]], head_hash: bytes, frontier: bytes) -> None:
    statements: list[tuple[str, dict[str, Any]]] = [("DELETE FROM events WHERE ledger_id = :l", {"l": LEDGER})]
    for row in new_rows:
        cols = ", ".join(row)
        statements.append((f"INSERT INTO events ({cols}) VALUES ({', '.join(':' + c for c in row)})", row))
    statements.append((
        "UPDATE ledgers SET size = :s, head_hash = :h, frontier = :f WHERE ledger_id = :l",
        {"s": len(new_rows), "h": head_hash, "f": frontier, "l": LEDGER},
    ))  # fmt: skip
    tamper(engine, statements)


def with_body(row: dict[str, Any], **changes: Any) -> dict[str, Any]:
    envelope = orjson.loads(row["body"])
    envelope["payload"].update(changes)
    return {**row, "body": orjson.dumps(envelope, option=orjson.OPT_SORT_KEYS)}


TAMPERINGS = [
    "flip_payload_byte", "delete_row", "swap_rows", "insert_forged_row_in_middle",
    "append_forged_row_without_head", "rewrite_tail_with_recomputed_chain", "change_indexed_column",
    "change_merkle_nodes", "delete_tail_and_move_head",
]  # fmt: skip


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    batches = draw(st.lists(st.integers(1, 9), min_size=1, max_size=6))
    n = sum(batches)
    kind = draw(st.sampled_from(TAMPERINGS))
    if kind == "change_merkle_nodes":
        n_ok = n >= 2
        if not n_ok:
            batches, n = [*batches, 1], n + 1
    if kind == "swap_rows" and n < 2:
        batches, n = [*batches, 1], n + 1
    target = draw(st.integers(1, n))
    other = draw(st.integers(1, n).filter(lambda j: j != target)) if kind == "swap_rows" else target
    needs_checkpoint = kind in ("rewrite_tail_with_recomputed_chain", "delete_tail_and_move_head")
    checkpoint_at = draw(st.integers(target, n)) if needs_checkpoint else draw(st.none() | st.integers(1, n))
    return {"batches": batches, "n": n, "kind": kind, "target": target, "other": other,
            "checkpoint_at": checkpoint_at}  # fmt: skip


def build(engine: Engine, scenario: dict[str, Any]) -> None:
    ledger = new_ledger(engine, LEDGER, at())
    appended = 0
    for size in scenario["batches"]:
        ledger.append([note(f"person:{appended + i}", f"entry {appended + i}") for i in range(size)], at(1))
        appended += size
        if scenario["checkpoint_at"] is not None and appended >= scenario["checkpoint_at"]:
            sign_checkpoint(engine, LEDGER, SIGNER, at(2))
            scenario["checkpoint_at"] = None
            scenario["checkpointed"] = appended


def apply(engine: Engine, scenario: dict[str, Any]) -> None:
    kind, i, j, n = scenario["kind"], scenario["target"], scenario["other"], scenario["n"]
    all_rows = rows(engine)
    key = {"l": LEDGER, "i": i}
    if kind == "flip_payload_byte":
        body = bytearray(all_rows[i - 1]["body"])
        position = body.index(b'"text":"entry') + 9
        body[position] ^= 0x01
        tamper(engine, [("UPDATE events SET body = :b WHERE ledger_id = :l AND seq = :i", {**key, "b": bytes(body)})])
    elif kind == "delete_row":
        tamper(engine, [("DELETE FROM events WHERE ledger_id = :l AND seq = :i", key)])
    elif kind == "swap_rows":
        tamper(engine, [
            ("UPDATE events SET seq = -1 WHERE ledger_id = :l AND seq = :i", key),
            ("UPDATE events SET seq = :i WHERE ledger_id = :l AND seq = :j", {**key, "j": j}),
            ("UPDATE events SET seq = :j WHERE ledger_id = :l AND seq = -1", {**key, "j": j}),
        ])  # fmt: skip
    elif kind == "insert_forged_row_in_middle":
        forged = with_body(all_rows[i - 1], text="a forged entry")
        forged["event_id"] = "00000000-0000-4000-8000-000000000000"
        forged["hash"] = hashlib.sha256(forged["prev_hash"] + forged["body"]).digest()
        shifted = [{**r, "seq": r["seq"] + 1} for r in all_rows[i - 1 :]]
        tamper(engine, [
            ("DELETE FROM events WHERE ledger_id = :l AND seq >= :i", key),
            *[(f"INSERT INTO events ({', '.join(r)}) VALUES ({', '.join(':' + c for c in r)})", r)
              for r in (forged, *shifted)],
        ])  # fmt: skip
    elif kind == "append_forged_row_without_head":
        forged_rows, _, _ = rechain(
            [
                *all_rows,
                with_body(
                    {**all_rows[-1], "seq": n + 1, "event_id": "00000000-0000-4000-8000-000000000001"}, text="forged"
                ),
            ]
        )
        forged = forged_rows[-1]
        envelope = orjson.loads(forged["body"])
        envelope["seq"], envelope["event_id"] = n + 1, forged["event_id"]
        forged["body"] = orjson.dumps(envelope, option=orjson.OPT_SORT_KEYS)
        forged_rows, _, _ = rechain(forged_rows)
        forged = forged_rows[-1]
        tamper(engine, [(f"INSERT INTO events ({', '.join(forged)}) VALUES ({', '.join(':' + c for c in forged)})",
                         forged)])  # fmt: skip
    elif kind == "rewrite_tail_with_recomputed_chain":
        all_rows[i - 1] = with_body(all_rows[i - 1], text="rewritten after the fact")
        rewrite(engine, *rechain(all_rows))
    elif kind == "delete_tail_and_move_head":
        rewrite(engine, *rechain(all_rows[: i - 1]))
    elif kind == "change_indexed_column":
        tamper(engine, [("UPDATE events SET actor = 'user:someone-else' WHERE ledger_id = :l AND seq = :i", key)])
    elif kind == "change_merkle_nodes":
        # Event 2 always completes a level-1 node; corrupt the first row that stores one.
        seq = next(r["seq"] for r in all_rows if r["merkle_nodes"])
        tamper(engine, [("UPDATE events SET merkle_nodes = :m WHERE ledger_id = :l AND seq = :i",
                         {"l": LEDGER, "i": seq, "m": bytes(32)})])  # fmt: skip


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario=scenarios())
def test_any_single_tampering_is_detected(template_db: Path, scenario: dict[str, Any]) -> None:
    engine = fresh_engine(template_db)
    try:
        build(engine, scenario)
        with engine.connect() as conn:
            assert verify_ledger(conn, LEDGER, VERIFIER).ok, "the untouched ledger must verify"
        apply(engine, scenario)
        with engine.connect() as conn:
            report = verify_ledger(conn, LEDGER, VERIFIER)
        assert not report.ok, f"{scenario['kind']} was not detected"
        assert report.problem
    finally:
        engine.dispose()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario=scenarios())
def test_any_single_tampering_is_detected_by_the_parallel_scan(template_db: Path, scenario: dict[str, Any]) -> None:
    """The same, scanning runs of 4 events on 2 processes and stitching them (verify --workers)."""
    engine = fresh_engine(template_db)
    try:
        build(engine, scenario)
        with engine.connect() as conn:
            clean = verify_ledger(conn, LEDGER, VERIFIER)
            parallel = verify_ledger(conn, LEDGER, VERIFIER, workers=2, run_level=2)
            assert (parallel.ok, parallel.size, parallel.root, parallel.checkpoints_checked) == (
                clean.ok, clean.size, clean.root, clean.checkpoints_checked,
            )  # fmt: skip
        apply(engine, scenario)
        with engine.connect() as conn:
            single = verify_ledger(conn, LEDGER, VERIFIER)
            report = verify_ledger(conn, LEDGER, VERIFIER, workers=2, run_level=2)
        assert not report.ok, f"{scenario['kind']} was not detected by the parallel scan"
        assert report.bad_seq == single.bad_seq, (report.problem, single.problem)
    finally:
        engine.dispose()


def test_verification_names_the_first_bad_sequence_number(template_db: Path) -> None:
    engine = fresh_engine(template_db)
    scenario = {"batches": [5, 5], "n": 10, "kind": "flip_payload_byte", "target": 4, "other": 4,
                "checkpoint_at": None}  # fmt: skip
    build(engine, scenario)
    apply(engine, scenario)
    with engine.connect() as conn:
        report = verify_ledger(conn, LEDGER, VERIFIER)
    assert (report.bad_seq, report.problem) == (4, "hash does not match the event's content (altered)")


def test_a_checkpoint_kept_outside_catches_a_rewrite_that_also_deleted_stored_checkpoints(
    template_db: Path,
) -> None:
    engine = fresh_engine(template_db)
    build(engine, {"batches": [6], "n": 6, "kind": "", "target": 1, "other": 1, "checkpoint_at": 6})
    with engine.connect() as conn:
        exported = conn.execute(text("SELECT note FROM checkpoints")).scalar_one()
    all_rows = rows(engine)
    all_rows[2] = with_body(all_rows[2], text="rewritten")
    rewrite(engine, *rechain(all_rows))
    tamper(engine, [("DELETE FROM checkpoints", {})])
    with engine.connect() as conn:
        assert verify_ledger(conn, LEDGER, VERIFIER).ok, "without any checkpoint a full rewrite is invisible"
        report = verify_ledger(conn, LEDGER, VERIFIER, [exported])
    assert not report.ok
    assert report.bad_seq == 6 and "differs" in (report.problem or "")


def test_a_checkpoint_signed_by_another_key_is_refused(template_db: Path) -> None:
    engine = fresh_engine(template_db)
    ledger = new_ledger(engine, LEDGER, at())
    ledger.append([note()], at(1))
    sign_checkpoint(engine, LEDGER, Signer.generate(f"habeas.test/{LEDGER}"), at(2))
    with engine.connect() as conn:
        report = verify_ledger(conn, LEDGER, VERIFIER)
    assert not report.ok and "stored checkpoint at size 1" in (report.problem or "")
