"""Alembic environment: runs on the connection handed over by storage.migrate.

Applying migrations needs no models. Autogenerate compares the `target_metadata` its caller hands in
(bot.autogen: every feature's models), since storage/ knows no feature.
"""

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `collectif db upgrade` (storage.migrate.upgrade)")

context.configure(
    connection=connection,
    target_metadata=context.config.attributes.get("target_metadata"),
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    # bot.autogen limits a feature's revision to that feature's tables.
    include_object=context.config.attributes.get("include_object"),
)
with context.begin_transaction():
    context.run_migrations()
