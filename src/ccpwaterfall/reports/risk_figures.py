"""What the risk views share: the header, risk figures as money, cover measures, short texts.

Risk figures (margin, exposures, Cover-N, capital) are floats; the views round
them to the minor unit at the one border (``lifecycle.to_money``) when they
build their view models, so on screen they read like money and in JSON they are
decimal strings in the currency's minor unit (``"849987569.90"``), like every
amount. Only ratios, multipliers and counts are JSON numbers (``null`` where a
figure is infinite, such as a reverse-stress multiplier never reached).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from rich.console import RenderableType
from rich.text import Text

from ccpwaterfall.domain import Currency, Money
from ccpwaterfall.lifecycle import EndOfDayInputs, to_money
from ccpwaterfall.reports.formatting import format_money
from ccpwaterfall.reports.layout import Heading, clean
from ccpwaterfall.reports.notes import MEMBERS_SHOWN
from ccpwaterfall.risk.stress import CoverResult

ROWS_SHOWN = MEMBERS_SHOWN  # member tables show the largest rows, then one line for the rest


@dataclass(frozen=True, slots=True)
class RiskHeader:
    """Whose figures these are: the case, its CCP and the currency of every amount."""

    case: str
    ccp: str
    currency: Currency


@dataclass(frozen=True, slots=True)
class CoverFigure:
    """A cover measure as shown: its amount, the scenario that sets it, the groups behind it."""

    amount: Money
    scenario: str
    groups: tuple[str, ...]


def risk_header(inputs: EndOfDayInputs) -> RiskHeader:
    return RiskHeader(inputs.name, inputs.ccp_name, inputs.currency)


def risk_money(value: float, ccy: Currency) -> Money:
    """A float risk figure as money, rounded at the border (sign kept)."""
    amount = to_money(abs(float(value)), ccy)
    return -amount if value < 0 else amount


def cover_figure(
    result: CoverResult, scenario_names: Sequence[str], group_ids: Sequence[str], ccy: Currency
) -> CoverFigure:
    return CoverFigure(
        amount=risk_money(result.amount, ccy),
        scenario=scenario_names[result.scenario],
        groups=tuple(group_ids[g] for g in result.groups),
    )


def descending(values: NDArray[np.float64], ids: Sequence[str]) -> list[int]:
    """Indexes by value, largest first, ties to the id that sorts first."""
    order = np.lexsort((np.asarray(ids, dtype=str), -values))
    return [int(i) for i in order]


# --------------------------------------------------------------------------- texts


def percent(value: float) -> str:
    return f"{100.0 * value:.4g}%"


def share(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole > 0.0 else "-"


def multiplier(value: float) -> str:
    return f"{value:g}x"


# --------------------------------------------------------------------------- rendering


def render_header(header: RiskHeader) -> Text:
    return Text.assemble(
        (clean(header.case), "bold"), f"\n{clean(header.ccp)} · {header.currency.code}"
    )


def heading(title: str) -> list[RenderableType]:
    return [Text(""), Heading(title)]


def cover_text(figure: CoverFigure) -> Text:
    """The amount, then on a second line the groups behind it and their scenario."""
    groups = clean(" + ".join(figure.groups)) or "no group"
    text = Text(format_money(figure.amount), style="bold")
    text.append(f"\n{groups} in '{clean(figure.scenario)}'", style="dim")
    return text


# --------------------------------------------------------------------------- JSON


def document(kind: str, header: RiskHeader) -> dict[str, object]:
    return {"format": f"ccp-{kind}/1", "case": header.case, "currency": header.currency.code}


def amount_json(amount: Money) -> str:
    # Fixed-point, as in ccp-result/1: str() of a Decimal may switch to exponents.
    return format(amount.amount, "f")


def number_json(value: float) -> float | None:
    """A JSON number, or ``None`` for a figure that is not finite (JSON has no infinity)."""
    number = float(value)
    return number if math.isfinite(number) else None


def cover_json(figure: CoverFigure) -> dict[str, object]:
    return {
        "amount": amount_json(figure.amount),
        "scenario": figure.scenario,
        "groups": list(figure.groups),
    }
