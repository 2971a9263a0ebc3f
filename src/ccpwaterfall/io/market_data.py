"""Real price histories: the daily series the ``arch`` package ships, or a CSV/Parquet file.

The ``arch`` datasets (``arch.data``) are public daily series:

- ``sp500``: S&P 500 index, adjusted close, 1999-01-04 to 2018-12-31;
- ``nasdaq``: NASDAQ Composite index, adjusted close, same dates;
- ``wti``: West Texas Intermediate crude oil price, USD a barrel, 1986-01-02 to
  2019-01-03, from the FRED database (series ``DCOILWTICO``; its empty holiday
  rows are dropped).

Series are aligned on the dates they all have, so the three together run from
1999 to 2018, with the 2008 crisis and the 2014-16 oil crash inside.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ccpwaterfall.io.issues import InputError, Issue
from ccpwaterfall.io.tables import MAX_LISTED_ROWS, Table, read_table, row_field
from ccpwaterfall.risk.scenarios import PriceHistory

#: Datasets of the ``arch`` package by factor id: (module, price column).
ARCH_SERIES: dict[str, tuple[str, str]] = {
    "sp500": ("arch.data.sp500", "Adj Close"),
    "nasdaq": ("arch.data.nasdaq", "Adj Close"),
    "wti": ("arch.data.wti", "DCOILWTICO"),
}

#: The prefix of a history source naming ``arch`` datasets: ``"arch:sp500,nasdaq,wti"``.
ARCH_PREFIX = "arch:"


def load_history(names: Sequence[str] = ("sp500", "nasdaq", "wti")) -> PriceHistory:
    """The ``arch`` datasets ``names`` as one price history on their common dates.

    Factor ids are the dataset names, in the order given. An unknown name is a
    ``ValueError`` (the known ones are ``ARCH_SERIES``).
    """
    unknown = [n for n in names if n not in ARCH_SERIES]
    if unknown or not names or len(set(names)) != len(names):
        raise ValueError(
            f"give distinct dataset names among {', '.join(ARCH_SERIES)}; got {list(names)}"
        )
    series = []
    for name in names:  # a handful of datasets
        module, column = ARCH_SERIES[name]
        frame = importlib.import_module(module).load()
        series.append(frame[column].rename(name).dropna())
    aligned = pd.concat(series, axis=1, join="inner").sort_index()
    return PriceHistory(
        dates=aligned.index.to_numpy().astype("datetime64[D]"),
        factor_ids=tuple(names),
        levels=aligned.to_numpy(dtype=np.float64),
    )


def read_history(path: Path) -> tuple[PriceHistory | None, list[Issue]]:
    """A price history file: a ``date`` column (YYYY-MM-DD) and one column per factor.

    Factor ids are the other column names, in file order. A row with an empty cell is
    a date some factor has no price for: it is left out (series are aligned on common
    dates). Dates may come in any order but not twice; prices are positive finite
    numbers. At least two complete rows are needed. Returns the history or every
    issue (file, ``row N, column X``).
    """
    table = read_table(path, ("date",), what="prices", any_other=True)
    if table.n_rows == 0:
        return None, table.issues
    file = table.file
    factor_ids = tuple(c for c in table.raw if c != "date")
    issues = table.issues
    if not factor_ids:
        issues.append(Issue(file, "columns", "no price columns: add one column per risk factor"))
    _dates_from_timestamps(table)
    text = table.required_text("date", "date")
    dates = pd.to_datetime(pd.Series(text), format="%Y-%m-%d", errors="coerce")
    bad = np.flatnonzero(dates.isna().to_numpy() & (text != ""))
    table.add_each(
        bad,
        "date",
        [
            f"expected a date written YYYY-MM-DD, got {str(text[r])!r}"
            for r in bad[:MAX_LISTED_ROWS]
        ],
        "not dates",
    )
    days = dates.to_numpy().astype("datetime64[D]")
    table.unique_ids(
        np.where(text == "", "", np.datetime_as_string(days, unit="D")), "date", "date"
    )
    levels = np.column_stack(
        [table.numbers(f, required=False) for f in factor_ids] or [np.empty(table.n_rows)]
    )
    non_positive = np.argwhere(levels <= 0)
    for row, col in non_positive[:MAX_LISTED_ROWS].tolist():
        issues.append(
            Issue(
                file,
                row_field(row, factor_ids[col]),
                f"prices must be positive (scenarios are log returns), got {levels[row, col]:g}",
            )
        )
    complete = ~np.isnat(days) & np.isfinite(levels).all(axis=1)
    if complete.sum() < 2 and not issues:
        issues.append(Issue(file, "", "fewer than two dates with a price for every factor"))
    if issues:
        return None, issues
    order = np.argsort(days[complete], kind="stable")
    return (
        PriceHistory(
            dates=days[complete][order],
            factor_ids=factor_ids,
            levels=levels[complete][order],
        ),
        [],
    )


def _dates_from_timestamps(table: Table) -> None:
    """A Parquet ``date`` column of timestamps at midnight (pandas' way of storing dates)
    read as dates; a time of day other than midnight is one issue for the column."""
    raw = table.raw.get("date")
    if raw is None or not np.issubdtype(raw.dtype, np.datetime64):
        return
    stamps = pd.DatetimeIndex(raw)
    if stamps.tz is not None:
        stamps = stamps.tz_localize(None)
    missing = np.asarray(stamps.isna(), dtype=bool)
    timed = np.flatnonzero(~missing & np.asarray(stamps != stamps.normalize(), dtype=bool))
    if timed.size:
        more = f", and {timed.size - 1} more rows" if timed.size > 1 else ""
        table.issues.append(
            Issue(
                table.file,
                "column date",
                f"dates with a time of day ({stamps[timed[0]]} in row {timed[0] + 1}{more}): "
                "a price history has one price a day; store dates, or timestamps at midnight",
            )
        )
        table.broken = True
        return
    table.raw["date"] = np.asarray(stamps.strftime("%Y-%m-%d").fillna(""), dtype=object)


def load_history_file(path: Path) -> PriceHistory:
    """``read_history``, raising ``InputError`` with every issue."""
    history, issues = read_history(path)
    if history is None:
        raise InputError(issues)
    return history


def read_history_source(
    source: str, base: Path, file: str, field: str
) -> tuple[PriceHistory | None, list[Issue]]:
    """The history a case names: ``"arch:sp500,nasdaq,wti"`` or a file path relative to ``base``.

    Issues with the source itself name ``file`` and ``field``; issues inside a
    history file name that file.
    """
    if source.startswith(ARCH_PREFIX):
        names = [n.strip() for n in source[len(ARCH_PREFIX) :].split(",")]
        unknown = [n for n in names if n not in ARCH_SERIES]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if unknown or repeated or not names:
            problem = (
                f"unknown dataset {unknown[0]!r}" if unknown else f"dataset {repeated[0]!r} twice"
            )
            return None, [
                Issue(
                    file,
                    field,
                    f"{problem}: the arch package ships {', '.join(ARCH_SERIES)} "
                    f'(write "arch:sp500,nasdaq,wti")',
                )
            ]
        return load_history(names), []
    if not source.strip():
        return None, [Issue(file, field, 'empty: name a file or "arch:sp500,nasdaq,wti"')]
    return read_history(base / source)
