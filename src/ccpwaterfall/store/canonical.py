"""Canonical content and the hashes that chain stored records.

A record's content is stored as the canonical JSON of what was saved: keys
sorted, no insignificant spaces, UTF-8, money as decimal strings (the JSON
documents of ``ccp`` never carry money as floats). The same value always gives
the same bytes, so its SHA-256 can be recomputed by anyone from the stored bytes.

Each record's hash covers the hash of the record before it in its chain and its
own content hash: changing, removing or reordering a record breaks every hash
after it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal

GENESIS = "0" * 64  # the "previous hash" of a chain's first record


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON-able content")


def canonical_bytes(content: Mapping[str, object]) -> bytes:
    """The canonical JSON of ``content``: sorted keys, compact, UTF-8; NaN refused."""
    text = json.dumps(
        content,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_default,
    )
    return text.encode("utf-8")


def content_hash(content: bytes) -> str:
    """The SHA-256 of stored content bytes, in hex."""
    return hashlib.sha256(content).hexdigest()


def record_hash(previous_hash: str, content_sha256: str) -> str:
    """The hash of a record: SHA-256 over the previous record's hash and its content hash."""
    return hashlib.sha256(f"{previous_hash}:{content_sha256}".encode("ascii")).hexdigest()
