"""Alembic environment: migrations run on the connection the store hands over.

``mastcds.store.database.migration_config(connection)`` puts the open
connection in ``config.attributes``; without one (a developer running
``alembic.command.revision(migration_config(), autogenerate=True)``) the
database of :func:`mastcds.store.settings.database_url` is used.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from mastcds.store.models import Base

# Any constant works; it only has to be the same for every mastcds process.
_MIGRATION_LOCK_ID = 7_265_437_212


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Two processes starting at once on an empty database: one migrates, the other waits.
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from mastcds.store.database import make_engine
    from mastcds.store.settings import database_url

    engine = make_engine(database_url())
    with engine.begin() as own_connection:
        _run(own_connection)
    engine.dispose()
