"""Tranche kinds as specs: auction tiers, CCP capital shared pro rata, an opening state, a new kind.

Every figure below is worked out by hand in the comments.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from ccpwaterfall.domain import Money, Tranche, TrancheKind, currency
from ccpwaterfall.io import case_schema, load_case, validate_case
from ccpwaterfall.ledger import balances
from ccpwaterfall.waterfall import (
    TRANCHE_KINDS,
    Parameter,
    ParameterType,
    TrancheRole,
    TrancheSpec,
    closing_balances,
    run_case,
)
from ccpwaterfall.waterfall import rules as waterfall_rules
from ccpwaterfall.waterfall.kinds import junior_capital
from ccpwaterfall.waterfall.summary import summarise

EUR = currency("EUR")

HEAD = """\
format = "ccp-case/1"
name = "Tiers"
currency = "EUR"

[ccp]
name = "CCP"
"""


def _members(**funds: int) -> str:
    tables = [
        f'[[members]]\nid = "{member}"\ndefault_fund = {fund}\ninitial_margin = 0\n'
        for member, fund in funds.items()
    ]
    return "\n".join(tables)


def _case(tmp_path: Path, rulebook: str, loss: int, extra: str = "") -> Path:
    text = "\n".join(
        [
            HEAD,
            "[rulebook]",
            rulebook,
            _members(A=100, B=200, C=300, D=400, X=0),
            f'[[defaults]]\nmember = "X"\nloss = {loss}\n',
            extra,
        ]
    )
    path = tmp_path / "case.toml"
    path.write_text(text, encoding="utf-8")
    return path


TIERED_FUND = '[[rulebook.waterfall]]\nkind = "member_default_fund"\nallocation = "auction_tiers"\n'
# A did not bid; B bid below the winning price; C won; D bid the winning price too.
AUCTION = '[[auctions]]\ntiers = [["A"], ["B"]]\n'


def _fund_charges(path: Path) -> dict[str, str]:
    event = run_case(load_case(path)).events[0]
    return {c.member: str(c.default_fund.amount) for c in event.members}


def test_auction_tiers_take_the_most_junior_tier_first(tmp_path: Path) -> None:
    # A loss of 250 reaching the fund: A gives its 100, B the 150 left; C and D nothing.
    assert _fund_charges(_case(tmp_path, TIERED_FUND, 250, AUCTION)) == {
        "A": "100.00",
        "B": "150.00",
    }


def test_the_last_tier_shares_pro_rata_with_the_spec_rounding(tmp_path: Path) -> None:
    # A loss of 500: A 100, B 200, and the 200 left from the unnamed tier of C and D pro
    # rata 300:400: C 600/7 = 85.714..., D 800/7 = 114.285... In cents C 8,571 and
    # D 11,428 leave one cent, which goes to the larger remainder (D's .57): 85.71, 114.29.
    charges = _fund_charges(_case(tmp_path, TIERED_FUND, 500, AUCTION))
    assert charges == {"A": "100.00", "B": "200.00", "C": "85.71", "D": "114.29"}
    assert sum(map(float, charges.values())) == 500


def test_without_an_auction_entry_the_tranche_is_pro_rata(tmp_path: Path) -> None:
    # 250 over contributions 100:200:300:400 (1,000): 25, 50, 75, 100.
    assert _fund_charges(_case(tmp_path, TIERED_FUND, 250)) == {
        "A": "25.00",
        "B": "50.00",
        "C": "75.00",
        "D": "100.00",
    }


def test_a_tiered_tranche_never_uses_more_than_pro_rata(tmp_path: Path) -> None:
    # Beyond the whole fund (1,000) both use 1,000; the rest is uncovered.
    event = run_case(load_case(_case(tmp_path, TIERED_FUND, 1_500, AUCTION))).events[0]
    assert event.tranches[0].used == Money.of(1000, EUR)
    assert event.uncovered == Money.of(500, EUR)


@pytest.mark.parametrize(
    ("auction", "message"),
    [
        ('[[auctions]]\ntiers = [["A"], ["Z"]]\n', "unknown member 'Z'"),
        ('[[auctions]]\ntiers = [["X"]]\n', "'X', a defaulter"),
        ('[[auctions]]\ndate = 2024-01-08\ntiers = [["A"]]\n', "have no date"),
        ('[[auctions]]\ntiers = [["A"], ["A"]]\n', "'A' is already in auctions[0].tiers[0]"),
    ],
)
def test_bad_auctions_are_refused_with_the_field(
    tmp_path: Path, auction: str, message: str
) -> None:
    doc = tomllib.loads(_case(tmp_path, TIERED_FUND, 250, auction).read_text(encoding="utf-8"))
    case, issues = validate_case(doc, "case.toml")
    assert case is None
    assert any(i.field.startswith("auctions") and message in i.message for i in issues), issues


def test_allocation_is_taken_only_by_the_fund_and_assessments(tmp_path: Path) -> None:
    rulebook = '[[rulebook.waterfall]]\nkind = "defaulter_margin"\nallocation = "auction_tiers"\n'
    doc = tomllib.loads(_case(tmp_path, rulebook, 10).read_text(encoding="utf-8"))
    _, issues = validate_case(doc, "case.toml")
    assert [i.field for i in issues] == ["rulebook.waterfall[0].allocation"]


# --------------------------------------------------------------------------- shared pro rata

SHARED = """\
[[rulebook.waterfall]]
kind = "ccp_capital_pro_rata"
name = "Second skin in the game"
amount = 100
shared_with = "member_default_fund"
[[rulebook.waterfall]]
kind = "member_default_fund"
"""


def test_ccp_capital_shared_pro_rata_with_the_fund(tmp_path: Path) -> None:
    # The CCP's 100 weighs as one more contribution beside 100 + 200 + 300 + 400: a loss
    # of 550 is drawn 550 x 100/1,100 = 50 from the CCP and 500 from the members, each
    # pro rata: A 50, B 100, C 150, D 200.
    result = run_case(load_case(_case(tmp_path, SHARED, 550)))
    event = result.events[0]
    assert [str(t.used.amount) for t in event.tranches] == ["50.00", "500.00"]
    assert {c.member: str(c.default_fund.amount) for c in event.members} == {
        "A": "50.00",
        "B": "100.00",
        "C": "150.00",
        "D": "200.00",
    }
    summary = summarise(result)
    assert summary.ccp_capital_used == Money.of(50, EUR)
    assert summary.member_fund_used == Money.of(500, EUR)


def test_shared_capital_with_assessments(tmp_path: Path) -> None:
    # Assessments capped at 1x: the CCP's 100 beside caps 100, 200, 300, 400; a loss of
    # 220 takes 20 from the CCP and 200 from the members, 20, 40, 60, 80.
    rulebook = (
        '[[rulebook.waterfall]]\nkind = "ccp_capital_pro_rata"\namount = 100\n'
        'shared_with = "assessments"\n'
        '[[rulebook.waterfall]]\nkind = "assessments"\ncap_multiple = "1"\n'
    )
    event = run_case(load_case(_case(tmp_path, rulebook, 220))).events[0]
    assert [str(t.used.amount) for t in event.tranches] == ["20.00", "200.00"]
    assert [str(c.assessment.amount) for c in event.members] == [
        "20.00",
        "40.00",
        "60.00",
        "80.00",
    ]


def test_shared_capital_must_be_followed_by_its_partner(tmp_path: Path) -> None:
    rulebook = SHARED.replace('kind = "member_default_fund"', 'kind = "defaulter_margin"')
    doc = tomllib.loads(_case(tmp_path, rulebook, 10).read_text(encoding="utf-8"))
    _, issues = validate_case(doc, "case.toml")
    assert [i.field for i in issues] == ["rulebook.waterfall[0].kind"]
    assert "must be the member_default_fund tranche" in issues[0].message


def test_shared_capital_is_not_junior_to_the_fund(tmp_path: Path) -> None:
    case = load_case(_case(tmp_path, SHARED, 10))
    assert junior_capital(case.rulebook.waterfall, EUR).is_zero()
    junior = Tranche(TrancheKind.CCP_CAPITAL, amount=Money.of(7, EUR))
    assert junior_capital((junior, *case.rulebook.waterfall), EUR) == Money.of(7, EUR)


# --------------------------------------------------------------------------- opening state


def test_an_opening_state_replaces_the_case_amounts(tmp_path: Path) -> None:
    fund = '[[rulebook.waterfall]]\nkind = "member_default_fund"\n'
    case = load_case(_case(tmp_path, fund, 1_000))
    plain = run_case(case)
    # The case's own opening, given explicitly, runs to the same result.
    own = {a: m for a, m in balances(plain.journal[:1]).items() if not a.startswith("external")}
    assert run_case(case, opening=own).events == plain.events
    # What an earlier event left: D's contribution down to 100, so the fund holds 700 and
    # a loss of 1,000 leaves 300 uncovered; D gives its 100 and no more.
    left = {**own, "member:D:default_fund": Money.of(100, EUR)}
    event = run_case(case, opening=left).events[0]
    assert event.tranches[0].used == Money.of(700, EUR)
    assert event.uncovered == Money.of(300, EUR)
    with pytest.raises(ValueError, match="not a resource of the case"):
        run_case(case, opening={"member:Q:default_fund": Money.of(1, EUR)})


def test_closing_balances_continue_a_run(tmp_path: Path) -> None:
    fund = '[[rulebook.waterfall]]\nkind = "member_default_fund"\n'
    first = run_case(load_case(_case(tmp_path, fund, 500)))
    closing = closing_balances(first)
    # Half of each contribution is left after a loss of 500 on a fund of 1,000.
    assert closing["member:D:default_fund"] == Money.of(200, EUR)
    again = run_case(load_case(_case(tmp_path, fund, 600)), opening=closing)
    assert again.events[0].tranches[0].used == Money.of(500, EUR)


# --------------------------------------------------------------------------- a new kind


def test_a_new_tranche_kind_is_one_spec(tmp_path: Path) -> None:
    """Default insurance: an outside policy paying up to its limit, as CCP capital does."""
    insurance = TrancheSpec(
        kind="default_insurance",
        title="Default insurance",
        description="An insurance policy paying up to its limit.",
        roles=(TrancheRole.CCP_CAPITAL,),
        rule=waterfall_rules.ccp_capital,
        parameters=(
            Parameter("amount", ParameterType.AMOUNT, required=True, description="The limit."),
        ),
        resolve=TRANCHE_KINDS[TrancheKind.CCP_CAPITAL].resolve,
    )
    kinds = {**TRANCHE_KINDS, insurance.kind: insurance}
    rulebook = (
        '[[rulebook.waterfall]]\nkind = "default_insurance"\namount = 75\n'
        '[[rulebook.waterfall]]\nkind = "member_default_fund"\n'
    )
    path = _case(tmp_path, rulebook, 275)
    # The built-in registry does not know the kind: the file is refused, naming it.
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    assert "unknown tranche kind" in validate_case(doc, "case.toml")[1][0].message
    case = load_case(path, kinds)
    event = run_case(case, kinds).events[0]
    assert [(t.name, str(t.used.amount)) for t in event.tranches] == [
        ("Default insurance", "75.00"),
        ("Members' default fund", "200.00"),
    ]
    variants = case_schema(kinds)["$defs"]["tranche"]["oneOf"]  # type: ignore[index]
    (variant,) = [v for v in variants if v["title"] == "default_insurance"]
    assert variant["required"] == ["kind", "amount"]
    assert replace(case.rulebook.waterfall[0], name="Policy").label == "Policy"
