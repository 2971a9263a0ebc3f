"""The simulation view: tranche, member, tail, contagion and skin-in-the-game figures.

``simulation_view`` turns a finished run's tallies into rows once;
``render_simulation`` (the terminal), ``simulation_to_json``
(``ccp-simulation/1``) and ``simulation_tables`` (CSV) read them. Amounts are
exact: a mean or an expected shortfall is an exact ratio of integer minor
units, rounded half to even to the minor unit once, here. Probabilities are
frequencies over the paths, each with its Monte Carlo standard error
``sqrt(p (1 - p) / n)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
from rich.console import Group, RenderableType
from rich.text import Text

from ccpwaterfall.domain import Currency, Money
from ccpwaterfall.reports.formatting import compact_amount, format_money
from ccpwaterfall.reports.layout import Column, FitTable, clean, pairs
from ccpwaterfall.reports.risk_figures import (
    RiskHeader,
    amount_json,
    document,
    heading,
    render_header,
)
from ccpwaterfall.simulation.engine import Figures, Simulation
from ccpwaterfall.simulation.stats import Tally, probability_error

#: Members shown in the terminal's member table (JSON and CSV hold them all).
MEMBERS_SHOWN = 15


def _money(units: int, ccy: Currency) -> Money:
    return Money.from_minor_units(units, ccy)


def _ratio(total: int, count: int, ccy: Currency) -> Money:
    """``total / count`` minor units, rounded half to even to the minor unit."""
    if count == 0:
        return Money.zero(ccy)
    units = (Decimal(total) / Decimal(count)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return _money(int(units), ccy)


@dataclass(frozen=True, slots=True)
class Probability:
    """A frequency over the paths and its Monte Carlo standard error."""

    value: float
    error: float

    @classmethod
    def of(cls, count: int, paths: int) -> Probability:
        p = count / paths if paths else 0.0
        return cls(p, probability_error(p, paths))

    def short(self) -> str:
        """The same in fewer characters, for wide tables: ``1.31±0.05%``."""
        return f"{100 * self.value:.3g}±{100 * self.error:.1g}%"

    def json(self) -> dict[str, float]:
        return {"p": self.value, "se": self.error}


@dataclass(frozen=True, slots=True)
class Tail:
    """Mean, VaR and ES of one figure, with the standard error of the mean (minor units)."""

    mean: Money
    mean_error: Money
    var: Money
    es: Money

    def json(self) -> dict[str, str]:
        return {
            "mean": amount_json(self.mean),
            "mean_se": amount_json(self.mean_error),
            "var": amount_json(self.var),
            "es": amount_json(self.es),
        }


def _tail(tally: Tally, column: int, k: int, ccy: Currency) -> Tail:
    total, count = tally.es_units(k)[column]
    error = float(tally.mean_error()[column])
    return Tail(
        mean=_ratio(tally.total[column], tally.paths, ccy),
        mean_error=_money(round(error), ccy),
        var=_money(int(tally.var(k)[column]), ccy),
        es=_ratio(total, count, ccy),
    )


@dataclass(frozen=True, slots=True)
class TrancheRow:
    name: str
    kind: str
    reached: Probability
    exhausted: Probability
    use: Tail


@dataclass(frozen=True, slots=True)
class MemberRow:
    """What one member pays as a survivor: its total's tail and the parts of its mean and ES."""

    id: str
    group: str
    pays: Probability
    total: Tail
    mean_parts: tuple[Money, Money, Money]  # fund, assessment, VM haircut
    es_parts: tuple[Money, Money, Money]


@dataclass(frozen=True, slots=True)
class SitgRow:
    amount: Money
    position: str
    ccp: Tail
    members: Tail
    uncovered: Probability
    uncovered_tail: Tail


@dataclass(frozen=True, slots=True)
class SimulationView:
    header: RiskHeader
    paths: int
    seed: int
    chunks: int
    rho: float
    nu: float | None
    confidence: float
    tail_paths: int
    scenarios: tuple[str, ...]
    tranches: tuple[TrancheRow, ...]
    uncovered: Probability
    uncovered_tail: Tail
    members: tuple[MemberRow, ...]
    group_shares: tuple[tuple[str, float], ...]
    primary_defaults: tuple[float, ...]
    contagion: bool
    secondary_defaults: tuple[float, ...]
    loss: Tail
    primary_loss: Tail
    sitg: tuple[SitgRow, ...]
    exact_checked: int
    exact_mismatches: tuple[str, ...]


def simulation_view(run: Simulation) -> SimulationView:
    """The rows of every table of a finished run."""
    book = run.book
    ccy = book.currency
    settings = run.settings
    summary = run.summary
    figures = summary.figures
    n = summary.paths
    k = settings.tail
    tranches = tuple(
        TrancheRow(
            name=tranche.label,
            kind=tranche.kind,
            reached=Probability.of(int(figures.used.positive[i]), n),
            exhausted=Probability.of(int(figures.exhausted[i]), n),
            use=_tail(figures.used, i, k, ccy),
        )
        for i, tranche in enumerate(book.rulebook.waterfall)
    )
    members = _members(run, figures, k)
    total_tail = summary.tail_groups.sum()
    shares = tuple(
        (group, float(summary.tail_groups[:, g].sum() / total_tail) if total_tail > 0 else 0.0)
        for g, group in enumerate(book.group_ids)
    )
    variants = tuple(
        SitgRow(
            amount=_money(v.amount, ccy),
            position=v.position,
            ccp=_tail(f.ccp, 0, k, ccy),
            members=_tail(f.members, 0, k, ccy),
            uncovered=Probability.of(int(f.uncovered.positive[0]), n),
            uncovered_tail=_tail(f.uncovered, 0, k, ccy),
        )
        for v, f in zip(settings.sitg, summary.variants, strict=True)
    )
    return SimulationView(
        header=RiskHeader(book.name, book.ccp_name, ccy),
        paths=n,
        seed=settings.seed,
        chunks=len(settings.chunks),
        rho=run.market.model.rho,
        nu=run.market.model.nu,
        confidence=settings.confidence,
        tail_paths=k,
        scenarios=tuple(book.scenario_names[i] for i in book.severity.tolist()),
        tranches=tranches,
        uncovered=Probability.of(int(figures.uncovered.positive[0]), n),
        uncovered_tail=_tail(figures.uncovered, 0, k, ccy),
        members=members,
        group_shares=tuple(sorted(shares, key=lambda s: (-s[1], s[0]))),
        primary_defaults=tuple((summary.primary_groups / n).tolist()),
        contagion=run.market.capital is not None and settings.contagion_share is not None,
        secondary_defaults=tuple((summary.secondary_groups / n).tolist()),
        loss=_tail(summary.loss, 0, k, ccy),
        primary_loss=_tail(summary.primary_loss, 0, k, ccy),
        sitg=variants,
        exact_checked=run.exact.checked,
        exact_mismatches=run.exact.mismatches,
    )


def _members(run: Simulation, figures: Figures, k: int) -> tuple[MemberRow, ...]:
    book = run.book
    ccy = book.currency
    assert figures.paid is not None  # the base run keeps every member's figures
    assert figures.parts is not None
    assert figures.tail_parts is not None
    members = figures.member_tally
    n = members.paths
    tail = figures.tail_parts
    rows = []
    for i, member in enumerate(book.member_ids):
        parts_sum = tail[i].sum(axis=0, dtype=np.int64).tolist()
        rows.append(
            MemberRow(
                id=member,
                group=book.group_ids[int(book.member_group[i])],
                pays=Probability.of(int(members.positive[i]), n),
                total=_tail(members, i, k, ccy),
                mean_parts=(
                    _ratio(figures.parts[0][i], n, ccy),
                    _ratio(figures.parts[1][i], n, ccy),
                    _ratio(figures.parts[2][i], n, ccy),
                ),
                es_parts=(
                    _ratio(int(parts_sum[0]), k, ccy),
                    _ratio(int(parts_sum[1]), k, ccy),
                    _ratio(int(parts_sum[2]), k, ccy),
                ),
            )
        )
    return tuple(rows)


# --------------------------------------------------------------------------- JSON


def simulation_to_json(view: SimulationView) -> dict[str, object]:
    """The run as JSON-ready data (``ccp-simulation/1``).

    Amounts are decimal strings in the currency's minor unit; probabilities,
    their standard errors and shares are numbers.
    """
    return document("simulation", view.header) | {
        "paths": view.paths,
        "seed": view.seed,
        "chunks": view.chunks,
        "rho": view.rho,
        "nu": view.nu,
        "confidence": view.confidence,
        "tail_paths": view.tail_paths,
        "scenarios_worst_first": list(view.scenarios),
        "tranches": [
            {
                "name": row.name,
                "kind": row.kind,
                "reached": row.reached.json(),
                "exhausted": row.exhausted.json(),
                "use": row.use.json(),
            }
            for row in view.tranches
        ],
        "uncovered": {"probability": view.uncovered.json(), **view.uncovered_tail.json()},
        "members": {
            row.id: {
                "group": row.group,
                "pays": row.pays.json(),
                **row.total.json(),
                "mean_parts": _parts_json(row.mean_parts),
                "es_parts": _parts_json(row.es_parts),
            }
            for row in view.members
        },
        "tail_share_by_group": dict(view.group_shares),
        "defaulting_groups": list(view.primary_defaults),
        "loss": view.loss.json(),
        "contagion": (
            {
                "secondary_defaults": list(view.secondary_defaults),
                "primary_loss": view.primary_loss.json(),
                "systemic_loss": view.loss.json(),
            }
            if view.contagion
            else None
        ),
        "sitg": [
            {
                "amount": amount_json(row.amount),
                "position": row.position,
                "ccp": row.ccp.json(),
                "members": row.members.json(),
                "uncovered": {"probability": row.uncovered.json(), **row.uncovered_tail.json()},
            }
            for row in view.sitg
        ],
        "exact_check": {
            "paths": view.exact_checked,
            "agrees": not view.exact_mismatches,
            "mismatches": list(view.exact_mismatches),
        },
    }


def _parts_json(parts: tuple[Money, Money, Money]) -> dict[str, str]:
    return {
        "default_fund": amount_json(parts[0]),
        "assessment": amount_json(parts[1]),
        "vm_haircut": amount_json(parts[2]),
    }


# --------------------------------------------------------------------------- CSV

CsvTable = tuple[tuple[str, ...], list[tuple[str, ...]]]


def simulation_tables(view: SimulationView) -> dict[str, CsvTable]:
    """The run's tables for CSV files, by file name: amounts exact, probabilities as numbers."""
    tail_head = ("mean", "mean_se", "var", "es")

    def tail(t: object) -> tuple[str, ...]:
        assert isinstance(t, Tail)
        return tuple(t.json().values())

    tables: dict[str, CsvTable] = {
        "tranches": (
            (
                "tranche",
                "kind",
                "p_reached",
                "se_reached",
                "p_exhausted",
                "se_exhausted",
                *(f"use_{h}" for h in tail_head),
            ),
            [
                (
                    r.name,
                    r.kind,
                    repr(r.reached.value),
                    repr(r.reached.error),
                    repr(r.exhausted.value),
                    repr(r.exhausted.error),
                    *tail(r.use),
                )
                for r in view.tranches
            ],
        ),
        "members": (
            (
                "member",
                "group",
                "p_pays",
                "se_pays",
                *tail_head,
                "mean_default_fund",
                "mean_assessment",
                "mean_vm_haircut",
                "es_default_fund",
                "es_assessment",
                "es_vm_haircut",
            ),
            [
                (
                    member.id,
                    member.group,
                    repr(member.pays.value),
                    repr(member.pays.error),
                    *tail(member.total),
                    *(amount_json(m) for m in member.mean_parts),
                    *(amount_json(m) for m in member.es_parts),
                )
                for member in view.members
            ],
        ),
        "groups": (
            ("group", "tail_share"),
            [(g, repr(s)) for g, s in view.group_shares],
        ),
        "defaults": (
            ("groups", "p_defaulting_first", "p_failing_by_contagion"),
            [
                (str(i), repr(a), repr(b))
                for i, (a, b) in enumerate(
                    zip(view.primary_defaults, view.secondary_defaults, strict=True)
                )
            ],
        ),
    }
    if view.sitg:
        tables["sitg"] = (
            (
                "amount",
                "position",
                *(f"ccp_{h}" for h in tail_head),
                *(f"members_{h}" for h in tail_head),
                "p_uncovered",
                "se_uncovered",
            ),
            [
                (
                    amount_json(variant.amount),
                    variant.position,
                    *tail(variant.ccp),
                    *tail(variant.members),
                    repr(variant.uncovered.value),
                    repr(variant.uncovered.error),
                )
                for variant in view.sitg
            ],
        )
    return tables


# --------------------------------------------------------------------------- terminal


def render_simulation(view: SimulationView, shown: int | None = MEMBERS_SHOWN) -> RenderableType:
    """Every table of the run, for the terminal."""
    code = view.header.currency.code
    level = f"{100 * view.confidence:g}%"
    copula = "Gaussian" if view.nu is None else f"Student t, nu = {view.nu:g}"
    parts: list[RenderableType] = [
        render_header(view.header),
        Text(""),
        pairs(
            [
                ("Paths", f"{view.paths:,} (seed {view.seed}, {view.chunks} chunks)"),
                ("Copula", f"one-factor {copula}, rho = {view.rho:g}"),
                ("Tail", f"the {view.tail_paths:,} worst paths: VaR and ES at {level}"),
                (
                    "Market states",
                    f"{len(view.scenarios)} stress scenarios, worst first: "
                    + clean(", ".join(view.scenarios)),
                ),
                ("Exact check", _exact_text(view)),
            ]
        ),
    ]
    tranches = FitTable(
        (
            Column("Tranche"),
            Column("Reached", numeric=True),
            Column("Exhausted", numeric=True),
            Column("Expected use", numeric=True),
            Column(f"ES {level}", numeric=True),
        ),
        title=f"Tranches ({code})",
    )
    for row in view.tranches:
        tranches.add_row(
            f"{clean(row.name)}\n{row.kind}",
            row.reached.short(),
            row.exhausted.short(),
            compact_amount(row.use.mean),
            compact_amount(row.use.es),
        )
    tranches.add_row(
        "Uncovered loss",
        view.uncovered.short(),
        "",
        compact_amount(view.uncovered_tail.mean),
        compact_amount(view.uncovered_tail.es),
    )
    parts += [*heading("How often each tranche is reached"), tranches]
    members = FitTable(
        (
            Column("Member"),
            Column("Pays", numeric=True),
            Column("Mean", numeric=True),
            Column(f"VaR {level}", numeric=True),
            Column(f"ES {level}", numeric=True),
            Column("ES from fund", numeric=True),
        ),
        title=f"What each surviving member pays ({code}), largest ES first; the split of "
        "each ES by fund, assessments and VM haircut is in --json and --csv",
    )
    ordered = sorted(view.members, key=lambda r: (-r.total.es.minor_units, r.id))
    for member in ordered if shown is None else ordered[:shown]:
        members.add_row(
            clean(member.id),
            member.pays.short(),
            compact_amount(member.total.mean),
            compact_amount(member.total.var),
            compact_amount(member.total.es),
            _fund_share(member),
        )
    parts += [*heading("Members' losses from mutualisation"), members]
    if shown is not None and len(ordered) > shown:
        parts.append(Text(f"... and {len(ordered) - shown} more members (--json, --csv)", "dim"))
    groups = FitTable((Column("Group"), Column("Share of tail loss", numeric=True)))
    for group, share in view.group_shares[:10]:
        groups.add_row(clean(group), f"{100 * share:.1f}%")
    parts += [*heading("Whose defaults make the tail (loss beyond margin, worst paths)"), groups]
    parts += [*heading("Defaults per path"), _defaults_table(view)]
    parts.append(
        pairs(
            [
                ("Close-out loss", _tail_text(view.loss)),
                ("Primary defaults' loss", _tail_text(view.primary_loss)),
            ]
        )
        if view.contagion
        else pairs([("Close-out loss", _tail_text(view.loss))])
    )
    if view.sitg:
        sitg = FitTable(
            (
                Column("SITG"),
                Column("Position"),
                Column("CCP mean", numeric=True),
                Column(f"CCP ES {level}", numeric=True),
                Column("Members mean", numeric=True),
                Column(f"Members ES {level}", numeric=True),
                Column("Uncovered", numeric=True),
            ),
            title=f"Skin in the game: the same paths with each size ({code})",
        )
        for variant in view.sitg:
            sitg.add_row(
                compact_amount(variant.amount),
                variant.position,
                compact_amount(variant.ccp.mean),
                compact_amount(variant.ccp.es),
                compact_amount(variant.members.mean),
                compact_amount(variant.members.es),
                variant.uncovered.short(),
            )
        parts += [*heading("How much skin in the game"), sitg]
    parts += [
        Text(""),
        Text(
            "Probabilities are frequencies over the paths ± one Monte Carlo standard error. "
            f"ES {level}: the mean of the {view.tail_paths:,} worst paths; VaR: the least of "
            "them. Amounts exact to the minor unit in --json and --csv.",
            style="dim",
        ),
    ]
    return Group(*parts)


def _defaults_table(view: SimulationView) -> FitTable:
    columns = [Column("Groups", numeric=True), Column("Defaulting first", numeric=True)]
    if view.contagion:
        columns.append(Column("Failing by contagion", numeric=True))
    table = FitTable(tuple(columns))
    last = max(
        (
            i
            for i, (a, b) in enumerate(
                zip(view.primary_defaults, view.secondary_defaults, strict=True)
            )
            if a > 0 or b > 0
        ),
        default=0,
    )
    for i in range(last + 1):
        cells = [str(i), _percent(view.primary_defaults[i])]
        if view.contagion:
            cells.append(_percent(view.secondary_defaults[i]))
        table.add_row(*cells)
    return table


def _fund_share(member: MemberRow) -> str:
    """How much of the member's ES its contribution bears (the rest: assessments, VM)."""
    es = member.total.es.minor_units
    if es == 0:
        return "-"
    return f"{100 * member.es_parts[0].minor_units / es:.0f}%"


def _percent(value: float) -> str:
    return f"{100 * value:.4g}%"


def _tail_text(tail: Tail) -> str:
    return (
        f"mean {format_money(tail.mean)}, VaR {format_money(tail.var)}, ES {format_money(tail.es)}"
    )


def _exact_text(view: SimulationView) -> Text:
    if view.exact_mismatches:
        return Text(
            f"{len(view.exact_mismatches)} differences on {view.exact_checked:,} paths: "
            + clean(view.exact_mismatches[0]),
            style="bold red",
        )
    return Text(
        f"{view.exact_checked:,} paths (the worst, and those with a default among a random "
        "sample) re-run through the exact engine: they agree to the minor unit",
        style="green",
    )
