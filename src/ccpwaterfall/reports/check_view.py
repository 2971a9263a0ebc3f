"""The verdict of ``ccp check``: as a line of text, and as JSON-ready data (``ccp-check/1``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ccpwaterfall.io import Issue

CHECK_FORMAT = "ccp-check/1"

_COUNTS = {
    "case": ("members", "events"),
    "risk-case": ("members", "accounts", "instruments", "stress_scenarios"),
    "drill": ("members", "accounts", "positions", "bids"),
}


@dataclass(frozen=True, slots=True)
class CheckView:
    """Whether a file is valid: every problem found, and what a valid file holds.

    ``kind`` is ``case``, ``risk-case`` or ``drill``; ``counts`` (members, events...) is
    ``None`` when the file is invalid.
    """

    file: str
    kind: str
    problems: tuple[Issue, ...]
    counts: tuple[tuple[str, int], ...] | None


def check_view(
    file: str, kind: str, problems: Sequence[Issue], counts: Mapping[str, int] | None
) -> CheckView:
    return CheckView(
        file=file,
        kind=kind,
        problems=tuple(problems),
        counts=None if counts is None else tuple((key, counts[key]) for key in _COUNTS[kind]),
    )


def check_text(view: CheckView) -> str:
    """The verdict on a valid file in one line: what it holds."""
    counts = dict(view.counts or ())
    if view.kind == "case":
        members, events = counts["members"], counts["events"]
        return f"{view.file}: valid ({members} member{_s(members)}, {events} event{_s(events)})"
    if view.kind == "drill":
        shown = ", ".join(
            f"{counts[key]} {noun}{_s(counts[key])}"
            for key, noun in (
                ("members", "member"),
                ("accounts", "account"),
                ("positions", "position"),
                ("bids", "recorded bid"),
            )
        )
        return f"{view.file}: valid drill ({shown})"
    return (
        f"{view.file}: valid risk case ({counts['members']} members, "
        f"{counts['accounts']} accounts, {counts['instruments']} instruments, "
        f"{counts['stress_scenarios']} stress scenarios)"
    )


def check_to_json(view: CheckView) -> dict[str, object]:
    """Whether the file is valid, every problem found (file, field path, message), and
    what a valid file holds: counts of members, events... (``null`` when invalid)."""
    counts = None if view.counts is None else dict(view.counts)
    return {
        "format": CHECK_FORMAT,
        "file": view.file,
        "valid": not view.problems,
        "kind": view.kind,
        "problems": [
            {"file": issue.file, "field": issue.field, "message": issue.message}
            for issue in view.problems
        ],
        **{key: None if counts is None else counts[key] for key in _COUNTS[view.kind]},
    }


def _s(count: int) -> str:
    return "" if count == 1 else "s"
