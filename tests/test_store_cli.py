"""The store's commands on SQLite and on a real PostgreSQL server: save, history, show, diff,
export, verify, db upgrade, and a database that cannot be used."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from case_samples import EXAMPLES, MINIMAL_CASE, write_case
from ccpwaterfall.cli.main import create_app
from ccpwaterfall.store import SCHEMA_HEAD, open_store
from ccpwaterfall.store.database import create_store_engine
from store_backends import free_port, store_url

__all__ = ["store_url"]  # the fixture, for pytest

NASDAQ = EXAMPLES / "nasdaq-2018" / "case.toml"
KRX = EXAMPLES / "krx-2013" / "case.toml"
KRX_SITG = EXAMPLES / "krx-2013-with-sitg" / "case.toml"
DEMO = EXAMPLES / "demo-ccp" / "case.toml"


def ccp(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(create_app(), [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def _saves(url: str) -> int:
    store = open_store(url)
    try:
        return len(store.history())
    finally:
        store.close()


def test_a_saved_run_keeps_the_case_as_given_the_result_and_the_journal(store_url: str) -> None:
    code, out, err = ccp("run", NASDAQ, "--json", "--save", "--db", store_url)
    assert code == 0, err
    assert "Saved as run 1: ccp show 1" in err
    printed = json.loads(out)  # standard output stays the result alone
    code, shown, _ = ccp("show", "1", "--db", store_url, "--json")
    assert code == 0
    saved = json.loads(shown)
    contents = [r["content"] for r in saved["records"]]
    assert contents[0]["text"] == NASDAQ.read_text(encoding="utf-8")
    assert len(contents[0]["sha256"]) == 64
    assert contents[1] == printed
    _, with_journal, _ = ccp("run", NASDAQ, "--json", "--journal")
    assert contents[2:] == json.loads(with_journal)["journal"]
    assert [r["kind"] for r in saved["records"]][:3] == ["case", "result", "journal_entry"]


def test_history_lists_saves_newest_first(store_url: str) -> None:
    for case in (NASDAQ, KRX):
        assert ccp("run", case, "--save", "--db", store_url)[0] == 0
    code, out, _ = ccp("history", "--db", store_url, "--json")
    assert code == 0
    saves = json.loads(out)["saves"]
    assert [s["id"] for s in saves] == [2, 1]
    assert saves[1]["label"] == "Nasdaq Clearing commodities default, September 2018"
    code, table, _ = ccp("history", "--db", store_url)
    assert code == 0
    assert "Saved results, newest first" in table
    assert table.index("HanMag") < table.index("Nasdaq")


def test_diff_of_two_runs_shows_each_members_change_exactly(store_url: str) -> None:
    ccp("run", KRX, "--save", "--db", store_url)
    ccp("run", KRX_SITG, "--save", "--db", store_url)
    code, out, err = ccp("diff", "1", "2", "--db", store_url, "--json")
    assert code == 0, err
    diff = json.loads(out)
    _, krx, _ = ccp("run", KRX, "--json")
    _, sitg, _ = ccp("run", KRX_SITG, "--json")
    before = json.loads(krx)["events"][0]["members"]
    after = json.loads(sitg)["events"][0]["members"]
    assert diff["changed"]
    for member in diff["changed"]:
        change = diff["members"][member]["fund_charges"]
        assert change["before"] == before.get(member, {}).get("total")
        assert change["after"] == after.get(member, {}).get("total")
    code, table, _ = ccp("diff", "1", "2", "--db", store_url, "--top", "2")
    assert code == 0
    assert "Fund charges" in table
    assert f"{len(diff['changed'])} members changed" in table
    assert "the 2 largest changes shown (--all shows every" in table
    listed = [
        line.split()[0] for line in table.splitlines() if line[:1] == "M" and line[1:2].isdigit()
    ]
    assert (
        listed
        == sorted(
            diff["changed"],
            key=lambda m: (-abs(Decimal(diff["members"][m]["fund_charges"]["change"])), m),
        )[:2]
    )


def test_diff_refuses_results_in_different_currencies(store_url: str) -> None:
    ccp("run", NASDAQ, "--save", "--db", store_url)
    ccp("run", KRX, "--save", "--db", store_url)
    code, out, err = ccp("diff", "1", "2", "--db", store_url)
    assert code == 2
    assert out == ""
    assert "different currencies (EUR, KRW)" in err


def test_end_of_days_saved_on_two_dates_are_compared_by_date(store_url: str) -> None:
    for day in ("2026-11-30", "2026-12-01"):
        code, _, err = ccp("eod", DEMO, "--save", "--date", day, "--db", store_url)
        assert code == 0, err
    code, out, err = ccp(
        "diff", "--date", "2026-11-30", "--date", "2026-12-01", "--db", store_url, "--json"
    )
    assert code == 0, err
    diff = json.loads(out)
    assert diff["before"]["business_date"] == "2026-11-30"
    assert diff["after"]["business_date"] == "2026-12-01"
    assert diff["measures"] == ["initial_margin", "contribution", "stress_loss", "fund_charges"]
    assert len(diff["members"]) == 40
    assert diff["changed"] == []  # the same positions on both days
    _, shown, _ = ccp("show", "1", "--db", store_url, "--json")
    snapshot = json.loads(shown)["records"][0]["content"]
    margins = {m["id"]: m["initial_margin"] for m in snapshot["margin"]["members"]}
    assert snapshot["case_file"]["text"] == DEMO.read_text(encoding="utf-8")
    assert diff["members"]["CM34"]["initial_margin"]["before"] == margins["CM34"]
    assert (
        diff["members"]["CM34"]["contribution"]["after"]
        == snapshot["fund"]["contributions"]["CM34"]
    )
    # A changed snapshot is reported member by member, exactly.
    store = open_store(store_url)
    snapshot["members"]["CM34"]["initial_margin"] = "1.05"
    from ccpwaterfall.store import Document

    store.save_end_of_day(snapshot["case"], "2026-12-02", Document("snapshot", snapshot))
    store.close()
    code, out, _ = ccp(
        "diff", "--date", "2026-12-01", "--date", "2026-12-02", "--db", store_url, "--json"
    )
    assert code == 0
    diff = json.loads(out)
    assert diff["changed"] == ["CM34"]
    expected = Decimal("1.05") - Decimal(margins["CM34"])
    assert diff["members"]["CM34"]["initial_margin"]["change"] == format(expected, "f")


def test_diff_by_date_names_a_date_with_nothing_saved(store_url: str) -> None:
    code, _, err = ccp("diff", "--date", "2026-11-30", "--date", "2026-12-01", "--db", store_url)
    assert code == 2
    assert "2026-11-30: no end of day was saved for this date" in err


def test_export_writes_a_runs_tables_as_csv(store_url: str, tmp_path: Path) -> None:
    ccp("run", NASDAQ, "--save", "--db", store_url)
    folder = tmp_path / "tables"
    folder.mkdir()
    code, out, err = ccp("export", "1", "--csv", folder, "--db", store_url)
    assert code == 0, err
    assert out.splitlines() == [
        str(folder / n) for n in ("events.csv", "tranches.csv", "members.csv", "journal.csv")
    ]
    assert sorted(p.name for p in folder.iterdir()) == [
        "events.csv",
        "journal.csv",
        "members.csv",
        "tranches.csv",
    ]
    with (folder / "members.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    _, result, _ = ccp("run", NASDAQ, "--json")
    members = json.loads(result)["events"][0]["members"]
    assert {r["member"]: r["total"] for r in rows} == {m: c["total"] for m, c in members.items()}
    code, _, err = ccp("export", "1", "--csv", folder, "--db", store_url)
    assert code == 2
    assert "already exists: use --force to replace it" in err


def test_verify_passes_then_names_a_changed_record_with_exit_3(store_url: str) -> None:
    ccp("run", NASDAQ, "--save", "--db", store_url)
    code, out, err = ccp("verify", "--db", store_url)
    assert code == 0, err
    assert out.startswith("intact: 8 records in 1 chain match their hashes")
    store = open_store(store_url)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE records SET content = :c WHERE sequence = 1"), {"c": b"{}"})
    store.close()
    code, out, err = ccp("verify", "--db", store_url)
    assert code == 3
    assert "TAMPERED: record 2 of save 1 (chain run:1, position 1)" in err
    code, out, _ = ccp("verify", "1", "--db", store_url, "--json")
    assert code == 3
    assert json.loads(out)["first_bad"]["position"] == 1


def test_db_upgrade_creates_the_schema(store_url: str) -> None:
    code, out, err = ccp("db", "upgrade", "--db", store_url)
    assert code == 0, err
    assert out == f"schema at version {SCHEMA_HEAD}\n"
    assert ccp("db", "upgrade", "--db", store_url)[0] == 0


def test_the_database_url_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'env.sqlite3'}"
    monkeypatch.setenv("CCP_DATABASE_URL", url)
    assert ccp("run", write_case(tmp_path, MINIMAL_CASE), "--save")[0] == 0
    assert _saves(url) == 1


def test_db_without_save_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = ccp("run", NASDAQ, "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert code == 2
    assert "give --save too" in err
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nonsense", "not a database URL"),
        ("oracle://scott@db/orcl", "unsupported database 'oracle'"),
        ("sqlite:///{tmp}/missing/store.db", "the folder"),
    ],
)
def test_a_bad_url_exits_2_before_running_or_writing(
    tmp_path: Path, url: str, message: str
) -> None:
    url = url.replace("{tmp}", str(tmp_path))
    code, out, err = ccp("run", NASDAQ, "--save", "--db", url)
    assert code == 2
    assert out == ""
    assert message in err
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_server_exits_2_with_a_clear_message() -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql://postgres:secret@127.0.0.1:{port}/ccp"
    code, out, err = ccp("eod", DEMO, "--save", "--db", url)
    assert code == 2
    assert out == ""
    assert f"postgresql://postgres:***@127.0.0.1:{port}/ccp: cannot use the database: " in err
    assert "secret" not in err
    assert "Connection refused" in err


def test_a_file_that_is_not_a_database_exits_2_and_is_left_alone(tmp_path: Path) -> None:
    path = write_case(tmp_path, "not a database\n", "notes.txt")
    code, _, err = ccp("history", "--db", f"sqlite:///{path}")
    assert code == 2
    assert "cannot use the database: file is not a database" in err
    assert path.read_text(encoding="utf-8") == "not a database\n"


def test_a_database_of_a_newer_schema_exits_2_and_nothing_is_written(store_url: str) -> None:
    assert ccp("run", NASDAQ, "--save", "--db", store_url)[0] == 0
    store = open_store(store_url)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    store.close()
    code, out, err = ccp("run", KRX, "--save", "--db", store_url)
    assert code == 2
    assert out == ""
    assert f"schema version 0099, newer than this version of ccp knows (up to {SCHEMA_HEAD})" in err
    engine = create_store_engine(store_url)  # no schema check: read it as it is
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM saves")).scalar_one() == 1
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0099"
    engine.dispose()


def test_a_stored_drills_events_are_listed_and_exported(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url)
    events = [
        {"sequence": i, "kind": kind, "at": f"2026-12-01T08:0{i}:00+00:00", "payload": {"n": i}}
        for i, kind in enumerate(("margin_call", "call_missed", "auction_opened"))
    ]
    drill = store.create_drill("Fire drill", {"plan": "synthetic"}, events)
    store.close()
    code, out, _ = ccp("history", "--db", store_url, "--json")
    assert code == 0
    assert json.loads(out)["saves"][0]["kind"] == "drill"
    code, out, err = ccp("export", str(drill.id), "--csv", tmp_path, "--db", store_url)
    assert code == 0, err
    with (tmp_path / "events.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [(r["sequence"], r["kind"], r["at"]) for r in rows] == [
        (str(e["sequence"]), e["kind"], e["at"]) for e in events
    ]
    assert [json.loads(r["payload"]) for r in rows] == [e["payload"] for e in events]
