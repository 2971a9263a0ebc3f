"""The Monte Carlo settings of a risk case: its ``[simulation]`` table and two member columns.

``[simulation]`` (every key optional)::

    rho = "0.2"              # factor loading of the one-factor copula, from 0 to below 1
    nu = "6"                 # degrees of freedom: a Student t copula (absent: Gaussian)
    default_pd = "0.01"      # each group's probability of default, unless the members
                             # file gives one in a pd column
    closeout_cost = "0.1"    # close-out losses times 1 + this (liquidation cost)
    contagion_share = "0.5"  # a member fails when its charges exceed this share of its capital
    confidence = "0.99"      # of VaR and ES
    ratings = { A = "0.0005", BBB = "0.002" }   # probability of default by rating
    auction_tiers = [["CM07", "CM12"], ["CM03"]]  # for tranches with allocation = "auction_tiers"

The members file may have a ``pd`` column (a probability from 0 to below 1), a
``rating`` column (a rating of ``ratings``, for members with no ``pd``) and a
``capital`` column (an amount, for contagion). Members of one group must come
to the same probability, or give none. Every problem is reported at once, each
naming the file and the field or the row and column. CSV results are written
by ``write_csv_tables``, all files or none.
"""

from __future__ import annotations

import csv
import io as text_io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ccpwaterfall.domain import Currency
from ccpwaterfall.io.issues import Issue, field_path
from ccpwaterfall.io.schema import DECIMAL_PATTERN
from ccpwaterfall.io.tables import row_field
from ccpwaterfall.io.values import exact_amount, parse_decimal, shown

SIMULATION_TABLE = "simulation"
SIMULATION_KEYS = (
    "auction_tiers",
    "closeout_cost",
    "confidence",
    "contagion_share",
    "default_pd",
    "nu",
    "ratings",
    "rho",
)
#: The number keys of ``[simulation]`` (``ratings`` is a table, ``auction_tiers`` a list).
NUMBER_KEYS = tuple(k for k in SIMULATION_KEYS if k not in ("ratings", "auction_tiers"))
#: Optional columns of the members file read by the simulation.
MEMBER_COLUMNS = ("pd", "rating", "capital")
DEFAULT_RHO = Decimal("0.2")
DEFAULT_CONFIDENCE = Decimal("0.99")


@dataclass(frozen=True, slots=True, eq=False)
class SimulationConfig:
    """The settings read from a risk case; ``pd`` and ``capital`` per member (None: not given).

    ``pd`` holds NaN where the members file leaves a cell empty; ``capital`` is
    in minor units, 0 where empty.
    """

    rho: Decimal = DEFAULT_RHO
    nu: Decimal | None = None
    default_pd: Decimal | None = None
    closeout_cost: Decimal = Decimal(0)
    contagion_share: Decimal | None = None
    confidence: Decimal = DEFAULT_CONFIDENCE
    auction_tiers: tuple[tuple[str, ...], ...] = ()
    member_ids: tuple[str, ...] = ()
    pd: NDArray[np.float64] | None = None
    capital: NDArray[np.int64] | None = None


# (low, high, low included, high included, what the range says)
_RANGES: Mapping[str, tuple[Decimal, Decimal | None, bool, bool, str]] = {
    "rho": (Decimal(0), Decimal(1), True, False, "from 0 to below 1"),
    "nu": (Decimal(0), Decimal(1000), False, True, "above 0 and at most 1000"),
    "default_pd": (Decimal(0), Decimal(1), True, False, "from 0 to below 1"),
    "closeout_cost": (Decimal(0), Decimal(10), True, True, "from 0 to 10"),
    "contagion_share": (Decimal(0), Decimal(1000), False, True, "above 0 and at most 1000"),
    "confidence": (Decimal("0.5"), Decimal(1), True, False, "from 0.5 to below 1"),
}


def _in_range(name: str, value: Decimal) -> bool:
    low, high, low_in, high_in, _ = _RANGES[name]
    above = value >= low if low_in else value > low
    below = high is None or (value <= high if high_in else value < high)
    return above and below


_TEXT = {
    "rho": "Factor loading (asset correlation) of the one-factor copula (default 0.2).",
    "nu": "Degrees of freedom of a Student t copula; absent: the Gaussian copula.",
    "default_pd": "Probability of default of each group the members file gives no pd for.",
    "closeout_cost": "Close-out losses are multiplied by 1 + this (liquidation cost).",
    "contagion_share": "A member fails when its charges on a path exceed this times its capital.",
    "confidence": "Confidence of VaR and ES (default 0.99).",
    "ratings": "Probability of default by rating, for members with a rating and no pd.",
    "auction_tiers": (
        "Member ids by auction tier, most junior first, for tranches that allocate by auction "
        "tier: every simulated event has this auction, less its defaulters."
    ),
}


def simulation_schema() -> dict[str, object]:
    """The JSON Schema of the ``[simulation]`` table (for ``ccp schema --risk``)."""
    number = {
        "anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": DECIMAL_PATTERN}]
    }
    properties: dict[str, object] = {
        key: {"description": f"{_TEXT[key]} A decimal number {_RANGES[key][4]}.", **number}
        for key in NUMBER_KEYS
    }
    properties["auction_tiers"] = {
        "description": _TEXT["auction_tiers"],
        "type": "array",
        "items": {"type": "array", "minItems": 1, "items": {"type": "string"}},
    }
    properties["ratings"] = {
        "description": f"{_TEXT['ratings']} Each a decimal number from 0 to below 1.",
        "type": "object",
        "additionalProperties": number,
    }
    return {
        "description": "Monte Carlo settings of ccp simulate; optional.",
        "type": "object",
        "properties": {key: properties[key] for key in SIMULATION_KEYS},
        "additionalProperties": False,
    }


def simulation_table_issues(
    doc: Mapping[str, object], file: str
) -> tuple[dict[str, Decimal], dict[str, Decimal], list[Issue]]:
    """The numbers and the ratings of the ``[simulation]`` table, or the issues with it."""
    raw = doc.get(SIMULATION_TABLE)
    if raw is None:
        return {}, {}, []
    if not isinstance(raw, dict):
        return {}, {}, [Issue(file, SIMULATION_TABLE, "expected a table: [simulation]")]
    values: dict[str, Decimal] = {}
    ratings: dict[str, Decimal] = {}
    issues: list[Issue] = []
    for key in sorted(raw):
        where = field_path(SIMULATION_TABLE, key)
        if key not in SIMULATION_KEYS:
            issues.append(
                Issue(
                    file,
                    where,
                    f"unknown key {key!r}; expected one of: {', '.join(SIMULATION_KEYS)}",
                )
            )
            continue
        value = raw[key]
        if key == "ratings":
            ratings, rating_issues = _ratings(value, file, where)
            issues.extend(rating_issues)
            continue
        if key == "auction_tiers":
            continue  # checked against the members file (auction_tier_issues)
        number = parse_decimal(value, file, where)
        if isinstance(number, Issue):
            issues.append(number)
            continue
        if not _in_range(key, number):
            issues.append(Issue(file, where, f"{key} is {number}: it must be {_RANGES[key][4]}"))
            continue
        values[key] = number
    return values, ratings, issues


def auction_tiers(
    doc: Mapping[str, object], file: str, members: Sequence[str] | None
) -> tuple[tuple[tuple[str, ...], ...], list[Issue]]:
    """``[simulation] auction_tiers``: lists of member ids, each id known and named once."""
    table = doc.get(SIMULATION_TABLE)
    raw = table.get("auction_tiers") if isinstance(table, dict) else None
    if raw is None:
        return (), []
    where = field_path(SIMULATION_TABLE, "auction_tiers")
    if not isinstance(raw, list) or not all(isinstance(t, list) and t for t in raw):
        return (), [Issue(file, where, 'expected lists of member ids: [["CM01"], ["CM02"]]')]
    known = set(members) if members is not None else None
    seen: set[str] = set()
    issues: list[Issue] = []
    for i, tier in enumerate(raw):
        for j, member in enumerate(tier):
            at = field_path(field_path(where, i), j)
            if not isinstance(member, str):
                issues.append(Issue(file, at, "expected a member id"))
            elif known is not None and member not in known:
                issues.append(Issue(file, at, f"unknown member {member!r}"))
            elif member in seen:
                issues.append(Issue(file, at, f"{member!r} is in an earlier tier already"))
            else:
                seen.add(member)
    return tuple(tuple(str(m) for m in tier) for tier in raw), issues


def _ratings(value: object, file: str, where: str) -> tuple[dict[str, Decimal], list[Issue]]:
    """The rating-to-probability table, or its issues."""
    if not isinstance(value, dict):
        return {}, [Issue(file, where, 'expected a table such as { A = "0.0005" }')]
    ratings: dict[str, Decimal] = {}
    issues: list[Issue] = []
    for rating, raw in value.items():
        at = field_path(where, rating)
        number = parse_decimal(raw, file, at)
        if isinstance(number, Issue):
            issues.append(number)
        elif not _in_range("default_pd", number):
            issues.append(Issue(file, at, f"{number} is not a probability from 0 to below 1"))
        else:
            ratings[rating] = number
    return ratings, issues


def member_columns(
    members: Path, ccy: Currency | None, ratings: Mapping[str, Decimal] | None = None
) -> tuple[tuple[str, ...], NDArray[np.float64] | None, NDArray[np.int64] | None, list[Issue]]:
    """Each member's probability of default and capital from the members file, or issues.

    The probability is the ``pd`` column's, else that of the member's ``rating``
    in ``ratings``; NaN for neither; None for the whole when neither column is
    there. The capital is in minor units, 0 for an empty cell.

    The file's own problems (unreadable, unknown columns) are the portfolio
    reader's to report; here only these two columns are checked.
    """
    from ccpwaterfall.io.tables import read_table  # noqa: PLC0415  (pandas: only when used)

    table = read_table(members, ("id",), ("name", "group", *MEMBER_COLUMNS), what="members")
    if table.broken:
        return (), None, None, []
    ids = table.text("id")
    issues: list[Issue] = []
    pd_values = None
    if "pd" in table.raw or "rating" in table.raw:
        pd_values = np.full(table.n_rows, np.nan)
    if "pd" in table.raw:
        assert pd_values is not None  # made above
        for row, cell in enumerate(table.text("pd").tolist()):
            if not cell:
                continue
            number = parse_decimal(cell, table.file, row_field(row, "pd"))
            if isinstance(number, Issue):
                issues.append(number)
            elif not _in_range("default_pd", number):
                issues.append(
                    Issue(
                        table.file,
                        row_field(row, "pd"),
                        f"pd is {number}: a probability of default must be from 0 to below 1",
                    )
                )
            else:
                pd_values[row] = float(number)
    if "rating" in table.raw:
        assert pd_values is not None  # made above
        known = ratings or {}
        for row, cell in enumerate(table.text("rating").tolist()):
            if not cell or not np.isnan(pd_values[row]):
                continue  # a pd of its own wins over the rating's
            if cell in known:
                pd_values[row] = float(known[cell])
            else:
                listed = ", ".join(sorted(known)) or "none"
                issues.append(
                    Issue(
                        table.file,
                        row_field(row, "rating"),
                        f"rating {cell!r} has no probability in [simulation] ratings "
                        f"(listed: {listed})",
                    )
                )
    if pd_values is not None:
        groups = table.text("group")
        seen: dict[str, tuple[int, float]] = {}
        for row, (member, group) in enumerate(zip(ids.tolist(), groups.tolist(), strict=True)):
            value = float(pd_values[row])
            if np.isnan(value):
                continue
            key = group or member
            first = seen.setdefault(key, (row, value))
            if first[1] != value:
                issues.append(
                    Issue(
                        table.file,
                        f"row {row + 1}",
                        f"probability of default {value:g} differs from {first[1]:g} in row "
                        f"{first[0] + 1} for the same group {key!r}: a group defaults as one",
                    )
                )
    capital = None
    if "capital" in table.raw:
        text = table.text("capital")
        capital = np.zeros(table.n_rows, np.int64)
        for row, cell in enumerate(text.tolist()):
            if not cell:
                continue
            amount = exact_amount(cell)
            where = row_field(row, "capital")
            if isinstance(amount, str):
                issues.append(Issue(table.file, where, amount))
            elif ccy is not None and amount.quantize(ccy.quantum) != amount:
                issues.append(
                    Issue(table.file, where, f"{shown(cell)}: more decimals than {ccy.code} has")
                )
            elif ccy is not None:
                units = int(amount.scaleb(ccy.minor_unit))
                if units >= 2**53:
                    issues.append(Issue(table.file, where, f"{shown(cell)} is too large"))
                else:
                    capital[row] = units
    return tuple(ids.tolist()), pd_values, capital, issues


def simulation_issues(
    doc: Mapping[str, object], file: str, members: Path | None, ccy: Currency | None
) -> list[Issue]:
    """Every problem of the simulation settings of a risk case (``ccp check`` reports them)."""
    _, config_issues = simulation_config(doc, file, members, ccy)
    return config_issues


def simulation_config(
    doc: Mapping[str, object], file: str, members: Path | None, ccy: Currency | None
) -> tuple[SimulationConfig | None, list[Issue]]:
    """The simulation settings of a parsed risk case, or every problem with them."""
    values, ratings, issues = simulation_table_issues(doc, file)
    ids: tuple[str, ...] = ()
    pd_values = capital = None
    if members is not None and (members.suffix.lower() in (".csv", ".parquet")):
        ids, pd_values, capital, column_issues = member_columns(members, ccy, ratings)
        issues.extend(column_issues)
    tiers, tier_issues = auction_tiers(doc, file, ids or None)
    issues.extend(tier_issues)
    if issues:
        return None, issues
    return (
        SimulationConfig(
            rho=values.get("rho", DEFAULT_RHO),
            nu=values.get("nu"),
            default_pd=values.get("default_pd"),
            closeout_cost=values.get("closeout_cost", Decimal(0)),
            contagion_share=values.get("contagion_share"),
            confidence=values.get("confidence", DEFAULT_CONFIDENCE),
            auction_tiers=tiers,
            member_ids=ids,
            pd=pd_values,
            capital=capital,
        ),
        [],
    )


def csv_text(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """One table as CSV text (``\\n`` line ends)."""
    out = text_io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def write_csv_tables(
    folder: Path, tables: Mapping[str, tuple[Sequence[str], Sequence[Sequence[str]]]]
) -> list[Issue]:
    """Write each table to ``folder/NAME.csv``: every file or none (problems returned).

    The folder is made if missing; existing files of these names are replaced.
    """
    from ccpwaterfall.io.files import write_text  # noqa: PLC0415

    where = str(folder)
    if folder.exists() and not folder.is_dir():
        return [Issue(where, "--csv", "is not a folder")]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return [Issue(where, "--csv", f"cannot be made: {error.strerror or error}")]
    written: list[Path] = []
    for name, (header, rows) in tables.items():
        path = folder / f"{name}.csv"
        refused = write_text(path, csv_text(header, rows), force=True)
        if refused is not None:
            for done in written:
                done.unlink(missing_ok=True)
            return [refused]
        written.append(path)
    return []
