"""Write a ``Case`` as a ``ccp-case/1`` TOML document that reads back to the same case.

Amounts are quoted exact decimal strings (never floats), dates are TOML dates
and strings are TOML basic strings with every character that needs it
escaped, so that generated cases (from fund sizing, for example) can be
written, kept under version control and run later.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

from ccpwaterfall.domain import Auction, Case, CoolingOff, Default, Member, Money, Tranche
from ccpwaterfall.io.case_file import CASE_FORMAT
from ccpwaterfall.io.files import write_text
from ccpwaterfall.io.issues import Issue

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}
_DEL = 0x7F
_SURROGATES = range(0xD800, 0xE000)


def case_to_toml(case: Case) -> str:
    """``case`` as a ``ccp-case/1`` document; ``load_case`` reads it back equal.

    The case must be one the format can hold: at least one member, tranche and
    default, and defaults either all dated or all undated.
    """
    lines = [
        f"format = {toml_string(CASE_FORMAT)}",
        f"name = {toml_string(case.name)}",
        f"currency = {toml_string(case.currency.code)}",
    ]
    if case.description is not None:
        lines.append(f"description = {toml_string(case.description)}")
    lines += ["", "[ccp]", f"name = {toml_string(case.ccp_name)}", "", "[rulebook]"]
    rulebook = case.rulebook
    if rulebook.business_days_to_replenish is not None:
        lines.append(f"business_days_to_replenish = {rulebook.business_days_to_replenish}")
    if rulebook.cooling_off is not None:
        lines.append(f"cooling_off = {_cooling_off(rulebook.cooling_off)}")
    for tranche in rulebook.waterfall:
        lines += ["", "[[rulebook.waterfall]]", *_tranche(tranche)]
    for member in case.members:
        lines += ["", "[[members]]", *_member(member)]
    for default in case.defaults:
        lines += ["", "[[defaults]]", *_default(default)]
    for auction in case.auctions:
        lines += ["", "[[auctions]]", *_auction(auction)]
    return "\n".join(lines) + "\n"


def write_case(
    path: Path, case: Case, *, force: bool = False, inputs: Iterable[Path] = ()
) -> Issue | None:
    """Write ``case`` to ``path`` as ``ccp-case/1`` TOML, all of it or nothing.

    ``io.files.write_text`` does the writing: never over one of ``inputs``, a
    link, a device or anything but a regular file, over an existing file only
    with ``force``, and in one rename so no reader ever sees a partly written
    case. Why the case was not written is returned as an ``Issue``; ``None``
    when it was.
    """
    return write_text(path, case_to_toml(case), force=force, inputs=inputs)


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string, quotes included."""
    parts = ['"']
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            parts.append(_ESCAPES[char])
        elif code < 0x20 or code == _DEL:
            parts.append(f"\\u{code:04X}")
        elif code in _SURROGATES:
            raise ValueError(f"text holds a lone surrogate U+{code:04X}, which UTF-8 cannot write")
        else:
            parts.append(char)
    parts.append('"')
    return "".join(parts)


def _cooling_off(cooling_off: CoolingOff) -> str:
    items = [
        f"business_days = {cooling_off.business_days}",
        f"extend_per_default = {cooling_off.extend_per_default}",
    ]
    if cooling_off.max_business_days is not None:
        items.append(f"max_business_days = {cooling_off.max_business_days}")
    return "{ " + ", ".join(items) + " }"


def _tranche(tranche: Tranche) -> list[str]:
    lines = [f"kind = {toml_string(str(tranche.kind))}"]
    if tranche.name is not None:
        lines.append(f"name = {toml_string(tranche.name)}")
    if tranche.amount is not None:
        lines.append(f"amount = {_amount(tranche.amount)}")
    if tranche.cap_multiple is not None:
        lines.append(f"cap_multiple = {_decimal(tranche.cap_multiple)}")
    if tranche.max_fraction is not None:
        lines.append(f"max_fraction = {_decimal(tranche.max_fraction)}")
    if tranche.allocation != "pro_rata":
        lines.append(f"allocation = {toml_string(tranche.allocation)}")
    if tranche.shared_with is not None:
        lines.append(f"shared_with = {toml_string(tranche.shared_with)}")
    return lines


def _auction(auction: Auction) -> list[str]:
    lines = [] if auction.date is None else [f"date = {auction.date.isoformat()}"]
    tiers = ", ".join("[" + ", ".join(map(toml_string, tier)) + "]" for tier in auction.tiers)
    return [*lines, f"tiers = [{tiers}]"]


def _member(member: Member) -> list[str]:
    lines = [f"id = {toml_string(member.id)}"]
    if member.name is not None:
        lines.append(f"name = {toml_string(member.name)}")
    if member.group is not None:
        lines.append(f"group = {toml_string(member.group)}")
    lines += [
        f"default_fund = {_amount(member.default_fund)}",
        f"initial_margin = {_amount(member.initial_margin)}",
        f"vm_gains = {_amount(member.vm_gains)}",
    ]
    return lines


def _default(default: Default) -> list[str]:
    lines = [f"member = {toml_string(default.member)}", f"loss = {_amount(default.loss)}"]
    if default.date is not None:
        lines.append(f"date = {default.date.isoformat()}")
    return lines


def _amount(money: Money) -> str:
    return f'"{format(money.amount, "f")}"'


def _decimal(number: Decimal) -> str:
    # Zero is written without sign or exponent ("-0", "0E-3" would not read back as written).
    return f'"{format(number, "f") if number else "0"}"'
