"""The store's tables (SQLAlchemy Core), as the latest migration leaves them.

``saves``: one row per thing saved (a run, an end-of-day snapshot, a drill),
the ids ``ccp history`` lists. ``records``: the content, in hash chains; a
chain is one run, one drill's events, or one end-of-day series (a case's
snapshots, one per business date). ``(chain, sequence)`` is unique, so two
writers can never both append the same position of a chain. ``users``: the
web service's users (schema 0002), each with an Argon2 hash, never a password.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

saves = Table(
    "saves",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # run | eod | drill
    Column("label", Text, nullable=False),  # the case's or drill's name
    Column("chain", String(300), nullable=False),
    Column("business_date", String(10), nullable=True),  # end of day only
    Column("saved_at", String(40), nullable=False),  # ISO 8601, UTC
    Column("n_records", Integer, nullable=False),  # records written by the save itself
    Column("first_sequence", Integer, nullable=False),  # its first record's position
)
Index("saves_kind_date", saves.c.kind, saves.c.business_date)

records = Table(
    "records",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("save_id", Integer, ForeignKey("saves.id"), nullable=False),
    Column("chain", String(300), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("previous_hash", String(64), nullable=False),
    Column("record_hash", String(64), nullable=False),
    UniqueConstraint("chain", "sequence", name="records_chain_sequence"),
)
Index("records_save", records.c.save_id)

users = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),  # risk | member | regulator
    Column("member", String(200), nullable=True),  # the member a member user is bound to
    Column("password_hash", Text, nullable=False),  # Argon2id, never the password
    Column("created_at", String(40), nullable=False),  # ISO 8601, UTC
)
