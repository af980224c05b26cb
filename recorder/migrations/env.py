"""Alembic's entry: migrate the connection store.migrate hands over (or the URL in the config)."""
from alembic import context
from sqlalchemy import create_engine

from pianocam.recorder.schema import Base

config = context.config
connection = config.attributes.get("connection")


def _run(conn) -> None:
    # render_as_batch: SQLite alters tables by copying them; later revisions need it.
    context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:
    with create_engine(config.get_main_option("sqlalchemy.url")).connect() as conn:
        _run(conn)
