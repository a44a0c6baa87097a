"""Alembic environment. The connection comes from ``flask --app wsgi db upgrade`` (``config.attributes``)
or, for the ``alembic`` command line, from ``DATABASE_URL``."""
import os

from alembic import context

import models
from models.db import make_engine, migration_connection

config = context.config
target_metadata = models.Base.metadata


def run_migrations_online():
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(os.environ.get("DATABASE_URL", "sqlite:///instance/app.db"))
    with migration_connection(engine) as conn:
        _run(conn)


def _run(connection):
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=os.environ.get("DATABASE_URL"), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
