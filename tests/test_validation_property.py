"""Whatever ccp check accepts runs: every command on it exits 0.

Hypothesis writes small case files and mutates the settings of a small risk case;
whenever ``ccp check`` accepts the file, each command must run it with exit
status 0 (a bad-input exit 2 or an internal error 1 is a gap in ``check``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ccpwaterfall.cli.main import run_cli
from test_validation_risk import risk_case

KINDS = (
    "defaulter_margin",
    "defaulter_default_fund",
    "ccp_capital",
    "member_default_fund",
    "assessments",
    "vm_gains_haircut",
)
AMOUNTS = st.sampled_from(["0", "1", "3.00", "7m", "1.5bn", "99999999999999999999", "0.01"])
DECIMALS = st.sampled_from(
    ["0", "1", "2", "0.5", "0.9999999999999999999999999999", "1000000000", "2.75"]
)
DATES = st.sampled_from(["2018-09-11", "2018-09-15", "2200-12-31", "0001-01-01", "2024-02-29"])
DAYS = st.sampled_from([0, 1, 2, 20, 2600])


@st.composite
def case_texts(draw: st.DrawFn) -> str:
    """A small ccp-case/1 file: any order of tranches, any sizes the format allows."""
    lines = ['format = "ccp-case/1"', 'name = "P"', 'currency = "EUR"', '[ccp]\nname = "C"']
    lines.append("[rulebook]")
    if draw(st.booleans()):
        lines.append(f"business_days_to_replenish = {draw(DAYS)}")
    if draw(st.booleans()):
        days, extend, longest = draw(st.lists(DAYS.filter(bool), min_size=3, max_size=3))
        lines.append(
            f"cooling_off = {{ business_days = {days}, extend_per_default = {extend}, "
            f"max_business_days = {max(days, longest)} }}"
        )
    for kind in draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=7)):
        lines.append(f'[[rulebook.waterfall]]\nkind = "{kind}"')
        if kind == "ccp_capital":
            lines.append(f'amount = "{draw(AMOUNTS)}"')
        if kind == "assessments":
            lines.append(f'cap_multiple = "{draw(DECIMALS)}"')
        if kind == "vm_gains_haircut" and draw(st.booleans()):
            lines.append(f'max_fraction = "{draw(DECIMALS)}"')
    ids = draw(
        st.lists(st.sampled_from(["A", "B", "C", " D"]), min_size=1, max_size=4, unique=True)
    )
    for member in ids:
        lines.append(
            f'[[members]]\nid = "{member}"\ndefault_fund = "{draw(AMOUNTS)}"\n'
            f'initial_margin = "{draw(AMOUNTS)}"\nvm_gains = "{draw(AMOUNTS)}"'
        )
    dated = draw(st.booleans())
    for member in draw(st.lists(st.sampled_from(ids), min_size=1, unique=True)):
        lines.append(f'[[defaults]]\nmember = "{member}"\nloss = "{draw(AMOUNTS)}"')
        if dated:
            lines.append(f"date = {draw(DATES)}")
    return "\n".join(lines) + "\n"


# Each call reads capsys out before and after, so sharing it across examples is safe.
SHARED_CAPSYS = [HealthCheck.function_scoped_fixture]


def ccp_status(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    status = run_cli(args)
    return status, capsys.readouterr().err


@settings(max_examples=150, suppress_health_check=SHARED_CAPSYS)
@given(text=case_texts())
def test_every_case_check_accepts_runs_every_command(
    text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "case.toml"
        path.write_text(text)
        status, err = ccp_status(["check", str(path)], capsys)
        event(f"check exits {status}")
        if status != 0:
            assert status == 2, err
            return
        first = text.split('id = "', 1)[1].split('"', 1)[0]
        for args in (
            ["run"],
            ["run", "--json"],
            ["explain"],
            ["liability", "--member", first],
            ["liability", "--member", first, "--json"],
        ):
            status, err = ccp_status([args[0], str(path), *args[1:]], capsys)
            assert status == 0, (args, err)


RISK_SETTINGS = {
    "mpor_days": st.sampled_from(["1", "2", "5", "9", "10", "50"]),
    "lookback_days": st.sampled_from(["2", "5", "8", "500"]),
    "volatility_filter": st.sampled_from(['"none"', '"ewma"', '"garch"']),
    "margin_model": st.sampled_from(['"es"', '"var"', '"span"']),
    "es_worst": st.sampled_from(["1", "3", "8", "9", "50"]),
    "anti_procyclicality": st.sampled_from(
        ['"none"', '"buffer"', '"stressed_weight"', '"ten_year_floor"']
    ),
    "apc_buffer": st.sampled_from(['"0.25"', '"10"']),
    "confidence": st.sampled_from(['"0.5"', '"0.999"']),
    "discount_rate": st.sampled_from(['"-1"', '"0.05"', '"1"']),
    "stress_multipliers": st.sampled_from(["[1]", "[1, 2, 5]", "[1000]", "[0.001]"]),
}
FUND_SETTINGS = {
    "cover": st.sampled_from(["1", "2", "5"]),
    "buffer": st.sampled_from(['"0"', '"10"']),
    "method": st.sampled_from(['"margin"', '"stress"', '"mixed"']),
    "basis": st.sampled_from(['"loss_over_margin"', '"beyond_own_fund"']),
    "minimum_contribution": st.sampled_from(['"0"', '"1m"']),
}
SHOCKS = st.sampled_from(["-0.2", "0", "0.02", "-19", "19", "1000", "-0.99"])
QUANTITIES = st.sampled_from(["10", "-3", "0", "1e9", "-1e12", "1e15"])


def _settings(draw: st.DrawFn, options: dict[str, st.SearchStrategy[str]]) -> str:
    chosen = draw(st.lists(st.sampled_from(sorted(options)), unique=True, max_size=4))
    return "\n".join(f"{key} = {draw(options[key])}" for key in chosen)


@st.composite
def risk_mutations(draw: st.DrawFn) -> tuple[str, str, str, str]:
    risk = _settings(draw, RISK_SETTINGS)
    fund = _settings(draw, FUND_SETTINGS)
    positions = "account,instrument,quantity\n" + "".join(
        f"{account},{instrument},{draw(QUANTITIES)}\n"
        for account, instrument in (
            ("A-H", "EQF"),
            ("A-H", "EQP"),
            ("B-H", "OILF"),
            ("B-C1", "EQ1"),
        )
    )
    return risk, draw(SHOCKS), fund, positions


@settings(max_examples=50, suppress_health_check=SHARED_CAPSYS)
@given(mutation=risk_mutations())
def test_every_risk_case_check_accepts_runs_every_command(
    mutation: tuple[str, str, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    risk, shock, fund, positions = mutation
    with tempfile.TemporaryDirectory() as directory:
        text_risk = risk.replace("mpor_days", "mpor_days_") if "mpor_days" in risk else risk
        path = risk_case(
            Path(directory), risk=text_risk, shock=shock, fund=fund, positions=positions
        )
        if "mpor_days" in risk:
            # The template sets mpor_days = 1: the drawn value replaces it.
            text = path.read_text().replace("mpor_days = 1\n", "")
            path.write_text(text.replace("mpor_days_", "mpor_days"))
        status, err = ccp_status(["check", str(path)], capsys)
        event(f"check exits {status}")
        if status != 0:
            assert status == 2, err
            return
        for command in ("margin", "stress", "size-fund", "capital", "eod"):
            status, err = ccp_status([command, str(path), "--json"], capsys)
            assert status == 0, (command, err)


def test_a_floored_fund_with_no_stress_loss_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Oil falls and B is short oil: no member loses in the one stress scenario.
    positions = "account,instrument,quantity\nB-H,OILF,-3\n"
    fund = 'floor = "100m"\nmethod = "stress"'
    path = risk_case(tmp_path, shock="0", fund=fund, positions=positions)
    assert ccp_status(["check", str(path)], capsys)[0] == 0
    status, err = ccp_status(["size-fund", str(path)], capsys)
    assert status == 0, err
