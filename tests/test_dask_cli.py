"""``--scheduler`` (and ``CCP_DASK_SCHEDULER``): the end of day on a dask.distributed
cluster, driven through the command line, gives the in-process run's output exactly."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ccpwaterfall.cli.main import create_app

DEMO_DIR = Path(__file__).resolve().parent.parent / "examples" / "demo-ccp"
DEMO = DEMO_DIR / "case.toml"
ENV_VAR = "CCP_DASK_SCHEDULER"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """Two single-threaded workers in this process, served over TCP on 127.0.0.1 only."""
    from distributed import LocalCluster

    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=":0",
    ) as local:
        yield local


@pytest.fixture(scope="module")
def watcher(cluster: Any) -> Iterator[Any]:
    """A client of the cluster that watches which tasks its workers run."""
    from distributed import Client

    with Client(cluster.scheduler_address, set_as_default=False) as client:  # type: ignore[no-untyped-call]
        yield client


def ccp(*args: str | Path, env: dict[str, str | None] | None = None) -> tuple[int, str, str]:
    """``ccp ARGS``: exit status, standard output and standard error."""
    runner = CliRunner()
    result = runner.invoke(create_app(), [str(a) for a in args], env={ENV_VAR: None, **(env or {})})
    return result.exit_code, result.stdout, result.stderr


def in_process(*args: str | Path) -> str:
    code, out, err = ccp(*args, "--json")
    assert code == 0, err
    return out


def on_cluster(
    watcher: Any, *args: str | Path, env: dict[str, str | None] | None = None
) -> tuple[str, set[str]]:
    """The command's JSON run with the cluster, and the functions its workers ran."""
    from distributed import get_task_stream

    with get_task_stream(watcher) as stream:
        code, out, err = ccp(*args, "--json", env=env)
    assert code == 0, err
    assert err == ""  # --json: nothing but the document, not a word from Dask
    # Task keys are the function's name, a dash, then a unique suffix.
    ran = {str(task["key"]).split("-", 1)[0] for task in stream.data}
    return out, ran


def closed_port() -> int:
    """A port of 127.0.0.1 that nothing listens on (free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def demo_with(tmp_path: Path, old: str, new: str) -> Path:
    """The demo's files in ``tmp_path``, its case with ``old`` replaced by ``new``."""
    for source in DEMO_DIR.iterdir():
        if source.is_file():
            shutil.copy(source, tmp_path / source.name)
    case = tmp_path / "case.toml"
    text = case.read_text(encoding="utf-8")
    assert old in text
    case.write_text(text.replace(old, new, 1), encoding="utf-8")
    return case


def test_eod_on_the_cluster_prints_the_in_process_json(cluster: Any, watcher: Any) -> None:
    out, ran = on_cluster(watcher, "eod", DEMO, "--scheduler", cluster.scheduler_address)
    assert out == in_process("eod", DEMO)
    # The margin and the stress aggregation ran on the workers.
    assert {"block_margin", "account_pnl"} <= ran
    assert json.loads(out)["format"] == "ccp-eod/1"


def test_the_environment_variable_names_the_scheduler(cluster: Any, watcher: Any) -> None:
    out, ran = on_cluster(watcher, "eod", DEMO, env={ENV_VAR: cluster.scheduler_address})
    assert out == in_process("eod", DEMO)
    assert "block_margin" in ran


def test_the_option_wins_over_the_environment_variable(cluster: Any, watcher: Any) -> None:
    unreachable = f"tcp://127.0.0.1:{closed_port()}"
    out, ran = on_cluster(
        watcher,
        "eod",
        DEMO,
        "--scheduler",
        cluster.scheduler_address,
        env={ENV_VAR: unreachable},
    )
    assert out == in_process("eod", DEMO)
    assert "block_margin" in ran


@pytest.mark.parametrize("command", ["margin", "stress", "size-fund", "capital"])
def test_every_risk_command_gives_the_same_json_on_the_cluster(
    cluster: Any, watcher: Any, command: str
) -> None:
    out, ran = on_cluster(watcher, command, DEMO, "--scheduler", cluster.scheduler_address)
    assert out == in_process(command, DEMO)
    assert "block_margin" in ran


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('anti_procyclicality = "buffer"', 'anti_procyclicality = "stressed_weight"'),
        ('anti_procyclicality = "buffer"', 'anti_procyclicality = "ten_year_floor"'),
        ("[risk]\n", '[risk]\ndtype = "float32"\n'),
    ],
    ids=["stressed_weight", "ten_year_floor", "float32"],
)
def test_second_pnl_sets_and_float32_run_on_the_cluster_too(
    cluster: Any, watcher: Any, tmp_path: Path, old: str, new: str
) -> None:
    case = demo_with(tmp_path, old, new)
    out, ran = on_cluster(watcher, "eod", case, "--scheduler", cluster.scheduler_address)
    assert out == in_process("eod", case)
    assert "block_margin" in ran


def test_span_margin_is_refused_on_a_cluster(cluster: Any, tmp_path: Path) -> None:
    case = demo_with(tmp_path, 'margin_model = "es"', 'margin_model = "span"')
    code, out, err = ccp("eod", case, "--json", "--scheduler", cluster.scheduler_address)
    assert code == 2
    assert out == ""
    assert f'{case}: --scheduler: margin_model = "span" runs in process only' in err
    assert "run without --scheduler" in err
    in_process("eod", case)  # it runs without one


def test_an_unreachable_scheduler_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    address = f"tcp://127.0.0.1:{closed_port()}"
    drill = tmp_path / "drill.toml"
    code, out, err = ccp("size-fund", DEMO, "--write-case", drill, "--scheduler", address)
    assert code == 2
    assert out == ""
    assert f"{DEMO}: --scheduler: cannot reach a Dask scheduler at {address}" in err
    assert "1 problem in" in err
    assert not drill.exists()


def test_an_address_that_is_not_one_is_refused() -> None:
    code, _, err = ccp("eod", DEMO, env={ENV_VAR: "localhost"})
    assert code == 2
    assert "--scheduler: 'localhost' is not a scheduler address" in err
    assert "tcp://HOST:PORT" in err


def test_without_dask_the_user_is_told_to_install_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A module set to None in sys.modules fails to import, as one not installed does.
    monkeypatch.setitem(sys.modules, "distributed", None)
    code, out, err = ccp("eod", DEMO, "--scheduler", "tcp://127.0.0.1:8786")
    assert code == 2
    assert out == ""
    assert "--scheduler: running on a Dask cluster needs dask.distributed" in err
    assert "pip install 'ccpwaterfall[dask]'" in err


def test_a_run_without_a_scheduler_never_imports_dask() -> None:
    script = (
        "import sys\n"
        "from ccpwaterfall.cli.main import run_cli\n"
        f"assert run_cli(['eod', {str(DEMO)!r}, '--json']) == 0\n"
        "assert not any(m.split('.')[0] in ('dask', 'distributed') for m in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_worker_processes_give_the_same_json() -> None:
    # Separate processes: the positions, the P&L and the margin model travel pickled.
    from distributed import LocalCluster

    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",
    ) as local:
        code, out, err = ccp("eod", DEMO, "--json", "--scheduler", local.scheduler_address)
    assert code == 0, err
    assert out == in_process("eod", DEMO)


def test_the_crossover_benchmark_runs_on_small_days(tmp_path: Path) -> None:
    figures = tmp_path / "dask.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_dask", "--quick", "--json", str(figures)],
        cwd=DEMO_DIR.parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(figures.read_text(encoding="utf-8"))
    assert [row["identical"] for row in report["sizes"]] == [True, True]
    assert all(row["ratio"] > 0 and row["block_seconds"] > 0 for row in report["sizes"])
    assert "identical" in done.stdout


def test_a_scheduler_without_workers_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from distributed import LocalCluster

    from ccpwaterfall.app import risk

    monkeypatch.setattr(risk, "CONNECT_TIMEOUT_S", 0.5)
    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=0, processes=False, protocol="tcp://", host="127.0.0.1", dashboard_address=":0"
    ) as empty:
        code, out, err = ccp("eod", DEMO, "--json", "--scheduler", empty.scheduler_address)
    assert code == 2
    assert out == ""
    assert f"the Dask scheduler at {empty.scheduler_address} has no worker" in err
