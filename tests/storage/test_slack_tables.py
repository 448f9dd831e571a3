"""storage/models.py declares slack_sdk's installation and state tables itself: they must match slack_sdk's.

The stores (bot/slack_app/installations.py) query the tables they build themselves; our migration 0002
creates ours. Both must agree column for column, or an install fails at run time.
"""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, Table
from sqlalchemy.dialects import postgresql, sqlite

from storage import models


def _column(column: Any) -> tuple[Any, ...]:
    default = column.default
    default_shape = None if default is None else (
        type(default).__name__,
        default.arg if default.is_scalar else str(default.arg),
    )
    return (column.name, repr(column.type), column.type.compile(dialect=sqlite.dialect()),
            column.type.compile(dialect=postgresql.dialect()), column.nullable, column.primary_key,
            column.autoincrement, default_shape, column.server_default)


def _shape(table: Table) -> tuple[Any, ...]:
    return (table.name, [_column(c) for c in table.columns],
            sorted((i.name, tuple(c.name for c in i.columns), i.unique) for i in table.indexes),
            sorted(str(c) for c in table.constraints if c.__class__.__name__ != "PrimaryKeyConstraint"))


def _built() -> dict[str, Table]:
    metadata = MetaData(naming_convention=models.NAMING)
    store, states = AsyncSQLAlchemyInstallationStore, AsyncSQLAlchemyOAuthStateStore
    return {
        "slack_installations": store.build_installations_table(
            metadata, store.default_installations_table_name),
        "slack_bots": store.build_bots_table(metadata, store.default_bots_table_name),
        "slack_oauth_states": states.build_oauth_states_table(metadata, states.default_table_name),
    }


@pytest.mark.parametrize("ours", [models.slack_installations, models.slack_bots, models.slack_oauth_states],
                         ids=lambda t: t.name)
def test_tables_match_slack_sdk_builders(ours: Table) -> None:
    built = _built()[ours.name]
    assert _shape(ours) == _shape(built)
    assert ours.primary_key.name == built.primary_key.name == f"pk_{ours.name}"
