"""Tabular input files (CSV or Parquet, by extension), read into checked columns.

Every problem is an ``Issue`` naming the file, the row and the column:
``positions.csv: row 12, column instrument: unknown instrument 'ESZ9'``. Rows
count from 1 at the first data row (the header row of a CSV file is not
counted), so row N is line N + 1 of a CSV file. A problem found in many rows
is listed for the first ``MAX_LISTED_ROWS`` of them and then counted in one
more issue, so a broken column of a million rows stays readable.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

from ccpwaterfall.io.issues import Issue, not_a_regular_file

#: Rows listed one by one for each problem of a column; the rest are counted.
MAX_LISTED_ROWS = 20

TABLE_SUFFIXES = (".csv", ".parquet")


def row_field(row: int, column: str) -> str:
    """The field of a cell: ``row 12, column instrument`` (``row`` 0-based here, 1-based shown)."""
    return f"row {row + 1}, column {column}"


@dataclass(slots=True)
class Table:
    """The columns of one file, each of shape (n_rows,), and the issues found reading it.

    ``raw`` holds each column as read: strings for CSV, the stored type for Parquet.
    ``broken``: the file has a fault of its own (unreadable, a missing or repeated
    column); its rows are then not checked, since every row would repeat that fault,
    and files that refer to its ids skip that check.
    """

    file: str
    n_rows: int
    raw: dict[str, NDArray[Any]]
    issues: list[Issue] = field(default_factory=list)
    broken: bool = False

    def add_rows(self, rows: NDArray[np.intp], column: str, message: str) -> None:
        """An issue for each of ``rows`` (0-based, ascending), the same message for all."""
        self.add_each(rows, column, [message] * min(rows.size, MAX_LISTED_ROWS), message)

    def add_each(
        self, rows: NDArray[np.intp], column: str, messages: Sequence[str], summary: str
    ) -> None:
        """Issues for ``rows`` with their own messages (the first ``MAX_LISTED_ROWS``).

        ``summary`` describes the problem for the count of rows beyond those listed.
        Nothing is added to a ``broken`` table.
        """
        if self.broken:
            return
        listed = rows[:MAX_LISTED_ROWS].tolist()
        for row, message in zip(listed, messages, strict=False):
            self.issues.append(Issue(self.file, row_field(row, column), message))
        if rows.size > MAX_LISTED_ROWS:
            more = rows.size - MAX_LISTED_ROWS
            self.issues.append(
                Issue(
                    self.file,
                    f"column {column}",
                    f"{more} more rows like the above ({summary}), "
                    f"from row {rows[MAX_LISTED_ROWS] + 1}",
                )
            )

    def text(self, column: str) -> NDArray[np.str_]:
        """The column as stripped strings, "" for an empty cell; shape (n_rows,)."""
        values = self.raw.get(column)
        if values is None:
            return np.full(self.n_rows, "", dtype=str)
        series = pd.Series(values, dtype=object)
        as_text = series.where(series.notna(), "").map(_text)
        return np.asarray(as_text.str.strip(), dtype=str).reshape(self.n_rows)

    def required_text(self, column: str, what: str) -> NDArray[np.str_]:
        """``text`` with an issue for each empty cell of the column."""
        values = self.text(column)
        if column in self.raw:
            self.add_rows(np.flatnonzero(values == ""), column, f"missing {what}")
        return values

    def numbers(self, column: str, *, required: bool) -> NDArray[np.float64]:
        """The column as float64, NaN for an empty cell; shape (n_rows,).

        A cell that is not a finite number is an issue (and NaN); so is an empty cell
        when ``required``.
        """
        values = self.raw.get(column)
        if values is None:
            return np.full(self.n_rows, np.nan)
        text = self.text(column)
        if np.issubdtype(values.dtype, np.number) and not np.issubdtype(values.dtype, np.bool_):
            numbers = np.array(values, dtype=np.float64)
            empty = np.isnan(numbers) & (text == "")
        else:
            numbers = np.array(pd.to_numeric(pd.Series(text), errors="coerce"), np.float64)
            empty = text == ""
        bad = np.flatnonzero(~np.isfinite(numbers) & ~empty)
        self.add_each(
            bad,
            column,
            [
                f"expected a finite number, got {str(text[r])!r}"
                for r in bad[:MAX_LISTED_ROWS].tolist()
            ],
            "not finite numbers",
        )
        if required:
            self.add_rows(np.flatnonzero(empty), column, "missing number")
        numbers[bad] = np.nan
        return numbers

    def unique_ids(
        self,
        ids: NDArray[np.str_],
        column: str,
        what: str,
        labels: NDArray[np.str_] | None = None,
    ) -> None:
        """An issue for each row repeating an id of an earlier row (empty ids are skipped).

        ``labels`` shows each row's id in messages (default: the id, quoted).
        """
        repeat, first = _repeats(ids)
        repeat_rows = repeat[ids[repeat] != ""]
        first_of = dict(zip(repeat.tolist(), first.tolist(), strict=True))
        shown = [
            repr(str(ids[r])) if labels is None else str(labels[r])
            for r in repeat_rows[:MAX_LISTED_ROWS].tolist()
        ]
        self.add_each(
            repeat_rows,
            column,
            [
                f"duplicate {what} {label} (first at row {first_of[r] + 1})"
                for r, label in zip(repeat_rows[:MAX_LISTED_ROWS].tolist(), shown, strict=True)
            ],
            f"duplicate {what}s",
        )

    def known(
        self, ids: NDArray[np.str_], column: str, known: Collection[str], what: str, hint: str = ""
    ) -> NDArray[np.bool_]:
        """True where ``ids`` is one of ``known``; an issue for each non-empty unknown id."""
        ok = np.isin(ids, np.asarray(sorted(known), dtype=str))
        bad = np.flatnonzero(~ok & (ids != ""))
        self.add_each(
            bad,
            column,
            [f"unknown {what} {str(ids[r])!r}{hint}" for r in bad[:MAX_LISTED_ROWS].tolist()],
            f"unknown {what}s",
        )
        return ok


def _text(value: object) -> str:
    # Parquet integers or floats used as ids read as their usual text.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _repeats(ids: NDArray[np.str_]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Rows whose id appeared in an earlier row (ascending), and that earlier first row."""
    if ids.size == 0:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    order = np.argsort(ids, kind="stable")
    ordered = ids[order]
    same = np.r_[False, ordered[1:] == ordered[:-1]]
    # The first row of each run of equal ids, carried forward over the run.
    start = np.maximum.accumulate(np.where(~same, np.arange(ids.size), 0))
    repeat = order[same]
    first = order[start[same]]
    ascending = np.argsort(repeat, kind="stable")
    return repeat[ascending], first[ascending]


def read_table(
    path: Path,
    required: Sequence[str],
    optional: Sequence[str] = (),
    *,
    what: str = "rows",
    any_other: bool = False,
) -> Table:
    """The file at ``path`` (.csv or .parquet) with its column issues in ``Table.issues``.

    A file that cannot be read at all gives a table of no rows and its issue. A
    missing required column, an unknown column and a file with no data
    rows are issues; ``what`` names the rows in messages ("members"). With
    ``any_other`` every other column is welcome (one column per risk factor).
    """
    file = str(path)
    suffix = path.suffix.lower()
    empty = Table(file, 0, {}, broken=True)
    # What the path is comes first: a directory named "hist.d" is not a file type.
    unreadable = not_a_regular_file(path, f"a file of {what} (.csv or .parquet)")
    if unreadable is not None and (suffix in TABLE_SUFFIXES or path.exists()):
        empty.issues.append(unreadable)
        return empty
    if suffix not in TABLE_SUFFIXES:
        empty.issues.append(
            Issue(
                file, "", f"unsupported file type {path.suffix or '(none)'!r}: use .csv or .parquet"
            )
        )
        return empty
    try:
        frame = _read_csv(path) if suffix == ".csv" else _read_parquet(path)
    except _UnreadableError as error:
        empty.issues.append(Issue(file, "", str(error)))
        return empty
    columns = [str(c).strip() for c in frame.columns]
    table = Table(
        file,
        len(frame),
        {name: frame.iloc[:, i].to_numpy() for i, name in enumerate(columns)},
    )
    expected = (*required, *optional)
    fault = _column_fault(columns, required, optional, any_other=any_other)
    if fault is not None:
        table.issues.append(Issue(file, "columns", fault))
        table.broken = True
        return table
    for name in columns:
        if name not in expected and not any_other:
            table.issues.append(
                Issue(
                    file,
                    f"column {name}",
                    f"unknown column {name!r}; expected: {', '.join(expected)}"
                    f"{_closest_column(name, expected)}",
                )
            )
    if table.n_rows == 0:
        table.issues.append(Issue(file, "", f"no data rows: expected {what} below the header"))
    return table


def _column_fault(
    columns: Sequence[str], required: Sequence[str], optional: Sequence[str], *, any_other: bool
) -> str | None:
    """What is wrong with a header as a whole, in one message, or None.

    A header read as one column holding a ``;`` or a tab is a file written with
    another separator; otherwise a repeated column or missing required columns.
    """
    wanted = ", ".join(required) + (f" (and optionally {', '.join(optional)})" if optional else "")
    if any_other:
        wanted += " and one column per risk factor"
    if len(columns) == 1 and (len(required) + len(optional) > 1 or any_other):
        for separator, name in ((";", "semicolons"), ("\t", "tabs")):
            if separator in columns[0]:
                return (
                    f"the header {columns[0]!r} reads as one column: the file seems to separate "
                    f"its columns with {name}; write it comma-separated, with the columns "
                    f"{wanted}"
                )
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        return f"column {repeated[0]!r} appears twice; the file's columns are: {', '.join(columns)}"
    missing = [c for c in required if c not in columns]
    if missing:
        listed = ", ".join(repr(c) for c in missing)
        return (
            f"missing column{'s' if len(missing) > 1 else ''} {listed}: the file has the "
            f"columns {', '.join(columns) or '(none)'}; expected {wanted}"
        )
    return None


def _closest_column(name: str, expected: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(expected), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


class _UnreadableError(Exception):
    """A file that cannot be parsed as a table; the message is for the user."""


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        # Every cell as text: numbers are checked cell by cell, with the cell's own text.
        # The header is read as a row, so a repeated column name stays visible.
        cells = pd.read_csv(
            path,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding="utf-8-sig",
        )
    except pd.errors.EmptyDataError:
        raise _UnreadableError("empty file: expected a header row naming the columns") from None
    except UnicodeDecodeError as error:
        raise _UnreadableError(f"not UTF-8 text: {error.reason} at byte {error.start}") from None
    except (pd.errors.ParserError, ValueError) as error:
        raise _UnreadableError(f"not a valid CSV file: {error}") from None
    frame = cells.iloc[1:].reset_index(drop=True)
    frame.columns = pd.Index(cells.iloc[0].tolist(), dtype=object)
    return frame


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        frame: pd.DataFrame = pq.read_table(path).to_pandas()
    except (pa.ArrowException, OSError) as error:
        raise _UnreadableError(f"not a valid Parquet file: {error}") from None
    return frame
