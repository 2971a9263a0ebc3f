"""How use cases read their inputs: the ``io`` loaders by default, stand-ins in tests.

A use case takes a ``Loaders`` value instead of importing loaders itself, so a
test (or a service reading cases from a store) passes its own functions and
nothing is patched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ccpwaterfall.domain import Case
from ccpwaterfall.io import Issue, load_case, read_toml

if TYPE_CHECKING:
    from ccpwaterfall.io.risk_case import RiskCase


def load_risk_case(path: Path) -> RiskCase:
    """``io.risk_case.load_risk_case``, imported when first called: reading a risk
    case needs pandas and numpy, which a command on a plain case never loads."""
    from ccpwaterfall.io.risk_case import load_risk_case as load  # noqa: PLC0415

    return load(path)


@dataclass(frozen=True, slots=True)
class Loaders:
    """Readers of input files; each raises ``InputError`` with every problem in a bad file.

    ``document`` parses a TOML file without checking it (what ``ccp check`` reads to
    tell a case from a risk case): the document, or ``None`` and its problems.
    """

    case: Callable[[Path], Case] = load_case
    risk_case: Callable[[Path], RiskCase] = load_risk_case
    document: Callable[[Path], tuple[dict[str, object] | None, list[Issue]]] = read_toml


IO_LOADERS = Loaders()  # the io layer's loaders: what the ``ccp`` command reads with
