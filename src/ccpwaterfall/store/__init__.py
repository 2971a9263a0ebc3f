"""The store: saved runs, end-of-day snapshots and drills in a database, tamper-evident.

SQLite by default (a file in the user's data folder), PostgreSQL by URL
(psycopg 3); the schema is created and upgraded by the Alembic migrations in
``store.migrations``. Each stored record carries the SHA-256 of its canonical
content and the hash of the record before it in its chain, so ``verify``
finds any record changed after it was written. Every save is one transaction.
"""

from __future__ import annotations

from ccpwaterfall.store.database import (
    DATABASE_ENV,
    SCHEMA_HEAD,
    database_url,
    default_database_path,
    open_engine,
    shown_url,
)
from ccpwaterfall.store.errors import (
    BadDatabaseUrlError,
    DatabaseUnreachableError,
    NotFoundError,
    SchemaTooNewError,
    SequenceTakenError,
    StoreError,
)
from ccpwaterfall.store.store import (
    DRILL,
    EOD,
    RUN,
    BadRecord,
    Document,
    Saved,
    Store,
    StoredRecord,
    Verification,
)


def open_store(url: str, *, make_folder: bool = False, upgrade: bool = True) -> Store:
    """The store in the database at ``url``, its schema upgraded to this version's.

    Raises ``BadDatabaseUrlError``, ``DatabaseUnreachableError`` or ``SchemaTooNewError``
    (nothing written) when it cannot be used.
    """
    return Store(open_engine(url, make_folder=make_folder, upgrade=upgrade))


__all__ = [
    "DATABASE_ENV",
    "DRILL",
    "EOD",
    "RUN",
    "SCHEMA_HEAD",
    "BadDatabaseUrlError",
    "BadRecord",
    "DatabaseUnreachableError",
    "Document",
    "NotFoundError",
    "Saved",
    "SchemaTooNewError",
    "SequenceTakenError",
    "Store",
    "StoreError",
    "StoredRecord",
    "Verification",
    "database_url",
    "default_database_path",
    "open_store",
    "shown_url",
]
