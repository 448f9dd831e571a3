"""Alembic environment: runs on the connection handed over by storage.migrate."""

from alembic import context

from storage.all_models import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `collectif db upgrade` (storage.migrate.upgrade)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    # storage.autogen limits a feature's revision to that feature's tables.
    include_object=context.config.attributes.get("include_object"),
)
with context.begin_transaction():
    context.run_migrations()
