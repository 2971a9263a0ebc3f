"""The store's Alembic migrations, shipped inside the package (``ccp db upgrade`` runs them)."""
