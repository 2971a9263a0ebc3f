"""Use cases of the web service: the cases in a folder, their runs and members' liability.

The service is given a folder (``examples/`` by default); every case file in it
and one level of sub-folders below is a case it shows, named by its path:
``nasdaq-2018/case.toml`` is ``nasdaq-2018``. A case's run is computed once per
version of its file (its size and modification time), so a page shown again
costs nothing, and an edited file is read again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from ccpwaterfall.app.cases import load
from ccpwaterfall.app.loaders import IO_LOADERS, Loaders
from ccpwaterfall.app.outcome import Problems
from ccpwaterfall.domain import Case
from ccpwaterfall.io import CASE_FORMAT, RISK_CASE_FORMAT
from ccpwaterfall.waterfall import CaseResult
from ccpwaterfall.waterfall import run_case as run_waterfall
from ccpwaterfall.waterfall.liability import Liability
from ccpwaterfall.waterfall.liability import member_liability as liability_of

if TYPE_CHECKING:
    from ccpwaterfall.lifecycle.end_of_day import EndOfDay
    from ccpwaterfall.simulation.engine import Simulation

T = TypeVar("T")

#: The file names that stand for their folder: ``x/case.toml`` is the case ``x``.
_FOLDER_FILES = ("case", "drill")


@dataclass(frozen=True, slots=True)
class CaseEntry:
    """A case file in the service's folder: its id in URLs, its path and its kind
    (``case``, ``risk-case`` or ``drill``, by its ``format``)."""

    id: str
    path: Path
    kind: str


def find_cases(folder: Path) -> tuple[CaseEntry, ...]:
    """Every TOML file in ``folder`` and its sub-folders (one level) that names a case format,
    sorted by id; other TOML files are left out."""
    entries: dict[str, CaseEntry] = {}
    for path in sorted((*folder.glob("*.toml"), *folder.glob("*/*.toml"))):
        kind = _kind(path)
        if kind is None:
            continue
        parts = path.relative_to(folder).with_suffix("").parts
        if len(parts) > 1 and parts[-1] in _FOLDER_FILES:
            parts = parts[:-1]
        name = "-".join(parts)
        entries.setdefault(name, CaseEntry(name, path, kind))
    return tuple(entries[name] for name in sorted(entries))


def _kind(path: Path) -> str | None:
    doc, _ = IO_LOADERS.document(path)
    if doc is None:
        return None
    declared = doc.get("format")
    if declared == CASE_FORMAT:
        return "case"
    if declared == RISK_CASE_FORMAT or "portfolio" in doc:
        return "risk-case"
    if isinstance(declared, str) and declared.startswith("ccp-drill/"):
        return "drill"
    return None


@dataclass(frozen=True, slots=True, eq=False)
class CaseRun:
    """A case and its run."""

    case: Case
    result: CaseResult

    @property
    def members(self) -> tuple[str, ...]:
        return tuple(member.id for member in self.case.members)

    def liability(self, member: str) -> Liability | None:
        """The member's liability; None when the case does not list it."""
        if member not in self.members:
            return None
        return liability_of(self.case, member, self.result)


class _Versions(Generic[T]):
    """Values computed from files, each once per version of its file (size, modification)."""

    def __init__(self, compute: Callable[[Path], T]) -> None:
        self._compute = compute
        self._values: dict[Path, tuple[tuple[int, int], T]] = {}
        self._lock = threading.Lock()

    def get(self, path: Path) -> T:
        stat = path.stat()
        version = (stat.st_size, stat.st_mtime_ns)
        with self._lock:
            known = self._values.get(path)
            if known is not None and known[0] == version:
                return known[1]
        value = self._compute(path)
        with self._lock:
            self._values[path] = (version, value)
        return value


class CaseRuns:
    """Runs of case files and end of days of risk cases, each computed once per version of
    its file."""

    def __init__(self, loaders: Loaders = IO_LOADERS) -> None:
        self._loaders = loaders
        self._runs = _Versions(self._run)
        self._days: _Versions[EndOfDay | Problems] = _Versions(self._end_of_day)
        self._simulations: _Versions[Simulation | Problems] = _Versions(self._simulate)

    def run(self, path: Path) -> CaseRun | Problems:
        """The run of the case at ``path``, or every problem in it."""
        return self._runs.get(path)

    def end_of_day(self, path: Path) -> EndOfDay | Problems:
        """The end of day of the risk case at ``path``, or every problem in it."""
        return self._days.get(path)

    def simulation(self, path: Path) -> Simulation | Problems:
        """``ccp simulate`` on the risk case at ``path`` (its settings, seed 0), or every
        problem in it."""
        return self._simulations.get(path)

    def _simulate(self, path: Path) -> Simulation | Problems:
        from ccpwaterfall.app.simulate import SimulateOptions, simulate  # noqa: PLC0415

        outcome = simulate(path, SimulateOptions(), self._loaders)
        if outcome.value is None:
            return outcome.problems[0]
        return outcome.value

    def _run(self, path: Path) -> CaseRun | Problems:
        case = load(path, self._loaders.case)
        if isinstance(case, Problems):
            return case
        return CaseRun(case, run_waterfall(case))

    def _end_of_day(self, path: Path) -> EndOfDay | Problems:
        # Imported here: the risk steps load numpy and pandas, which cases never need.
        from ccpwaterfall.app.risk import end_of_day  # noqa: PLC0415

        outcome = end_of_day(path, self._loaders)
        if outcome.value is None:
            return outcome.problems[0]
        return outcome.value
