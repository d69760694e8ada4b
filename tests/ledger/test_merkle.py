"""Tests for habeas.ledger.merkle against RFC 9162 §2.1 and published RFC 6962 vectors.

The reference implementation below is written straight from the recursive
definitions in RFC 9162 §2.1.1 (MTH), §2.1.3.1 (PATH) and §2.1.4.1
(PROOF/SUBPROOF), using hashlib directly, so it shares no code with the module.
The verifiers in the module follow the iterative algorithms of §2.1.3.2 and
§2.1.4.2; they are checked against recursive "what root does this proof imply"
functions derived from the same definitions.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Sequence
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from habeas.ledger.merkle import (
    EMPTY_ROOT,
    Node,
    ProofError,
    append_leaf,
    completing_seq,
    consistency_ranges,
    frontier_levels,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    proof_nodes,
    range_hash,
    range_nodes,
    root_from_frontier,
    root_from_inclusion_proof,
    root_of,
    verify_consistency,
    verify_inclusion,
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- reference implementation: RFC 9162 §2.1, recursively -------------------------------------


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    """RFC 9162 §2.1.1: the largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_leaf(d: bytes) -> bytes:
    return _sha(b"\x00" + d)


def ref_node(left: bytes, right: bytes) -> bytes:
    return _sha(b"\x01" + left + right)


def ref_mth(leaves: Sequence[bytes]) -> bytes:
    """MTH over leaf *hashes* (the module's trees are over already-hashed events)."""
    n = len(leaves)
    if n == 0:
        return _sha(b"")
    if n == 1:
        return leaves[0]
    k = _k(n)
    return ref_node(ref_mth(leaves[:k]), ref_mth(leaves[k:]))


def ref_path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) (RFC 9162 §2.1.3.1)."""
    n = len(leaves)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*ref_path(m, leaves[:k]), ref_mth(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), ref_mth(leaves[:k])]


def ref_subproof(m: int, leaves: Sequence[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) (RFC 9162 §2.1.4.1)."""
    n = len(leaves)
    if m == n:
        return [] if b else [ref_mth(leaves)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, leaves[:k], b), ref_mth(leaves[k:])]
    return [*ref_subproof(m - k, leaves[k:], False), ref_mth(leaves[:k])]


def ref_proof(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) for 0 < m <= n (empty when m == n)."""
    return [] if m == len(leaves) else ref_subproof(m, leaves, True)


def ref_root_from_path(m: int, n: int, leaf: bytes, proof: Sequence[bytes]) -> bytes | None:
    """The root PATH(m, D[n]) implies if ``proof`` has PATH's shape, else None.

    Read backwards from the definition of PATH: its last element is the sibling
    of the top split, on the right when m < k and on the left otherwise.
    """
    if n == 1:
        return leaf if not proof else None
    if not proof:
        return None
    k = _k(n)
    *inner, last = proof
    if m < k:
        below = ref_root_from_path(m, k, leaf, inner)
        return None if below is None else ref_node(below, last)
    below = ref_root_from_path(m - k, n - k, leaf, inner)
    return None if below is None else ref_node(last, below)


def ref_roots_from_subproof(
    m: int, n: int, b: bool, proof: Sequence[bytes], old_root: bytes
) -> tuple[bytes, bytes] | None:
    """The (old root, new root) SUBPROOF(m, D[n], b) implies, or None if the shape is wrong.

    When SUBPROOF stops with b true the subtree is the whole old tree, whose hash
    the verifier already knows (``old_root``).
    """
    if m == n:
        if b:
            return (old_root, old_root) if not proof else None
        return (proof[0], proof[0]) if len(proof) == 1 else None
    if not proof:
        return None
    k = _k(n)
    *inner, last = proof
    if m <= k:
        below = ref_roots_from_subproof(m, k, b, inner, old_root)
        return None if below is None else (below[0], ref_node(below[1], last))
    below = ref_roots_from_subproof(m - k, n - k, False, inner, old_root)
    return None if below is None else (ref_node(last, below[0]), ref_node(last, below[1]))


def ref_consistency_ok(m: int, n: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    if not 0 < m <= n:
        return False
    if m == n:
        return not proof and old_root == new_root
    roots = ref_roots_from_subproof(m, n, True, proof, old_root)
    return roots == (old_root, new_root)


# --- helpers -----------------------------------------------------------------------------------


def build_store(leaves: Sequence[bytes]) -> tuple[dict[Node, bytes], list[bytes]]:
    """Append every leaf and keep every node the module says it completed."""
    store: dict[Node, bytes] = {}
    frontier: list[bytes] = []
    for size, leaf in enumerate(leaves):
        store[(0, size)] = leaf
        completed = append_leaf(frontier, size, leaf)
        for level, h in enumerate(completed, start=1):
            node = (level, size >> level)
            assert node not in store, f"node {node} completed twice"
            store[node] = h
    return store, frontier


def inclusion_proof(m: int, n: int, store: dict[Node, bytes]) -> list[bytes]:
    return [range_hash(a, b, store) for a, b in inclusion_ranges(m, n)]


def consistency_proof(m: int, n: int, store: dict[Node, bytes]) -> list[bytes]:
    return [range_hash(a, b, store) for a, b in consistency_ranges(m, n)]


def flip(data: bytes, pos: int) -> bytes:
    return data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1 :]


hashes = st.binary(min_size=32, max_size=32)
# Distinct leaves: with repeated leaves two different positions can genuinely share a proof.
leaf_lists = st.lists(st.binary(max_size=8), min_size=1, max_size=48, unique=True).map(
    lambda ds: [ref_leaf(d) for d in ds]
)


# --- RFC 6962 hasher vectors -------------------------------------------------------------------
# From transparency-dev/merkle, rfc6962/rfc6962_test.go (TestRFC6962Hasher).


def test_rfc6962_hasher_vectors() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root_of([]) == EMPTY_ROOT
    assert leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert leaf_hash(b"L123456").hex() == "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    assert node_hash(b"N123", b"N456").hex() == "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"


# --- the 8-leaf certificate-transparency vectors -----------------------------------------------
# From transparency-dev/merkle, proof/verify_test.go (vars `leaves`, `roots`,
# `inclusionProofs`, `consistencyProofs`); the same data as the C++ and Go
# certificate-transparency merkle tree tests.  There, inclusion vectors give the
# leaf as a 1-based number; here they are converted to 0-based indices.

CT_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
CT_ROOTS = [
    bytes.fromhex(h)
    for h in [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
]
# (0-based leaf index, tree size, proof)
CT_INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
# (old size, new size, proof)
CT_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
CT_LEAF_HASHES = [leaf_hash(d) for d in CT_LEAVES]
CT_STORE, _ = build_store(CT_LEAF_HASHES)
# Not a hash of anything here; transparency-dev/merkle proof/verify_test.go `sha256SomeHash`.
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


@pytest.mark.parametrize("size", range(1, 9))
def test_ct_roots(size: int) -> None:
    assert root_of(CT_LEAF_HASHES[:size]) == CT_ROOTS[size - 1]
    # the reference agrees with the published value too (so it can be trusted below)
    assert ref_mth(CT_LEAF_HASHES[:size]) == CT_ROOTS[size - 1]
    frontier: list[bytes] = []
    for i, leaf in enumerate(CT_LEAF_HASHES[:size]):
        append_leaf(frontier, i, leaf)
    assert root_from_frontier(frontier) == CT_ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "proof_hex"), CT_INCLUSION)
def test_ct_inclusion_vectors(index: int, size: int, proof_hex: list[str]) -> None:
    want = [bytes.fromhex(h) for h in proof_hex]
    assert inclusion_proof(index, size, CT_STORE) == want
    assert ref_path(index, CT_LEAF_HASHES[:size]) == want
    root = CT_ROOTS[size - 1]
    leaf = CT_LEAF_HASHES[index]
    assert root_from_inclusion_proof(index, size, leaf, want) == root
    verify_inclusion(index, size, leaf, want, root)


@pytest.mark.parametrize(("old", "new", "proof_hex"), CT_CONSISTENCY)
def test_ct_consistency_vectors(old: int, new: int, proof_hex: list[str]) -> None:
    want = [bytes.fromhex(h) for h in proof_hex]
    assert consistency_proof(old, new, CT_STORE) == want
    assert ref_proof(old, CT_LEAF_HASHES[:new]) == want
    verify_consistency(old, new, CT_ROOTS[old - 1], CT_ROOTS[new - 1], want)


def _inclusion_probes(
    index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes
) -> Iterator[tuple[str, int, int, bytes, list[bytes], bytes]]:
    """The corruptions transparency-dev/merkle's verify_test.go applies (corruptInclusionProof)."""
    yield "index - 1", index - 1, size, leaf, proof, root
    yield "index + 1", index + 1, size, leaf, proof, root
    yield "index ^ 2", index ^ 2, size, leaf, proof, root
    yield "size * 2", index, size * 2, leaf, proof, root
    yield "size // 2", index, size // 2, leaf, proof, root
    yield "wrong leaf", index, size, b"WrongLeaf", proof, root
    yield "empty root", index, size, leaf, proof, EMPTY_ROOT
    yield "random root", index, size, leaf, proof, SOME_HASH
    yield "trailing garbage", index, size, leaf, [*proof, b""], root
    yield "trailing root", index, size, leaf, [*proof, root], root
    yield "preceding garbage", index, size, leaf, [b"", *proof], root
    yield "preceding root", index, size, leaf, [root, *proof], root
    for i in range(len(proof)):
        for pos in (0, 31):
            bad = list(proof)
            bad[i] = flip(bad[i], pos)
            yield f"flipped byte {pos} of proof[{i}]", index, size, leaf, bad, root
    if proof:
        yield "removed last", index, size, leaf, proof[:-1], root
        yield "removed first", index, size, leaf, proof[1:], root
    if len(proof) > 1:
        yield "inserted", index, size, leaf, [proof[0], SOME_HASH, *proof[1:]], root


@pytest.mark.parametrize(("index", "size", "proof_hex"), [v for v in CT_INCLUSION if v[1] > 1])
def test_ct_inclusion_corruptions_are_refused(index: int, size: int, proof_hex: list[str]) -> None:
    proof = [bytes.fromhex(h) for h in proof_hex]
    root = CT_ROOTS[size - 1]
    leaf = CT_LEAF_HASHES[index]
    for desc, i, n, lf, pr, rt in _inclusion_probes(index, size, leaf, proof, root):
        with pytest.raises(ProofError):
            verify_inclusion(i, n, lf, pr, rt)
            pytest.fail(f"accepted: {desc}")


@pytest.mark.parametrize(("old", "new", "proof_hex"), [v for v in CT_CONSISTENCY if v[2]])
def test_ct_consistency_corruptions_are_refused(old: int, new: int, proof_hex: list[str]) -> None:
    """The corruptions of verify_test.go's corruptConsistencyProof, plus byte flips."""
    proof = [bytes.fromhex(h) for h in proof_hex]
    r1, r2 = CT_ROOTS[old - 1], CT_ROOTS[new - 1]
    probes: list[tuple[str, int, int, bytes, bytes, list[bytes]]] = [
        ("old - 1", old - 1, new, r1, r2, proof),
        ("old + 1", old + 1, new, r1, r2, proof),
        ("old ^ 2", old ^ 2, new, r1, r2, proof),
        ("new * 2", old, new * 2, r1, r2, proof),
        ("new // 2", old, new // 2, r1, r2, proof),
        ("wrong old root", old, new, b"WrongRoot", r2, proof),
        ("wrong new root", old, new, r1, b"WrongRoot", proof),
        ("swapped roots", old, new, r2, r1, proof),
        ("empty proof", old, new, r1, r2, []),
        ("trailing garbage", old, new, r1, r2, [*proof, b""]),
        ("trailing old root", old, new, r1, r2, [*proof, r1]),
        ("trailing new root", old, new, r1, r2, [*proof, r2]),
        ("preceding garbage", old, new, r1, r2, [b"", *proof]),
        ("preceding old root", old, new, r1, r2, [r1, *proof]),
        ("preceding new root", old, new, r1, r2, [r2, *proof]),
        ("preceding proof[0]", old, new, r1, r2, [proof[0], *proof]),
        ("truncated", old, new, r1, r2, proof[:-1]),
        ("dropped first", old, new, r1, r2, proof[1:]),
    ]
    for i in range(len(proof)):
        for pos in (0, 17, 31):
            bad = list(proof)
            bad[i] = flip(bad[i], pos)
            probes.append((f"flipped byte {pos} of proof[{i}]", old, new, r1, r2, bad))
    for desc, m, n, o, w, pr in probes:
        with pytest.raises(ProofError):
            verify_consistency(m, n, o, w, pr)
            pytest.fail(f"accepted: {desc}")


# --- which stored nodes a proof needs --------------------------------------------------------
# Node lists from transparency-dev/merkle, proof/proof_test.go (TestInclusion,
# TestConsistency), written as NewNodeID(level, index).  There a group of
# nodes that is hashed together into one proof element (their `rehash(begin,
# end)` span) is listed bottom-up; here each proof element is the list
# range_nodes gives for its range, i.e. the same nodes left to right.

GO_INCLUSION_NODES: list[tuple[int, int, list[list[Node]]]] = [
    # (size, index, nodes per proof element)
    (1, 0, []),
    (2, 0, [[(0, 1)]]),
    (2, 1, [[(0, 0)]]),
    (3, 1, [[(0, 0)], [(0, 2)]]),
    (7, 0, [[(0, 1)], [(1, 1)], [(1, 2), (0, 6)]]),
    (7, 1, [[(0, 0)], [(1, 1)], [(1, 2), (0, 6)]]),
    (7, 2, [[(0, 3)], [(1, 0)], [(1, 2), (0, 6)]]),
    (7, 3, [[(0, 2)], [(1, 0)], [(1, 2), (0, 6)]]),
    (7, 4, [[(0, 5)], [(0, 6)], [(2, 0)]]),
    (7, 5, [[(0, 4)], [(0, 6)], [(2, 0)]]),
    (7, 6, [[(1, 2)], [(2, 0)]]),
    (4, 2, [[(0, 3)], [(1, 0)]]),
    (5, 3, [[(0, 2)], [(1, 0)], [(0, 4)]]),
    (6, 3, [[(0, 2)], [(1, 0)], [(1, 2)]]),
    (6, 4, [[(0, 5)], [(2, 0)]]),
    (15, 10, [[(0, 11)], [(1, 4)], [(1, 6), (0, 14)], [(3, 0)]]),
    (31, 24, [[(0, 25)], [(1, 13)], [(1, 14), (0, 30)], [(3, 2)], [(4, 0)]]),
    (
        95,
        81,
        [[(0, 80)], [(1, 41)], [(2, 21)], [(2, 22), (1, 46), (0, 94)], [(4, 4)], [(6, 0)]],
    ),
]

GO_CONSISTENCY_NODES: list[tuple[int, int, list[list[Node]]]] = [
    # (old size, new size, nodes per proof element)
    (1, 2, [[(0, 1)]]),
    (1, 4, [[(0, 1)], [(1, 1)]]),
    (1, 6, [[(0, 1)], [(1, 1)], [(1, 2)]]),
    (2, 3, [[(0, 2)]]),
    (2, 8, [[(1, 1)], [(2, 1)]]),
    (3, 7, [[(0, 2)], [(0, 3)], [(1, 0)], [(1, 2), (0, 6)]]),
    (4, 7, [[(1, 2), (0, 6)]]),
    (5, 7, [[(0, 4)], [(0, 5)], [(0, 6)], [(2, 0)]]),
    (6, 7, [[(1, 2)], [(0, 6)], [(2, 0)]]),
    (7, 8, [[(0, 6)], [(0, 7)], [(1, 2)], [(2, 0)]]),
    (1, 1, []),
    (2, 2, []),
    (3, 3, []),
    (4, 4, []),
    (5, 5, []),
    (7, 7, []),
    (8, 8, []),
    (2, 4, [[(1, 1)]]),
    (3, 5, [[(0, 2)], [(0, 3)], [(1, 0)], [(0, 4)]]),
    (3, 6, [[(0, 2)], [(0, 3)], [(1, 0)], [(1, 2)]]),
    (4, 6, [[(1, 2)]]),
    (1, 7, [[(0, 1)], [(1, 1)], [(1, 2), (0, 6)]]),
    (10, 15, [[(1, 4)], [(1, 5)], [(1, 6), (0, 14)], [(3, 0)]]),
    (24, 31, [[(3, 2)], [(2, 6), (1, 14), (0, 30)], [(4, 0)]]),
    (
        81,
        95,
        [
            [(0, 80)],
            [(0, 81)],
            [(1, 41)],
            [(2, 21)],
            [(2, 22), (1, 46), (0, 94)],
            [(4, 4)],
            [(6, 0)],
        ],
    ),
]


@pytest.mark.parametrize(("size", "index", "want"), GO_INCLUSION_NODES)
def test_inclusion_nodes_match_transparency_dev(size: int, index: int, want: list) -> None:
    ranges = inclusion_ranges(index, size)
    assert [range_nodes(a, b) for a, b in ranges] == want
    assert proof_nodes(ranges) == {node for group in want for node in group}


@pytest.mark.parametrize(("old", "new", "want"), GO_CONSISTENCY_NODES)
def test_consistency_nodes_match_transparency_dev(old: int, new: int, want: list) -> None:
    ranges = consistency_ranges(old, new)
    assert [range_nodes(a, b) for a, b in ranges] == want
    assert proof_nodes(ranges) == {node for group in want for node in group}


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (2, 1), (3, 0), (8, 7), (7, 7), (-1, 5)])
def test_inclusion_ranges_refuse_bad_sizes(index: int, size: int) -> None:
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_ranges(index, size)


@pytest.mark.parametrize(("old", "new"), [(5, 0), (9, 8), (0, 0), (0, 5), (-1, 3), (2, 1)])
def test_consistency_ranges_refuse_bad_sizes(old: int, new: int) -> None:
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_ranges(old, new)


@pytest.mark.parametrize(("start", "end"), [(1, 3), (1, 4), (3, 7), (2, 8), (6, 10), (4, 12)])
def test_range_nodes_refuse_unaligned_ranges(start: int, end: int) -> None:
    with pytest.raises(ValueError, match="aligned"):
        range_nodes(start, end)


def test_range_nodes_examples() -> None:
    assert range_nodes(0, 0) == []
    assert range_nodes(5, 5) == []
    assert range_nodes(0, 1) == [(0, 0)]
    assert range_nodes(3, 4) == [(0, 3)]
    assert range_nodes(0, 8) == [(3, 0)]
    assert range_nodes(8, 16) == [(3, 1)]
    assert range_nodes(4, 7) == [(1, 2), (0, 6)]
    assert range_nodes(64, 95) == [(4, 4), (3, 10), (2, 22), (1, 46), (0, 94)]
    assert range_hash(3, 3, {}) == EMPTY_ROOT


@given(level=st.integers(0, 20), index=st.integers(0, 10_000))
@SETTINGS
def test_range_nodes_of_a_perfect_subtree_is_that_node(level: int, index: int) -> None:
    assert range_nodes(index << level, (index + 1) << level) == [(level, index)]


def _pieces(length: int) -> list[tuple[int, int]]:
    """(offset, size) of the perfect pieces MTH splits a range of ``length`` leaves into."""
    out = []
    off = 0
    while length:
        k = length if length & (length - 1) == 0 else _k(length)
        out.append((off, k))
        off += k
        length -= k
    return out


@given(start=st.integers(0, 300), length=st.integers(0, 300))
@SETTINGS
def test_range_nodes_are_the_mth_pieces_when_aligned(start: int, length: int) -> None:
    pieces = _pieces(length)
    aligned = all((start + off) % size == 0 for off, size in pieces)
    if not aligned:
        with pytest.raises(ValueError, match="aligned"):
            range_nodes(start, start + length)
        return
    want = [(size.bit_length() - 1, (start + off) // size) for off, size in pieces]
    assert range_nodes(start, start + length) == want


@given(leaves=st.lists(hashes, min_size=1, max_size=64), data=st.data())
@SETTINGS
def test_range_hash_is_mth_of_the_range(leaves: list[bytes], data: st.DataObject) -> None:
    store, _ = build_store(leaves)
    n = len(leaves)
    # ranges a proof can ask for: a perfect aligned subtree, or a right edge [start, n)
    level = data.draw(st.integers(0, n.bit_length() - 1), label="level")
    index = data.draw(st.integers(0, (n >> level) - 1), label="index")
    lo, hi = index << level, (index + 1) << level
    assert range_hash(lo, hi, store) == ref_mth(leaves[lo:hi])
    start = 0
    for lv in frontier_levels(n):
        assert range_hash(start, n, store) == ref_mth(leaves[start:])
        start += 1 << lv


# --- appending, frontier and completing_seq ----------------------------------------------------


def test_frontier_levels_examples() -> None:
    assert frontier_levels(0) == []
    assert frontier_levels(1) == [0]
    assert frontier_levels(2) == [1]
    assert frontier_levels(6) == [2, 1]
    assert frontier_levels(7) == [2, 1, 0]
    assert frontier_levels(8) == [3]
    assert frontier_levels(95) == [6, 4, 3, 2, 1, 0]


@given(size=st.integers(0, 2**40))
@SETTINGS
def test_frontier_levels_decompose_the_size(size: int) -> None:
    levels = frontier_levels(size)
    assert sum(1 << lv for lv in levels) == size
    assert all(a > b for a, b in pairwise(levels))


def test_completing_seq_examples() -> None:
    assert completing_seq((0, 0)) == 1
    assert completing_seq((0, 6)) == 7
    assert completing_seq((1, 0)) == 2
    assert completing_seq((1, 2)) == 6
    assert completing_seq((2, 1)) == 8
    assert completing_seq((3, 2)) == 24
    assert completing_seq((6, 0)) == 64


@given(leaves=leaf_lists)
@SETTINGS
def test_append_leaf_builds_the_reference_tree(leaves: list[bytes]) -> None:
    store: dict[Node, bytes] = {}
    frontier: list[bytes] = []
    for size, leaf in enumerate(leaves):
        seq = size + 1
        completed = append_leaf(frontier, size, leaf)
        # one completed node per trailing one bit of the old size
        trailing_ones = (size ^ (size + 1)).bit_length() - 1
        assert len(completed) == trailing_ones
        for level, h in enumerate(completed, start=1):
            node = (level, size >> level)
            assert completing_seq(node) == seq
            lo, hi = node[1] << level, (node[1] + 1) << level
            assert h == ref_mth(leaves[lo:hi])
            store[node] = h
        assert completing_seq((0, size)) == seq
        store[(0, size)] = leaf
        # frontier: the perfect subtrees of a tree of `seq` leaves, left to right
        levels = frontier_levels(seq)
        assert len(frontier) == len(levels)
        start = 0
        for level, h in zip(levels, frontier, strict=True):
            assert h == ref_mth(leaves[start : start + (1 << level)])
            start += 1 << level
        assert root_from_frontier(frontier) == ref_mth(leaves[:seq])
    # every perfect subtree of the final tree was stored, and nothing else
    n = len(leaves)
    expected = {(level, index) for level in range(n.bit_length()) for index in range(n >> level)}
    assert set(store) == expected
    assert all(completing_seq(node) <= n for node in store)


@given(leaves=st.lists(hashes, max_size=70))
@SETTINGS
def test_root_of_equals_reference(leaves: list[bytes]) -> None:
    assert root_of(leaves) == ref_mth(leaves)


# --- proofs from stored nodes equal the reference -----------------------------------------------


@given(leaves=leaf_lists, data=st.data())
@SETTINGS
def test_inclusion_proof_from_store_equals_reference(leaves: list[bytes], data: st.DataObject) -> None:
    store, _ = build_store(leaves)
    n = data.draw(st.integers(1, len(leaves)), label="size")
    m = data.draw(st.integers(0, n - 1), label="index")
    ranges = inclusion_ranges(m, n)
    # a proof for size n only needs nodes that existed once n leaves did
    assert all(completing_seq(node) <= n for node in proof_nodes(ranges))
    proof = inclusion_proof(m, n, store)
    assert proof == ref_path(m, leaves[:n])
    root = ref_mth(leaves[:n])
    assert root_from_inclusion_proof(m, n, leaves[m], proof) == root
    verify_inclusion(m, n, leaves[m], proof, root)


@given(leaves=leaf_lists, data=st.data())
@SETTINGS
def test_consistency_proof_from_store_equals_reference(leaves: list[bytes], data: st.DataObject) -> None:
    store, _ = build_store(leaves)
    n = data.draw(st.integers(1, len(leaves)), label="new size")
    m = data.draw(st.integers(1, n), label="old size")
    ranges = consistency_ranges(m, n)
    assert all(completing_seq(node) <= n for node in proof_nodes(ranges))
    proof = consistency_proof(m, n, store)
    assert proof == ref_proof(m, leaves[:n])
    verify_consistency(m, n, ref_mth(leaves[:m]), ref_mth(leaves[:n]), proof)


# --- verification: differential against the recursive definitions ------------------------------


def ref_path_len(m: int, n: int) -> int:
    if n == 1:
        return 0
    k = _k(n)
    return 1 + (ref_path_len(m, k) if m < k else ref_path_len(m - k, n - k))


def ref_subproof_len(m: int, n: int, b: bool = True) -> int:
    if m == n:
        return 0 if b else 1
    k = _k(n)
    return 1 + (ref_subproof_len(m, k, b) if m <= k else ref_subproof_len(m - k, n - k, False))


@given(n=st.integers(1, 300), leaf=hashes, data=st.data())
@SETTINGS
def test_root_from_inclusion_proof_matches_recursive_definition(n: int, leaf: bytes, data: st.DataObject) -> None:
    """For any proof bytes, the iterative §2.1.3.2 algorithm implies the same root as PATH."""
    m = data.draw(st.integers(0, n - 1), label="index")
    want_len = ref_path_len(m, n)
    length = data.draw(st.integers(max(0, want_len - 1), want_len + 1), label="length")
    proof = data.draw(st.lists(hashes, min_size=length, max_size=length), label="proof")
    want = ref_root_from_path(m, n, leaf, proof)
    assert (want is None) == (length != want_len)
    if want is None:
        with pytest.raises(ProofError):
            root_from_inclusion_proof(m, n, leaf, proof)
    else:
        assert root_from_inclusion_proof(m, n, leaf, proof) == want
        verify_inclusion(m, n, leaf, proof, want)
        with pytest.raises(ProofError):
            verify_inclusion(m, n, leaf, proof, flip(want, 5))


@given(n=st.integers(2, 300), old_root=hashes, other=hashes, data=st.data())
@SETTINGS
def test_verify_consistency_matches_recursive_definition(
    n: int, old_root: bytes, other: bytes, data: st.DataObject
) -> None:
    """For any proof bytes, §2.1.4.2 accepts exactly the root pair SUBPROOF's shape implies."""
    m = data.draw(st.integers(1, n - 1), label="old size")
    want_len = ref_subproof_len(m, n)
    length = data.draw(st.integers(max(0, want_len - 1), want_len + 1), label="length")
    proof = data.draw(st.lists(hashes, min_size=length, max_size=length), label="proof")
    roots = ref_roots_from_subproof(m, n, True, proof, old_root)
    assert (roots is None) == (length != want_len)
    if roots is not None:
        verify_consistency(m, n, roots[0], roots[1], proof)
        with pytest.raises(ProofError):
            verify_consistency(m, n, roots[0], flip(roots[1], 0), proof)
        with pytest.raises(ProofError):
            verify_consistency(m, n, flip(roots[0], 0), roots[1], proof)
    # with a root pair the proof does not imply, it refuses
    assume(roots is None or roots[1] != other)
    with pytest.raises(ProofError):
        verify_consistency(m, n, old_root, other, proof)


@given(leaves=leaf_lists, data=st.data())
@SETTINGS
def test_corrupted_inclusion_proofs_are_refused(leaves: list[bytes], data: st.DataObject) -> None:
    store, _ = build_store(leaves)
    n = data.draw(st.integers(1, len(leaves)), label="size")
    m = data.draw(st.integers(0, n - 1), label="index")
    proof = inclusion_proof(m, n, store)
    root = ref_mth(leaves[:n])
    leaf = leaves[m]

    if proof:
        i = data.draw(st.integers(0, len(proof) - 1), label="element")
        pos = data.draw(st.integers(0, 31), label="byte")
        bad = list(proof)
        bad[i] = flip(bad[i], pos)
        with pytest.raises(ProofError):
            verify_inclusion(m, n, leaf, bad, root)
        with pytest.raises(ProofError):
            verify_inclusion(m, n, leaf, proof[:-1], root)
        with pytest.raises(ProofError):
            verify_inclusion(m, n, leaf, proof[1:], root)
    extra = data.draw(hashes, label="extra")
    with pytest.raises(ProofError):
        verify_inclusion(m, n, leaf, [*proof, extra], root)
    with pytest.raises(ProofError):
        verify_inclusion(m, n, leaf, [extra, *proof], root)
    with pytest.raises(ProofError):
        verify_inclusion(m, n, flip(leaf, 0), proof, root)
    with pytest.raises(ProofError):
        verify_inclusion(m, n, leaf, proof, flip(root, 31))

    # a wrong index never verifies: its path takes a different turn somewhere
    wrong = data.draw(st.integers(0, 2 * n).filter(lambda x: x != m), label="wrong index")
    with pytest.raises(ProofError):
        verify_inclusion(wrong, n, leaf, proof, root)

    # a wrong size verifies only if PATH for that size has exactly the same shape
    # (e.g. leaf 0 of 3 and of 4 leaves); the checkpoint, not the proof, binds the size
    wrong_n = data.draw(st.integers(m + 1, 2 * n + 1).filter(lambda x: x != n), label="size")
    if ref_root_from_path(m, wrong_n, leaf, proof) == root:
        verify_inclusion(m, wrong_n, leaf, proof, root)
    else:
        with pytest.raises(ProofError):
            verify_inclusion(m, wrong_n, leaf, proof, root)


def test_wrong_size_with_the_same_path_shape_is_indistinguishable() -> None:
    """The limit above, concretely: PATH(0, D[3]) has the shape of PATH(0, D[4])."""
    proof = inclusion_proof(0, 3, CT_STORE)
    verify_inclusion(0, 4, CT_LEAF_HASHES[0], proof, CT_ROOTS[2])
    with pytest.raises(ProofError):
        verify_inclusion(0, 4, CT_LEAF_HASHES[0], proof, CT_ROOTS[3])
    with pytest.raises(ProofError):
        verify_inclusion(2, 4, CT_LEAF_HASHES[2], inclusion_proof(2, 3, CT_STORE), CT_ROOTS[2])


@given(leaves=leaf_lists, data=st.data())
@SETTINGS
def test_corrupted_consistency_proofs_are_refused(leaves: list[bytes], data: st.DataObject) -> None:
    assume(len(leaves) >= 2)
    store, _ = build_store(leaves)
    n = data.draw(st.integers(2, len(leaves)), label="new size")
    m = data.draw(st.integers(1, n - 1), label="old size")
    proof = consistency_proof(m, n, store)
    assert proof, "a proof between different sizes is never empty"
    old_root, new_root = ref_mth(leaves[:m]), ref_mth(leaves[:n])

    i = data.draw(st.integers(0, len(proof) - 1), label="element")
    pos = data.draw(st.integers(0, 31), label="byte")
    bad = list(proof)
    bad[i] = flip(bad[i], pos)
    extra = data.draw(hashes, label="extra")
    for desc, pr in [
        ("flipped byte", bad),
        ("truncated", proof[:-1]),
        ("dropped first", proof[1:]),
        ("extended", [*proof, extra]),
        ("prefixed", [extra, *proof]),
        ("empty", []),
    ]:
        with pytest.raises(ProofError):
            verify_consistency(m, n, old_root, new_root, pr)
            pytest.fail(f"accepted: {desc}")
    with pytest.raises(ProofError):
        verify_consistency(m, n, flip(old_root, 0), new_root, proof)
    with pytest.raises(ProofError):
        verify_consistency(m, n, old_root, flip(new_root, 0), proof)
    with pytest.raises(ProofError):
        verify_consistency(m, n, new_root, old_root, proof)

    # wrong sizes: refused unless PROOF for those sizes has the same shape and
    # implies the same two roots (sizes are bound by the checkpoints, not the proof)
    m2 = data.draw(st.integers(0, n + 2).filter(lambda x: x != m), label="wrong old size")
    n2 = data.draw(st.integers(0, 2 * n + 1).filter(lambda x: x != n), label="wrong new size")
    for a, b in [(m2, n), (m, n2), (m2, n2)]:
        if ref_consistency_ok(a, b, old_root, new_root, proof):
            verify_consistency(a, b, old_root, new_root, proof)
        else:
            with pytest.raises(ProofError):
                verify_consistency(a, b, old_root, new_root, proof)


@given(size=st.integers(1, 100), r1=hashes, r2=hashes, extra=hashes)
@SETTINGS
def test_equal_sizes(size: int, r1: bytes, r2: bytes, extra: bytes) -> None:
    verify_consistency(size, size, r1, r1, [])
    assume(r1 != r2)
    with pytest.raises(ProofError, match="different roots"):
        verify_consistency(size, size, r1, r2, [])
    with pytest.raises(ProofError, match="must be empty"):
        verify_consistency(size, size, r1, r1, [extra])


@pytest.mark.parametrize(("old", "new"), [(0, 0), (0, 1), (1, 0), (2, 1), (-1, 4)])
def test_verify_consistency_refuses_bad_sizes(old: int, new: int) -> None:
    with pytest.raises(ProofError, match="cannot be consistent"):
        verify_consistency(old, new, EMPTY_ROOT, EMPTY_ROOT, [])


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (2, 1), (1, 1), (-1, 3)])
def test_verify_inclusion_refuses_index_outside_tree(index: int, size: int) -> None:
    # transparency-dev/merkle verify_test.go TestVerifyInclusion probes, plus a negative index
    with pytest.raises(ProofError, match="outside a tree"):
        verify_inclusion(index, size, SOME_HASH, [], EMPTY_ROOT)


def test_single_leaf_tree() -> None:
    # transparency-dev/merkle verify_test.go TestVerifyInclusionSingleEntry; its last
    # case (empty leaf and empty root, refused there for the hash size) is left out:
    # this module does not check hash lengths, and leaf == root is a valid 1-leaf tree.
    h = leaf_hash(b"data")
    verify_inclusion(0, 1, h, [], h)
    for leaf, root in [(h, b""), (b"", h)]:
        with pytest.raises(ProofError):
            verify_inclusion(0, 1, leaf, [], root)


def test_proof_error_survives_a_contextmanager() -> None:
    """A ProofError raised inside a @contextmanager block must reach the caller as itself.

    contextlib assigns ``exc.__traceback__`` while unwinding; an exception class
    that forbids attribute assignment turns into FrozenInstanceError there.
    """

    @contextlib.contextmanager
    def transaction() -> Iterator[None]:
        yield

    with pytest.raises(ProofError) as info, transaction():
        verify_inclusion(0, 1, SOME_HASH, [], EMPTY_ROOT)
    assert "root" in str(info.value)
    assert info.value.reason == str(info.value)
