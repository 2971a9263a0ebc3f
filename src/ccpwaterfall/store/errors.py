"""What can go wrong with the database, as values an entry point reports (exit status 2 or 3)."""

from __future__ import annotations


class StoreError(Exception):
    """A database that cannot be used as asked; ``str()`` is the message for a person."""


class BadDatabaseUrlError(StoreError):
    """A URL that names no database ``ccp`` can use."""


class DatabaseUnreachableError(StoreError):
    """A database that cannot be opened: no server there, refused, or not a database file."""


class SchemaTooNewError(StoreError):
    """A database written by a newer ``ccp``: its schema version is unknown here."""


class NotFoundError(StoreError):
    """No saved result has that id (or no end of day was saved on that date)."""


class SequenceTakenError(StoreError):
    """Another writer appended that position of the chain first; read back and try again."""
