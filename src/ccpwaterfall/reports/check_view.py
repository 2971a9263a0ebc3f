"""The verdict of ``ccp check`` as JSON-ready data (``ccp-check/1``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ccpwaterfall.io import Issue

CHECK_FORMAT = "ccp-check/1"

_COUNTS = {
    "case": ("members", "events"),
    "risk-case": ("members", "accounts", "instruments", "stress_scenarios"),
}


def check_to_json(
    file: str, kind: str, problems: Sequence[Issue], counts: Mapping[str, int] | None
) -> dict[str, object]:
    """Whether ``file`` is valid, every problem found (file, field path, message), and
    what a valid file holds: counts of members, events... (``null`` when invalid).

    ``kind`` is ``case`` or ``risk-case``.
    """
    return {
        "format": CHECK_FORMAT,
        "file": file,
        "valid": not problems,
        "kind": kind,
        "problems": [
            {"file": issue.file, "field": issue.field, "message": issue.message}
            for issue in problems
        ],
        **{key: None if counts is None else counts[key] for key in _COUNTS[kind]},
    }
