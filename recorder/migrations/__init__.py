"""Alembic migrations for the recorder's database; `store.open_store` runs them to head."""
