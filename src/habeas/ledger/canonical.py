"""Canonical JSON bytes for hashing (RFC 8785, JSON Canonicalization Scheme).

Payloads may hold only what RFC 8785 encodes exactly: objects with string keys,
arrays, strings, booleans, null and integers within IEEE-754's exact range.
Floats are refused outright: two systems can print the same float differently,
and a custody record must hash the same everywhere.  Amounts of money are
decimal strings; times are UTC strings (see :mod:`habeas.ledger.timefmt`).

The bytes come from orjson, whose compact, key-sorted output equals RFC 8785
for exactly this subset (the test suite checks it against the reference
implementation).  The one place the two orders differ, keys holding characters
above U+FFFF (RFC 8785 sorts by UTF-16 code units), is handled by re-sorting.
"""

from __future__ import annotations

from typing import Any

import orjson

MAX_SAFE_INTEGER = 2**53 - 1  # RFC 8785 §3.2.2.3: integers outside this lose precision


class CanonicalError(ValueError):
    """A value that has no canonical encoding; ``path`` names where it is."""

    def __init__(self, path: str, rule: str) -> None:
        super().__init__(f"{path}: {rule}")
        self.path = path
        self.rule = rule


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _check(value: Any, path: str) -> bool:
    """Validate ``value``; return True when some key needs UTF-16 ordering."""
    t = type(value)
    if t is str:
        _check_string(value, path)
        return False
    if t is bool or value is None:
        return False
    if t is int:
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise CanonicalError(path, "integer outside ±(2**53-1) (RFC 8785 §3.2.2.3)")
        return False
    if t is float:
        raise CanonicalError(path, "floats are not allowed; use an integer or a decimal string")
    if t is dict:
        resort = False
        for key, item in value.items():
            if type(key) is not str:
                raise CanonicalError(path, f"object key {key!r} is not a string")
            if not key.isascii():
                _check_string(key, f"{path}.{key}")
                resort = resort or any(ord(c) > 0xFFFF for c in key)
            if type(item) is str:
                if not item.isascii():
                    _check_string(item, f"{path}.{key}")
            elif _check(item, f"{path}.{key}"):
                resort = True
        return resort
    if t is list or t is tuple:
        resort = False
        for i, item in enumerate(value):
            resort = _check(item, f"{path}[{i}]") or resort
        return resort
    raise CanonicalError(path, f"{t.__name__} has no canonical JSON form")


def _check_string(value: str, path: str) -> None:
    # Lone surrogates cannot be encoded as UTF-8 (RFC 8785 §3.2.2.2 requires valid Unicode).
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise CanonicalError(path, "string holds an unpaired surrogate") from None


def _utf16_sorted(value: Any) -> Any:
    if type(value) is dict:
        return {k: _utf16_sorted(value[k]) for k in sorted(value, key=_utf16_key)}
    if type(value) in (list, tuple):
        return [_utf16_sorted(v) for v in value]
    return value


def canonical_bytes(value: Any, path: str = "$") -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of ``value`` or raise CanonicalError."""
    if _check(value, path):
        return orjson.dumps(_utf16_sorted(value))
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def canonical_bytes_unchecked(value: Any) -> bytes:
    """Canonical bytes of a value already passed through :func:`canonical_bytes`' checks."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
