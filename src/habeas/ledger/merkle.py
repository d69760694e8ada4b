"""Merkle tree hashing, proofs and their verification per RFC 9162 §2.1.

The tree is over event hashes: leaf ``i`` is the hash of the event with
sequence number ``i + 1``.  Every *perfect* subtree (``2**level`` leaves starting
at ``index * 2**level``) is hashed once, when its last leaf arrives, and stored;
any subtree hash a proof needs is then a fold over a few stored perfect ones.
So a proof is: work out which perfect nodes it needs (:func:`inclusion_ranges`,
:func:`consistency_ranges`, :func:`range_nodes`), fetch them in one query, and
combine them (:func:`range_hash`).  Everything here is pure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Node = tuple[int, int]  # (level, index): the perfect subtree of 2**level leaves from index * 2**level


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 §2.1.1: MTH({d}) = SHA-256(0x00 || d)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: SHA-256(0x01 || MTH(left) || MTH(right))."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


# --- appending -----------------------------------------------------------------------------


def frontier_levels(size: int) -> list[int]:
    """Levels of the perfect subtrees that make up a tree of ``size`` leaves, left to right."""
    return [level for level in range(size.bit_length() - 1, -1, -1) if size >> level & 1]


def append_leaf(frontier: list[bytes], size: int, leaf: bytes) -> list[bytes]:
    """Add one leaf hash to a tree of ``size`` leaves whose perfect-subtree roots are ``frontier``.

    ``frontier`` is updated in place.  Returns the hashes of the perfect subtrees the
    new leaf completes at levels 1, 2, ... (as many as ``size`` has trailing one bits).
    """
    completed: list[bytes] = []
    node = leaf
    index = size
    while index & 1:
        node = node_hash(frontier.pop(), node)
        completed.append(node)
        index >>= 1
    frontier.append(node)
    return completed


def root_from_frontier(frontier: Sequence[bytes]) -> bytes:
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1]
    for left in reversed(frontier[:-1]):
        root = node_hash(left, root)
    return root


def completing_seq(node: Node) -> int:
    """Sequence number (1-based) of the event whose arrival completes ``node``."""
    level, index = node
    return (index + 1) << level


# --- which subtrees a proof needs -----------------------------------------------------------


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n]) as leaf ranges [start, end), in proof order."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    out: list[tuple[int, int]] = []
    start, end, m = 0, size, index
    while end - start > 1:
        k = _split(end - start)
        if m < k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
            m -= k
    out.reverse()
    return out


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.4.1 PROOF(m, D[n]) as leaf ranges [start, end), in proof order."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    out: list[tuple[int, int]] = []
    start, end, m, complete = 0, new_size, old_size, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
            m -= k
            complete = False
    if not complete:
        out.append((start, end))
    out.reverse()
    return out


def range_nodes(start: int, end: int) -> list[Node]:
    """The stored perfect subtrees whose fold is MTH(D[start:end]).

    Every range a proof asks for is either a perfect aligned subtree or the right
    edge of the tree, which splits into perfect aligned subtrees left to right.
    """
    nodes: list[Node] = []
    while start < end:
        size = end - start
        k = size if size & (size - 1) == 0 else _split(size)
        level = k.bit_length() - 1
        if start % k:
            raise ValueError(f"range [{start}, {end}) is not made of aligned subtrees")
        nodes.append((level, start >> level))
        start += k
    return nodes


def range_hash(start: int, end: int, lookup: Mapping[Node, bytes]) -> bytes:
    parts = [lookup[node] for node in range_nodes(start, end)]
    return root_from_frontier(parts)


def proof_nodes(ranges: Sequence[tuple[int, int]]) -> set[Node]:
    return {node for start, end in ranges for node in range_nodes(start, end)}


# --- verification (what an outside auditor runs) --------------------------------------------


# Not frozen: Python itself assigns ``__traceback__`` on exceptions (contextlib does
# while unwinding a @contextmanager), which a frozen dataclass turns into
# FrozenInstanceError.  eq=False keeps identity equality and hashing, like any exception.
@dataclass(eq=False)
class ProofError(Exception):
    reason: str

    def __str__(self) -> str:
        return self.reason


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root a valid inclusion proof implies, or ProofError."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the proof is longer than the tree allows")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is shorter than the tree needs")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    if root_from_inclusion_proof(index, size, leaf, proof) != root:
        raise ProofError("the inclusion proof does not lead to the checkpoint's root")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """RFC 9162 §2.1.4.2: raise ProofError unless the old tree is a prefix of the new one."""
    if not 0 < old_size <= new_size:
        raise ProofError(f"sizes {old_size} and {new_size} cannot be consistent")
    if old_size == new_size:
        if proof:
            raise ProofError("a proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError("equal sizes but different roots: the log was rewritten")
        return
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # old tree is a perfect subtree: its root starts the path
        path.insert(0, old_root)
    if not path:
        raise ProofError("the consistency proof is empty")
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than the trees allow")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is shorter than the trees need")
    if fr != old_root:
        raise ProofError("the consistency proof does not lead to the old checkpoint's root")
    if sr != new_root:
        raise ProofError("the consistency proof does not lead to the new checkpoint's root")


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves, iteratively (used by verify and tests)."""
    frontier: list[bytes] = []
    for size, leaf in enumerate(leaves):
        append_leaf(frontier, size, leaf)
    return root_from_frontier(frontier)


LeafSource = Callable[[int], bytes]
