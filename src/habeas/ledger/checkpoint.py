"""Signed tree heads: C2SP tlog-checkpoint bodies inside C2SP signed notes (Ed25519).

A checkpoint states "the ledger called ``origin`` had ``size`` entries and this
RFC 9162 Merkle root".  Signed, it is the thing copies of the register are
checked against; anyone holding the verifier key can check it, offline.

Typical use::

    signer = Signer.generate("habeas.example/cecot")      # once; keep it secret
    write_new_key_file(Path("cecot.key"), signer)            # 0600, never overwrites
    print(signer.verifier_key_text())                        # publish this

    signed = signer.sign(Checkpoint("habeas.example/cecot", size, root))
    store(signed.text)

    verifier = Verifier.from_text(published_verifier_key)
    checkpoint = verifier.verify(signed_text)   # CheckpointError unless our key signed it
    assert checkpoint.origin == "habeas.example/cecot"   # callers check the origin they expect

Formats (https://c2sp.org/tlog-checkpoint, https://c2sp.org/signed-note):

* checkpoint body: ``<origin>\\n<size>\\n<base64 root>\\n`` then optional non-empty
  extension lines (kept when parsing; the ledger emits none);
* signed note: ``<body>\\n`` then lines ``— <key name> <base64(key hash || signature)>\\n``;
  the Ed25519 signature covers the body bytes, final newline included;
* key hash: ``SHA-256(name || "\\n" || 0x01 || public key)[:4]``;
* verifier key text: ``<name>+<8 hex key hash>+<base64(0x01 || public key)>``;
* private key text: ``PRIVATE+KEY+<name>+<8 hex key hash>+<base64(0x01 || seed)>``,
  the same as Go's golang.org/x/mod/sumdb/note, so keys and notes interoperate.

Everything refused raises :class:`CheckpointError` saying where and which rule.
"""

from __future__ import annotations

import base64
import binascii
import errno
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from habeas.ledger.merkle import HASH_SIZE

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "SignedCheckpoint",
    "Signer",
    "Verifier",
    "load_key_file",
    "parse_checkpoint",
    "write_new_key_file",
]

ALG_ED25519 = 0x01  # signed-note signature type byte for Ed25519
MAX_TREE_SIZE = 2**64 - 1  # RFC 9162 tree sizes are uint64
MAX_SIGNATURES = 100  # per note, as Go's sumdb/note; the spec requires accepting at least 16
KEY_FILE_MODE = 0o600

_SIG_PREFIX = "— "  # U+2014 EM DASH, space
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_SIZE_RE = re.compile(r"0|[1-9][0-9]*")
_HASH_HEX_RE = re.compile(r"[0-9a-fA-F]{8}")
_KEY_HASH_SIZE = 4
_ED25519_KEY_SIZE = 32
_ED25519_SIG_SIZE = 64


class CheckpointError(ValueError):
    """A checkpoint, signed note or key that is refused; ``where`` names the part, ``rule`` why."""

    def __init__(self, where: str, rule: str) -> None:
        super().__init__(f"{where}: {rule}")
        self.where = where
        self.rule = rule


# --- checkpoints ---------------------------------------------------------------------------


def _control_char(text: str) -> str | None:
    """The first ASCII control character other than newline in ``text``, if any."""
    for ch in text:
        if ch < " " and ch != "\n":
            return ch
    return None


def _check_line(text: str, where: str) -> None:
    if text == "":
        raise CheckpointError(where, "must not be empty")
    if "\n" in text:
        raise CheckpointError(where, "must be a single line (contains a newline)")
    bad = _control_char(text)
    if bad is not None:
        raise CheckpointError(where, f"must not contain control character {bad!r}")


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the ledger ``origin`` had ``size`` leaves with Merkle root ``root``.

    Construction validates every field, so a Checkpoint always has a valid body.
    """

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str):
            raise CheckpointError("origin", "must be a string")
        _check_line(self.origin, "origin")
        if not isinstance(self.size, int) or isinstance(self.size, bool):
            raise CheckpointError("size", f"must be an integer, got {type(self.size).__name__}")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointError("size", f"must be between 0 and 2**64-1, got {self.size}")
        if not isinstance(self.root, bytes):
            raise CheckpointError("root", f"must be bytes, got {type(self.root).__name__}")
        if len(self.root) != HASH_SIZE:
            raise CheckpointError("root", f"must be {HASH_SIZE} bytes, got {len(self.root)}")
        if not isinstance(self.extensions, tuple):
            raise CheckpointError("extensions", "must be a tuple of strings")
        for i, line in enumerate(self.extensions):
            if not isinstance(line, str):
                raise CheckpointError(f"extension line {i + 1}", "must be a string")
            _check_line(line, f"extension line {i + 1}")

    def body(self) -> str:
        """The tlog-checkpoint note text: origin, size, base64 root, extensions; each + "\\n"."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode("ascii")]
        lines.extend(self.extensions)
        return "".join(line + "\n" for line in lines)


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint and its signed note (body, blank line, signature line), ready to store."""

    checkpoint: Checkpoint
    text: str


def parse_checkpoint(body: str) -> Checkpoint:
    """Parse a tlog-checkpoint body strictly; ``parse_checkpoint(c.body()) == c``.

    Refuses (naming the line): a missing final newline, fewer than three lines,
    an empty origin or extension line, a size that is not plain decimal (signs,
    spaces, leading zeros, non-ASCII digits) or exceeds 2**64-1, and a root that
    is not canonical standard base64 of exactly 32 bytes.
    """
    if not body.endswith("\n"):
        raise CheckpointError("checkpoint", "must end with a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError("checkpoint", f"needs origin, size and root lines, got {len(lines)} line(s)")
    origin, size_text, root_text, *extensions = lines

    if origin == "":
        raise CheckpointError("line 1 (origin)", "must not be empty")
    bad = _control_char(origin)
    if bad is not None:
        raise CheckpointError("line 1 (origin)", f"must not contain control character {bad!r}")

    if not _SIZE_RE.fullmatch(size_text):
        raise CheckpointError(
            "line 2 (tree size)",
            f"must be ASCII decimal digits without sign or leading zeros, got {size_text!r}",
        )
    size = int(size_text)
    if size > MAX_TREE_SIZE:
        raise CheckpointError("line 2 (tree size)", f"exceeds 2**64-1: {size_text}")

    root = _decode_base64(root_text, "line 3 (root hash)")
    if base64.b64encode(root).decode("ascii") != root_text:
        raise CheckpointError("line 3 (root hash)", "base64 is not in canonical form")
    if len(root) != HASH_SIZE:
        raise CheckpointError("line 3 (root hash)", f"must be {HASH_SIZE} bytes, got {len(root)}")

    for i, line in enumerate(extensions):
        if line == "":
            raise CheckpointError(f"line {i + 4} (extension)", "extension lines must not be empty")
        bad = _control_char(line)
        if bad is not None:
            raise CheckpointError(f"line {i + 4} (extension)", f"must not contain control character {bad!r}")

    return Checkpoint(origin, size, root, tuple(extensions))


# --- keys ----------------------------------------------------------------------------------


def _decode_base64(text: str, where: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise CheckpointError(where, f"is not valid standard base64: {text!r}") from exc


def _check_name(name: str, where: str) -> None:
    if not isinstance(name, str) or name == "":
        raise CheckpointError(where, "key name must be a non-empty string")
    if "+" in name:
        raise CheckpointError(where, f"key name must not contain '+': {name!r}")
    if any(ch.isspace() for ch in name):
        raise CheckpointError(where, f"key name must not contain whitespace: {name!r}")
    bad = _control_char(name)
    if bad is not None:
        raise CheckpointError(where, f"key name must not contain control character {bad!r}")


def _key_hash(name: str, public_key: bytes) -> bytes:
    """signed-note key ID: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    data = name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key
    return hashlib.sha256(data).digest()[:_KEY_HASH_SIZE]


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _parse_key_data(key64: str, where: str) -> bytes:
    """Decode ``base64(0x01 || 32 bytes)`` and return the 32 bytes."""
    data = _decode_base64(key64, where)
    if len(data) == 0 or data[0] != ALG_ED25519:
        alg = f"0x{data[0]:02x}" if data else "none"
        raise CheckpointError(where, f"unknown key algorithm {alg}; only Ed25519 (0x01)")
    if len(data) != 1 + _ED25519_KEY_SIZE:
        raise CheckpointError(where, f"Ed25519 key must be {_ED25519_KEY_SIZE} bytes, got {len(data) - 1}")
    return data[1:]


def _parse_hash_hex(text: str, where: str) -> bytes:
    if not _HASH_HEX_RE.fullmatch(text):
        raise CheckpointError(where, f"key hash must be 8 hex digits, got {text!r}")
    return bytes.fromhex(text)


class Signer:
    """An Ed25519 signing key with its key name.  Keep :meth:`private_key_text` secret."""

    __slots__ = ("_private", "key_hash", "name", "public_key")

    name: str
    key_hash: bytes  # 4 bytes
    public_key: bytes  # 32 bytes

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        _check_name(name, "signer")
        self.name = name
        self._private = private_key
        self.public_key = _raw_public(private_key.public_key())
        self.key_hash = _key_hash(name, self.public_key)

    def __repr__(self) -> str:  # never show the private key
        return f"Signer({self.name!r}, key_hash={self.key_hash.hex()})"

    @classmethod
    def generate(cls, name: str) -> Signer:
        """A new random key for ``name`` (non-empty, no whitespace, no '+')."""
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_private_key_text(cls, text: str) -> Signer:
        """Parse ``PRIVATE+KEY+<name>+<hash>+<base64(0x01 || seed)>``; the hash must match."""
        where = "private key"
        if not text.startswith(_PRIVATE_PREFIX):
            raise CheckpointError(where, f"must start with {_PRIVATE_PREFIX!r}")
        parts = text[len(_PRIVATE_PREFIX) :].split("+", 2)  # the base64 may itself hold '+'
        if len(parts) != 3:
            raise CheckpointError(where, "must be PRIVATE+KEY+<name>+<hash>+<key>")
        name, hash_hex, key64 = parts
        _check_name(name, where)
        claimed = _parse_hash_hex(hash_hex, where)
        seed = _parse_key_data(key64, where)
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(seed))
        if signer.key_hash != claimed:
            raise CheckpointError(
                where,
                f"key hash {hash_hex} does not match the key (expected {signer.key_hash.hex()})",
            )
        return signer

    def private_key_text(self) -> str:
        """The secret key as ``PRIVATE+KEY+<name>+<hash>+<base64(0x01 || seed)>``."""
        seed = self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        key64 = base64.b64encode(bytes([ALG_ED25519]) + seed).decode("ascii")
        return f"{_PRIVATE_PREFIX}{self.name}+{self.key_hash.hex()}+{key64}"

    def verifier_key_text(self) -> str:
        """The public key as ``<name>+<hash>+<base64(0x01 || public key)>``; safe to publish."""
        key64 = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_hash.hex()}+{key64}"

    def signature_line(self, text: str) -> str:
        """The signed-note line ``— <name> <base64(key hash || Ed25519(text))>\\n``."""
        if not text.endswith("\n"):
            raise CheckpointError("note text", "must end with a newline")
        signature = self._private.sign(text.encode("utf-8"))
        blob = base64.b64encode(self.key_hash + signature).decode("ascii")
        return f"{_SIG_PREFIX}{self.name} {blob}\n"

    def sign_note(self, text: str) -> str:
        """Any note text (ending in a newline) signed by this key alone."""
        return text + "\n" + self.signature_line(text)

    def sign(self, checkpoint: Checkpoint) -> SignedCheckpoint:
        """Sign ``checkpoint``'s body; the result's ``text`` is the signed note to store."""
        return SignedCheckpoint(checkpoint, self.sign_note(checkpoint.body()))


class Verifier:
    """One trusted Ed25519 public key, identified by key name and key hash."""

    __slots__ = ("_public", "key_hash", "name", "public_key")

    name: str
    key_hash: bytes  # 4 bytes
    public_key: bytes  # 32 bytes

    def __init__(self, name: str, public_key: bytes) -> None:
        _check_name(name, "verifier")
        if len(public_key) != _ED25519_KEY_SIZE:
            raise CheckpointError("verifier", f"Ed25519 key must be 32 bytes, got {len(public_key)}")
        self.name = name
        self.public_key = bytes(public_key)
        self.key_hash = _key_hash(name, self.public_key)
        self._public = Ed25519PublicKey.from_public_bytes(self.public_key)

    def __repr__(self) -> str:
        return f"Verifier({self.name!r}, key_hash={self.key_hash.hex()})"

    @classmethod
    def from_text(cls, text: str) -> Verifier:
        """Parse ``<name>+<hash>+<base64(0x01 || public key)>``; the hash must match the key."""
        where = "verifier key"
        parts = text.split("+", 2)
        if len(parts) != 3:
            raise CheckpointError(where, "must be <name>+<hash>+<key>")
        name, hash_hex, key64 = parts
        _check_name(name, where)
        claimed = _parse_hash_hex(hash_hex, where)
        verifier = cls(name, _parse_key_data(key64, where))
        if verifier.key_hash != claimed:
            raise CheckpointError(
                where,
                f"key hash {hash_hex} does not match the key (expected {verifier.key_hash.hex()})",
            )
        return verifier

    def verifier_key_text(self) -> str:
        key64 = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_hash.hex()}+{key64}"

    def open_note(self, signed_note_text: str) -> str:
        """Check a signed note and return its text (ending in newline) once this key's signature
        verifies.

        Signature lines by other keys (a different name or key hash) are ignored, but
        every line must be well formed.  Raises :class:`CheckpointError` when the note
        is malformed, when no line carries this key's name and key hash, or when any
        line that does fails to verify.
        """
        bad = _control_char(signed_note_text)
        if bad is not None:
            raise CheckpointError("signed note", f"must not contain control character {bad!r}")
        try:
            signed_note_text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise CheckpointError("signed note", "must be valid UTF-8") from exc
        split = signed_note_text.rfind("\n\n")
        if split < 0:
            raise CheckpointError("signed note", "missing the blank line between the text and the signatures")
        text, sigs = signed_note_text[: split + 1], signed_note_text[split + 2 :]
        if sigs == "":
            raise CheckpointError("signed note", "has no signature lines after the blank line")
        if not sigs.endswith("\n"):
            raise CheckpointError("signed note", "the last signature line must end with a newline")
        lines = sigs[:-1].split("\n")
        if len(lines) > MAX_SIGNATURES:
            raise CheckpointError("signed note", f"has {len(lines)} signatures; at most {MAX_SIGNATURES} accepted")

        data = text.encode("utf-8")
        verified = False
        seen: list[str] = []
        for number, line in enumerate(lines, start=1):
            where = f"signature line {number}"
            if not line.startswith(_SIG_PREFIX):
                raise CheckpointError(where, "must start with an em dash (U+2014) and a space")
            name, sep, blob64 = line[len(_SIG_PREFIX) :].partition(" ")
            if not sep or blob64 == "":
                raise CheckpointError(where, "must be '— <key name> <base64 signature>'")
            _check_name(name, where)
            blob = _decode_base64(blob64, where)
            if len(blob) < _KEY_HASH_SIZE + 1:
                raise CheckpointError(where, "signature is too short to hold a key hash")
            key_hash, signature = blob[:_KEY_HASH_SIZE], blob[_KEY_HASH_SIZE:]
            seen.append(f"{name}+{key_hash.hex()}")
            if name != self.name or key_hash != self.key_hash:
                continue  # another key's signature: not ours to judge
            if len(signature) != _ED25519_SIG_SIZE:
                raise CheckpointError(where, f"Ed25519 signature must be 64 bytes, got {len(signature)}")
            try:
                self._public.verify(signature, data)
            except InvalidSignature:
                raise CheckpointError(
                    where,
                    f"signature by {self.name}+{self.key_hash.hex()} does not verify "
                    "(the text or the signature was altered)",
                ) from None
            verified = True

        if not verified:
            raise CheckpointError(
                "signed note",
                f"no signature by key {self.name}+{self.key_hash.hex()} (signed by: {', '.join(seen)})",
            )
        return text

    def verify(self, signed_note_text: str) -> Checkpoint:
        """The checkpoint in ``signed_note_text`` once this key's signature on it verifies.

        The caller should still check ``origin`` (and that ``size`` only grows).
        """
        return parse_checkpoint(self.open_note(signed_note_text))


# --- key files -----------------------------------------------------------------------------


def write_new_key_file(path: Path, signer: Signer) -> None:
    """Write ``signer``'s private key text to a new file readable only by its owner (0600).

    Raises FileExistsError if ``path`` exists (a key is never silently replaced).
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    except FileExistsError:
        raise FileExistsError(
            errno.EEXIST,
            f"refusing to overwrite existing key file {path}; move it away first if you really mean to replace the key",
            str(path),
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:  # closes fd
            if hasattr(os, "fchmod"):
                os.fchmod(fd, KEY_FILE_MODE)  # a umask can only have narrowed it; be exact
            f.write(signer.private_key_text() + "\n")
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        Path(path).unlink(missing_ok=True)
        raise


def load_key_file(path: Path) -> Signer:
    """Read a key file written by :func:`write_new_key_file`."""
    return Signer.from_private_key_text(Path(path).read_text(encoding="utf-8").strip())
