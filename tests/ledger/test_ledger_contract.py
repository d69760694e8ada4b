"""The ledger's contract, run unchanged on SQLite and on PostgreSQL.

Architecture invariants 2 (append-only), 3 (who/when), 5 (tamper-evident) and 6
(appends to one ledger serialized); standards.md §1, MR 6 (a secure audit trail).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
import rfc8785
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from habeas.errors import InvalidInput, NotFound
from habeas.ledger import merkle, proofs
from habeas.ledger.checkpoint import Signer, Verifier
from habeas.ledger.envelope import GENESIS_HASH, NewEvent
from habeas.ledger.heads import sign_checkpoint
from habeas.ledger.log import read_events, read_head
from habeas.ledger.verify import verify_ledger
from tests.conftest import at
from tests.ledger.support import new_ledger, note


class LedgerContract:
    """Every test here runs once per backend (see the subclasses at the bottom)."""

    @pytest.fixture
    def engine(self) -> Engine:
        raise NotImplementedError

    def test_append_chains_hashes_over_canonical_envelopes(self, engine: Engine, ledger_id: str) -> None:
        ledger = new_ledger(engine, ledger_id, at())
        stored = ledger.append([note("person:1", "admitted"), note("person:2", "admitted")], at(1))
        stored += ledger.append([note("person:1", "moved to cell 4-12")], at(2))
        assert [e.seq for e in stored] == [1, 2, 3]
        prev = GENESIS_HASH
        with engine.connect() as conn:
            read = list(read_events(conn, ledger_id))
        for event in read:
            envelope = {
                "ledger_id": ledger_id, "seq": event.seq, "event_id": event.event_id,
                "type": event.type, "schema_version": event.schema_version,
                "occurred_at": event.occurred_at.isoformat(timespec="microseconds")[:-6] + "Z",
                "recorded_at": event.recorded_at.isoformat(timespec="microseconds")[:-6] + "Z",
                "actor": event.actor, "payload": event.payload,
            }  # fmt: skip
            # The stored body is exactly RFC 8785 of the envelope, by the reference implementation.
            assert event.body == rfc8785.dumps(envelope)
            assert event.prev_hash == prev
            assert event.hash == hashlib.sha256(prev + event.body).digest()
            prev = event.hash
        assert read == stored
        assert read_head(engine.connect(), ledger_id).head_hash == prev

    def test_times_and_actor_round_trip(self, engine: Engine, ledger_id: str) -> None:
        ledger = new_ledger(engine, ledger_id, at())
        occurred = datetime(2024, 2, 29, 23, 59, 59, 999_999, tzinfo=UTC)
        ledger.append([note(occurred_at=occurred, actor="user:records-2")], at(5))
        with engine.connect() as conn:
            (event,) = read_events(conn, ledger_id)
        assert event.occurred_at == occurred
        assert event.recorded_at == at(5)
        assert event.actor == "user:records-2"

    def test_a_batch_is_all_or_nothing(self, engine: Engine, ledger_id: str) -> None:
        ledger = new_ledger(engine, ledger_id, at())
        ledger.append([note()], at(1))
        duplicate = note()
        bad_batch = [note(), duplicate, NewEvent(duplicate.type, duplicate.payload, at(), "user:x", duplicate.event_id)]
        with pytest.raises(DBAPIError):  # the repeated event id violates the unique constraint
            ledger.append(bad_batch, at(2))
        assert ledger.head().size == 1
        with engine.connect() as conn:
            assert len(list(read_events(conn, ledger_id))) == 1

    @pytest.mark.parametrize(
        ("event", "field", "rule"),
        [
            (NewEvent("person.vanished", {}, at(), "user:x", uuid.uuid4()), "type", "unknown event type"),
            (NewEvent("note.recorded", {"subject": "p"}, at(), "user:x", uuid.uuid4()), "payload.text", "required"),
            (NewEvent("note.recorded", {"subject": "p", "text": "t", "weight_kg": 70}, at(), "user:x", uuid.uuid4()),
             "payload.weight_kg", "Extra inputs"),
            (NewEvent("note.recorded", {"subject": 7, "text": "t"}, at(), "user:x", uuid.uuid4()),
             "payload.subject", "valid string"),
            (NewEvent("event.corrected", {"corrects_event_id": "e", "reason": "r",
                                          "corrected_fields": {"height": 1.8}}, at(), "user:x", uuid.uuid4()),
             "payload.corrected_fields.height", ""),
            (NewEvent("note.recorded", {"subject": "p", "text": "t"}, datetime(2025, 3, 15, 22, 4), "user:x",
                      uuid.uuid4()), "occurred_at", "time zone"),
            (NewEvent("note.recorded", {"subject": "p", "text": "t"},
                      datetime(2025, 3, 15, 16, 4, tzinfo=timezone(timedelta(hours=-6))), "user:x", uuid.uuid4()),
             "occurred_at", "UTC"),
            (NewEvent("note.recorded", {"subject": "p", "text": "t"}, at(10), "user:x", uuid.uuid4()),
             "occurred_at", "recorded before it happens"),
            (NewEvent("note.recorded", {"subject": "p", "text": "t"}, at(), "", uuid.uuid4()), "actor", "1–200"),
        ],
    )  # fmt: skip
    def test_bad_input_is_refused_naming_the_field_and_nothing_is_appended(
        self, engine: Engine, ledger_id: str, event: NewEvent, field: str, rule: str
    ) -> None:
        ledger = new_ledger(engine, ledger_id, at())
        ledger.append([note()], at(1))
        with pytest.raises(InvalidInput) as refused:
            ledger.append([note(), event], at(1))
        problem = refused.value.problems[0]
        assert problem.field == f"events[1].{field}"
        assert rule in problem.rule
        assert ledger.head().size == 1

    def test_float_anywhere_is_refused(self, engine: Engine, ledger_id: str) -> None:
        ledger = new_ledger(engine, ledger_id, at())
        payload = {"corrects_event_id": "e", "reason": "r", "corrected_fields": {"height": 1.8}}
        event = NewEvent("event.corrected", payload, at(), "user:x", uuid.uuid4())
        with pytest.raises(InvalidInput) as refused:
            ledger.append([event], at(1))
        assert any("float" in p.rule or "valid" in p.rule for p in refused.value.problems)
        assert ledger.head().size == 0

    def test_non_utc_recorded_at_is_refused(self, engine: Engine, ledger_id: str) -> None:
        ledger = new_ledger(engine, ledger_id, at())
        with pytest.raises(InvalidInput, match="recorded_at"):
            ledger.append([note()], datetime(2025, 3, 16))
        assert ledger.head().size == 0

    def test_unknown_ledger(self, engine: Engine) -> None:
        from habeas.domain.events import REGISTRY
        from habeas.ledger.log import Ledger

        with pytest.raises(NotFound):
            Ledger(engine, "no-such-ledger", REGISTRY).append([note()], at(1))

    def test_ledgers_are_independent(self, engine: Engine, ledger_id: str) -> None:
        one = new_ledger(engine, ledger_id, at())
        two = new_ledger(engine, ledger_id + "-b", at())
        one.append([note(), note()], at(1))
        two.append([note()], at(1))
        assert (one.head().size, two.head().size) == (2, 1)
        with engine.connect() as conn:
            assert verify_ledger(conn, ledger_id).ok
            assert verify_ledger(conn, ledger_id + "-b").ok

    @pytest.mark.parametrize("statement", [
        "UPDATE events SET actor = 'user:nobody' WHERE ledger_id = :l",
        "DELETE FROM events WHERE ledger_id = :l",
        "UPDATE checkpoints SET size = 0 WHERE ledger_id = :l",
        "DELETE FROM checkpoints WHERE ledger_id = :l",
        "UPDATE ledgers SET size = 0 WHERE ledger_id = :l",
        "DELETE FROM ledgers WHERE ledger_id = :l",
    ])  # fmt: skip
    def test_the_database_refuses_to_rewrite_history(self, engine: Engine, ledger_id: str, statement: str) -> None:
        ledger = new_ledger(engine, ledger_id, at())
        ledger.append([note(), note()], at(1))
        sign_checkpoint(engine, ledger_id, Signer.generate("habeas.test"), at(2))
        refused = r"append-only|only move forward|cannot be deleted"
        with pytest.raises(DBAPIError, match=refused), engine.begin() as conn:
            conn.execute(text(statement), {"l": ledger_id})
        with engine.connect() as conn:
            assert verify_ledger(conn, ledger_id).ok
            assert read_head(conn, ledger_id).size == 2

    def test_merkle_root_and_proofs_from_stored_nodes(self, engine: Engine, ledger_id: str) -> None:
        ledger = new_ledger(engine, ledger_id, at())
        for size in (1, 2, 5, 6):  # batches of odd sizes cross subtree boundaries
            ledger.append([note(f"person:{i}") for i in range(size)], at(1))
        with engine.connect() as conn:
            stored = list(read_events(conn, ledger_id))
            leaves = [merkle.leaf_hash(e.hash) for e in stored]
            n = len(leaves)
            assert ledger.head().root == merkle.root_of(leaves)
            for seq in range(1, n + 1):
                for size in (seq, n):
                    proof = proofs.inclusion_proof(conn, ledger_id, seq, size)
                    path = [proofs._unb64(p, "p") for p in proof["proof"]]
                    merkle.verify_inclusion(seq - 1, size, leaves[seq - 1], path, merkle.root_of(leaves[:size]))
            for old in range(1, n + 1):
                proof = proofs.consistency_proof(conn, ledger_id, old, n)
                path = [proofs._unb64(p, "p") for p in proof["proof"]]
                merkle.verify_consistency(old, n, merkle.root_of(leaves[:old]), merkle.root_of(leaves), path)

    def test_checkpoint_signs_the_head_and_proofs_check_offline(self, engine: Engine, ledger_id: str) -> None:
        ledger = new_ledger(engine, ledger_id, at())
        signer = Signer.generate(f"habeas.test/{ledger_id}")
        verifier = Verifier.from_text(signer.verifier_key_text())
        ledger.append([note(f"person:{i}") for i in range(7)], at(1))
        old = sign_checkpoint(engine, ledger_id, signer, at(2))
        assert sign_checkpoint(engine, ledger_id, signer, at(3)) == old  # same size: same checkpoint
        ledger.append([note(f"person:{i}") for i in range(6)], at(4))
        new = sign_checkpoint(engine, ledger_id, signer, at(5))
        old_cp, new_cp = verifier.verify(old.note), verifier.verify(new.note)
        assert (old_cp.size, new_cp.size) == (7, 13)
        assert new_cp.root == ledger.head().root
        with engine.connect() as conn:
            assert "is in" in proofs.check_inclusion(proofs.inclusion_proof(conn, ledger_id, 3, 13), new_cp)
            assert "prefix" in proofs.check_consistency(
                proofs.consistency_proof(conn, ledger_id, 7, 13), old_cp, new_cp
            )
            forged = proofs.inclusion_proof(conn, ledger_id, 3, 13)
            forged["event"] = forged["event"].replace("person:2", "person:9")
            with pytest.raises(merkle.ProofError):
                proofs.check_inclusion(forged, new_cp)
            report = verify_ledger(conn, ledger_id, verifier)
        assert report.ok and report.checkpoints_checked == 2 and report.size == 13


class TestLedgerOnSQLite(LedgerContract):
    @pytest.fixture
    def engine(self, sqlite_engine: Engine) -> Engine:
        return sqlite_engine


@pytest.mark.postgres
class TestLedgerOnPostgreSQL(LedgerContract):
    @pytest.fixture
    def engine(self, postgres_engine: Engine) -> Engine:
        return postgres_engine
