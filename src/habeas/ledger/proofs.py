"""Inclusion and consistency proofs read from the stored Merkle nodes, and their offline check.

A proof is a JSON document an outside auditor can check with nothing but the
proof and a signed checkpoint (``habeas verify-proof``), per RFC 9162 §2.1.3–2.1.4.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from habeas.errors import InvalidInput, NotFound
from habeas.ledger import merkle
from habeas.ledger.checkpoint import Checkpoint
from habeas.ledger.log import read_head
from habeas.store.tables import events

FORMAT = "habeas-proof/1"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: object, field: str) -> bytes:
    try:
        value = base64.b64decode(str(text), validate=True)
    except (ValueError, TypeError):
        raise InvalidInput.one(field, "must be standard base64") from None
    return value


def fetch_nodes(conn: Connection, ledger_id: str, nodes: Iterable[merkle.Node]) -> dict[merkle.Node, bytes]:
    """All the perfect-subtree hashes asked for, in one primary-key query."""
    wanted = set(nodes)
    seqs = {merkle.completing_seq(node) for node in wanted}
    if not seqs:
        return {}
    rows = conn.execute(
        select(events.c.seq, events.c.hash, events.c.merkle_nodes).where(
            events.c.ledger_id == ledger_id, events.c.seq.in_(sorted(seqs))
        )
    )
    found: dict[merkle.Node, bytes] = {}
    for seq, digest, blob in rows:
        index = seq - 1
        found[(0, index)] = merkle.leaf_hash(bytes(digest))
        blob = bytes(blob)
        for level in range(1, len(blob) // 32 + 1):
            found[(level, index >> level)] = blob[(level - 1) * 32 : level * 32]
    missing = wanted - found.keys()
    if missing:
        raise NotFound("Merkle node", str(sorted(missing)[0]))
    return found


def _check_size(conn: Connection, ledger_id: str, size: int, field: str) -> None:
    head = read_head(conn, ledger_id)
    if not 0 < size <= head.size:
        raise InvalidInput.one(field, f"must be between 1 and the ledger's size {head.size}")


def inclusion_proof(conn: Connection, ledger_id: str, seq: int, tree_size: int) -> dict[str, Any]:
    _check_size(conn, ledger_id, tree_size, "tree_size")
    if not 0 < seq <= tree_size:
        raise InvalidInput.one("seq", f"event {seq} is not in a tree of size {tree_size}")
    row = conn.execute(
        select(events.c.event_id, events.c.body, events.c.prev_hash, events.c.hash).where(
            events.c.ledger_id == ledger_id, events.c.seq == seq
        )
    ).one()
    ranges = merkle.inclusion_ranges(seq - 1, tree_size)
    found = fetch_nodes(conn, ledger_id, merkle.proof_nodes(ranges))
    return {
        "format": FORMAT,
        "type": "inclusion",
        "ledger_id": ledger_id,
        "tree_size": tree_size,
        "leaf_index": seq - 1,
        "seq": seq,
        "event_id": row.event_id,
        "event_hash": _b64(bytes(row.hash)),
        "prev_hash": _b64(bytes(row.prev_hash)),
        "event": bytes(row.body).decode(),
        "proof": [_b64(merkle.range_hash(a, b, found)) for a, b in ranges],
    }


def consistency_proof(conn: Connection, ledger_id: str, old_size: int, new_size: int) -> dict[str, Any]:
    _check_size(conn, ledger_id, new_size, "size2")
    if not 0 < old_size <= new_size:
        raise InvalidInput.one("size1", f"must be between 1 and size2 ({new_size})")
    ranges = merkle.consistency_ranges(old_size, new_size)
    found = fetch_nodes(conn, ledger_id, merkle.proof_nodes(ranges))
    return {
        "format": FORMAT,
        "type": "consistency",
        "ledger_id": ledger_id,
        "size1": old_size,
        "size2": new_size,
        "proof": [_b64(merkle.range_hash(a, b, found)) for a, b in ranges],
    }


def check_inclusion(proof: dict[str, Any], checkpoint: Checkpoint) -> str:
    """Check an inclusion proof against a (signature-checked) checkpoint. Returns what it proves."""
    if proof.get("format") != FORMAT or proof.get("type") != "inclusion":
        raise InvalidInput.one("format", f"not a {FORMAT} inclusion proof")
    size, index = int(proof["tree_size"]), int(proof["leaf_index"])
    if size != checkpoint.size:
        raise merkle.ProofError(f"the proof is for tree size {size}, the checkpoint for {checkpoint.size}")
    event_hash = _unb64(proof["event_hash"], "event_hash")
    body = str(proof.get("event", "")).encode()
    if body and hashlib.sha256(_unb64(proof["prev_hash"], "prev_hash") + body).digest() != event_hash:
        raise merkle.ProofError("the event text does not hash to event_hash")
    path = [_unb64(p, f"proof[{i}]") for i, p in enumerate(proof["proof"])]
    merkle.verify_inclusion(index, size, merkle.leaf_hash(event_hash), path, checkpoint.root)
    return f"event {index + 1} ({proof.get('event_id')}) is in {checkpoint.origin} at size {size}"


def check_consistency(proof: dict[str, Any], old: Checkpoint, new: Checkpoint) -> str:
    if proof.get("format") != FORMAT or proof.get("type") != "consistency":
        raise InvalidInput.one("format", f"not a {FORMAT} consistency proof")
    if old.origin != new.origin:
        raise merkle.ProofError("the two checkpoints are for different logs")
    size1, size2 = int(proof["size1"]), int(proof["size2"])
    if (size1, size2) != (old.size, new.size):
        raise merkle.ProofError(f"the proof is for sizes {size1}→{size2}, the checkpoints for {old.size}→{new.size}")
    path = [_unb64(p, f"proof[{i}]") for i, p in enumerate(proof["proof"])]
    merkle.verify_consistency(size1, size2, old.root, new.root, path)
    return f"{old.origin}: the log of size {size1} is a prefix of the log of size {size2}"
