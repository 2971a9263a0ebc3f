"""Portfolio files: members, accounts, instruments, positions and supplied scenario P&L.

Each file is CSV or Parquet (by extension, ``.csv`` or ``.parquet``) with a
header row naming its columns:

- members: ``id``, ``name`` (optional), ``group`` (optional: affiliate group; a
  member with none is its own group);
- accounts: ``id``, ``member``, ``kind`` (``house`` or ``client``);
- instruments: ``id``, ``kind`` (``future``, ``forward``, ``call``, ``put``),
  ``underlying`` (a risk factor of the price history), ``multiplier`` (> 0), and for
  options ``strike`` (> 0), ``expiry_years`` (>= 0) and ``volatility`` (>= 0), which
  are left empty for futures and forwards;
- positions: ``account``, ``instrument``, ``quantity`` (signed units; rows for the
  same account and instrument are summed);
- scenario P&L (optional, long format): ``instrument``, ``scenario``, ``pnl`` (per
  unit, gains positive), one row per instrument and scenario.

Every problem in every file is reported at once, each with its file, ``row N``
(1-based, the header row not counted) and column. Rows may come in any order:
the arrays built from them are the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

from ccpwaterfall.io.issues import InputError, Issue
from ccpwaterfall.io.tables import MAX_LISTED_ROWS, Table, read_table
from ccpwaterfall.risk.instruments import InstrumentKind, Instruments, build_instruments
from ccpwaterfall.risk.portfolio import Portfolio, PortfolioRows, build_portfolio
from ccpwaterfall.risk.scenarios import ScenarioPnl

ACCOUNT_KINDS = ("house", "client")
# Bounds on single cells, so that prices and amounts computed from them stay finite.
MAX_QUANTITY = 1e15
MAX_MULTIPLIER = 1e9
MAX_VOLATILITY = 10.0  # 1,000% a year
MAX_EXPIRY_YEARS = 100.0
_OPTION_TERMS = ("strike", "expiry_years", "volatility")
_KINDS = tuple(k.value for k in InstrumentKind)


def read_portfolio(
    members: Path,
    accounts: Path,
    instruments: Path,
    positions: Path,
    *,
    factor_ids: Sequence[str] | None,
) -> tuple[tuple[Portfolio, Instruments] | None, list[Issue]]:
    """The portfolio and instruments in four files, or every issue in them.

    ``factor_ids`` are the risk factors instruments may be written on (the price
    history's); ``None`` when they are not known (no usable history): that check is
    skipped and the instruments' factors are the underlyings they name, sorted.
    """
    # pd, rating and capital are read by the simulation (io.simulation_config).
    member_table = read_table(
        members, ("id",), ("name", "group", "pd", "rating", "capital"), what="members"
    )
    account_table = read_table(accounts, ("id", "member", "kind"), what="accounts")
    instrument_table = read_table(
        instruments,
        ("id", "kind", "underlying", "multiplier"),
        _OPTION_TERMS,
        what="instruments",
    )
    position_table = read_table(positions, ("account", "instrument", "quantity"), what="positions")

    member_ids = member_table.required_text("id", "member id")
    member_table.unique_ids(member_ids, "id", "member id")
    names = member_table.text("name")
    groups = member_table.text("group")

    account_ids = account_table.required_text("id", "account id")
    account_table.unique_ids(account_ids, "id", "account id")
    account_members = account_table.required_text("member", "member")
    # Against a broken file every reference would be unknown: its own issue says enough.
    if not member_table.broken:
        account_table.known(account_members, "member", set(member_ids) - {""}, "member")
    kinds = account_table.required_text("kind", "account kind")
    account_table.known(
        kinds,
        "kind",
        ACCOUNT_KINDS,
        "account kind",
        f"; expected one of: {', '.join(ACCOUNT_KINDS)}",
    )

    terms = _instrument_columns(instrument_table, factor_ids)

    position_accounts = position_table.required_text("account", "account")
    if not account_table.broken:
        position_table.known(position_accounts, "account", set(account_ids) - {""}, "account")
    position_instruments = position_table.required_text("instrument", "instrument")
    if not instrument_table.broken:
        position_table.known(
            position_instruments, "instrument", set(terms.ids) - {""}, "instrument"
        )
    quantities = position_table.numbers("quantity", required=True)
    _at_most(position_table, quantities, "quantity", MAX_QUANTITY, "units")

    issues = [
        *member_table.issues,
        *account_table.issues,
        *instrument_table.issues,
        *position_table.issues,
    ]
    if issues:
        return None, issues
    rows = PortfolioRows(
        member_ids=tuple(member_ids.tolist()),
        member_names=tuple(n or None for n in names.tolist()),
        member_groups=tuple(g or None for g in groups.tolist()),
        account_ids=tuple(account_ids.tolist()),
        account_members=tuple(account_members.tolist()),
        account_is_client=tuple((kinds == "client").tolist()),
        position_accounts=position_accounts,
        position_instruments=position_instruments,
        position_quantities=quantities,
    )
    built = build_instruments(
        terms.ids.tolist(),
        [InstrumentKind(k) for k in terms.kinds.tolist()],
        terms.underlyings.tolist(),
        multipliers=terms.multipliers,
        strikes=terms.strikes,
        expiry_years=terms.expiries,
        volatilities=terms.volatilities,
        # Without a known history, the factors are those the instruments name.
        factor_ids=sorted(set(terms.underlyings.tolist())) if factor_ids is None else factor_ids,
    )
    return (build_portfolio(rows, built.ids), built), []


def load_portfolio(
    members: Path,
    accounts: Path,
    instruments: Path,
    positions: Path,
    *,
    factor_ids: Sequence[str] | None,
) -> tuple[Portfolio, Instruments]:
    """``read_portfolio``, raising ``InputError`` with every issue."""
    loaded, issues = read_portfolio(
        members, accounts, instruments, positions, factor_ids=factor_ids
    )
    if loaded is None:
        raise InputError(issues)
    return loaded


@dataclass(frozen=True, slots=True, eq=False)
class _InstrumentColumns:
    """The checked columns of an instrument file, shape (n_rows,) each (NaN terms for
    linear instruments)."""

    ids: NDArray[np.str_]
    kinds: NDArray[np.str_]
    underlyings: NDArray[np.str_]
    multipliers: NDArray[np.float64]
    strikes: NDArray[np.float64]
    expiries: NDArray[np.float64]
    volatilities: NDArray[np.float64]


def _instrument_columns(table: Table, factor_ids: Sequence[str] | None) -> _InstrumentColumns:
    """The instrument file's columns, with an issue in ``table`` for each bad cell."""
    ids = table.required_text("id", "instrument id")
    table.unique_ids(ids, "id", "instrument id")
    kinds = table.required_text("kind", "instrument kind")
    table.known(kinds, "kind", _KINDS, "instrument kind", f"; expected one of: {', '.join(_KINDS)}")
    underlyings = table.required_text("underlying", "underlying risk factor")
    if factor_ids is not None:
        table.known(
            underlyings,
            "underlying",
            factor_ids,
            "risk factor",
            f" (the price history has: {', '.join(factor_ids)})",
        )
    multipliers = table.numbers("multiplier", required=True)
    table.add_rows(np.flatnonzero(multipliers <= 0), "multiplier", "multiplier must be positive")
    _at_most(table, multipliers, "multiplier", MAX_MULTIPLIER, "currency units per point")
    option = np.isin(kinds, ("call", "put"))
    linear = np.isin(kinds, ("future", "forward"))
    terms = {}
    for column, rule in (
        ("strike", "positive"),
        ("expiry_years", "zero or more"),
        ("volatility", "zero or more"),
    ):
        values = table.numbers(column, required=False)
        given = table.text(column) != ""
        table.add_rows(np.flatnonzero(option & ~given), column, f"an option needs its {column}")
        out_of_range = values <= 0 if column == "strike" else values < 0
        table.add_rows(np.flatnonzero(option & out_of_range), column, f"{column} must be {rule}")
        table.add_rows(
            np.flatnonzero(linear & given),
            column,
            f"{column} is for options only: leave it empty for a future or forward",
        )
        bound = {"expiry_years": (MAX_EXPIRY_YEARS, "years"), "volatility": (MAX_VOLATILITY, "")}
        if column in bound:
            _at_most(table, np.where(option, values, np.nan), column, *bound[column])
        terms[column] = np.where(option, values, np.nan)
    return _InstrumentColumns(
        ids=ids,
        kinds=kinds,
        underlyings=underlyings,
        multipliers=multipliers,
        strikes=terms["strike"],
        expiries=terms["expiry_years"],
        volatilities=terms["volatility"],
    )


def _at_most(
    table: Table, values: NDArray[np.float64], column: str, bound: float, unit: str
) -> None:
    """An issue for each row whose value's magnitude exceeds ``bound`` (NaN rows pass)."""
    rows = np.flatnonzero(np.abs(np.nan_to_num(values)) > bound)
    shown = [f"{values[r]:g}" for r in rows[:MAX_LISTED_ROWS].tolist()]
    limit = f"{bound:g}{' ' + unit if unit else ''}"
    table.add_each(
        rows,
        column,
        [f"{column} {v} is beyond the largest the risk engine takes, {limit}" for v in shown],
        f"{column} beyond {limit}",
    )


def read_scenario_pnl(
    path: Path, instrument_ids: Sequence[str]
) -> tuple[ScenarioPnl | None, list[Issue]]:
    """Supplied per-unit P&L (long format) as a matrix over ``instrument_ids``.

    Scenarios are sorted by name (ISO dates sort in time order). Every
    instrument needs a P&L in every scenario, exactly once; instruments not in
    ``instrument_ids`` are issues.
    """
    table = read_table(path, ("instrument", "scenario", "pnl"), what="P&L rows")
    instruments = table.required_text("instrument", "instrument")
    known = table.known(instruments, "instrument", set(instrument_ids), "instrument")
    scenarios = table.required_text("scenario", "scenario name")
    pnl = table.numbers("pnl", required=True)
    pairs = np.char.add(np.char.add(instruments, "\x00"), scenarios)
    table.unique_ids(
        np.where((instruments == "") | (scenarios == ""), "", pairs),
        "scenario",
        "P&L for instrument",
        labels=np.char.add(
            np.char.add(np.char.add(np.char.add("'", instruments), "' in scenario '"), scenarios),
            "'",
        ),
    )
    if table.issues:
        return None, table.issues
    names = np.unique(scenarios)
    ids = np.asarray(instrument_ids, dtype=str)
    order = np.argsort(ids, kind="stable")
    row = order[np.searchsorted(ids[order], instruments[known])]
    col = np.searchsorted(names, scenarios[known])
    matrix = np.full((ids.size, names.size), np.nan)
    matrix[row, col] = pnl[known]
    missing = np.isnan(matrix)
    if missing.any():
        lacking = np.flatnonzero(missing.any(axis=1))
        for i in lacking[:MAX_LISTED_ROWS].tolist():
            gaps = np.flatnonzero(missing[i])
            table.issues.append(
                Issue(
                    table.file,
                    "",
                    f"instrument {str(ids[i])!r} has no P&L in {gaps.size} of "
                    f"{names.size} scenarios (first: {str(names[gaps[0]])!r})",
                )
            )
        if lacking.size > MAX_LISTED_ROWS:
            table.issues.append(
                Issue(
                    table.file,
                    "",
                    f"{lacking.size - MAX_LISTED_ROWS} more instruments lack P&L in some scenarios",
                )
            )
        return None, table.issues
    return ScenarioPnl(tuple(ids.tolist()), tuple(names.tolist()), matrix), []


def load_scenario_pnl(path: Path, instrument_ids: Sequence[str]) -> ScenarioPnl:
    """``read_scenario_pnl``, raising ``InputError`` with every issue."""
    pnl, issues = read_scenario_pnl(path, instrument_ids)
    if pnl is None:
        raise InputError(issues)
    return pnl


def write_portfolio(
    directory: Path,
    rows: PortfolioRows,
    instruments: Instruments,
    *,
    positions_format: str = "parquet",
) -> tuple[Path, ...]:
    """Write members.csv, accounts.csv, instruments.csv and positions.(parquet|csv).

    Rows are written sorted by id (positions by account, then instrument), so the
    same portfolio always gives the same files. Returns the paths written.
    """
    if positions_format not in ("parquet", "csv"):
        raise ValueError("positions_format is parquet or csv")
    directory.mkdir(parents=True, exist_ok=True)
    members = pd.DataFrame(
        {"id": rows.member_ids, "name": rows.member_names, "group": rows.member_groups}
    ).sort_values("id")
    accounts = pd.DataFrame(
        {
            "id": rows.account_ids,
            "member": rows.account_members,
            "kind": np.where(rows.account_is_client, "client", "house"),
        }
    ).sort_values("id")
    terms = pd.DataFrame(
        {
            "id": instruments.ids,
            "kind": [k.value for k in instruments.kinds()],
            "underlying": np.asarray(instruments.factor_ids)[instruments.underlying],
            "multiplier": instruments.multiplier,
            "strike": instruments.strike,
            "expiry_years": instruments.expiry_years,
            "volatility": instruments.volatility,
        }
    )
    positions = pd.DataFrame(
        {
            "account": rows.position_accounts,
            "instrument": rows.position_instruments,
            "quantity": rows.position_quantities,
        }
    ).sort_values(["account", "instrument"], kind="stable")
    paths = (
        directory / "members.csv",
        directory / "accounts.csv",
        directory / "instruments.csv",
        directory / f"positions.{positions_format}",
    )
    members.to_csv(paths[0], index=False, lineterminator="\n")
    accounts.to_csv(paths[1], index=False, lineterminator="\n")
    terms.to_csv(paths[2], index=False, lineterminator="\n")
    if positions_format == "csv":
        positions.to_csv(paths[3], index=False, lineterminator="\n")
    else:
        pq.write_table(pa.Table.from_pandas(positions, preserve_index=False), paths[3])
    return paths
