"""The Merkle maths against an independent reference written here from RFC 6962 2.1.

The reference works on raw leaf bytes with its own hashing, so a shared bug in
``leaf_hash``/``node_hash`` or in the split rule would not cancel out.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.audit import merkle

MAX_N = 20


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def reference_mth(leaves: list[bytes]) -> bytes:
    """MTH per RFC 6962 2.1, with k found by counting up rather than by bit tricks."""
    if not leaves:
        return _sha(b"")
    if len(leaves) == 1:
        return _sha(b"\x00" + leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return _sha(b"\x01" + reference_mth(leaves[:k]) + reference_mth(leaves[k:]))


def leaves_of(n: int) -> list[bytes]:
    return [f"leaf {i}".encode() for i in range(n)]


def hashes_of(n: int) -> list[bytes]:
    return [merkle.leaf_hash(d) for d in leaves_of(n)]


def test_known_vectors() -> None:
    # Written out by hand so the shape is visible: 3 leaves split 2 + 1.
    a, b, c = (_sha(b"\x00" + d) for d in (b"a", b"b", b"c"))
    ab = _sha(b"\x01" + a + b)
    assert merkle.root([]) == _sha(b"")
    assert merkle.root([a]) == a
    assert merkle.root([a, b]) == ab
    assert merkle.root([a, b, c]) == _sha(b"\x01" + ab + c)
    assert merkle.root([]).hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


@pytest.mark.parametrize("n", range(MAX_N + 1))
def test_root_matches_reference(n: int) -> None:
    assert merkle.root(hashes_of(n)) == reference_mth(leaves_of(n))


def test_roots_at_every_prefix_in_one_pass() -> None:
    sizes = range(MAX_N * 3)
    found = merkle.roots_at(hashes_of(MAX_N * 3), sizes)
    for size in sizes:
        assert found[size] == reference_mth(leaves_of(size)), size


@pytest.mark.parametrize("n", range(1, MAX_N + 1))
def test_every_inclusion_proof_verifies(n: int) -> None:
    hashes = hashes_of(n)
    expected = reference_mth(leaves_of(n))
    for index in range(n):
        proof = merkle.inclusion_proof(index, hashes)
        assert merkle.verify_inclusion(index, n, hashes[index], proof, expected), (index, n)


@pytest.mark.parametrize("n", range(1, MAX_N + 1))
def test_every_consistency_proof_verifies(n: int) -> None:
    hashes = hashes_of(n)
    new_root = reference_mth(leaves_of(n))
    for m in range(n + 1):
        proof = merkle.consistency_proof(m, hashes)
        old_root = reference_mth(leaves_of(m))
        assert merkle.verify_consistency(m, n, old_root, new_root, proof), (m, n)


def _flip(value: bytes) -> bytes:
    return bytes([value[0] ^ 1]) + value[1:]


@pytest.mark.parametrize("n", range(2, 12))
def test_tampered_inclusion_fails(n: int) -> None:
    hashes = hashes_of(n)
    good_root = merkle.root(hashes)
    for index in range(n):
        proof = merkle.inclusion_proof(index, hashes)
        assert not merkle.verify_inclusion(index, n, hashes[index], proof, _flip(good_root))
        assert not merkle.verify_inclusion(index, n, _flip(hashes[index]), proof, good_root)
        for j in range(len(proof)):
            bad = [*proof[:j], _flip(proof[j]), *proof[j + 1:]]
            assert not merkle.verify_inclusion(index, n, hashes[index], bad, good_root)
        assert not merkle.verify_inclusion(index, n, hashes[index], proof[:-1], good_root)
        assert not merkle.verify_inclusion(index, n, hashes[index], [*proof, proof[-1]],
                                           good_root)
        other = (index + 1) % n
        if hashes[other] != hashes[index]:
            assert not merkle.verify_inclusion(other, n, hashes[index], proof, good_root)
    assert not merkle.verify_inclusion(n, n, hashes[0], [], good_root)


@pytest.mark.parametrize("n", range(2, 12))
def test_tampered_consistency_fails(n: int) -> None:
    hashes = hashes_of(n)
    new_root = merkle.root(hashes)
    for m in range(1, n):
        proof = merkle.consistency_proof(m, hashes)
        old_root = merkle.root(hashes[:m])
        assert not merkle.verify_consistency(m, n, _flip(old_root), new_root, proof)
        assert not merkle.verify_consistency(m, n, old_root, _flip(new_root), proof)
        for j in range(len(proof)):
            bad = [*proof[:j], _flip(proof[j]), *proof[j + 1:]]
            assert not merkle.verify_consistency(m, n, old_root, new_root, bad), (m, n, j)
        assert not merkle.verify_consistency(m, n, old_root, new_root, [])
        assert not merkle.verify_consistency(m, n, old_root, new_root, proof[:-1])


def test_forked_history_is_not_consistent() -> None:
    honest = hashes_of(8)
    forked = [*honest[:3], merkle.leaf_hash(b"rewritten"), *honest[4:], merkle.leaf_hash(b"+")]
    for m in range(4, 8):
        proof = merkle.consistency_proof(m, forked)
        assert not merkle.verify_consistency(
            m, 9, merkle.root(honest[:m]), merkle.root(forked), proof)


def test_equal_and_empty_sizes() -> None:
    hashes = hashes_of(5)
    r = merkle.root(hashes)
    assert merkle.verify_consistency(5, 5, r, r, [])
    assert not merkle.verify_consistency(5, 5, r, _flip(r), [])
    assert not merkle.verify_consistency(5, 5, r, r, [r])
    assert merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, r, [])
    assert not merkle.verify_consistency(6, 5, r, r, [])


def test_out_of_range_requests_raise() -> None:
    with pytest.raises(ValueError, match="not in a tree"):
        merkle.inclusion_proof(3, hashes_of(3))
    with pytest.raises(ValueError, match="no consistency proof"):
        merkle.consistency_proof(4, hashes_of(3))


@given(st.lists(st.binary(max_size=8), min_size=1, max_size=70), st.data())
def test_proofs_hold_for_any_log(leaves: list[bytes], data: st.DataObject) -> None:
    n = len(leaves)
    hashes = [merkle.leaf_hash(d) for d in leaves]
    expected = reference_mth(leaves)
    assert merkle.root(hashes) == expected
    index = data.draw(st.integers(0, n - 1))
    proof = merkle.inclusion_proof(index, hashes)
    assert merkle.verify_inclusion(index, n, hashes[index], proof, expected)
    m = data.draw(st.integers(0, n))
    assert merkle.verify_consistency(
        m, n, reference_mth(leaves[:m]), expected, merkle.consistency_proof(m, hashes))
