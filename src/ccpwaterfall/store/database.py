"""Opening the database: its URL, the driver, and the schema version.

``CCP_DATABASE_URL`` or ``--db URL`` names the database; without either it is
a SQLite file in the user's data folder (``default_database_path``). A
``postgresql://`` URL is served by psycopg 3. Opening checks the schema version
first and upgrades an older schema with the migrations shipped in
``ccpwaterfall.store.migrations``, holding a lock so that two processes never
upgrade at once; a schema newer than this version knows is refused before
anything is written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from ccpwaterfall.store.errors import (
    BadDatabaseUrlError,
    DatabaseUnreachableError,
    SchemaTooNewError,
)

DATABASE_ENV = "CCP_DATABASE_URL"
DATABASE_FILE = "ccp.sqlite3"

# The schema versions this version of ccp knows, oldest first; the last is the head.
SCHEMA_VERSIONS: tuple[str, ...] = ("0001", "0002")
SCHEMA_HEAD = SCHEMA_VERSIONS[-1]

# Any fixed number: the PostgreSQL advisory lock held while the schema is checked.
_UPGRADE_LOCK = 7_310_010
_SQLITE_BUSY_SECONDS = 120  # concurrent writers wait their turn rather than fail
_CONNECT_TIMEOUT_SECONDS = 5

URL_FORMS = "sqlite:///PATH or postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE"


def default_database_path(environ: Mapping[str, str] | None = None) -> Path:
    """The SQLite file used without ``--db`` or ``CCP_DATABASE_URL``:
    ``$XDG_DATA_HOME/ccpwaterfall/ccp.sqlite3``, by default under ``~/.local/share``."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ccpwaterfall" / DATABASE_FILE


def database_url(given: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The URL to use: the one given, else ``CCP_DATABASE_URL``, else the default SQLite file."""
    env = os.environ if environ is None else environ
    if given:
        return given
    if env.get(DATABASE_ENV):
        return env[DATABASE_ENV]
    return f"sqlite:///{default_database_path(env)}"


def shown_url(url: str | URL) -> str:
    """The URL with any password hidden, for messages."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return str(url)
    return parsed.render_as_string(hide_password=True)


def parse_url(url: str) -> URL:
    """The URL parsed, with PostgreSQL on psycopg 3; a clear error for anything else."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise BadDatabaseUrlError(f"not a database URL: expected {URL_FORMS}") from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite":
        if driver not in ("", "pysqlite"):
            raise BadDatabaseUrlError("SQLite is used through its own driver: write sqlite:///PATH")
        return parsed.set(drivername="sqlite")
    if backend in ("postgresql", "postgres"):
        if driver not in ("", "psycopg"):
            raise BadDatabaseUrlError(
                "PostgreSQL is used through psycopg 3: write postgresql:// or postgresql+psycopg://"
            )
        if not parsed.database:
            raise BadDatabaseUrlError("the URL names no database: add /DATABASE at its end")
        return parsed.set(drivername="postgresql+psycopg")
    raise BadDatabaseUrlError(f"unsupported database '{backend}': expected {URL_FORMS}")


def create_store_engine(url: str, *, make_folder: bool = False) -> Engine:
    """An engine on ``url``: SQLite writers serialised (each transaction begins IMMEDIATE,
    waiting for the lock), PostgreSQL with a short connect timeout."""
    parsed = parse_url(url)
    try:
        if parsed.drivername == "sqlite":
            return _sqlite_engine(parsed, make_folder=make_folder)
        return create_engine(
            parsed, connect_args={"connect_timeout": _CONNECT_TIMEOUT_SECONDS}, future=True
        )
    except (ArgumentError, NoSuchModuleError) as error:
        raise BadDatabaseUrlError(f"cannot be used: {error}") from None


def _sqlite_engine(parsed: URL, *, make_folder: bool) -> Engine:
    database = parsed.database or ""
    if database not in ("", ":memory:") and not database.startswith("file:"):
        folder = Path(database).expanduser().parent
        if make_folder:
            folder.mkdir(parents=True, exist_ok=True)
        if not folder.is_dir():
            raise BadDatabaseUrlError(f"the folder {folder} does not exist")
    engine = create_engine(parsed, connect_args={"timeout": _SQLITE_BUSY_SECONDS})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: object) -> None:
        # Transactions are begun by hand below, so that each takes the write lock at once.
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = ON")

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def schema_version(connection: Connection) -> str | None:
    """The schema version the database is at (None: no schema yet)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    versions = [
        row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))
    ]
    return versions[0] if versions else None


def open_engine(url: str, *, make_folder: bool = False, upgrade: bool = True) -> Engine:
    """An engine on the database at ``url`` with its schema at this version's head.

    Raises ``BadDatabaseUrlError``, ``DatabaseUnreachableError`` or ``SchemaTooNewError``;
    nothing is written to the database before the version is known to be one
    this version can use. ``make_folder``: create the SQLite file's folder (the
    default file's, which nobody created by hand).
    """
    engine = create_store_engine(url, make_folder=make_folder)
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK}
                )
            version = schema_version(connection)
            if version is not None and version not in SCHEMA_VERSIONS:
                raise SchemaTooNewError(
                    f"the database has schema version {version}, newer than this version "
                    f"of ccp knows (up to {SCHEMA_HEAD}): use a newer ccp with it"
                )
            if version != SCHEMA_HEAD and upgrade:
                migrate(connection)
    except DBAPIError as error:
        engine.dispose()
        raise DatabaseUnreachableError(f"cannot use the database: {_first_line(error)}") from None
    except SchemaTooNewError:
        engine.dispose()
        raise
    return engine


def migrate(connection: Connection) -> None:
    """Upgrade the schema to the head on ``connection``, inside its transaction."""
    # Imported here: only a database that needs upgrading pays for loading Alembic.
    from alembic import command  # noqa: PLC0415
    from alembic.config import Config  # noqa: PLC0415

    config = Config()
    config.set_main_option("path_separator", "os")
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _first_line(error: DBAPIError) -> str:
    original = error.orig if error.orig is not None else error
    lines = [line.strip() for line in str(original).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(original).__name__
