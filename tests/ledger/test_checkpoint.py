"""Signed checkpoints: tlog-checkpoint bodies in Ed25519 signed notes."""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from habeas.ledger.checkpoint import (
    Checkpoint,
    CheckpointError,
    Signer,
    Verifier,
    load_key_file,
    parse_checkpoint,
    write_new_key_file,
)

ORIGIN = "habeas.example/cecot"
ROOT = bytes(range(32))
# base64.b64encode(bytes(range(32))), the standard encoding of 0x00..0x1f
ROOT_B64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer.generate(ORIGIN)


@pytest.fixture(scope="module")
def verifier(signer: Signer) -> Verifier:
    return Verifier.from_text(signer.verifier_key_text())


def _signed_text(signer: Signer, size: int = 7) -> str:
    return signer.sign(Checkpoint(ORIGIN, size, ROOT)).text


# --- bodies --------------------------------------------------------------------------------


def test_body_is_exact_tlog_checkpoint_text() -> None:
    assert Checkpoint(ORIGIN, 7, ROOT).body() == f"{ORIGIN}\n7\n{ROOT_B64}\n"
    # sha256(b"") in base64, the RFC 9162 root of the empty tree
    empty = base64.b64decode("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
    assert Checkpoint(ORIGIN, 0, empty).body() == (f"{ORIGIN}\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n")


def test_body_of_the_c2sp_example() -> None:
    # The note text of the example in https://c2sp.org/tlog-checkpoint
    # (C2SP/C2SP tlog-checkpoint.md).
    spec_body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    parsed = parse_checkpoint(spec_body)
    assert parsed.origin == "example.com/behind-the-sofa"
    assert parsed.size == 20852163
    assert parsed.root == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert parsed.extensions == ()
    assert parsed.body() == spec_body


def test_extension_lines_are_kept_and_signed() -> None:
    body = f"{ORIGIN}\n7\n{ROOT_B64}\nfirst extension\nsecond\n"
    parsed = parse_checkpoint(body)
    assert parsed.extensions == ("first extension", "second")
    assert parsed.body() == body
    signer = Signer.generate(ORIGIN)
    verifier = Verifier.from_text(signer.verifier_key_text())
    assert verifier.verify(signer.sign(parsed).text) == parsed


@pytest.mark.parametrize(
    ("body", "where", "rule_fragment"),
    [
        (f"{ORIGIN}\n7\n{ROOT_B64}", "checkpoint", "newline"),
        (f"{ORIGIN}\n7\n", "checkpoint", "origin, size and root"),
        (f"\n7\n{ROOT_B64}\n", "line 1 (origin)", "empty"),
        (f"{ORIGIN}\n007\n{ROOT_B64}\n", "line 2 (tree size)", "leading zeros"),
        (f"{ORIGIN}\n00\n{ROOT_B64}\n", "line 2 (tree size)", "leading zeros"),
        (f"{ORIGIN}\n-1\n{ROOT_B64}\n", "line 2 (tree size)", "sign"),
        (f"{ORIGIN}\n+7\n{ROOT_B64}\n", "line 2 (tree size)", "sign"),
        (f"{ORIGIN}\n 7\n{ROOT_B64}\n", "line 2 (tree size)", "digits"),
        (f"{ORIGIN}\n1_000\n{ROOT_B64}\n", "line 2 (tree size)", "digits"),
        (f"{ORIGIN}\n\u0663\n{ROOT_B64}\n", "line 2 (tree size)", "ASCII"),  # Arabic-Indic 3
        (f"{ORIGIN}\n\n{ROOT_B64}\n", "line 2 (tree size)", "digits"),
        (f"{ORIGIN}\n{2**64}\n{ROOT_B64}\n", "line 2 (tree size)", "2**64-1"),
        (f"{ORIGIN}\n7\n{base64.b64encode(bytes(31)).decode()}\n", "line 3 (root hash)", "32"),
        (f"{ORIGIN}\n7\n{base64.b64encode(bytes(33)).decode()}\n", "line 3 (root hash)", "32"),
        (f"{ORIGIN}\n7\n{ROOT_B64[:-1]}\n", "line 3 (root hash)", "base64"),
        (f"{ORIGIN}\n7\n{ROOT_B64[:-2]}9=\n", "line 3 (root hash)", "canonical"),
        (f"{ORIGIN}\n7\n{ROOT_B64}\n\nx\n", "line 4 (extension)", "empty"),
        (f"{ORIGIN}\r\n7\n{ROOT_B64}\n", "line 1 (origin)", "control"),
    ],
)
def test_parse_refuses_malformed_bodies(body: str, where: str, rule_fragment: str) -> None:
    with pytest.raises(CheckpointError) as info:
        parse_checkpoint(body)
    assert info.value.where == where
    assert rule_fragment in info.value.rule


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [
        ({"origin": "", "size": 1, "root": ROOT}, "origin"),
        ({"origin": "a\nb", "size": 1, "root": ROOT}, "origin"),
        ({"origin": ORIGIN, "size": -1, "root": ROOT}, "size"),
        ({"origin": ORIGIN, "size": 2**64, "root": ROOT}, "size"),
        ({"origin": ORIGIN, "size": True, "root": ROOT}, "size"),
        ({"origin": ORIGIN, "size": 1, "root": ROOT[:31]}, "root"),
        ({"origin": ORIGIN, "size": 1, "root": ROOT + b"\0"}, "root"),
        ({"origin": ORIGIN, "size": 1, "root": ROOT, "extensions": ("",)}, "extension line 1"),
    ],
)
def test_checkpoint_refuses_invalid_fields(kwargs: dict[str, object], where: str) -> None:
    with pytest.raises(CheckpointError) as info:
        Checkpoint(**kwargs)  # type: ignore[arg-type]
    assert info.value.where == where


# --- signing and verifying -----------------------------------------------------------------


def test_sign_verify_round_trip(signer: Signer, verifier: Verifier) -> None:
    checkpoint = Checkpoint(ORIGIN, 7, ROOT)
    signed = signer.sign(checkpoint)
    assert signed.checkpoint == checkpoint
    body, _, sig_lines = signed.text.partition("\n\n")
    assert body + "\n" == checkpoint.body()
    assert sig_lines.startswith(f"— {ORIGIN} ")
    assert sig_lines.endswith("\n")
    assert sig_lines.count("\n") == 1
    blob = base64.b64decode(sig_lines.split(" ")[2])
    assert blob[:4] == signer.key_hash
    assert len(blob) == 4 + 64
    assert verifier.verify(signed.text) == checkpoint


def _tamper_origin(text: str) -> str:
    return text.replace(f"{ORIGIN}\n7\n", "habeas.example/other\n7\n", 1)


def _tamper_size(text: str) -> str:
    return text.replace(f"{ORIGIN}\n7\n", f"{ORIGIN}\n8\n", 1)


def _tamper_root(text: str) -> str:
    other = base64.b64encode(bytes(32)).decode()
    return text.replace(f"\n{ROOT_B64}\n", f"\n{other}\n", 1)


def _tamper_signature(text: str) -> str:
    head, _, blob64 = text.rstrip("\n").rpartition(" ")
    blob = bytearray(base64.b64decode(blob64))
    blob[-1] ^= 0x01
    return f"{head} {base64.b64encode(bytes(blob)).decode()}\n"


@pytest.mark.parametrize("tamper", [_tamper_origin, _tamper_size, _tamper_root, _tamper_signature])
def test_tampering_is_rejected(signer: Signer, verifier: Verifier, tamper: Callable[[str], str]) -> None:
    text = _signed_text(signer)
    tampered = tamper(text)
    assert tampered != text
    with pytest.raises(CheckpointError, match="does not verify") as info:
        verifier.verify(tampered)
    assert info.value.where == "signature line 1"


def test_same_name_different_key_is_rejected(signer: Signer, verifier: Verifier) -> None:
    impostor = Signer.generate(signer.name)
    assert impostor.key_hash != signer.key_hash
    with pytest.raises(CheckpointError, match="no signature by key") as info:
        verifier.verify(_signed_text(impostor))
    assert info.value.where == "signed note"


def test_other_key_claiming_our_key_hash_is_rejected(signer: Signer, verifier: Verifier) -> None:
    impostor = Signer.generate(signer.name)
    forged_sig = base64.b64decode(_signed_text(impostor).rstrip("\n").rpartition(" ")[2])[4:]
    body = Checkpoint(ORIGIN, 7, ROOT).body()
    forged_blob = base64.b64encode(signer.key_hash + forged_sig).decode()
    with pytest.raises(CheckpointError, match="does not verify"):
        verifier.verify(f"{body}\n— {signer.name} {forged_blob}\n")


def test_signature_only_by_unknown_keys_is_rejected(verifier: Verifier) -> None:
    stranger = Signer.generate("someone.else/log")
    with pytest.raises(CheckpointError, match="no signature by key"):
        verifier.verify(_signed_text(stranger))


def test_other_keys_signature_lines_are_ignored(signer: Signer, verifier: Verifier) -> None:
    checkpoint = Checkpoint(ORIGIN, 7, ROOT)
    body = checkpoint.body()
    witness = Signer.generate("witness.example/w1")
    same_name = Signer.generate(ORIGIN)
    ours = signer.signature_line(body)
    others = witness.signature_line(body) + same_name.signature_line(body)
    # A well-formed line whose signature would never verify under any key.
    junk = "— junk.example/log " + base64.b64encode(b"\x01\x02\x03\x04" + bytes(64)).decode()
    for sigs in (ours + others, others + ours, others + ours + junk + "\n"):
        assert verifier.verify(f"{body}\n{sigs}") == checkpoint


@pytest.mark.parametrize(
    ("note", "where"),
    [
        (f"{ORIGIN}\n7\n{ROOT_B64}\n", "signed note"),  # no signatures, no blank line
        (f"{ORIGIN}\n7\n{ROOT_B64}\n\n", "signed note"),  # blank line but no signatures
        (f"{ORIGIN}\n7\n{ROOT_B64}\n\n- {ORIGIN} AAAAAAA=\n", "signature line 1"),  # hyphen
        (f"{ORIGIN}\n7\n{ROOT_B64}\n\n—{ORIGIN} AAAAAAA=\n", "signature line 1"),  # no space
        (f"{ORIGIN}\n7\n{ROOT_B64}\n\n— {ORIGIN}\n", "signature line 1"),  # no signature
        (f"{ORIGIN}\n7\n{ROOT_B64}\n\n— {ORIGIN} not*base64\n", "signature line 1"),
        (f"{ORIGIN}\n7\n{ROOT_B64}\n\n— {ORIGIN} AAAA\n", "signature line 1"),  # too short
        (f"{ORIGIN}\n7\n{ROOT_B64}\n\n— a+b AAAAAAA=\n", "signature line 1"),  # '+' in name
    ],
)
def test_malformed_signed_notes_are_rejected(signer: Signer, verifier: Verifier, note: str, where: str) -> None:
    # Where there is a signature block, add a valid signature of ours after the malformed
    # line, so only the malformation can be what is refused.
    if "\n\n" in note and not note.endswith("\n\n"):
        note += signer.signature_line(Checkpoint(ORIGIN, 7, ROOT).body())
    with pytest.raises(CheckpointError) as info:
        verifier.verify(note)
    assert info.value.where == where


def test_missing_final_newline_is_rejected(signer: Signer, verifier: Verifier) -> None:
    text = _signed_text(signer)
    verifier.verify(text)
    with pytest.raises(CheckpointError, match="newline"):
        verifier.verify(text[:-1])


def test_signed_but_malformed_body_is_rejected(signer: Signer, verifier: Verifier) -> None:
    note = signer.sign_note(f"{ORIGIN}\n007\n{ROOT_B64}\n")
    with pytest.raises(CheckpointError) as info:
        verifier.verify(note)
    assert info.value.where == "line 2 (tree size)"


# --- keys ----------------------------------------------------------------------------------


def test_key_text_round_trip(signer: Signer) -> None:
    private = signer.private_key_text()
    public = signer.verifier_key_text()
    assert private.startswith(f"PRIVATE+KEY+{ORIGIN}+{signer.key_hash.hex()}+")
    assert public.startswith(f"{ORIGIN}+{signer.key_hash.hex()}+")
    assert len(signer.key_hash) == 4

    again = Signer.from_private_key_text(private)
    assert again.name == signer.name
    assert again.key_hash == signer.key_hash
    assert again.private_key_text() == private
    assert again.verifier_key_text() == public

    v = Verifier.from_text(public)
    assert (v.name, v.key_hash, v.verifier_key_text()) == (signer.name, signer.key_hash, public)
    # A signature by the reloaded signer verifies with the original's verifier key.
    assert v.verify(_signed_text(again)) == Checkpoint(ORIGIN, 7, ROOT)


def test_repr_does_not_reveal_the_private_key(signer: Signer) -> None:
    key64 = signer.private_key_text().rsplit("+", 1)[1]
    assert key64 not in repr(signer)
    assert signer.private_key_text() not in repr(signer)


@pytest.mark.parametrize("name", ["", "has space", "tab\there", "a+b", "nbsp\u00a0x", "nl\nx"])
def test_invalid_key_names_are_refused(name: str) -> None:
    with pytest.raises(CheckpointError, match="key name"):
        Signer.generate(name)


def _corrupt_hash(text: str) -> str:
    prefix, hash_hex, key64 = _split_key(text)
    wrong = f"{int(hash_hex, 16) ^ 1:08x}"
    return f"{prefix}+{wrong}+{key64}"


def _split_key(text: str) -> tuple[str, str, str]:
    private = text.startswith("PRIVATE+KEY+")
    parts = text.split("+", 4 if private else 2)
    key64 = parts[-1]
    hash_hex = parts[-2]
    prefix = "+".join(parts[:-2])
    return prefix, hash_hex, key64


def test_key_texts_with_wrong_hash_are_refused(signer: Signer) -> None:
    with pytest.raises(CheckpointError, match="does not match"):
        Signer.from_private_key_text(_corrupt_hash(signer.private_key_text()))
    with pytest.raises(CheckpointError, match="does not match"):
        Verifier.from_text(_corrupt_hash(signer.verifier_key_text()))


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t.removeprefix("PRIVATE+KEY+"),
        lambda t: t.replace("PRIVATE+KEY+", "PRIVATE+KEX+", 1),
        lambda t: t[:-4],  # truncated base64
        lambda t: t.rsplit("+", 1)[0],  # no key data
        lambda t: t.replace(t.split("+")[3], t.split("+")[3][:7], 1),  # 7 hex digits
    ],
)
def test_malformed_private_key_text_is_refused(signer: Signer, mangle: Callable[[str], str]) -> None:
    with pytest.raises(CheckpointError):
        Signer.from_private_key_text(mangle(signer.private_key_text()))


def test_wrong_algorithm_or_length_is_refused() -> None:
    # Key data for a fresh key, re-encoded with a wrong algorithm byte or a short key.
    signer = Signer.generate("n")
    key = base64.b64decode(signer.verifier_key_text().split("+", 2)[2])
    wrong_alg = base64.b64encode(bytes([2]) + key[1:]).decode()
    short = base64.b64encode(key[:-1]).decode()
    with pytest.raises(CheckpointError, match="algorithm"):
        Verifier.from_text(f"n+{signer.key_hash.hex()}+{wrong_alg}")
    with pytest.raises(CheckpointError, match="32 bytes"):
        Verifier.from_text(f"n+{signer.key_hash.hex()}+{short}")


def test_verifier_text_is_not_a_private_key_and_vice_versa(signer: Signer) -> None:
    with pytest.raises(CheckpointError):
        Signer.from_private_key_text(signer.verifier_key_text())
    with pytest.raises(CheckpointError):
        Verifier.from_text(signer.private_key_text())


# --- key files -----------------------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_key_file_is_0600_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "cecot.key"
    first = Signer.generate(ORIGIN)
    write_new_key_file(path, first)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    content = path.read_bytes()
    assert content == (first.private_key_text() + "\n").encode()

    second = Signer.generate(ORIGIN)
    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        write_new_key_file(path, second)
    assert path.read_bytes() == content
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    loaded = load_key_file(path)
    assert loaded.private_key_text() == first.private_key_text()
    assert loaded.key_hash == first.key_hash


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_key_file_mode_ignores_a_lax_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_new_key_file(tmp_path / "k", Signer.generate("n"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "k").stat().st_mode) == 0o600


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_key_file_refuses_a_symlink_in_the_way(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    (tmp_path / "k").symlink_to(target)
    with pytest.raises(FileExistsError):
        write_new_key_file(tmp_path / "k", Signer.generate("n"))
    assert not target.exists()


# --- published vectors ---------------------------------------------------------------------
# From Go's reference implementation of signed notes, golang/mod sumdb/note/note_test.go
# (TestNewVerifier, TestNewSigner, TestSign, TestOpen), also shown in sumdb/note/note.go's
# package documentation.

GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
GO_ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)


def test_go_vector_keys() -> None:
    signer = Signer.from_private_key_text(GO_SKEY)
    assert signer.name == "PeterNeumann"
    assert signer.key_hash == bytes.fromhex("c74f20a3")
    assert signer.verifier_key_text() == GO_VKEY
    assert signer.private_key_text() == GO_SKEY
    verifier = Verifier.from_text(GO_VKEY)
    assert (verifier.name, verifier.key_hash) == ("PeterNeumann", bytes.fromhex("c74f20a3"))
    enoch = Verifier.from_text(GO_ENOCH_VKEY)
    assert enoch.key_hash == bytes.fromhex("af0cfe78")


def test_go_vector_signature_is_reproduced() -> None:
    signer = Signer.from_private_key_text(GO_SKEY)
    assert signer.signature_line(GO_TEXT) == GO_PETER_SIG
    assert signer.sign_note(GO_TEXT) == GO_TEXT + "\n" + GO_PETER_SIG


def test_go_vector_notes_open() -> None:
    peter = Verifier.from_text(GO_VKEY)
    enoch = Verifier.from_text(GO_ENOCH_VKEY)
    assert peter.open_note(GO_TEXT + "\n" + GO_PETER_SIG) == GO_TEXT
    both = GO_TEXT + "\n" + GO_PETER_SIG + GO_ENOCH_SIG
    assert peter.open_note(both) == GO_TEXT
    assert enoch.open_note(both) == GO_TEXT
    with pytest.raises(CheckpointError, match="no signature by key EnochRoot"):
        enoch.open_note(GO_TEXT + "\n" + GO_PETER_SIG)
    # TestOpen's "Invalid signature" case (here the signature is 3 bytes too long).
    corrupt = GO_PETER_SIG[:60] + "ABCD" + GO_PETER_SIG[60:]
    with pytest.raises(CheckpointError, match="64 bytes") as info:
        peter.open_note(GO_TEXT + "\n" + corrupt)
    assert info.value.where == "signature line 1"
    # TestOpen's wrongHash case: the key hash no longer names Peter's key.
    wrong_hash = GO_PETER_SIG.replace("x08g", "xxxx")
    with pytest.raises(CheckpointError, match="no signature by key PeterNeumann"):
        peter.open_note(GO_TEXT + "\n" + wrong_hash)


@pytest.mark.parametrize(
    "msg",
    [  # TestOpen's badMsgs (all but the invalid-UTF-8 one, which a str cannot hold)
        GO_TEXT,
        GO_TEXT + "\n",
        GO_TEXT + "\n" + GO_PETER_SIG[:-1],
        "\x01" + GO_TEXT + "\n" + GO_PETER_SIG,
        GO_TEXT
        + "\n"
        + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKv"
        + "qfqdngotpRZb6KE6RyyBwJnAM=",
        GO_TEXT + "\n" + GO_PETER_SIG + "Unexpected line.\n",
    ],
)
def test_go_vector_malformed_notes_are_rejected(msg: str) -> None:
    with pytest.raises(CheckpointError):
        Verifier.from_text(GO_VKEY).open_note(msg)


@pytest.mark.parametrize("kind", ["verifier", "signer"])
def test_go_vector_manglings_of_keys_are_refused(kind: str) -> None:
    # TestNewVerifier / TestNewSigner: every proper substring of the key text and every
    # single-character increment of it is refused.
    key = GO_VKEY if kind == "verifier" else GO_SKEY

    def parse(text: str) -> object:
        if kind == "verifier":
            return Verifier.from_text(text)
        return Signer.from_private_key_text(text)

    parse(key)
    mangled = [key[i:j] for i in range(len(key) + 1) for j in range(i + 1, len(key) + 1)]
    mangled.remove(key)
    mangled += [key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :] for i in range(len(key))]
    for text in mangled:
        with pytest.raises(CheckpointError):
            parse(text)
