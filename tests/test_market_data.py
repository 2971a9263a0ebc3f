"""Real price history from the arch package's datasets, and price history files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ccpwaterfall.io.issues import InputError
from ccpwaterfall.io.market_data import (
    load_history,
    load_history_file,
    read_history,
    read_history_source,
)
from ccpwaterfall.risk.params import ScenarioParams, VolatilityFilter
from ccpwaterfall.risk.scenarios import PriceHistory, historical_scenarios


@pytest.fixture(scope="module")
def history() -> PriceHistory:
    return load_history()


def _between(
    history: PriceHistory, start: str, end: str
) -> np.ndarray[tuple[int], np.dtype[np.bool_]]:
    return (history.dates >= np.datetime64(start)) & (history.dates <= np.datetime64(end))


def test_the_three_series_share_1999_to_2018(history: PriceHistory) -> None:
    assert history.factor_ids == ("sp500", "nasdaq", "wti")
    assert history.dates[0] < np.datetime64("1999-02-01")
    assert history.dates[-1] > np.datetime64("2018-12-01")
    assert np.isfinite(history.levels).all()
    assert (history.levels > 0).all()
    # About 250 trading days a year, none missing for any series after alignment.
    assert 4900 < history.n_days < 5100
    assert (np.diff(history.dates) > np.timedelta64(0, "D")).all()


def test_the_history_covers_the_2008_crisis_and_the_oil_crash(history: PriceHistory) -> None:
    assert _between(history, "2008-10-01", "2008-10-31").sum() >= 20
    assert _between(history, "2015-01-01", "2016-12-31").sum() >= 480


def test_the_worst_two_day_sp500_move_is_in_the_2008_crisis(history: PriceHistory) -> None:
    scenarios = historical_scenarios(history.select(["sp500"]), ScenarioParams(mpor_days=2))
    worst = scenarios.names[int(np.argmin(scenarios.factor_returns[:, 0]))]
    # "Oct 2008 or close": the autumn of the Lehman failure.
    assert "2008-09-15" <= worst <= "2008-12-31"
    weekly = historical_scenarios(history.select(["sp500"]), ScenarioParams(mpor_days=5))
    assert weekly.names[int(np.argmin(weekly.factor_returns[:, 0]))].startswith("2008-10")


def test_wti_more_than_halved_from_mid_2014_to_early_2016(history: PriceHistory) -> None:
    wti = history.levels[:, history.factor_ids.index("wti")]
    summer_2014 = wti[_between(history, "2014-06-01", "2014-07-31")].max()
    early_2016 = wti[_between(history, "2016-01-01", "2016-03-31")].min()
    assert early_2016 < 0.5 * summer_2014


def test_filtered_scenarios_from_real_data(history: PriceHistory) -> None:
    params = ScenarioParams(2, 2500, VolatilityFilter.EWMA)
    scenarios = historical_scenarios(history, params)
    assert scenarios.n_scenarios == 2500
    assert scenarios.names[-1] == str(history.dates[-1])
    assert np.isfinite(scenarios.factor_returns).all()


def test_a_subset_in_the_order_asked() -> None:
    oil_first = load_history(("wti", "sp500"))
    assert oil_first.factor_ids == ("wti", "sp500")
    with pytest.raises(ValueError, match="sp500, nasdaq, wti"):
        load_history(("gold",))


def test_a_history_source_names_arch_datasets_or_a_file(tmp_path: Path) -> None:
    history, issues = read_history_source("arch:wti", tmp_path, "case.toml", "portfolio.history")
    assert issues == []
    assert history is not None
    assert history.factor_ids == ("wti",)
    _, issues = read_history_source("arch:sp500,gold", tmp_path, "case.toml", "portfolio.history")
    assert [str(i) for i in issues] == [
        "case.toml: portfolio.history: unknown dataset 'gold': the arch package ships "
        'sp500, nasdaq, wti (write "arch:sp500,nasdaq,wti")'
    ]
    (tmp_path / "prices.csv").write_text("date,x\n2020-01-02,1\n2020-01-03,2\n")
    history, issues = read_history_source("prices.csv", tmp_path, "case.toml", "portfolio.history")
    assert issues == []
    assert history is not None
    assert history.factor_ids == ("x",)


def test_a_history_file_in_any_row_order(tmp_path: Path) -> None:
    rows = ["2020-01-06,3.5,40", "2020-01-02,3,41.5", "2020-01-03,3.25,", "2020-01-07,3.75,39"]
    (tmp_path / "a.csv").write_text("date,eq,oil\n" + "\n".join(rows) + "\n")
    (tmp_path / "b.csv").write_text("date,eq,oil\n" + "\n".join(sorted(rows)) + "\n")
    a = load_history_file(tmp_path / "a.csv")
    b = load_history_file(tmp_path / "b.csv")
    assert a.factor_ids == ("eq", "oil")
    # The day oil has no price is left out: series are aligned on common dates.
    np.testing.assert_array_equal(
        a.dates, np.array(["2020-01-02", "2020-01-06", "2020-01-07"], dtype="datetime64[D]")
    )
    np.testing.assert_array_equal(a.levels, [[3.0, 41.5], [3.5, 40.0], [3.75, 39.0]])
    np.testing.assert_array_equal(a.levels, b.levels)


def test_every_problem_of_a_history_file_at_once(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text(
        "date,eq,oil\n"
        "2020-01-02,3,41\n"
        "2020-13-01,3,41\n"
        "2020-01-02,3,40\n"
        "2020-01-06,abc,-2\n"
        "2020-01-07,inf,40\n"
    )
    _, issues = read_history(path)
    assert sorted(str(i) for i in issues) == sorted(
        f"{path}: {m}"
        for m in (
            "row 2, column date: expected a date written YYYY-MM-DD, got '2020-13-01'",
            "row 3, column date: duplicate date '2020-01-02' (first at row 1)",
            "row 4, column eq: expected a finite number, got 'abc'",
            "row 5, column eq: expected a finite number, got 'inf'",
            "row 4, column oil: prices must be positive (scenarios are log returns), got -2",
        )
    )
    with pytest.raises(InputError):
        load_history_file(path)


def test_a_history_file_needs_a_date_column_and_prices(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text("day,eq\n2020-01-02,3\n")
    _, issues = read_history(path)
    messages = [str(i) for i in issues]
    assert (
        f"{path}: columns: missing column 'date': the file has the columns day, eq; "
        "expected date and one column per risk factor" in messages
    )
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    _, issues = read_history(empty)
    assert [str(i) for i in issues] == [
        f"{empty}: empty file: expected a header row naming the columns"
    ]
    _, issues = read_history(tmp_path / "missing.parquet")
    assert [str(i) for i in issues] == [f"{tmp_path / 'missing.parquet'}: file not found"]
