"""Saving, reading back and verifying results: runs, end-of-day snapshots and drills.

Every save is one transaction: its records are all there or none is. A save
appends records to a hash chain (``canonical``): a run has its own chain (the
case as given, the result, then the journal entry by entry); an end-of-day
snapshot is appended to its case's series, one record per business date; a
drill's events are appended to its own chain as they happen. Appending to a
chain that another writer extended first fails on the unique ``(chain,
sequence)`` and is retried from a fresh read, so nothing is lost or duplicated.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ccpwaterfall.store.canonical import GENESIS, canonical_bytes, content_hash, record_hash
from ccpwaterfall.store.errors import NotFoundError, SequenceTakenError, StoreError
from ccpwaterfall.store.schema import records, saves

_APPEND_ATTEMPTS = 200  # a busy series is retried; each retry re-reads the chain's head
_VERIFY_BATCH = 20_000

RUN, EOD, DRILL = "run", "eod", "drill"

_Write = Callable[[Connection], "Saved"]


@dataclass(frozen=True, slots=True)
class Document:
    """One record to save: its kind (``case``, ``result``, ``journal_entry``, ...) and content."""

    kind: str
    content: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class Saved:
    """A saved run, end-of-day snapshot or drill, as ``ccp history`` lists it."""

    id: int
    kind: str
    label: str
    chain: str
    business_date: str | None
    saved_at: str
    n_records: int
    first_sequence: int

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "business_date": self.business_date,
            "saved_at": self.saved_at,
            "records": self.n_records,
        }


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A record as stored: its content bytes and the hashes that chain it."""

    id: int
    save_id: int
    chain: str
    sequence: int
    kind: str
    content: bytes
    content_hash: str
    previous_hash: str
    record_hash: str

    def value(self) -> dict[str, object]:
        """The content, parsed."""
        parsed: dict[str, object] = json.loads(self.content)
        return parsed


@dataclass(frozen=True, slots=True)
class BadRecord:
    """The first record whose hashes do not match what it holds, and why."""

    record_id: int | None
    save_id: int
    chain: str
    sequence: int | None
    reason: str

    def __str__(self) -> str:
        where = f"record {self.record_id}" if self.record_id is not None else "a record"
        position = "" if self.sequence is None else f", position {self.sequence}"
        return f"{where} of save {self.save_id} (chain {self.chain}{position}): {self.reason}"


@dataclass(frozen=True, slots=True)
class Verification:
    """What ``verify`` checked, and the first bad record (None: every chain is intact)."""

    chains: int
    records: int
    first_bad: BadRecord | None

    @property
    def intact(self) -> bool:
        return self.first_bad is None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _saved(row: object) -> Saved:
    m = row._mapping  # type: ignore[attr-defined]
    return Saved(
        id=m["id"],
        kind=m["kind"],
        label=m["label"],
        chain=m["chain"],
        business_date=m["business_date"],
        saved_at=m["saved_at"],
        n_records=m["n_records"],
        first_sequence=m["first_sequence"],
    )


class Store:
    """The saved results in one database (``open_store`` makes one)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def close(self) -> None:
        self.engine.dispose()

    # Writing

    def save_run(self, label: str, documents: Sequence[Document]) -> Saved:
        """Save a run: its documents as a new chain of their own, in one transaction."""
        with self.engine.begin() as conn:
            save_id = self._insert_save(conn, RUN, label, "", None, len(documents), 0)
            chain = f"run:{save_id}"
            conn.execute(update(saves).where(saves.c.id == save_id).values(chain=chain))
            self._insert_records(conn, save_id, chain, 0, GENESIS, documents)
            return self._get(conn, save_id)

    def save_end_of_day(self, label: str, business_date: str, document: Document) -> Saved:
        """Append an end-of-day snapshot to its case's series (``label``), in one transaction."""
        chain = f"eod:{label}"
        return self._append_with_retry(
            lambda conn: self._append_snapshot(conn, chain, label, business_date, document)
        )

    def _append_snapshot(
        self, conn: Connection, chain: str, label: str, business_date: str, document: Document
    ) -> Saved:
        sequence, previous = self._head(conn, chain)
        save_id = self._insert_save(conn, EOD, label, chain, business_date, 1, sequence)
        self._insert_records(conn, save_id, chain, sequence, previous, (document,))
        return self._get(conn, save_id)

    def create_drill(
        self,
        label: str,
        plan: Mapping[str, object],
        events: Sequence[Mapping[str, object]] = (),
    ) -> Saved:
        """A new drill: its plan as the first record of its chain, then its first ``events``
        (sequences 0, 1, 2, ...), all in one transaction; later events are appended."""
        with self.engine.begin() as conn:
            save_id = self._insert_save(conn, DRILL, label, "", None, 1 + len(events), 0)
            chain = f"drill:{save_id}"
            conn.execute(update(saves).where(saves.c.id == save_id).values(chain=chain))
            documents = [Document("plan", plan), *_event_documents(events, 0)]
            self._insert_records(conn, save_id, chain, 0, GENESIS, documents)
            return self._get(conn, save_id)

    def append_events(self, drill_id: int, events: Sequence[Mapping[str, object]]) -> None:
        """Append a drill's events (each with its ``sequence``: 0, 1, 2, ...) in one transaction.

        The first event must follow the last stored one; when another writer took
        that position first, ``SequenceTakenError``: read the events back and decide again.
        """
        if not events:
            return
        with self.engine.begin() as conn:
            drill = self._get(conn, drill_id)
            if drill.kind != DRILL:
                raise NotFoundError(f"save {drill_id} is a {drill.kind}, not a drill")
            next_position, previous = self._head(conn, drill.chain)
            first = _event_sequence(events[0])
            if first + 1 != next_position:
                raise SequenceTakenError(
                    f"drill {drill_id} holds events up to {next_position - 2}; "
                    f"event {first} cannot be appended"
                )
            documents = _event_documents(events, first)
            try:
                self._insert_records(
                    conn, drill_id, drill.chain, next_position, previous, documents
                )
                grown = saves.c.n_records + len(documents)
                conn.execute(update(saves).where(saves.c.id == drill_id).values(n_records=grown))
            except IntegrityError:
                raise SequenceTakenError(
                    f"drill {drill_id}: event {first} was appended by another writer first"
                ) from None

    def _append_with_retry(self, write: _Write) -> Saved:
        for attempt in range(_APPEND_ATTEMPTS):
            try:
                with self.engine.begin() as conn:
                    return write(conn)
            except IntegrityError:
                # Another writer took the chain's next position: read the head again.
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise StoreError("the series was too busy: could not append after many attempts")

    def _head(self, conn: Connection, chain: str) -> tuple[int, str]:
        """The chain's next position and the hash of its last record."""
        row = conn.execute(
            select(records.c.sequence, records.c.record_hash)
            .where(records.c.chain == chain)
            .order_by(records.c.sequence.desc())
            .limit(1)
        ).first()
        if row is None:
            return 0, GENESIS
        return row[0] + 1, row[1]

    def _insert_save(
        self,
        conn: Connection,
        kind: str,
        label: str,
        chain: str,
        business_date: str | None,
        n_records: int,
        first_sequence: int,
    ) -> int:
        result = conn.execute(
            insert(saves).values(
                kind=kind,
                label=label,
                chain=chain,
                business_date=business_date,
                saved_at=_now(),
                n_records=n_records,
                first_sequence=first_sequence,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def _insert_records(
        self,
        conn: Connection,
        save_id: int,
        chain: str,
        first_sequence: int,
        previous: str,
        documents: Sequence[Document],
    ) -> None:
        rows = []
        for offset, document in enumerate(documents):
            content = canonical_bytes(document.content)
            digest = content_hash(content)
            linked = record_hash(previous, digest)
            rows.append(
                {
                    "save_id": save_id,
                    "chain": chain,
                    "sequence": first_sequence + offset,
                    "kind": document.kind,
                    "content": content,
                    "content_hash": digest,
                    "previous_hash": previous,
                    "record_hash": linked,
                }
            )
            previous = linked
        conn.execute(insert(records), rows)

    # Reading

    def history(self, limit: int | None = None) -> list[Saved]:
        """Every save, newest first."""
        query = select(saves).order_by(saves.c.id.desc())
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [_saved(row) for row in conn.execute(query)]

    def get(self, save_id: int) -> Saved:
        with self.engine.connect() as conn:
            return self._get(conn, save_id)

    def _get(self, conn: Connection, save_id: int) -> Saved:
        row = conn.execute(select(saves).where(saves.c.id == save_id)).first()
        if row is None:
            raise NotFoundError(f"no saved result has id {save_id}; ccp history lists them")
        return _saved(row)

    def end_of_days_on(self, business_date: str) -> list[Saved]:
        """The end-of-day snapshots saved for ``business_date``, newest first."""
        query = (
            select(saves)
            .where(saves.c.kind == EOD, saves.c.business_date == business_date)
            .order_by(saves.c.id.desc())
        )
        with self.engine.connect() as conn:
            return [_saved(row) for row in conn.execute(query)]

    def records_of(self, save_id: int) -> list[StoredRecord]:
        """The records a save wrote (for a drill: its plan and every event so far), in order."""
        with self.engine.connect() as conn:
            self._get(conn, save_id)
            query = select(records).where(records.c.save_id == save_id).order_by(records.c.sequence)
            return [_record(row) for row in conn.execute(query)]

    def events(self, drill_id: int) -> list[dict[str, object]]:
        """A drill's events, in order, as they were appended."""
        return [r.value() for r in self.records_of(drill_id) if r.kind == "event"]

    # Verifying

    def verify(
        self, save_id: int | None = None, connection: Connection | None = None
    ) -> Verification:
        """Recompute every chain (or the chain holding ``save_id``) and find the first bad record.

        A record is bad when its content's hash, its link to the record before it
        or its position does not match; a save is bad when records it wrote are
        missing. ``connection``: check inside that connection's transaction.
        """
        if connection is not None:
            return self._verify(connection, save_id)
        with self.engine.connect() as conn:
            return self._verify(conn, save_id)

    def _verify(self, conn: Connection, save_id: int | None) -> Verification:
        counts = select(saves.c.id, saves.c.chain, saves.c.n_records, saves.c.kind)
        query = select(
            records.c.id,
            records.c.save_id,
            records.c.chain,
            records.c.sequence,
            records.c.content,
            records.c.content_hash,
            records.c.previous_hash,
            records.c.record_hash,
        ).order_by(records.c.chain, records.c.sequence)
        grouped = select(records.c.save_id, func.count()).group_by(records.c.save_id)
        if save_id is not None:
            chain = self._get(conn, save_id).chain
            counts = counts.where(saves.c.chain == chain)
            query = query.where(records.c.chain == chain)
            grouped = grouped.where(records.c.chain == chain)
        streamed = {"stream_results": True, "yield_per": _VERIFY_BATCH}
        result = conn.execute(query, execution_options=streamed)
        chains, checked, bad = _check_chains(_rows(result))
        if bad is None:
            bad = _check_counts(conn, counts, grouped)
        return Verification(chains, checked, bad)


def _rows(result: object) -> Iterator[tuple[int, int, str, int, bytes, str, str, str]]:
    for partition in result.partitions():  # type: ignore[attr-defined]
        for row in partition:
            yield tuple(row)


def _check_chains(
    rows: Iterator[tuple[int, int, str, int, bytes, str, str, str]],
) -> tuple[int, int, BadRecord | None]:
    chains = checked = 0
    chain = None
    expected_sequence = 0
    previous = GENESIS
    for record_id, save_id, row_chain, sequence, content, stored, prev, linked in rows:
        if row_chain != chain:
            chain, expected_sequence, previous = row_chain, 0, GENESIS
            chains += 1
        checked += 1
        reason = None
        if sequence != expected_sequence:
            reason = f"position {expected_sequence} is missing"
        elif content_hash(bytes(content)) != stored:
            reason = "its content does not match its content hash"
        elif prev != previous:
            reason = "it does not follow the record before it (previous hash differs)"
        elif record_hash(prev, stored) != linked:
            reason = "its record hash does not match its content and previous hash"
        if reason is not None:
            return chains, checked, BadRecord(record_id, save_id, row_chain, sequence, reason)
        previous = linked
        expected_sequence += 1
    return chains, checked, None


def _check_counts(conn: Connection, counts: object, grouped: object) -> BadRecord | None:
    written = {int(row[0]): int(row[1]) for row in conn.execute(grouped)}  # type: ignore[call-overload]
    for save_id, chain, n_records, _kind in conn.execute(counts):  # type: ignore[call-overload]
        found = written.get(save_id, 0)
        if found != n_records:
            return BadRecord(
                None, save_id, chain, None, f"it wrote {n_records} records; {found} are stored"
            )
    return None


def _record(row: object) -> StoredRecord:
    m = row._mapping  # type: ignore[attr-defined]
    return StoredRecord(
        id=m["id"],
        save_id=m["save_id"],
        chain=m["chain"],
        sequence=m["sequence"],
        kind=m["kind"],
        content=bytes(m["content"]),
        content_hash=m["content_hash"],
        previous_hash=m["previous_hash"],
        record_hash=m["record_hash"],
    )


def _event_documents(events: Sequence[Mapping[str, object]], first: int) -> list[Document]:
    """The events as records, checked to run on from ``first`` without a gap."""
    documents = []
    for offset, event in enumerate(events):
        if _event_sequence(event) != first + offset:
            raise StoreError(f"events must have consecutive sequences from {first}")
        documents.append(Document("event", event))
    return documents


def _event_sequence(event: Mapping[str, object]) -> int:
    sequence = event.get("sequence")
    if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 0:
        raise StoreError(f"an event needs a sequence number 0, 1, 2, ...: got {sequence!r}")
    return sequence
