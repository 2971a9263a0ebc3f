"""``ccp simulate`` on the demo CCP: JSON, CSV, seeds, bad settings, contagion, Dask.

Figures are checked against each other and against the rules (the same seed
gives the same document, CSV and JSON agree, the exact re-run agrees), not
against numbers copied from a run.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from ccpwaterfall.cli.main import create_app

DEMO_DIR = Path(__file__).resolve().parent.parent / "examples" / "demo-ccp"
DEMO = DEMO_DIR / "case.toml"
DATA_FILES = ("members.csv", "accounts.csv", "instruments.csv", "positions.parquet")
SMALL = ("--paths", "3000", "--seed", "5", "--exact-sample", "40", "--chunk", "1000")


@pytest.fixture(scope="module")
def ccp() -> typer.Typer:
    return create_app()


def _invoke(app: typer.Typer, *args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app, [str(a) for a in args], env={"COLUMNS": "100", "CCP_DASK_SCHEDULER": None}
    )
    return result.exit_code, result.stdout, result.stderr


def _json(app: typer.Typer, *args: str | Path) -> Any:
    code, out, err = _invoke(app, "simulate", *args, "--json")
    assert code == 0, err
    return json.loads(out)


def _copy_demo(tmp_path: Path, simulation: str | None = None, members: str | None = None) -> Path:
    """The demo case in ``tmp_path``, with its data files, an optional [simulation] table
    in place of the demo's, and optional members file text."""
    text = DEMO.read_text(encoding="utf-8")
    for name in DATA_FILES[1:]:
        text = text.replace(f'"{name}"', f'"{(DEMO_DIR / name).as_posix()}"')
    if simulation is not None:
        text = text[: text.index("[simulation]")] + simulation
    (tmp_path / "members.csv").write_text(
        members if members is not None else (DEMO_DIR / "members.csv").read_text("utf-8"),
        encoding="utf-8",
    )
    case = tmp_path / "case.toml"
    case.write_text(text, encoding="utf-8")
    return case


def test_simulate_json_reports_every_tranche_and_agrees_with_the_exact_engine(
    ccp: typer.Typer,
) -> None:
    doc = _json(ccp, DEMO, *SMALL)
    assert doc["format"] == "ccp-simulation/1"
    assert doc["paths"] == 3000
    assert doc["tail_paths"] == 30
    assert doc["exact_check"]["agrees"]
    assert doc["exact_check"]["paths"] > 0
    kinds = [t["kind"] for t in doc["tranches"]]
    assert kinds[0] == "defaulter_margin"
    for tranche in doc["tranches"]:
        p, se = tranche["reached"]["p"], tranche["reached"]["se"]
        assert 0 <= tranche["exhausted"]["p"] <= p <= 1
        assert se == pytest.approx((p * (1 - p) / 3000) ** 0.5)
        use = tranche["use"]
        assert use["es"].count(".") == 1
        assert len(use["es"].split(".")[1]) == 2  # cents of USD
        assert float(use["var"]) <= float(use["es"])
    # A member's parts add up to its mean, within the rounding of each.
    for member in doc["members"].values():
        parts = sum(float(v) for v in member["mean_parts"].values())
        assert parts == pytest.approx(float(member["mean"]), abs=0.03)


def test_same_seed_gives_the_same_document_and_another_seed_another(ccp: typer.Typer) -> None:
    first = _json(ccp, DEMO, *SMALL)
    second = _json(ccp, DEMO, *SMALL)
    assert first == second
    other = _json(ccp, DEMO, "--paths", "3000", "--seed", "6", "--exact-sample", "0")
    assert other["tranches"] != first["tranches"]


def test_sitg_grid_and_csv_tables_agree_with_the_json(ccp: typer.Typer, tmp_path: Path) -> None:
    out = tmp_path / "tables"
    doc = _json(ccp, DEMO, *SMALL, "--sitg-grid", "0,50m,200m", "--csv", out)
    assert [row["amount"] for row in doc["sitg"]] == ["0.00", "50000000.00", "200000000.00"]
    members_mean = [float(row["members"]["mean"]) for row in doc["sitg"]]
    assert members_mean == sorted(members_mean, reverse=True)
    assert float(doc["sitg"][0]["ccp"]["mean"]) == 0
    with (out / "tranches.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [float(r["p_reached"]) for r in rows] == [t["reached"]["p"] for t in doc["tranches"]]
    assert [r["use_es"] for r in rows] == [t["use"]["es"] for t in doc["tranches"]]
    with (out / "sitg.csv").open(encoding="utf-8") as handle:
        sitg = list(csv.DictReader(handle))
    assert [r["members_mean"] for r in sitg] == [r["members"]["mean"] for r in doc["sitg"]]
    assert {p.name for p in out.iterdir()} == {
        "tranches.csv",
        "members.csv",
        "groups.csv",
        "defaults.csv",
        "sitg.csv",
    }


def test_tables_show_the_tranches_and_the_exact_check(ccp: typer.Typer) -> None:
    code, out, err = _invoke(ccp, "simulate", DEMO, *SMALL)
    assert code == 0, err
    words = " ".join(out.split())  # tables wrap at the terminal's width
    assert "How often each tranche is reached" in words
    assert "exact engine: they agree to the minor unit" in words
    assert "Junior skin in the game" in words


def test_a_bad_sitg_grid_is_refused_with_status_2(ccp: typer.Typer) -> None:
    code, out, err = _invoke(ccp, "simulate", DEMO, "--paths", "10", "--sitg-grid", "10m,ten")
    assert code == 2
    assert "--sitg-grid item 2" in err
    assert out == ""


def test_check_refuses_bad_simulation_settings_naming_each_field(
    ccp: typer.Typer, tmp_path: Path
) -> None:
    case = _copy_demo(tmp_path, '[simulation]\nrho = "1.5"\nnu = 0.5\nspeed = "1"\n')
    code, _, err = _invoke(ccp, "check", case)
    assert code == 2
    assert "simulation.rho: rho is 1.5: it must be from 0 to below 1" in err
    assert "simulation.nu:" in err  # a float: quote it
    assert "simulation.speed: unknown key" in err


def test_check_refuses_a_group_with_two_probabilities_of_default(
    ccp: typer.Typer, tmp_path: Path
) -> None:
    lines = (DEMO_DIR / "members.csv").read_text("utf-8").splitlines()
    rows = [lines[0] + ",pd"] + [f"{line},0.01" for line in lines[1:]]
    rows[2] = rows[2][: -len("0.01")] + "0.02"  # CM02 of ASHDOWN-GROUP
    rows[5] = rows[5][: -len("0.01")] + "1.5"
    case = _copy_demo(tmp_path, members="\n".join(rows) + "\n")
    code, _, err = _invoke(ccp, "check", case)
    assert code == 2
    assert "row 5, column pd: pd is 1.5" in err


def test_a_case_without_any_probability_of_default_cannot_simulate(
    ccp: typer.Typer, tmp_path: Path
) -> None:
    case = _copy_demo(tmp_path, '[simulation]\nrho = "0.3"\n')
    assert _invoke(ccp, "check", case)[0] == 0
    code, _, err = _invoke(ccp, "simulate", case, "--paths", "10")
    assert code == 2
    assert "simulation.default_pd: no probability of default for 30 groups" in err


def test_members_capital_brings_contagion(ccp: typer.Typer, tmp_path: Path) -> None:
    lines = (DEMO_DIR / "members.csv").read_text("utf-8").splitlines()
    rows = [lines[0] + ",pd,capital"] + [f"{line},0.03,1m" for line in lines[1:]]
    case = _copy_demo(
        tmp_path,
        '[simulation]\nrho = "0.3"\ncontagion_share = "0.5"\n',
        members="\n".join(rows) + "\n",
    )
    doc = _json(ccp, case, *SMALL)
    contagion = doc["contagion"]
    assert contagion is not None
    assert sum(contagion["secondary_defaults"][1:]) > 0
    assert float(contagion["systemic_loss"]["mean"]) > float(contagion["primary_loss"]["mean"])
    assert doc["exact_check"]["agrees"]


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


def test_scheduler_gives_the_in_process_document(ccp: typer.Typer, cluster: Any) -> None:
    args = (DEMO, *SMALL, "--sitg-grid", "0,100m")
    here = _json(ccp, *args)
    there = _json(ccp, *args, "--scheduler", cluster.scheduler_address)
    assert there == here


def test_scheduler_gives_the_in_process_document_when_tails_take_several_passes(
    ccp: typer.Typer, cluster: Any
) -> None:
    # Chunks of 200 keep at most 10 values per tail, below the 30 of 3,000 paths.
    args = (DEMO, "--paths", "3000", "--seed", "8", "--exact-sample", "20", "--chunk", "200")
    here = _json(ccp, *args, "--sitg-grid", "0,100m")
    there = _json(ccp, *args, "--sitg-grid", "0,100m", "--scheduler", cluster.scheduler_address)
    assert there == here


def test_an_unreachable_scheduler_is_refused_before_any_work(ccp: typer.Typer) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, out, err = _invoke(
        ccp, "simulate", DEMO, "--paths", "10", "--scheduler", f"tcp://127.0.0.1:{port}"
    )
    assert code == 2
    assert "--scheduler" in err
    assert out == ""


def _members_with(column: str, values: dict[str, str], default: str) -> str:
    lines = (DEMO_DIR / "members.csv").read_text("utf-8").splitlines()
    rows = [f"{lines[0]},{column}"]
    rows += [f"{line},{values.get(line.split(',')[0], default)}" for line in lines[1:]]
    return "\n".join(rows) + "\n"


def test_check_refuses_members_of_one_group_with_different_probabilities(
    ccp: typer.Typer, tmp_path: Path
) -> None:
    ashdown = [
        line.split(",")[0]
        for line in (DEMO_DIR / "members.csv").read_text("utf-8").splitlines()
        if line.endswith("ASHDOWN-GROUP")
    ]
    members = _members_with("pd", {ashdown[1]: "0.02"}, "0.01")
    case = _copy_demo(tmp_path, members=members)
    code, _, err = _invoke(ccp, "check", case)
    assert code == 2
    assert "probability of default 0.02 differs from 0.01" in err
    assert "for the same group 'ASHDOWN-GROUP'" in err


def test_ratings_give_each_group_its_probability_of_default(
    ccp: typer.Typer, tmp_path: Path
) -> None:
    ratings = '[simulation]\nratings = { A = "0.002", BBB = "0.02" }\n'
    investment = _copy_demo(tmp_path, ratings, members=_members_with("rating", {}, "A"))
    low = _json(ccp, investment, *SMALL)
    riskier = tmp_path / "riskier"
    riskier.mkdir()
    speculative = _copy_demo(riskier, ratings, members=_members_with("rating", {}, "BBB"))
    high = _json(ccp, speculative, *SMALL)
    # Ten times the probability: the first tranche is reached far more often.
    assert high["tranches"][0]["reached"]["p"] > 3 * low["tranches"][0]["reached"]["p"]


def test_check_refuses_a_rating_without_a_probability(ccp: typer.Typer, tmp_path: Path) -> None:
    case = _copy_demo(
        tmp_path,
        '[simulation]\nratings = { A = "0.002" }\n',
        members=_members_with("rating", {"CM03": "CCC"}, "A"),
    )
    code, _, err = _invoke(ccp, "check", case)
    assert code == 2
    assert "row 3, column rating: rating 'CCC' has no probability" in err


def test_auction_tiers_of_the_case_reach_every_path_and_the_exact_check(
    ccp: typer.Typer, tmp_path: Path
) -> None:
    tiers = '[simulation]\ndefault_pd = "0.02"\nauction_tiers = [["CM07", "CM12"], ["CM03"]]\n'
    case = _copy_demo(tmp_path, tiers)
    case.write_text(
        case.read_text("utf-8").replace(
            'kind = "member_default_fund"',
            'kind = "member_default_fund"\nallocation = "auction_tiers"',
        ),
        encoding="utf-8",
    )
    doc = _json(ccp, case, *SMALL)
    assert doc["exact_check"]["agrees"]
    members = doc["members"]
    # The junior tier pays on every path the fund is reached; others only beyond it.
    assert members["CM07"]["pays"]["p"] >= members["CM01"]["pays"]["p"]
    assert float(members["CM07"]["mean"]) > 0


def test_check_refuses_unknown_members_in_auction_tiers(ccp: typer.Typer, tmp_path: Path) -> None:
    case = _copy_demo(tmp_path, '[simulation]\nauction_tiers = [["CM07", "XX"], ["CM07"]]\n')
    code, _, err = _invoke(ccp, "check", case)
    assert code == 2
    assert "simulation.auction_tiers[0][1]: unknown member 'XX'" in err
    assert "simulation.auction_tiers[1][0]: 'CM07' is in an earlier tier already" in err


@pytest.mark.parametrize(
    ("option", "value"), [("--nu", "0"), ("--rho", "nan"), ("--contagion-share", "-1")]
)
def test_a_bad_model_option_is_refused_with_status_2(
    ccp: typer.Typer, option: str, value: str
) -> None:
    code, out, err = _invoke(ccp, "simulate", DEMO, "--paths", "10", option, value)
    assert code == 2
    assert option in err
    assert out == ""
