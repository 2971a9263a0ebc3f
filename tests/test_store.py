"""The store on SQLite and on a real PostgreSQL server: saving, reading back, chains, verify."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from ccpwaterfall.store import (
    SCHEMA_HEAD,
    BadDatabaseUrlError,
    Document,
    NotFoundError,
    SequenceTakenError,
    Store,
    StoreError,
    database_url,
    default_database_path,
    open_store,
)
from ccpwaterfall.store.canonical import GENESIS, canonical_bytes, content_hash, record_hash
from store_backends import store_url

__all__ = ["store_url"]  # the fixture, for pytest


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


def _run_documents(n_entries: int = 3) -> list[Document]:
    return [
        Document("case", {"file": "case.toml", "text": "name = 'x'\n"}),
        Document("result", {"currency": "EUR", "loss": "165200000.00"}),
        *(Document("journal_entry", {"seq": i, "amount": f"{i}.10"}) for i in range(n_entries)),
    ]


def _event(sequence: int, member: str = "CM01") -> dict[str, object]:
    return {
        "sequence": sequence,
        "kind": "bid",
        "at": "2026-12-01T08:00:00+00:00",
        "payload": {"member": member, "lot": "L1", "price": {"amount": "12.50", "currency": "EUR"}},
    }


def test_canonical_content_sorts_keys_and_keeps_money_as_decimal_strings() -> None:
    first = canonical_bytes({"b": "1.10", "a": [1, {"d": None, "c": True}]})
    second = canonical_bytes({"a": [1, {"c": True, "d": None}], "b": "1.10"})
    assert first == second == b'{"a":[1,{"c":true,"d":null}],"b":"1.10"}'
    assert canonical_bytes({"m": Decimal("849987569.90")}) == b'{"m":"849987569.90"}'
    with pytest.raises(ValueError, match="Out of range float"):
        canonical_bytes({"x": float("nan")})


def test_a_saved_run_reads_back_in_order_with_its_chain(store: Store) -> None:
    documents = _run_documents()
    saved = store.save_run("Nasdaq 2018", documents)
    records = store.records_of(saved.id)
    expected = [json.loads(canonical_bytes(d.content)) for d in documents]
    assert [r.value() for r in records] == expected
    assert [r.sequence for r in records] == list(range(len(documents)))
    previous = GENESIS
    for record in records:
        assert record.content_hash == content_hash(record.content)
        assert record.previous_hash == previous
        assert record.record_hash == record_hash(previous, record.content_hash)
        previous = record.record_hash
    assert store.verify().intact
    assert store.verify(saved.id).records == len(documents)


def test_history_is_newest_first_across_kinds(store: Store) -> None:
    run = store.save_run("A run", _run_documents())
    eod = store.save_end_of_day("Demo", "2026-11-30", Document("snapshot", {"m": "1.00"}))
    drill = store.create_drill("A drill", {"plan": "p"})
    assert [s.id for s in store.history()] == [drill.id, eod.id, run.id]
    assert [s.kind for s in store.history()] == ["drill", "eod", "run"]
    assert [s.id for s in store.history(limit=1)] == [drill.id]


def test_end_of_days_of_one_case_form_one_series(store: Store) -> None:
    first = store.save_end_of_day("Demo", "2026-11-30", Document("snapshot", {"m": "1.00"}))
    second = store.save_end_of_day("Demo", "2026-12-01", Document("snapshot", {"m": "2.00"}))
    other = store.save_end_of_day("Other", "2026-12-01", Document("snapshot", {"m": "3.00"}))
    assert first.chain == second.chain != other.chain
    assert (first.first_sequence, second.first_sequence, other.first_sequence) == (0, 1, 0)
    assert [s.id for s in store.end_of_days_on("2026-12-01")] == [other.id, second.id]
    verification = store.verify()
    assert verification.intact
    assert (verification.chains, verification.records) == (2, 3)


def test_drill_events_append_in_order_and_read_back(store: Store) -> None:
    drill = store.create_drill("Fire drill", {"members": ["CM01", "CM02"]})
    store.append_events(drill.id, [_event(0), _event(1, "CM02")])
    store.append_events(drill.id, [_event(2)])
    assert store.events(drill.id) == [_event(0), _event(1, "CM02"), _event(2)]
    assert store.verify(drill.id).intact


def test_a_drill_starts_with_its_first_events_in_one_transaction(store: Store) -> None:
    drill = store.create_drill("Fire drill", {"plan": "p"}, [_event(0), _event(1)])
    store.append_events(drill.id, [_event(2)])
    assert [e["sequence"] for e in store.events(drill.id)] == [0, 1, 2]
    with pytest.raises(StoreError, match="consecutive sequences from 0"):
        store.create_drill("Gap", {}, [_event(1)])
    assert [s.label for s in store.history()] == ["Fire drill"]  # nothing of the refused one
    assert store.verify().intact


def test_an_event_already_appended_by_another_writer_is_refused(store: Store) -> None:
    drill = store.create_drill("Fire drill", {})
    store.append_events(drill.id, [_event(0)])
    with pytest.raises(SequenceTakenError, match="event 0 cannot be appended"):
        store.append_events(drill.id, [_event(0, "CM09")])
    with pytest.raises(SequenceTakenError):
        store.append_events(drill.id, [_event(5)])
    assert store.events(drill.id) == [_event(0)]


def test_the_unique_position_stops_a_duplicate_even_past_the_check(store: Store) -> None:
    # Two writers that both read the same head: the database itself refuses the second.
    drill = store.create_drill("Fire drill", {})
    store.append_events(drill.id, [_event(0)])
    with store.engine.begin() as conn, pytest.raises(IntegrityError):
        conn.execute(
            text(
                "INSERT INTO records (save_id, chain, sequence, kind, content, content_hash, "
                "previous_hash, record_hash) VALUES (:s, :c, 1, 'event', :b, 'x', 'y', 'z')"
            ),
            {"s": drill.id, "c": drill.chain, "b": b"{}"},
        )


def test_an_unknown_id_is_named(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no saved result has id 42"):
        store.get(42)
    with pytest.raises(NotFoundError):
        store.verify(42)


def test_verify_names_the_first_record_whose_content_was_changed(store: Store) -> None:
    saved = store.save_run("A run", _run_documents())
    target = store.records_of(saved.id)[2]
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE records SET content = :c WHERE id = :i"),
            {"c": target.content.replace(b"0.10", b"0.11"), "i": target.id},
        )
    bad = store.verify().first_bad
    assert bad is not None
    assert (bad.record_id, bad.sequence) == (target.id, 2)
    assert "content does not match" in bad.reason


def test_verify_finds_a_rewritten_record_whose_hash_was_recomputed(store: Store) -> None:
    saved = store.save_run("A run", _run_documents())
    target = store.records_of(saved.id)[1]
    content = target.content.replace(b"165200000.00", b"165200001.00")
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE records SET content = :c, content_hash = :h WHERE id = :i"),
            {"c": content, "h": content_hash(content), "i": target.id},
        )
    bad = store.verify(saved.id).first_bad
    assert bad is not None
    assert bad.record_id == target.id
    assert "record hash" in bad.reason


def test_verify_finds_a_deleted_record(store: Store) -> None:
    saved = store.save_run("A run", _run_documents())
    records = store.records_of(saved.id)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM records WHERE id = :i"), {"i": records[-1].id})
    bad = store.verify().first_bad
    assert bad is not None
    assert "wrote 5 records; 4 are stored" in bad.reason
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM records WHERE id = :i"), {"i": records[1].id})
    bad = store.verify().first_bad
    assert bad is not None
    assert bad.reason == "position 1 is missing"


def test_the_schema_is_at_the_head_of_the_shipped_migrations(store_url: str) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from ccpwaterfall.store import database

    config = Config()
    config.set_main_option("script_location", str(Path(database.__file__).parent / "migrations"))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert heads == [SCHEMA_HEAD]
    opened = open_store(store_url)
    with opened.engine.connect() as conn:
        assert database.schema_version(conn) == SCHEMA_HEAD
    opened.close()


def test_the_default_database_is_a_file_in_the_users_data_folder(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path)}
    assert default_database_path(env) == tmp_path / "ccpwaterfall" / "ccp.sqlite3"
    assert database_url(None, env) == f"sqlite:///{tmp_path}/ccpwaterfall/ccp.sqlite3"
    assert database_url(None, {**env, "CCP_DATABASE_URL": "sqlite:///x"}) == "sqlite:///x"
    assert database_url("postgresql://h/d", {"CCP_DATABASE_URL": "sqlite:///x"}).startswith("post")
    opened = open_store(database_url(None, env), make_folder=True)
    opened.close()
    assert default_database_path(env).is_file()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "not a database URL: expected sqlite:///PATH or postgresql://"),
        ("mysql://u@h/d", "unsupported database 'mysql'"),
        ("postgresql+psycopg2://u@h/d", "PostgreSQL is used through psycopg 3"),
        ("postgresql://u@h", "the URL names no database"),
        ("sqlite:////no/such/folder/x.db", "the folder /no/such/folder does not exist"),
    ],
)
def test_a_bad_url_is_refused_with_a_clear_message(url: str, message: str) -> None:
    with pytest.raises(BadDatabaseUrlError, match="^" + message.replace("+", r"\+")):
        open_store(url)


def test_a_password_in_the_url_is_never_shown() -> None:
    from ccpwaterfall.store import shown_url

    assert "secret" not in shown_url("postgresql://ccp:secret@db.example/ccp")
    assert shown_url("postgresql://ccp:secret@db.example/ccp").startswith("postgresql://ccp:")


def test_a_drill_counts_its_events_and_verify_finds_one_cut_from_its_end(store: Store) -> None:
    drill = store.create_drill("Fire drill", {"plan": "p"}, [_event(0)])
    store.append_events(drill.id, [_event(1), _event(2)])
    assert store.get(drill.id).n_records == 4  # the plan and three events
    assert store.verify().intact
    last = store.records_of(drill.id)[-1]
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM records WHERE id = :i"), {"i": last.id})
    bad = store.verify(drill.id).first_bad
    assert bad is not None
    assert bad.reason == "it wrote 4 records; 3 are stored"
