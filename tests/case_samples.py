"""Case file texts shared by the io tests."""

from __future__ import annotations

from pathlib import Path

# The project's root and the example cases shipped with it.
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

# The example of the case format's "File" section, with two surviving members added.
FULL_CASE = """\
format = "ccp-case/1"
name = "Nasdaq Clearing commodities default, September 2018"
currency = "EUR"
description = "optional free text"

[ccp]
name = "Nasdaq Clearing AB"

[rulebook]
business_days_to_replenish = 2
cooling_off = { business_days = 20, extend_per_default = 20, max_business_days = 63 }

[[rulebook.waterfall]]
kind = "defaulter_margin"
[[rulebook.waterfall]]
kind = "defaulter_default_fund"
[[rulebook.waterfall]]
kind = "ccp_capital"
name = "Nasdaq junior capital"
amount = "7m"
[[rulebook.waterfall]]
kind = "ccp_capital_pro_rata"
name = "Second skin in the game, pro rata with the fund"
amount = "2m"
shared_with = "member_default_fund"
[[rulebook.waterfall]]
kind = "member_default_fund"
allocation = "auction_tiers"
[[rulebook.waterfall]]
kind = "assessments"
cap_multiple = "2"
allocation = "pro_rata"
[[rulebook.waterfall]]
kind = "vm_gains_haircut"
max_fraction = "1"

[[members]]
id = "AAS"
name = "Einar Aas"
default_fund = "1.2m"
initial_margin = "50m"
vm_gains = "0"
group = "AAS"

[[members]]
id = "B01"
default_fund = 100_000_000
initial_margin = "250000000.50"

[[members]]
id = "B02"
default_fund = "64.8M"
initial_margin = "1.5bn"
vm_gains = "2.5K"

[[defaults]]
member = "AAS"
loss = "165.2m"
date = 2018-09-11

[[auctions]]
date = 2018-09-11
tiers = [["B02"], ["B01"]]
"""

# The smallest valid case: one member defaults, one tranche.
MINIMAL_CASE = """\
format = "ccp-case/1"
name = "Minimal"
currency = "EUR"

[ccp]
name = "CCP"

[rulebook]
[[rulebook.waterfall]]
kind = "defaulter_margin"

[[members]]
id = "A"
default_fund = 1
initial_margin = 2

[[defaults]]
member = "A"
loss = 3
"""


def write_case(directory: Path, text: str, name: str = "case.toml") -> Path:
    """``text`` written as UTF-8 to ``directory/name``."""
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path
