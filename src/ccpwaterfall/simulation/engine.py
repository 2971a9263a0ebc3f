"""Monte Carlo over the waterfall: paths in chunks, figures merged, a sample checked exactly.

A run draws ``paths`` paths in chunks of ``chunk_paths``, chunk ``i`` from the
``i``-th child of ``SeedSequence(seed).spawn``: each chunk's random numbers
are its own, so chunks run in any order, in this process or on a Dask
cluster, and their tallies merged in chunk order give the same figures.

On each path:

1. The copula (``simulation.defaults``) draws the factor and which groups
   default; every member of a defaulting group defaults.
2. The market state is the stress scenario at the factor's quantile among the
   scenarios ordered from the worst to the mildest (``Book.severity``): the
   scenario ``floor(Phi(Z) * S)`` of ``S``. A low factor brings both many
   defaults and a bad scenario: wrong-way risk.
3. The defaulters' losses run through the rulebook (``simulation.paths``).
4. Contagion, with members' capital: a survivor whose charges on the path
   exceed ``contagion_share`` of its capital fails, and its whole group
   defaults in the next round; its loss joins the same event, and the round
   repeats until no one else fails.

The worst paths by close-out loss and a random sample of paths are kept with
their figures, and run again through the exact engine (``run_case``), which
must agree to the minor unit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from ccpwaterfall.domain import Money, Rulebook, Tranche, TrancheKind
from ccpwaterfall.simulation.book import Book
from ccpwaterfall.simulation.defaults import DefaultModel, draw
from ccpwaterfall.simulation.exact_int import product_at_least
from ccpwaterfall.simulation.paths import Caps, PathResults, caps_of, run_paths
from ccpwaterfall.simulation.stats import Tally, tail_size
from ccpwaterfall.simulation.tails import (
    Edges,
    Kept,
    Pieces,
    Plan,
    Stream,
    edges_of,
    first_plan,
    merge_pieces,
    narrow,
    pieces_of,
)
from ccpwaterfall.waterfall import run_case

Int = NDArray[np.int64]

#: Paths per chunk: the arrays of a chunk are a few (paths x members) int64 matrices.
DEFAULT_CHUNK_PATHS = 20_000
#: Paths re-run through the exact engine: the worst, and as many drawn at random.
DEFAULT_EXACT_WORST = 1_000
DEFAULT_EXACT_RANDOM = 1_000
SITG_POSITIONS = ("before", "after")
#: The worst paths run again both ways with each skin-in-the-game size.
VARIANT_EXACT_PATHS = 100

#: A figure keeps at most ``1 / TAIL_SHARE`` of a chunk's paths in values for its tail:
#: 1% tails of up to 50 chunks take one pass; larger runs take passes in the same memory.
TAIL_SHARE = 2

ChunkProgress = Callable[[int, int], None]


def _no_progress(done: int, total: int) -> None:
    """Reports nothing."""


@dataclass(frozen=True, slots=True)
class SitgVariant:
    """One skin-in-the-game size and position: before or after the members' fund."""

    amount: int  # minor units
    position: str

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise ValueError("a skin-in-the-game amount must be 0 or more")
        if self.position not in SITG_POSITIONS:
            raise ValueError(f"position must be one of {', '.join(SITG_POSITIONS)}")


@dataclass(frozen=True, slots=True)
class SimulationSettings:
    """How a run draws and what it reports."""

    paths: int
    seed: int
    chunk_paths: int = DEFAULT_CHUNK_PATHS
    confidence: float = 0.99
    exact_worst: int = DEFAULT_EXACT_WORST
    exact_random: int = DEFAULT_EXACT_RANDOM
    sitg: tuple[SitgVariant, ...] = ()
    contagion_share: Decimal | None = None
    #: Values kept per figure for its tail (None: ``chunk_paths // TAIL_SHARE``).
    tail_budget: int | None = None

    def __post_init__(self) -> None:
        if self.tail_budget is not None and self.tail_budget < 1:
            raise ValueError("tail_budget must be at least 1")
        if self.paths < 1:
            raise ValueError("paths must be at least 1")
        if self.chunk_paths < 1:
            raise ValueError("chunk_paths must be at least 1")
        if not 0.5 <= self.confidence < 1:
            raise ValueError("confidence must be from 0.5 to below 1")
        if self.exact_worst < 0 or self.exact_random < 0:
            raise ValueError("exact sample sizes must be 0 or more")
        if self.contagion_share is not None and not self.contagion_share > 0:
            raise ValueError("contagion_share must be above 0")

    @property
    def chunks(self) -> tuple[tuple[int, int], ...]:
        """(first path, count) of each chunk."""
        return tuple(
            (start, min(self.chunk_paths, self.paths - start))
            for start in range(0, self.paths, self.chunk_paths)
        )

    @property
    def tail(self) -> int:
        return tail_size(self.paths, self.confidence)

    @property
    def budget(self) -> int:
        """The most values kept per figure for its tail at any time."""
        if self.tail_budget is not None:
            return self.tail_budget
        return max(1, self.chunk_paths // TAIL_SHARE)

    @property
    def single_pass(self) -> bool:
        """One pass over the chunks when every tail fits the budget; otherwise two or more."""
        return self.tail <= self.budget


@dataclass(frozen=True, slots=True, eq=False)
class Market:
    """What every chunk reads: the book, the default model and members' capital."""

    book: Book
    model: DefaultModel
    capital: Int | None = None  # per member, minor units; 0: never fails by contagion
    #: Each member's assessment and haircut caps, worked out once for every chunk.
    caps: Caps = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.model.n_groups != self.book.n_groups:
            raise ValueError("the default model must give one pd per group")
        if self.capital is not None and self.capital.shape != (self.book.n_members,):
            raise ValueError("capital must give one amount per member")
        object.__setattr__(self, "caps", caps_of(self.book))


def sitg_rulebook(rulebook: Rulebook, variant: SitgVariant, book: Book) -> Rulebook:
    """The rulebook with its own CCP capital tranches replaced by one of ``variant``.

    Capital drawn pro rata with another tranche stays as it is. The new tranche
    goes just before the first members' fund tranche (before a pro rata CCP
    share paired with it), or just after it.
    """
    kept = [t for t in rulebook.waterfall if t.kind != TrancheKind.CCP_CAPITAL]
    fund = next((i for i, t in enumerate(kept) if t.kind == TrancheKind.MEMBER_DEFAULT_FUND), None)
    if fund is None:
        raise ValueError("the rulebook has no members' fund to place skin in the game against")
    sitg = Tranche(
        TrancheKind.CCP_CAPITAL,
        name="Skin in the game",
        amount=Money.from_minor_units(variant.amount, book.currency),
    )
    at = fund if variant.position == "before" else fund + 1
    if variant.position == "before" and at > 0 and kept[at - 1].shared_with is not None:
        at -= 1  # a pro rata CCP share and the tranche it shares stay together
    return replace(rulebook, waterfall=(*kept[:at], sitg, *kept[at:]))


def _capital_columns(rulebook: Rulebook) -> NDArray[np.intp]:
    kinds = (TrancheKind.CCP_CAPITAL, TrancheKind.CCP_CAPITAL_PRO_RATA)
    return np.asarray(
        [i for i, t in enumerate(rulebook.waterfall) if t.kind in kinds], dtype=np.intp
    )


@dataclass(frozen=True, slots=True, eq=False)
class Figures:
    """Tallies of one rulebook over paths.

    ``used``: per tranche; ``exhausted``: paths where a tranche gave all it had;
    ``uncovered``, ``ccp`` (all CCP capital used) and ``members`` (all
    survivors' charges): one column each; ``paid``: per member, with
    ``parts`` the sums of each member's fund, assessment and haircut charges
    and ``tail_parts`` (members, 1, 3) the same summed on the tail paths of
    its total (set once the run is over).
    """

    used: Tally
    exhausted: Int
    uncovered: Tally
    ccp: Tally
    members: Tally
    paid: Tally | None = None
    parts: tuple[list[int], list[int], list[int]] | None = None
    tail_parts: Int | None = None

    @classmethod
    def of(cls, results: PathResults, rulebook: Rulebook, *, full: bool) -> Figures:
        n = results.loss.shape[0]
        paid = results.paid
        capital = results.used[:, _capital_columns(rulebook)].sum(axis=1, dtype=np.int64)
        exhausted = ((results.available > 0) & (results.used == results.available)).sum(axis=0)
        figures = cls(
            used=Tally.of(results.used),
            exhausted=exhausted.astype(np.int64),
            uncovered=Tally.of(results.uncovered[:, None]),
            ccp=Tally.of(capital[:, None]),
            members=Tally.of(paid.sum(axis=1, dtype=np.int64)[:, None], paths=n),
        )
        if not full:
            return figures
        return replace(
            figures,
            paid=Tally.of(paid, paths=n),
            parts=tuple(  # type: ignore[arg-type]
                [int(v) for v in p.sum(axis=0, dtype=np.int64).tolist()]
                for p in (results.fund, results.assessment, results.haircut)
            ),
        )

    @staticmethod
    def merge(figures: Sequence[Figures]) -> Figures:
        """Several chunks' figures of one rulebook as one."""
        merged = Figures(
            used=Tally.merge([f.used for f in figures]),
            exhausted=np.sum([f.exhausted for f in figures], axis=0).astype(np.int64),
            uncovered=Tally.merge([f.uncovered for f in figures]),
            ccp=Tally.merge([f.ccp for f in figures]),
            members=Tally.merge([f.members for f in figures]),
        )
        paid = [f.paid for f in figures if f.paid is not None]
        parts = [f.parts for f in figures if f.parts is not None]
        if len(paid) < len(figures):
            return merged
        return replace(
            merged,
            paid=Tally.merge(paid),
            parts=tuple(  # type: ignore[arg-type]
                [sum(column) for column in zip(*(p[i] for p in parts), strict=True)]
                for i in range(3)
            ),
        )

    def with_tails(self, plan: Plan, prefix: str, k: int) -> Figures:
        """The same with every tally's tail, from a resolved ``plan``."""

        def tail(tally: Tally, name: str) -> Tally:
            var, sums = plan.results(prefix + name)
            return tally.with_tail(k, var, [s[0] for s in sums])

        figures = replace(
            self,
            used=tail(self.used, "used"),
            uncovered=tail(self.uncovered, "uncovered"),
            ccp=tail(self.ccp, "ccp"),
            members=tail(self.members, "members"),
        )
        if self.paid is None:
            return figures
        var, sums = plan.results(prefix + "paid")
        totals = [sum(parts) for parts in sums]
        return replace(
            figures,
            paid=self.paid.with_tail(k, var, totals),
            tail_parts=np.asarray(sums, dtype=np.int64)[:, None, :],
        )

    @property
    def member_tally(self) -> Tally:
        """Each member's charges: counts, sums and its tail."""
        assert self.paid is not None  # full figures only
        return self.paid


def figure_streams(
    results: PathResults, rulebook: Rulebook, paths: Int, prefix: str, *, full: bool
) -> dict[str, Stream]:
    """The figures whose tails a run needs, over a chunk's rows (``paths``: each row's path)."""
    capital = results.used[:, _capital_columns(rulebook)].sum(axis=1, dtype=np.int64)
    charged = paths[results.charged]
    paid = results.paid
    streams = {
        prefix + "used": Stream(results.used, paths),
        prefix + "uncovered": Stream(results.uncovered[:, None], paths),
        prefix + "ccp": Stream(capital[:, None], paths),
        prefix + "members": Stream(paid.sum(axis=1, dtype=np.int64)[:, None], charged),
    }
    if full:
        # (charged paths, members, 3): one gather per column.
        parts = np.stack((results.fund, results.assessment, results.haircut), axis=2)

        def member_parts(column: int, rows: NDArray[np.intp]) -> Int:
            result: Int = parts[rows, column]
            return result

        streams[prefix + "paid"] = Stream(paid, charged, member_parts)
    return streams


def figure_shapes(book: Book, settings: SimulationSettings) -> dict[str, tuple[int, int]]:
    """Every figure's columns and parts: what ``figure_streams`` and ``run_chunk`` give."""

    def of(prefix: str, tranches: int) -> dict[str, tuple[int, int]]:
        return {
            prefix + "used": (tranches, 1),
            prefix + "uncovered": (1, 1),
            prefix + "ccp": (1, 1),
            prefix + "members": (1, 1),
        }

    shapes = of("", len(book.rulebook.waterfall))
    shapes["paid"] = (book.n_members, 3)
    for i, variant in enumerate(settings.sitg):
        tranches = len(sitg_rulebook(book.rulebook, variant, book).waterfall)
        shapes |= of(f"sitg{i}.", tranches)
    shapes |= {"loss": (1, 1), "primary_loss": (1, 1), "mutualised": (1, book.n_groups)}
    return shapes


#: Figures whose parts are not the value itself: a member's three charges, each group's loss.
SPLIT_FIGURES = ("paid", "mutualised")


def _value_is_part(plan: Plan) -> dict[str, bool]:
    return {name: name not in SPLIT_FIGURES for name in plan.windows}


@dataclass(frozen=True, slots=True, eq=False)
class PathRecord:
    """One path kept for the exact check: its draw and its array results."""

    path: int
    scenario: int
    defaulted: NDArray[np.bool_]
    loss: int
    used: Int
    fund: Int
    assessment: Int
    haircut: Int
    uncovered: int


@dataclass(frozen=True, slots=True, eq=False)
class ChunkSummary:
    """What one chunk gives back: tallies, counts, tail pieces and the paths kept for the check.

    ``tail_groups`` (1, groups): each group's loss beyond its margin summed on
    the tail paths of the mutualised loss, set once the run is over.
    """

    paths: int
    figures: Figures
    variants: tuple[Figures, ...]
    loss: Tally
    primary_loss: Tally
    primary_groups: Int  # histogram of the count of groups defaulting first
    secondary_groups: Int  # histogram of the count of groups failing by contagion
    tails: Pieces
    worst: tuple[PathRecord, ...]
    sampled: tuple[PathRecord, ...]
    tail_groups: Int = field(default_factory=lambda: np.zeros((1, 0), np.int64))

    @property
    def weight(self) -> int:
        """Values kept for the tails: what a merge has to rank."""
        kept = [p.values.size for ps in self.tails.values() for p in ps if isinstance(p, Kept)]
        return max(kept, default=0)


def _merge_records(
    records: Iterable[PathRecord], keep: int, key: Callable[[PathRecord], tuple[int, int]]
) -> tuple[PathRecord, ...]:
    return tuple(sorted(records, key=key)[:keep])


def _worst_key(record: PathRecord) -> tuple[int, int]:
    return (-record.loss, record.path)


def merge_summaries(
    summaries: Sequence[ChunkSummary], settings: SimulationSettings, plan: Plan
) -> ChunkSummary:
    """Chunks' summaries merged as one, in order."""
    if len(summaries) == 1:
        return summaries[0]
    return ChunkSummary(
        paths=sum(s.paths for s in summaries),
        figures=Figures.merge([s.figures for s in summaries]),
        variants=tuple(
            Figures.merge(list(v)) for v in zip(*(s.variants for s in summaries), strict=True)
        ),
        loss=Tally.merge([s.loss for s in summaries]),
        primary_loss=Tally.merge([s.primary_loss for s in summaries]),
        primary_groups=np.sum([s.primary_groups for s in summaries], axis=0),
        secondary_groups=np.sum([s.secondary_groups for s in summaries], axis=0),
        tails=merge_pieces([s.tails for s in summaries], plan),
        worst=_merge_records(
            (r for s in summaries for r in s.worst), settings.exact_worst, _worst_key
        ),
        sampled=tuple(r for s in summaries for r in s.sampled),
    )


#: Summaries held before a merge, at most. Once the tails are full, a chunk gives only
#: the few values above their edges: merging eight at once costs one re-selection.
BATCH = 8


class Accumulator:
    """Chunks' summaries merged as they come, in chunk order, a batch at a time.

    A batch is merged once its kept values reach the budget, or it holds
    ``BATCH`` summaries. The batches depend only on the summaries and their
    order, so the figures are the same wherever the chunks ran. Memory: the
    merged summary and one batch.
    """

    def __init__(self, settings: SimulationSettings, plan: Plan) -> None:
        self.settings = settings
        self.plan = plan
        self.merged: ChunkSummary | None = None
        self._edges: Edges | None = None
        self.batch: list[ChunkSummary] = []
        self.rows = 0
        self.paths = 0

    def add(self, summary: ChunkSummary) -> None:
        self.batch.append(summary)
        self.paths += summary.paths
        self.rows += summary.weight
        if self.rows >= self.settings.budget or len(self.batch) >= BATCH:
            self._flush()

    @property
    def edges(self) -> Edges | None:
        """The edges of the tails merged so far: a later chunk keeps only what can enter."""
        if self.merged is None:
            return None
        if self._edges is None:
            self._edges = edges_of(self.merged.tails)
        return self._edges

    def _flush(self) -> None:
        if not self.batch:
            return
        head = [] if self.merged is None else [self.merged]
        self.merged = merge_summaries([*head, *self.batch], self.settings, self.plan)
        self._edges = None
        self.batch = []
        self.rows = 0

    def result(self) -> ChunkSummary:
        self._flush()
        assert self.merged is not None  # a run has at least one chunk
        return self.merged


def scenario_of(book: Book, factor: NDArray[np.float64]) -> NDArray[np.intp]:
    """Each path's scenario: the factor's quantile among the scenarios, worst first."""
    n = book.n_scenarios
    at = np.minimum((stats.norm.cdf(factor) * n).astype(np.intp), n - 1)
    result: NDArray[np.intp] = book.severity[at]
    return result


def chunk_seeds(seed: int, n_chunks: int) -> list[np.random.SeedSequence]:
    """One independent stream per chunk, spawned from the run's seed."""
    return np.random.SeedSequence(seed).spawn(n_chunks)


def sample_paths(settings: SimulationSettings) -> NDArray[np.int64]:
    """The paths drawn at random for the exact check, from a stream of their own."""
    rng = np.random.default_rng(np.random.SeedSequence(settings.seed, spawn_key=(2**31,)))
    n = min(settings.exact_random, settings.paths)
    chosen: NDArray[np.int64] = np.sort(rng.choice(settings.paths, size=n, replace=False))
    return chosen


def run_chunk(
    market: Market,
    settings: SimulationSettings,
    index: int,
    seed: np.random.SeedSequence,
    sampled: NDArray[np.int64],
    plan: Plan,
    edges: Edges | None = None,
) -> ChunkSummary:
    """One chunk of paths: draw, run the waterfall (and contagion), tally, and the tails' pieces.

    ``edges``: each full tail's edge from the chunks before (see ``piece_of``).
    """
    book = market.book
    start, count = settings.chunks[index]
    draws = draw(market.model, np.random.default_rng(seed), count)
    scenario = scenario_of(book, draws.factor)
    group_defaulted = draws.defaulted
    caps = market.caps
    defaulted = np.take(group_defaulted, book.member_group, axis=1)
    primary = run_paths(book, scenario, defaulted, caps=caps)
    results, final_groups = _contagion(market, settings, scenario, group_defaulted, primary)
    n_groups = book.n_groups
    first_count = group_defaulted.sum(axis=1)
    if final_groups is group_defaulted:  # no contagion: the first defaults are all
        final = defaulted
        second_count = np.zeros_like(first_count)
    else:
        final = np.take(final_groups, book.member_group, axis=1)
        second_count = final_groups.sum(axis=1) - first_count
    own = results.used[:, _defaulter_columns(book.rulebook)].sum(axis=1, dtype=np.int64)
    mutualised = results.loss - own
    paths = np.arange(start, start + count, dtype=np.int64)

    def beyond(column: int, rows: NDArray[np.intp]) -> Int:
        """Each group's loss beyond its margin on ``rows``."""
        at = scenario[rows]
        return _sum_by_group(book, np.where(final[rows], book.loss[at] - book.usable_margin[at], 0))

    streams = figure_streams(results, book.rulebook, paths, "", full=True)
    streams |= {
        "loss": Stream(results.loss[:, None], paths),
        "primary_loss": Stream(primary.loss[:, None], paths),
        "mutualised": Stream(mutualised[:, None], paths, beyond),
    }
    variants = []
    for i, v in enumerate(settings.sitg):
        rulebook = sitg_rulebook(book.rulebook, v, book)
        again = run_paths(replace(book, rulebook=rulebook), scenario, final)
        variants.append(Figures.of(again, rulebook, full=False))
        streams |= figure_streams(again, rulebook, paths, f"sitg{i}.", full=False)
    worst_rows = np.zeros(0, np.intp)
    if settings.exact_worst:
        losing = np.flatnonzero(results.loss > 0)
        worst_rows = losing[np.lexsort((paths[losing], -results.loss[losing]))][
            : settings.exact_worst
        ]
    sample_rows = sampled[(sampled >= start) & (sampled < start + count)] - start
    return ChunkSummary(
        paths=count,
        figures=Figures.of(results, book.rulebook, full=True),
        variants=tuple(variants),
        loss=Tally.of(results.loss[:, None]),
        primary_loss=Tally.of(primary.loss[:, None]),
        primary_groups=np.bincount(first_count, minlength=n_groups + 1).astype(np.int64),
        secondary_groups=np.bincount(second_count, minlength=n_groups + 1).astype(np.int64),
        tails=pieces_of(streams, plan, edges),
        worst=tuple(_record(results, scenario, final, start, int(r)) for r in worst_rows),
        sampled=tuple(_record(results, scenario, final, start, int(r)) for r in sample_rows),
    )


def _sum_by_group(book: Book, values: Int) -> Int:
    """Columns of members summed by group: shape (rows, groups)."""
    order = np.argsort(book.member_group, kind="stable")
    groups = book.member_group[order]
    starts = np.flatnonzero(np.r_[True, np.diff(groups) != 0])
    out = np.zeros((values.shape[0], book.n_groups), np.int64)
    if values.shape[0]:
        out[:, groups[starts]] = np.add.reduceat(values[:, order], starts, axis=1)
    return out


def _defaulter_columns(rulebook: Rulebook) -> NDArray[np.intp]:
    kinds = (TrancheKind.DEFAULTER_MARGIN, TrancheKind.DEFAULTER_DEFAULT_FUND)
    return np.asarray(
        [i for i, t in enumerate(rulebook.waterfall) if t.kind in kinds], dtype=np.intp
    )


def _record(
    results: PathResults,
    scenario: NDArray[np.intp],
    defaulted: NDArray[np.bool_],
    start: int,
    row: int,
) -> PathRecord:
    at = int(np.searchsorted(results.charged, row))
    charged = at < results.charged.size and results.charged[at] == row
    zero = np.zeros(defaulted.shape[1], np.int64)
    return PathRecord(
        path=start + row,
        scenario=int(scenario[row]),
        defaulted=defaulted[row].copy(),
        loss=int(results.loss[row]),
        used=results.used[row].copy(),
        fund=results.fund[at].copy() if charged else zero,
        assessment=results.assessment[at].copy() if charged else zero,
        haircut=results.haircut[at].copy() if charged else zero,
        uncovered=int(results.uncovered[row]),
    )


def _contagion(
    market: Market,
    settings: SimulationSettings,
    scenario: NDArray[np.intp],
    group_defaulted: NDArray[np.bool_],
    results: PathResults,
) -> tuple[PathResults, NDArray[np.bool_]]:
    """Rounds of contagion to the fixed point: the last round's results and every default.

    A survivor fails when its charges exceed ``contagion_share`` of its capital
    (compared exactly: charges x denominator > capital x numerator); its group
    defaults in the next round, all defaulters in one event.
    """
    book = market.book
    if market.capital is None or settings.contagion_share is None:
        return results, group_defaulted
    share = Fraction(settings.contagion_share)
    has_capital = market.capital > 0
    capital_num = market.capital * share.numerator
    groups = group_defaulted.copy()
    caps = market.caps
    rows = np.arange(len(scenario))
    current = results
    while rows.size:
        paid = current.paid
        breach = (
            has_capital & (paid > 0) & ~product_at_least(capital_num, 1, paid, share.denominator)
        )
        failing = np.zeros((rows.size, book.n_groups), dtype=bool)
        hit_rows, hit_members = np.nonzero(breach)
        failing[current.charged[hit_rows], book.member_group[hit_members]] = True
        failing &= ~groups[rows]
        changed = failing.any(axis=1)
        if not changed.any():
            break
        rows = rows[changed]
        groups[rows] |= failing[changed]
        current = run_paths(book, scenario[rows], groups[rows][:, book.member_group], caps=caps)
        results = _put_rows(results, rows, current)
    return results, groups


def _put_rows(results: PathResults, rows: NDArray[np.intp], part: PathResults) -> PathResults:
    """``results`` with ``rows`` (ascending) replaced by ``part``'s (nothing changed in place)."""
    fields: dict[str, NDArray[np.int64]] = {}
    for name in ("loss", "available", "used", "uncovered"):
        whole = getattr(results, name).copy()
        whole[rows] = getattr(part, name)
        fields[name] = whole
    keep = ~np.isin(results.charged, rows)
    charged = np.concatenate([results.charged[keep], rows[part.charged]])
    order = np.argsort(charged, kind="stable")
    charges = {
        name: np.concatenate([getattr(results, name)[keep], getattr(part, name)])[order]
        for name in ("fund", "assessment", "haircut")
    }
    return PathResults(charged=charged[order], **fields, **charges)


@dataclass(frozen=True, slots=True)
class ExactCheck:
    """Paths run again through the exact engine, and where they disagreed (none, we hope)."""

    checked: int
    mismatches: tuple[str, ...] = field(default=())

    @property
    def agrees(self) -> bool:
        return not self.mismatches


def exact_check(book: Book, records: Iterable[PathRecord]) -> ExactCheck:
    """Each record's path through ``run_case``: every tranche, member charge and the uncovered."""
    checked = 0
    problems: list[str] = []
    for record in records:
        if not record.defaulted.any():
            continue
        event = run_case(book.case(record.scenario, record.defaulted)).events[0]
        checked += 1
        got = [t.used.minor_units for t in event.tranches]
        charges = {c.member: c for c in event.members}
        for i, member in enumerate(book.member_ids):
            charge = charges.get(member)
            want = (
                (0, 0, 0)
                if charge is None
                else (
                    charge.default_fund.minor_units,
                    charge.assessment.minor_units,
                    charge.vm_haircut.minor_units,
                )
            )
            have = (int(record.fund[i]), int(record.assessment[i]), int(record.haircut[i]))
            if want != have:
                problems.append(f"path {record.path}: {member} pays {have}, exactly {want}")
        if got != record.used.tolist():
            problems.append(
                f"path {record.path}: tranches used {record.used.tolist()}, exactly {got}"
            )
        if event.uncovered.minor_units != record.uncovered or event.loss.minor_units != record.loss:
            problems.append(f"path {record.path}: uncovered or loss differ")
    return ExactCheck(checked, tuple(problems))


@dataclass(frozen=True, slots=True, eq=False)
class Simulation:
    """A finished run: its settings, market, merged figures and the exact check."""

    market: Market
    settings: SimulationSettings
    summary: ChunkSummary
    exact: ExactCheck
    passes: int = 1  # over the chunks: 1 when every tail fit the budget

    @property
    def book(self) -> Book:
        return self.market.book


ChunkRunner = Callable[
    [
        Market,
        SimulationSettings,
        list[np.random.SeedSequence],
        NDArray[np.int64],
        Plan,
        ChunkProgress,
    ],
    ChunkSummary,
]


def run_in_process(
    market: Market,
    settings: SimulationSettings,
    seeds: list[np.random.SeedSequence],
    sampled: NDArray[np.int64],
    plan: Plan,
    progress: ChunkProgress,
) -> ChunkSummary:
    """Every chunk here, one after another, merged as they come."""
    tally = Accumulator(settings, plan)
    for index, seed in enumerate(seeds):
        tally.add(run_chunk(market, settings, index, seed, sampled, plan, tally.edges))
        progress(tally.paths, settings.paths)
    return tally.result()


def tail_passes(
    market: Market,
    settings: SimulationSettings,
    seeds: list[np.random.SeedSequence],
    sampled: NDArray[np.int64],
    progress: ChunkProgress,
    runner: ChunkRunner,
) -> tuple[ChunkSummary, Plan, int]:
    """The first pass's summary, the resolved plan of the tails and the count of passes.

    With every tail within the budget (``settings.single_pass``), the first pass
    keeps each figure's ``k`` largest values and resolves them all. Otherwise it
    counts values in buckets, and each further pass over the same chunks (the
    same seeds give the same paths) narrows or resolves every figure's window.
    """
    plan = first_plan(figure_shapes(market.book, settings), settings.tail, settings.budget)
    flags = _value_is_part(plan)
    summary = runner(market, settings, seeds, sampled, plan, progress)
    plan = narrow(plan, summary.tails, flags)
    passes = 1
    while not plan.resolved:
        again = runner(market, settings, seeds, sampled, plan, progress)
        plan = narrow(plan, again.tails, flags)
        passes += 1
    return summary, plan, passes


def finish(summary: ChunkSummary, plan: Plan, settings: SimulationSettings) -> ChunkSummary:
    """The merged summary with every tally's tail, from a resolved ``plan``."""
    k = settings.tail

    def tail(tally: Tally, name: str) -> Tally:
        var, sums = plan.results(name)
        return tally.with_tail(k, var, [s[0] for s in sums])

    _, groups = plan.results("mutualised")
    return replace(
        summary,
        figures=summary.figures.with_tails(plan, "", k),
        variants=tuple(f.with_tails(plan, f"sitg{i}.", k) for i, f in enumerate(summary.variants)),
        loss=tail(summary.loss, "loss"),
        primary_loss=tail(summary.primary_loss, "primary_loss"),
        tails={},
        tail_groups=np.asarray(groups, dtype=np.int64),
    )


def simulate(
    market: Market,
    settings: SimulationSettings,
    progress: ChunkProgress = _no_progress,
    runner: ChunkRunner = run_in_process,
) -> Simulation:
    """Run the paths of ``settings`` over ``market``; the same seed gives the same figures."""
    for variant in settings.sitg:
        sitg_rulebook(market.book.rulebook, variant, market.book)  # refuses a rulebook early
    seeds = chunk_seeds(settings.seed, len(settings.chunks))
    sampled = sample_paths(settings)
    first, plan, passes = tail_passes(market, settings, seeds, sampled, progress, runner)
    summary = finish(first, plan, settings)
    records = {r.path: r for r in (*summary.worst, *summary.sampled)}
    exact = exact_check(market.book, (records[p] for p in sorted(records)))
    # Each skin-in-the-game rulebook on the worst paths, run again both ways.
    worst = summary.worst[:VARIANT_EXACT_PATHS]
    for variant in settings.sitg:
        book = replace(
            market.book, rulebook=sitg_rulebook(market.book.rulebook, variant, market.book)
        )
        again = exact_check(book, rerun(book, worst))
        exact = ExactCheck(exact.checked + again.checked, (*exact.mismatches, *again.mismatches))
    return Simulation(market, settings, summary, exact, passes)


def rerun(book: Book, records: Sequence[PathRecord]) -> tuple[PathRecord, ...]:
    """The records' paths through the array waterfall of ``book`` (another rulebook)."""
    if not records:
        return ()
    scenario = np.asarray([r.scenario for r in records], dtype=np.intp)
    defaulted = np.stack([r.defaulted for r in records])
    results = run_paths(book, scenario, defaulted)
    return tuple(
        _record(results, scenario, defaulted, r.path - row, row) for row, r in enumerate(records)
    )
