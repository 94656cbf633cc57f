"""Alembic's environment for spine's store: run online, on the connection spine hands over.

spine calls Alembic from Python (``spine db upgrade``, or the first use of an empty
database) with ``config.attributes["connection"]`` set; there is no ``alembic.ini``.
``render_as_batch`` lets later migrations alter tables on SQLite.
"""

from __future__ import annotations

from alembic import context

from spine.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - spine always passes one
    raise RuntimeError("spine's migrations run through `spine db upgrade`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
