"""The case file as given, for a saved run: its text and the SHA-256 of its bytes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class CaseSource:
    """A case file's name, the SHA-256 of its bytes and its text (UTF-8)."""

    file: str
    sha256: str
    text: str

    def to_json(self) -> dict[str, object]:
        return {"file": self.file, "sha256": self.sha256, "text": self.text}


def case_source(path: Path) -> CaseSource:
    """The case file at ``path`` as given (it was read and validated just before)."""
    data = path.read_bytes()
    return CaseSource(path.name, hashlib.sha256(data).hexdigest(), data.decode("utf-8-sig"))
