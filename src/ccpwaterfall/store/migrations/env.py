"""Alembic environment: migrations run on the connection the store hands over.

The store opens the connection (and, on PostgreSQL, holds a lock so two
processes never upgrade at once), so there is no ``alembic.ini`` and no URL here.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from ccpwaterfall.store.schema import metadata

connection: Connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
