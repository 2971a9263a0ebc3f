"""What a use case returns: its value, or every problem that stopped it, and any warnings.

Errors are values: a use case never exits or prints. A bad input comes back as
``Problems``, each naming the file (or the file an option is about) and every
``Issue`` found there, so an entry point reports them all at once: the command
line on standard error with exit status 2, a web service as a 4xx body.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from ccpwaterfall.io import Issue
from ccpwaterfall.io.issues import InputWarning

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)  # a frozen outcome of a subtype is one of its base


@dataclass(frozen=True, slots=True)
class Problems:
    """Every problem found in one file the user gave, or in an option about it."""

    source: str  # the file the problems are counted against
    issues: tuple[Issue, ...]

    def __post_init__(self) -> None:
        if not self.issues:
            raise ValueError("Problems needs at least one issue")


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T_co]):
    """A use case's ``value``, or the ``problems`` that stopped it: exactly one of the two.

    ``warnings`` are problems that did not stop it (empty unless a loader reports
    some); entry points show them beside the value, and JSON documents carry them
    under ``"warnings"`` only when there are any, so documents without warnings
    stay exactly as specified.
    """

    value: T_co | None = None
    problems: tuple[Problems, ...] = ()
    warnings: tuple[InputWarning, ...] = ()

    def __post_init__(self) -> None:
        if (self.value is None) == (not self.problems):
            raise ValueError("an outcome holds either a value or problems, not both or neither")


def done(value: T, warnings: Iterable[InputWarning] = ()) -> Outcome[T]:
    """A use case that ran: its value, and any warnings."""
    return Outcome(value=value, warnings=tuple(warnings))


def refused(*problems: Problems) -> Outcome[Any]:
    """A use case that could not run, with every problem found."""
    return Outcome(problems=problems)


def problems_in(source: str | Path, issues: Iterable[Issue]) -> Problems:
    return Problems(str(source), tuple(issues))
