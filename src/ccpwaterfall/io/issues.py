"""Problems found in input files, as values: each with its file, field path and message.

Loaders collect every problem in a file before giving up, so a user fixes them
all in one pass; ``InputError`` carries the whole list to the command line.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


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


@dataclass(frozen=True, slots=True)
class InputWarning:
    """Input that is valid and runs, but whose numbers may not mean what was meant.

    The same shape as ``Issue``; a warning never stops a command or changes its
    exit status. Commands print each on standard error, marked ``(warning)``, and
    list them under ``warnings`` in their JSON.
    """

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        return f"{where}: {self.message} (warning)"

    def to_json(self) -> dict[str, str]:
        """``{"file": ..., "field": ..., "message": ...}`` for the ``warnings`` of JSON output."""
        return {"file": self.file, "field": self.field, "message": self.message}


def not_a_regular_file(path: Path, what: str) -> Issue | None:
    """The issue with ``path`` if it is not a regular file that can be read, else None.

    Checked with ``os.stat`` before any open: opening a FIFO for reading would
    block until something writes to it. ``what`` names the file expected ("a case
    file").
    """
    file = str(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return Issue(file, "", "file not found")
    except OSError as error:
        return Issue(file, "", f"cannot be read: {error.strerror or error}")
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return Issue(file, "", f"is a directory, not {what}")
    kind = (
        "a named pipe (FIFO)"
        if stat.S_ISFIFO(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "not a regular file"
    )
    return Issue(file, "", f"is {kind}, not {what}: give a regular file")
