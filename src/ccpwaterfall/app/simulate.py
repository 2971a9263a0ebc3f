"""Use case: ``ccp simulate``: Monte Carlo over a risk case's waterfall.

Reads the risk case and its simulation settings (``[simulation]`` and the
members file's ``pd`` and ``capital`` columns), applies the options over
them, computes margin, stress and the sized fund once (the book), then runs
the paths, in process or on a Dask cluster (``scheduler``), and the exact
re-run of the sampled paths. Returns the run, or every problem with the case
and the options, found before anything runs.
"""

from __future__ import annotations

import math
from contextlib import ExitStack
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import numpy as np

from ccpwaterfall.app.cases import load
from ccpwaterfall.app.loaders import IO_LOADERS, Loaders
from ccpwaterfall.app.outcome import Outcome, Problems, done, problems_in, refused
from ccpwaterfall.app.risk import ClientFactory, _client_factory, _connected
from ccpwaterfall.domain import TrancheKind
from ccpwaterfall.io import Issue
from ccpwaterfall.io.risk_case import RiskCase
from ccpwaterfall.io.simulation_config import SimulationConfig, simulation_config
from ccpwaterfall.io.values import exact_amount
from ccpwaterfall.lifecycle import Progress
from ccpwaterfall.lifecycle.inputs import quiet
from ccpwaterfall.simulation.book import Book, compute_book
from ccpwaterfall.simulation.defaults import DefaultModel
from ccpwaterfall.simulation.engine import (
    DEFAULT_CHUNK_PATHS,
    DEFAULT_EXACT_RANDOM,
    DEFAULT_EXACT_WORST,
    SITG_POSITIONS,
    ChunkProgress,
    ChunkRunner,
    Market,
    Simulation,
    SimulationSettings,
    SitgVariant,
    run_in_process,
)
from ccpwaterfall.simulation.engine import (
    simulate as run_simulation,
)

#: The most paths one run takes.
MAX_PATHS = 10**9


@dataclass(frozen=True, slots=True)
class SimulateOptions:
    """What the command line gives; None: the risk case's setting (or the default)."""

    paths: int = 100_000
    seed: int = 0
    rho: float | None = None
    nu: float | None = None
    chunk_paths: int = DEFAULT_CHUNK_PATHS
    sitg_grid: str | None = None
    sitg_position: str = "before"
    contagion_share: float | None = None
    exact_worst: int = DEFAULT_EXACT_WORST
    exact_random: int = DEFAULT_EXACT_RANDOM


def _no_chunks(done_paths: int, total: int) -> None:
    """Reports nothing."""


def simulate(
    path: Path,
    options: SimulateOptions,
    loaders: Loaders = IO_LOADERS,
    progress: Progress = quiet,
    chunks: ChunkProgress = _no_chunks,
    scheduler: str | ClientFactory | None = None,
) -> Outcome[Simulation]:
    """Run ``ccp simulate`` on the risk case at ``path``."""
    loaded = load(path, loaders.risk_case)
    if isinstance(loaded, Problems):
        return refused(loaded)
    settings_or = _settings(path, loaders, loaded, options)
    if isinstance(settings_or, Problems):
        return refused(settings_or)
    config, settings = settings_or
    connect = _client_factory(path, scheduler)
    if isinstance(connect, Problems):
        return refused(connect)
    with ExitStack() as stack:
        # The cluster is reached first: a bad address stops the run before any work.
        client = _connected(stack, path, connect)
        if isinstance(client, Problems):
            return refused(client)
        progress("margin, stress and the fund")
        book = compute_book(loaded.inputs, 1.0 + float(config.closeout_cost), progress)
        market = _market(path, book, config, options)
        if isinstance(market, Problems):
            return refused(market)
        runner: ChunkRunner = run_in_process
        if client is not None:
            from ccpwaterfall.simulation.distributed import on_cluster  # noqa: PLC0415

            runner = on_cluster(client)
        progress("paths")
        run = run_simulation(market, settings, chunks, runner)
    return done(run, loaded.warnings)


def _settings(
    path: Path, loaders: Loaders, loaded: RiskCase, options: SimulateOptions
) -> tuple[SimulationConfig, SimulationSettings] | Problems:
    file = str(path)
    doc, doc_issues = loaders.document(path)
    if doc is None:
        return problems_in(path, doc_issues)
    portfolio = doc.get("portfolio")
    members_name = portfolio.get("members") if isinstance(portfolio, dict) else None
    members = path.parent / members_name if isinstance(members_name, str) else None
    config, issues = simulation_config(doc, file, members, loaded.inputs.currency)
    if not loaded.inputs.stress:
        issues.append(
            Issue(
                file,
                "risk.stress",
                "ccp simulate draws the market state among the stress scenarios: add "
                "[[risk.stress]] tables",
            )
        )
    known = {kind.value for kind in TrancheKind}
    unsupported = [t.kind for t in loaded.inputs.rulebook.waterfall if t.kind not in known]
    if unsupported:
        issues.append(
            Issue(file, "rulebook.waterfall", f"no simulation rule for {', '.join(unsupported)}")
        )
    if not 1 <= options.paths <= MAX_PATHS:
        issues.append(Issue(file, "--paths", f"must be from 1 to {MAX_PATHS:,}"))
    if options.chunk_paths < 1:
        issues.append(Issue(file, "--chunk", "must be at least 1"))
    if options.rho is not None and not 0 <= options.rho < 1:
        issues.append(Issue(file, "--rho", f"{options.rho} must be from 0 to below 1"))
    if options.nu is not None and not (options.nu > 0 and math.isfinite(options.nu)):
        issues.append(Issue(file, "--nu", f"{options.nu} must be a number above 0"))
    if options.contagion_share is not None and not (
        options.contagion_share > 0 and math.isfinite(options.contagion_share)
    ):
        issues.append(Issue(file, "--contagion-share", "must be a number above 0"))
    variants = _sitg(file, options, loaded, issues)
    if issues or config is None:
        return problems_in(path, issues)
    share = (
        Decimal(repr(options.contagion_share))
        if options.contagion_share is not None
        else config.contagion_share
    )
    settings = SimulationSettings(
        paths=options.paths,
        seed=options.seed,
        chunk_paths=options.chunk_paths,
        confidence=float(config.confidence),
        exact_worst=options.exact_worst,
        exact_random=options.exact_random,
        sitg=variants,
        contagion_share=share,
    )
    return config, settings


def _sitg(
    file: str, options: SimulateOptions, loaded: RiskCase, issues: list[Issue]
) -> tuple[SitgVariant, ...]:
    if options.sitg_grid is None:
        return ()
    positions = SITG_POSITIONS if options.sitg_position == "both" else (options.sitg_position,)
    if options.sitg_position not in (*SITG_POSITIONS, "both"):
        issues.append(Issue(file, "--sitg-position", "must be before, after or both"))
        return ()
    if not any(t.kind == "member_default_fund" for t in loaded.inputs.rulebook.waterfall):
        issues.append(
            Issue(file, "--sitg-grid", "the rulebook has no members' fund to place SITG against")
        )
        return ()
    ccy = loaded.inputs.currency
    amounts: list[int] = []
    for index, item in enumerate(options.sitg_grid.split(",")):
        exact = exact_amount(item.strip())
        if isinstance(exact, str):
            issues.append(Issue(file, f"--sitg-grid item {index + 1}", exact))
        elif exact.quantize(ccy.quantum) != exact:
            issues.append(
                Issue(file, f"--sitg-grid item {index + 1}", f"more decimals than {ccy.code} has")
            )
        else:
            amounts.append(int(exact.scaleb(ccy.minor_unit)))
    return tuple(SitgVariant(a, p) for p in positions for a in amounts)


def _market(
    path: Path, book: Book, config: SimulationConfig, options: SimulateOptions
) -> Market | Problems:
    """The default model per group: the members file's pd, else ``default_pd``."""
    file = str(path)
    issues: list[Issue] = []
    by_member = dict.fromkeys(book.member_ids, math.nan)
    if config.pd is not None:
        by_member.update(zip(config.member_ids, config.pd.tolist(), strict=True))
    default = float(config.default_pd) if config.default_pd is not None else math.nan
    pd = np.full(book.n_groups, math.nan)
    for index, member in enumerate(book.member_ids):
        value = by_member[member]
        group = int(book.member_group[index])
        if not math.isnan(value):
            pd[group] = value
    missing = [book.group_ids[g] for g in np.flatnonzero(np.isnan(pd)).tolist()]
    if missing and math.isnan(default):
        issues.append(
            Issue(
                file,
                "simulation.default_pd",
                f"no probability of default for {len(missing)} groups ({', '.join(missing[:5])}"
                f"{', ...' if len(missing) > 5 else ''}): give a pd column in the members file "
                "or default_pd in [simulation]",
            )
        )
    if issues:
        return problems_in(path, issues)
    pd = np.where(np.isnan(pd), default, pd)
    capital = None
    if config.capital is not None:
        by_id = dict(zip(config.member_ids, config.capital.tolist(), strict=True))
        capital = np.asarray([by_id.get(m, 0) for m in book.member_ids], np.int64)
    if config.auction_tiers:
        at = {member: i for i, member in enumerate(book.member_ids)}
        tiers = tuple(tuple(at[m] for m in tier) for tier in config.auction_tiers)
        book = replace(book, auction_tiers=tiers)
    rho = options.rho if options.rho is not None else float(config.rho)
    nu = options.nu if options.nu is not None else (float(config.nu) if config.nu else None)
    return Market(book, DefaultModel(pd, rho, nu), capital)
