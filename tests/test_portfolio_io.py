"""Portfolio files: members, accounts, instruments, positions and supplied scenario P&L."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from ccpwaterfall.io.issues import InputError
from ccpwaterfall.io.portfolio import (
    load_portfolio,
    load_scenario_pnl,
    read_portfolio,
    read_scenario_pnl,
    write_portfolio,
)
from ccpwaterfall.io.tables import MAX_LISTED_ROWS
from ccpwaterfall.risk.instruments import InstrumentKind, Instruments
from ccpwaterfall.risk.portfolio import Portfolio, PortfolioRows, build_portfolio
from ccpwaterfall.risk.pricing import instrument_pnl
from ccpwaterfall.risk.scenarios import stress_scenarios
from ccpwaterfall.samples.demo import demo_portfolio

FACTORS = ("eq", "oil")
FILES = ("members.csv", "accounts.csv", "instruments.csv", "positions.csv")


def _write(directory: Path, name: str, *lines: str) -> Path:
    path = directory / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _small(directory: Path) -> tuple[Path, Path, Path, Path]:
    return (
        _write(directory, "members.csv", "id,name,group", "B,Bank B,", "A,Bank A,G1", "C,,G1"),
        _write(
            directory,
            "accounts.csv",
            "id,member,kind",
            "A-H,A,house",
            "A-C1,A,client",
            "B-H,B,house",
            "C-H,C,house",
        ),
        _write(
            directory,
            "instruments.csv",
            "id,kind,underlying,multiplier,strike,expiry_years,volatility",
            "ESH9,future,eq,50,,,",
            "ESC2500,call,eq,50,2500,0.25,0.2",
            "CLF,forward,oil,1000,,,",
        ),
        _write(
            directory,
            "positions.csv",
            "account,instrument,quantity",
            "A-H,ESH9,10",
            "A-H,ESH9,-4",
            "B-H,ESC2500,-3",
            "C-H,CLF,2.5",
            "A-C1,CLF,1",
        ),
    )


def test_a_small_portfolio_as_index_arrays(tmp_path: Path) -> None:
    portfolio, instruments = load_portfolio(*_small(tmp_path), factor_ids=FACTORS)
    assert portfolio.member_ids == ("A", "B", "C")
    assert portfolio.member_names == ("Bank A", "Bank B", None)
    # B has no group: it is its own group, named by its id.
    assert portfolio.group_ids == ("B", "G1")
    np.testing.assert_array_equal(portfolio.member_group, [1, 0, 1])
    assert portfolio.account_ids == ("A-C1", "A-H", "B-H", "C-H")
    np.testing.assert_array_equal(portfolio.account_member, [0, 0, 1, 2])
    np.testing.assert_array_equal(portfolio.account_is_client, [True, False, False, False])
    np.testing.assert_array_equal(portfolio.account_group, [1, 1, 0, 1])
    assert portfolio.instrument_ids == instruments.ids == ("CLF", "ESC2500", "ESH9")
    # The two A-H rows in ESH9 are summed.
    np.testing.assert_array_equal(
        portfolio.positions.toarray(), [[1, 0, 0], [0, 0, 6], [0, -3, 0], [2.5, 0, 0]]
    )
    assert instruments.kinds() == (
        InstrumentKind.FORWARD,
        InstrumentKind.CALL,
        InstrumentKind.FUTURE,
    )
    np.testing.assert_array_equal(instruments.underlying, [1, 0, 0])
    assert math.isnan(instruments.strike[0])
    assert instruments.strike[1] == 2500.0
    np.testing.assert_array_equal(
        portfolio.group_accounts().toarray(), [[0, 0, 1, 0], [1, 1, 0, 1]]
    )
    np.testing.assert_array_equal(
        portfolio.member_accounts().toarray(), [[1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
    )


def test_the_arrays_are_read_only(tmp_path: Path) -> None:
    portfolio, instruments = load_portfolio(*_small(tmp_path), factor_ids=FACTORS)
    with pytest.raises(ValueError, match="read-only"):
        portfolio.account_member[0] = 1
    with pytest.raises(ValueError, match="read-only"):
        portfolio.positions.data[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        instruments.multiplier[0] = 1.0


def test_the_issue_names_the_file_row_and_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _small(Path())
    rows = ["A-H,ESH9,1"] * 11 + ["A-H,ESZ9,1"]
    _write(Path(), "positions.csv", "account,instrument,quantity", *rows)
    _, issues = read_portfolio(*(Path(f) for f in FILES), factor_ids=FACTORS)
    assert [str(i) for i in issues] == [
        "positions.csv: row 12, column instrument: unknown instrument 'ESZ9'"
    ]


def test_every_problem_in_every_file_at_once(tmp_path: Path) -> None:
    paths = (
        _write(tmp_path, "members.csv", "id,name,group,colour", "A,Bank A,,red", "A,Dup,,", ",X,,"),
        _write(tmp_path, "accounts.csv", "id,member,kind", "A-H,A,house", "A-X,Z,omnibus"),
        _write(
            tmp_path,
            "instruments.csv",
            "id,kind,underlying,strike,expiry_years,volatility",
            "F1,future,eq,100,,",
            "O1,call,gold,,0.5,-0.1",
            "O2,swap,eq,,,",
        ),
        _write(
            tmp_path,
            "positions.csv",
            "account,instrument,quantity",
            "A-H,ESZ9,1",
            "A-H,F1,abc",
            "A-H,F1,nan",
            "NOPE,F1,",
            "A-X,O1,-inf",
        ),
    )
    _, issues = read_portfolio(*paths, factor_ids=FACTORS)
    members, accounts, instruments, positions = (str(p) for p in paths)
    assert sorted(str(i) for i in issues) == sorted(
        [
            f"{members}: column colour: unknown column 'colour'; "
            "expected: id, name, group, pd, rating, capital",
            f"{members}: row 2, column id: duplicate member id 'A' (first at row 1)",
            f"{members}: row 3, column id: missing member id",
            f"{accounts}: row 2, column member: unknown member 'Z'",
            f"{accounts}: row 2, column kind: unknown account kind 'omnibus'; "
            "expected one of: house, client",
            # A file missing a column is reported once, without its rows' follow-on faults,
            # and the instruments positions name are not checked against it.
            f"{instruments}: columns: missing column 'multiplier': the file has the columns "
            "id, kind, underlying, strike, expiry_years, volatility; expected id, kind, "
            "underlying, multiplier (and optionally strike, expiry_years, volatility)",
            f"{positions}: row 2, column quantity: expected a finite number, got 'abc'",
            f"{positions}: row 3, column quantity: expected a finite number, got 'nan'",
            f"{positions}: row 4, column account: unknown account 'NOPE'",
            f"{positions}: row 4, column quantity: missing number",
            f"{positions}: row 5, column quantity: expected a finite number, got '-inf'",
        ]
    )
    with pytest.raises(InputError) as raised:
        load_portfolio(*paths, factor_ids=FACTORS)
    assert len(raised.value.issues) == len(issues)


def test_multipliers_are_positive_numbers(tmp_path: Path) -> None:
    paths = _small(tmp_path)
    _write(
        tmp_path,
        "instruments.csv",
        "id,kind,underlying,multiplier,strike,expiry_years,volatility",
        "ESH9,future,eq,-50,,,",
        "ESC2500,put,eq,0,0,,0.2",
        "CLF,forward,oil,,,,",
    )
    _, issues = read_portfolio(*paths, factor_ids=FACTORS)
    file = paths[2]
    assert sorted(str(i) for i in issues) == sorted(
        [
            f"{file}: row 1, column multiplier: multiplier must be positive",
            f"{file}: row 2, column multiplier: multiplier must be positive",
            f"{file}: row 2, column strike: strike must be positive",
            f"{file}: row 2, column expiry_years: an option needs its expiry_years",
            f"{file}: row 3, column multiplier: missing number",
        ]
    )


def test_empty_files_and_files_without_rows(tmp_path: Path) -> None:
    paths = _small(tmp_path)
    paths[0].write_text("")
    paths[3].write_text("account,instrument,quantity\n")
    _, issues = read_portfolio(*paths, factor_ids=FACTORS)
    messages = [str(i) for i in issues]
    assert f"{paths[0]}: empty file: expected a header row naming the columns" in messages
    assert f"{paths[3]}: no data rows: expected positions below the header" in messages
    # The members file's own fault says enough: the accounts' members are not all
    # reported unknown after it.
    assert not any(m.startswith(f"{paths[1]}:") for m in messages)


def test_unsupported_and_missing_files(tmp_path: Path) -> None:
    paths = list(_small(tmp_path))
    paths[0] = tmp_path / "members.xlsx"
    paths[1] = tmp_path / "nowhere.csv"
    _, issues = read_portfolio(*paths, factor_ids=FACTORS)
    messages = [str(i) for i in issues]
    assert f"{paths[0]}: unsupported file type '.xlsx': use .csv or .parquet" in messages
    assert f"{paths[1]}: file not found" in messages


def test_a_problem_in_many_rows_is_listed_then_counted(tmp_path: Path) -> None:
    paths = _small(tmp_path)
    _write(tmp_path, "positions.csv", "account,instrument,quantity", *["A-H,ESH9,x"] * 25)
    _, issues = read_portfolio(*paths, factor_ids=FACTORS)
    assert len(issues) == MAX_LISTED_ROWS + 1
    assert str(issues[-1]) == (
        f"{paths[3]}: column quantity: 5 more rows like the above (not finite numbers), from row 21"
    )


def test_without_a_known_history_the_factors_are_the_underlyings(tmp_path: Path) -> None:
    _, instruments = load_portfolio(*_small(tmp_path), factor_ids=None)
    assert instruments.factor_ids == ("eq", "oil")


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows, instruments = demo_portfolio(5, {"sp500": 2500.0, "nasdaq": 6600.0, "wti": 45.0})
    directory = tmp_path_factory.mktemp("demo")
    write_portfolio(directory, rows, instruments, positions_format="csv")
    return directory


def _shuffle(source: Path, target: Path, seed: int) -> None:
    """Copy the four files with their rows (not the header) in a random order."""
    rng = np.random.default_rng(seed)
    target.mkdir()
    for name in FILES:
        frame = pd.read_csv(source / name, dtype=str, keep_default_na=False)
        frame.iloc[rng.permutation(len(frame))].to_csv(target / name, index=False)


def _load(directory: Path) -> tuple[Portfolio, Instruments]:
    return load_portfolio(
        *(directory / name for name in FILES), factor_ids=("sp500", "nasdaq", "wti")
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shuffled_rows_give_identical_arrays_and_results(
    demo_files: Path, tmp_path: Path, seed: int
) -> None:
    _shuffle(demo_files, tmp_path / "shuffled", seed)
    portfolio, instruments = _load(demo_files)
    shuffled, shuffled_instruments = _load(tmp_path / "shuffled")
    for name in ("member_ids", "member_names", "group_ids", "account_ids", "instrument_ids"):
        assert getattr(shuffled, name) == getattr(portfolio, name)
    for name in ("member_group", "account_member", "account_is_client"):
        np.testing.assert_array_equal(getattr(shuffled, name), getattr(portfolio, name))
    for name in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(
            getattr(shuffled.positions, name), getattr(portfolio.positions, name)
        )
    for name in ("kind", "underlying", "multiplier", "strike", "expiry_years", "volatility"):
        np.testing.assert_array_equal(
            getattr(shuffled_instruments, name), getattr(instruments, name)
        )
    # Identical results: account P&L under stress scenarios, bit for bit.
    scenarios = stress_scenarios(
        {"crash": {"sp500": -0.2, "nasdaq": -0.25, "wti": -0.3}, "rally": {"wti": 0.2}},
        instruments.factor_ids,
        {"crash": {"sp500": 0.8}},
    )
    spot = np.array([2500.0, 6600.0, 45.0])
    a = portfolio.positions @ instrument_pnl(instruments, spot, scenarios, 2)
    b = shuffled.positions @ instrument_pnl(shuffled_instruments, spot, scenarios, 2)
    np.testing.assert_array_equal(a, b)


def test_written_files_read_back_as_the_rows_built_directly(demo_files: Path) -> None:
    rows, instruments = demo_portfolio(5, {"sp500": 2500.0, "nasdaq": 6600.0, "wti": 45.0})
    direct = build_portfolio(rows, instruments.ids)
    loaded, loaded_instruments = _load(demo_files)
    assert loaded.account_ids == direct.account_ids
    assert loaded.member_names == direct.member_names
    assert loaded.group_ids == direct.group_ids
    np.testing.assert_array_equal(loaded.positions.toarray(), direct.positions.toarray())
    np.testing.assert_array_equal(loaded_instruments.strike, instruments.strike)
    np.testing.assert_array_equal(loaded_instruments.volatility, instruments.volatility)


def test_parquet_and_csv_positions_load_the_same(demo_files: Path, tmp_path: Path) -> None:
    frame = pd.read_csv(demo_files / "positions.csv", dtype={"quantity": float})
    frame.to_parquet(tmp_path / "positions.parquet", index=False)
    csv_portfolio, _ = _load(demo_files)
    parquet_portfolio, _ = load_portfolio(
        demo_files / "members.csv",
        demo_files / "accounts.csv",
        demo_files / "instruments.csv",
        tmp_path / "positions.parquet",
        factor_ids=("sp500", "nasdaq", "wti"),
    )
    np.testing.assert_array_equal(
        csv_portfolio.positions.toarray(), parquet_portfolio.positions.toarray()
    )


def _pnl_file(directory: Path, *rows: str) -> Path:
    return _write(directory, "pnl.csv", "instrument,scenario,pnl", *rows)


def test_supplied_pnl_becomes_a_matrix_in_instrument_and_scenario_order(tmp_path: Path) -> None:
    path = _pnl_file(
        tmp_path, "B,2008-10-10,-5", "A,2008-10-09,1.5", "A,2008-10-10,2", "B,2008-10-09,0"
    )
    supplied = load_scenario_pnl(path, ("A", "B"))
    assert supplied.scenario_names == ("2008-10-09", "2008-10-10")
    assert supplied.instrument_ids == ("A", "B")
    np.testing.assert_array_equal(supplied.pnl, [[1.5, 2.0], [0.0, -5.0]])


def test_supplied_pnl_needs_every_pair_once(tmp_path: Path) -> None:
    path = _pnl_file(tmp_path, "A,s1,1", "A,s1,2", "C,s1,3", "A,s2,x")
    _, issues = read_scenario_pnl(path, ("A", "B"))
    assert sorted(str(i) for i in issues) == sorted(
        [
            f"{path}: row 2, column scenario: duplicate P&L for instrument 'A' in scenario "
            "'s1' (first at row 1)",
            f"{path}: row 3, column instrument: unknown instrument 'C'",
            f"{path}: row 4, column pnl: expected a finite number, got 'x'",
        ]
    )
    path = _pnl_file(tmp_path, "A,s1,1", "A,s2,2", "B,s1,3")
    _, issues = read_scenario_pnl(path, ("A", "B"))
    assert [str(i) for i in issues] == [
        f"{path}: instrument 'B' has no P&L in 1 of 2 scenarios (first: 's2')"
    ]
    with pytest.raises(InputError):
        load_scenario_pnl(path, ("A", "B"))


@given(
    quantities=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 2), st.floats(-1e6, 1e6)),
        min_size=1,
        max_size=40,
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_duplicate_rows_sum_to_the_same_bits_in_any_order(
    quantities: list[tuple[int, int, float]], seed: int
) -> None:
    accounts = ("a0", "a1", "a2", "a3")
    instruments = ("i0", "i1", "i2")

    def rows(order: NDArray[np.intp]) -> PortfolioRows:
        picked = [quantities[i] for i in order.tolist()]
        return PortfolioRows(
            member_ids=("m",),
            member_names=(None,),
            member_groups=(None,),
            account_ids=accounts,
            account_members=("m",) * 4,
            account_is_client=(False,) * 4,
            position_accounts=np.array([accounts[a] for a, _, _ in picked]),
            position_instruments=np.array([instruments[i] for _, i, _ in picked]),
            position_quantities=np.array([q for _, _, q in picked]),
        )

    forward = build_portfolio(rows(np.arange(len(quantities))), instruments)
    shuffled = build_portfolio(
        rows(np.random.default_rng(seed).permutation(len(quantities))), instruments
    )
    for name in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(
            getattr(forward.positions, name), getattr(shuffled.positions, name)
        )
    expected = np.zeros((4, 3))
    for a, i, q in quantities:
        expected[a, i] += q
    np.testing.assert_allclose(forward.positions.toarray(), expected, rtol=1e-9, atol=1e-6)


def test_building_from_rows_rejects_unknown_ids() -> None:
    rows = PortfolioRows(
        member_ids=("m",),
        member_names=(None,),
        member_groups=(None,),
        account_ids=("a",),
        account_members=("x",),
        account_is_client=(True,),
        position_accounts=np.array(["a"]),
        position_instruments=np.array(["i"]),
        position_quantities=np.array([1.0]),
    )
    with pytest.raises(ValueError, match="unknown member 'x'"):
        build_portfolio(rows, ("i",))
