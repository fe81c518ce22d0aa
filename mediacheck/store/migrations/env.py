"""Alembic environment: migrates the connection that ``mediacheck.schema`` hands over.

mediacheck never runs Alembic from an ini file: ``schema.upgrade`` opens the
transaction, takes the migration lock and passes the connection in
``config.attributes``.
"""

from alembic import context
from sqlmodel import SQLModel

import mediacheck.store.models  # noqa: F401 - registers every table on SQLModel.metadata

context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=SQLModel.metadata,
    # SQLite cannot ALTER most things: later migrations copy the table instead.
    render_as_batch=True,
    transactional_ddl=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
