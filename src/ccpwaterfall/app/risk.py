"""Use cases on risk cases: margin, stress tests, fund sizing, capital and the whole end of day.

Each runs only the steps of the end of day (``lifecycle``: margin, stress, fund,
drills, reverse stress) that its result holds: ``stress`` stops before the
drills, ``size_fund`` skips reverse stress, ``capital`` needs neither. Each
returns an ``Outcome``: the result, or every problem in the risk case, its data
files and the options that refer to them.

Each also takes a ``scheduler``: the address of a ``dask.distributed`` scheduler
(or a factory of clients), to aggregate the positions to accounts and measure
margin on that cluster, block by block of accounts, with the same results as in
process. Dask is imported only then; without it installed, an unreachable address,
a scheduler with no worker, or SPAN margin (computed in process only) is a problem
with the ``--scheduler`` option, found before anything runs or is written.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ccpwaterfall import lifecycle
from ccpwaterfall.app.cases import load
from ccpwaterfall.app.loaders import IO_LOADERS, Loaders
from ccpwaterfall.app.outcome import Outcome, Problems, done, problems_in, refused
from ccpwaterfall.io import Issue, check_target, write_case
from ccpwaterfall.io.risk_case import RiskCase
from ccpwaterfall.lifecycle import (
    CapitalRun,
    Drill,
    EndOfDay,
    EndOfDayInputs,
    FundRun,
    MarginRun,
    Progress,
    StressRun,
    compute_capital,
    compute_margin,
    compute_stress,
    drill_defaults,
    reverse_stress_grid,
)
from ccpwaterfall.lifecycle.end_of_day import scatter_accounts
from ccpwaterfall.lifecycle.inputs import quiet
from ccpwaterfall.risk.distributed import AccountBlocks
from ccpwaterfall.risk.params import MarginModel
from ccpwaterfall.risk.reverse_stress import ReverseStress

#: Seconds to reach a Dask scheduler, and again to find a worker on it.
CONNECT_TIMEOUT_S = 5.0
#: What installs the Dask extra.
DASK_INSTALL = "pip install 'ccpwaterfall[dask]'"
#: The option a scheduler comes from, named in its problems.
SCHEDULER_OPTION = "--scheduler"

#: Opens a ``dask.distributed.Client`` (connecting raises ``SchedulerError``,
#: OSError, TimeoutError or ValueError); leaving the context closes it.
ClientFactory = Callable[[], AbstractContextManager[Any]]


@dataclass(frozen=True, slots=True, eq=False)
class MarginResult:
    inputs: EndOfDayInputs
    margin: MarginRun


@dataclass(frozen=True, slots=True, eq=False)
class StressResult:
    """Stress exposures, with the fund they are measured beyond and, when the case has a
    grid of multipliers, reverse stress (``None`` otherwise)."""

    inputs: EndOfDayInputs
    margin: MarginRun
    stress: StressRun
    fund: FundRun
    reverse: ReverseStress | None


@dataclass(frozen=True, slots=True, eq=False)
class WrittenDrill:
    """A drill's case written for ``ccp run``."""

    path: Path
    drill: Drill


@dataclass(frozen=True, slots=True, eq=False)
class FundResult:
    """The sized fund and every stress scenario's Cover-N drill; ``written`` the drill
    written as a case, when asked."""

    inputs: EndOfDayInputs
    margin: MarginRun
    stress: StressRun
    fund: FundRun
    drills: tuple[Drill, ...]
    written: WrittenDrill | None = None


@dataclass(frozen=True, slots=True, eq=False)
class CapitalResult:
    inputs: EndOfDayInputs
    margin: MarginRun
    fund: FundRun
    capital: CapitalRun


def margin(
    path: Path,
    loaders: Loaders = IO_LOADERS,
    progress: Progress = quiet,
    *,
    scheduler: str | ClientFactory | None = None,
    threads: int = 1,
) -> Outcome[MarginResult]:
    """Initial margin of every account, member and group."""
    connect = _client_factory(path, scheduler)
    if isinstance(connect, Problems):
        return refused(connect)
    loaded = _inputs(path, loaders)
    if isinstance(loaded, Problems):
        return refused(loaded)
    inputs = replace(loaded.inputs, threads=threads)
    with ExitStack() as stack:
        cluster = _cluster(stack, path, inputs, connect, progress)
        if isinstance(cluster, Problems):
            return refused(cluster)
        run = compute_margin(inputs, progress, cluster)
    return done(MarginResult(inputs, run), loaded.warnings)


def stress(
    path: Path,
    loaders: Loaders = IO_LOADERS,
    progress: Progress = quiet,
    *,
    scheduler: str | ClientFactory | None = None,
    threads: int = 1,
) -> Outcome[StressResult]:
    """Stress exposures, Cover-1/2, the Art 42(3) floor, Cover-N beyond own fund (which
    needs the fund) and reverse stress; no drills."""
    connect = _client_factory(path, scheduler)
    if isinstance(connect, Problems):
        return refused(connect)
    loaded = _stress_inputs(path, loaders, "ccp stress")
    if isinstance(loaded, Problems):
        return refused(loaded)
    inputs = replace(loaded.inputs, threads=threads)
    runs = _margin_and_stress(path, inputs, connect, progress)
    if isinstance(runs, Problems):
        return refused(runs)
    margin_run, stress_run = runs
    fund = lifecycle.size_fund(inputs, margin_run, stress_run, progress)
    reverse = (
        reverse_stress_grid(inputs, margin_run, fund, progress)
        if inputs.stress_multipliers
        else None
    )
    return done(StressResult(inputs, margin_run, stress_run, fund, reverse), loaded.warnings)


def size_fund(
    path: Path,
    *,
    write_case_to: Path | None = None,
    scenario: str | None = None,
    force: bool = False,
    loaders: Loaders = IO_LOADERS,
    progress: Progress = quiet,
    scheduler: str | ClientFactory | None = None,
    threads: int = 1,
) -> Outcome[FundResult]:
    """Size the fund to Cover-N, split it, and drill every stress scenario's default.

    With ``write_case_to`` the drill of ``scenario`` (default: the one that sets
    the fund) is written there as a ``ccp-case/1`` case; a target that may not be
    written (an existing file without ``force``, the case or one of its data
    files, a link or a device) is refused before anything runs, and checked
    again when written. ``scenario`` without ``write_case_to``, or naming no
    stress scenario of the case, is a problem with that option.
    """
    connect = _client_factory(path, scheduler)
    if isinstance(connect, Problems):
        return refused(connect)
    case_files = _input_files(path, loaders)
    if write_case_to is not None:
        refusal = check_target(write_case_to, force=force, inputs=case_files)
        if refusal is not None:
            return refused(problems_in(write_case_to, (refusal,)))
    option_issues = []
    if scenario is not None and write_case_to is None:
        option_issues.append(
            Issue(str(path), "--scenario", "picks the drill that --write-case writes: give both")
        )
    loaded = _stress_inputs(path, loaders, "ccp size-fund")
    if isinstance(loaded, Problems):
        return refused(problems_in(path, (*option_issues, *loaded.issues)))
    inputs = replace(loaded.inputs, threads=threads)
    names = [s.name for s in inputs.stress]
    if scenario is not None and write_case_to is not None and scenario not in names:
        listed = ", ".join(repr(n) for n in names)
        option_issues.append(
            Issue(
                str(path),
                "--scenario",
                f"{scenario!r} is not a stress scenario of this case; its scenarios are: {listed}",
            )
        )
    if option_issues:
        return refused(problems_in(path, option_issues))
    runs = _margin_and_stress(path, inputs, connect, progress)
    if isinstance(runs, Problems):
        return refused(runs)
    margin_run, stress_run = runs
    fund = lifecycle.size_fund(inputs, margin_run, stress_run, progress)
    drills = drill_defaults(inputs, margin_run, stress_run, fund, progress)
    written = None
    if write_case_to is not None:
        wanted = fund.sizing.cover.scenario if scenario is None else names.index(scenario)
        drill = next(d for d in drills if d.scenario == wanted)
        issue = write_case(write_case_to, drill.case, force=force, inputs=case_files)
        if issue is not None:
            return refused(problems_in(write_case_to, (issue,)))
        written = WrittenDrill(write_case_to, drill)
    return done(FundResult(inputs, margin_run, stress_run, fund, drills, written), loaded.warnings)


def capital(
    path: Path,
    risk_weight: float = 0.2,
    capital_ratio: float = 0.08,
    loaders: Loaders = IO_LOADERS,
    progress: Progress = quiet,
    *,
    scheduler: str | ClientFactory | None = None,
    threads: int = 1,
) -> Outcome[CapitalResult]:
    """Bank capital for exposures to the CCP (Basel CRE54, CRR Art 310): margin, stress
    and the fund, without drills or reverse stress."""
    connect = _client_factory(path, scheduler)
    if isinstance(connect, Problems):
        return refused(connect)
    loaded = _stress_inputs(path, loaders, "ccp capital")
    if isinstance(loaded, Problems):
        return refused(loaded)
    inputs = replace(loaded.inputs, threads=threads)
    runs = _margin_and_stress(path, inputs, connect, progress)
    if isinstance(runs, Problems):
        return refused(runs)
    margin_run, stress_run = runs
    fund = lifecycle.size_fund(inputs, margin_run, stress_run, progress)
    run = compute_capital(inputs, margin_run, stress_run, fund, risk_weight, capital_ratio)
    return done(CapitalResult(inputs, margin_run, fund, run), loaded.warnings)


def end_of_day(
    path: Path,
    loaders: Loaders = IO_LOADERS,
    progress: Progress = quiet,
    *,
    scheduler: str | ClientFactory | None = None,
    threads: int = 1,
) -> Outcome[EndOfDay]:
    """The whole end of day: margin, stress, fund sizing, every drill and reverse stress."""
    connect = _client_factory(path, scheduler)
    if isinstance(connect, Problems):
        return refused(connect)
    loaded = _stress_inputs(path, loaders, "ccp eod")
    if isinstance(loaded, Problems):
        return refused(loaded)
    inputs = replace(loaded.inputs, threads=threads)
    with ExitStack() as stack:
        refusal = _cluster_refusal(path, inputs, connect)
        if refusal is not None:
            return refused(refusal)
        client = _connected(stack, path, connect)
        if isinstance(client, Problems):
            return refused(client)
        run = lifecycle.end_of_day(inputs, progress, client)
    return done(run, loaded.warnings)


def _margin_and_stress(
    path: Path, inputs: EndOfDayInputs, connect: ClientFactory | None, progress: Progress
) -> tuple[MarginRun, StressRun] | Problems:
    """Margin, then stress losses over it: on the cluster ``connect`` reaches, if any."""
    with ExitStack() as stack:
        cluster = _cluster(stack, path, inputs, connect, progress)
        if isinstance(cluster, Problems):
            return cluster
        margin_run = compute_margin(inputs, progress, cluster)
        return margin_run, compute_stress(inputs, margin_run, progress, cluster)


class SchedulerError(Exception):
    """A scheduler address that cannot be used: unreachable, not a Dask scheduler, or
    one with no worker; the message says which."""


def dask_scheduler(address: str, timeout_s: float | None = None) -> ClientFactory:
    """Clients of the ``dask.distributed`` scheduler at ``address`` (``tcp://host:port``).

    Raises ImportError when ``distributed`` is not installed. Each client is checked
    first, each step within ``timeout_s`` seconds (``CONNECT_TIMEOUT_S`` when None, read
    at each connection): the address answers (a refused connection fails at once), it
    answers as a Dask scheduler, and it has a worker; otherwise ``SchedulerError``. A
    client is made only for an address that answers as a scheduler, so a failed attempt
    leaves nothing to close.
    """
    from distributed import Client  # noqa: PLC0415 (an optional extra, loaded when asked)

    def connect() -> AbstractContextManager[Any]:
        wait = CONNECT_TIMEOUT_S if timeout_s is None else timeout_s
        _answers_as_scheduler(address, wait)
        client = Client(address, timeout=wait, set_as_default=False)  # type: ignore[no-untyped-call]
        try:
            client.wait_for_workers(1, timeout=wait)
        except TimeoutError as error:
            client.close()  # type: ignore[no-untyped-call]
            raise SchedulerError(
                f"the Dask scheduler at {address} has no worker: none joined within {wait:g} s"
            ) from error
        return client

    return connect


def _answers_as_scheduler(address: str, timeout_s: float) -> None:
    """``SchedulerError`` unless ``address`` opens a Dask connection within
    ``timeout_s`` seconds."""
    from distributed.comm.addressing import (  # noqa: PLC0415
        parse_address,
        parse_host_port,
    )
    from distributed.comm.core import connect  # noqa: PLC0415 (loaded with the extra)

    try:
        scheme, location = parse_address(address)
        # Dask retries a refused TCP connection until its timeout: one plain try fails
        # at once instead.
        if scheme in ("tcp", "tls"):
            with socket.create_connection(parse_host_port(location), timeout=timeout_s):
                pass
    except ValueError as error:
        raise SchedulerError(
            f"{address!r} is not a scheduler address ({error}): write tcp://HOST:PORT"
        ) from error
    except OSError as error:
        raise SchedulerError(f"cannot reach a Dask scheduler at {address}: {error}") from error

    async def handshake() -> None:
        comm = await connect(address, timeout=timeout_s)  # type: ignore[no-untyped-call]
        await comm.close()

    try:
        asyncio.run(handshake())
    # Whatever else answers at that address fails the handshake in its own way.
    except Exception as error:
        raise SchedulerError(
            f"{address} does not answer as a Dask scheduler: {type(error).__name__}: {error}"
        ) from error


def _client_factory(
    path: Path, scheduler: str | ClientFactory | None
) -> ClientFactory | Problems | None:
    """The factory of clients of ``scheduler`` (an address or a factory already), or the
    problem that Dask is not installed."""
    if scheduler is None or callable(scheduler):
        return scheduler
    try:
        return dask_scheduler(scheduler)
    except ImportError:
        return _scheduler_problem(
            path,
            "running on a Dask cluster needs dask.distributed, which is not installed: "
            f"{DASK_INSTALL}",
        )


def _cluster_refusal(
    path: Path, inputs: EndOfDayInputs, connect: ClientFactory | None
) -> Problems | None:
    """Why the case cannot run on a cluster: SPAN margin is by commodity, in process."""
    if connect is None or inputs.margin_params.model is not MarginModel.SPAN:
        return None
    return _scheduler_problem(
        path,
        'margin_model = "span" runs in process only (SPAN margins each account by '
        "commodity over 16 risk-array scenarios, too little work to spread): run without "
        f"{SCHEDULER_OPTION}",
    )


def _connected(stack: ExitStack, path: Path, connect: ClientFactory | None) -> Any:
    """A client from ``connect`` (None without one), closed with ``stack``, or the
    problem reaching its scheduler."""
    if connect is None:
        return None
    try:
        return stack.enter_context(connect())
    except (SchedulerError, OSError, TimeoutError, ValueError) as error:
        return _scheduler_problem(path, str(error))


def _cluster(
    stack: ExitStack,
    path: Path,
    inputs: EndOfDayInputs,
    connect: ClientFactory | None,
    progress: Progress,
) -> AccountBlocks | Problems | None:
    """The case's positions scattered on the cluster (None without one), or why not."""
    refusal = _cluster_refusal(path, inputs, connect)
    if refusal is not None:
        return refusal
    client = _connected(stack, path, connect)
    if client is None or isinstance(client, Problems):
        return client
    progress("positions to the cluster")
    blocks: AccountBlocks = scatter_accounts(inputs, client)
    return blocks


def _scheduler_problem(path: Path, message: str) -> Problems:
    return problems_in(path, (Issue(str(path), SCHEDULER_OPTION, message),))


def _inputs(path: Path, loaders: Loaders) -> RiskCase | Problems:
    return load(path, loaders.risk_case)


def _stress_inputs(path: Path, loaders: Loaders, command: str) -> RiskCase | Problems:
    """The risk case, which must have stress scenarios for ``command``."""
    loaded = _inputs(path, loaders)
    if isinstance(loaded, Problems) or loaded.inputs.stress:
        return loaded
    return problems_in(
        path,
        (
            Issue(
                str(path),
                "risk.stress",
                f"{command} needs stress scenarios: add [[risk.stress]] tables "
                "(name, shocks and optional vol_shifts)",
            ),
        ),
    )


def _input_files(case: Path, loaders: Loaders) -> tuple[Path, ...]:
    """The risk case and every file its ``[portfolio]`` table names (relative to the case):
    what a written drill may never replace."""
    doc, _ = loaders.document(case)
    portfolio = doc.get("portfolio") if doc is not None else None
    named = portfolio.values() if isinstance(portfolio, dict) else ()
    return (case, *(case.parent / name for name in named if isinstance(name, str)))
