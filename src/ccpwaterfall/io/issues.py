"""Problems found in input files, as values: each with its file, field path and message.

Loaders collect every problem in a file before giving up, so a user fixes them
all in one pass; ``InputError`` carries the whole list to the command line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in an input file.

    ``field`` is the JSON-style path of the offending field inside the file,
    indexes counting from 0 (``members[3].default_fund``), or ``""`` when the
    problem is with the file as a whole.
    """

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        if self.field:
            return f"{self.file}: {self.field}: {self.message}"
        return f"{self.file}: {self.message}"


class InputError(Exception):
    """An input file is invalid; ``issues`` lists every problem found in it."""

    issues: tuple[Issue, ...]

    def __init__(self, issues: Iterable[Issue]) -> None:
        found = tuple(issues)
        if not found:
            raise ValueError("InputError needs at least one issue")
        self.issues = found
        super().__init__("\n".join(str(issue) for issue in found))


def field_path(parent: str, child: str | int) -> str:
    """The path of ``child`` inside ``parent``: ``members`` + 3 -> ``members[3]``.

    A string child is a key (``members[3]`` + ``id`` -> ``members[3].id``); an
    empty parent is the top of the document.
    """
    if isinstance(child, int):
        return f"{parent}[{child}]"
    return f"{parent}.{child}" if parent else child
