"""PostgreSQL: a forged id past the int4 columns (18 digits) is answered as a stale button, not an error."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from storage.engine import Database
from tests.e2e.conftest import DiscordHarness
from tests.e2e.test_discord_forged_ids import guild_message

pytestmark = pytest.mark.postgres


@pytest.fixture
async def db(pg_migrated_url: str) -> AsyncIterator[Database]:
    database = Database.from_url(pg_migrated_url)
    yield database
    await database.dispose()


@pytest.mark.parametrize("custom_id", [
    "pooling:join:999999999999999999",
    "afterworks:rsvp:999999999999999999:going",
    "missions:interest:999999999999999999",
    "feedback:answer:999999999999999999",
])
async def test_a_huge_forged_id_is_not_found_not_an_unexpected_error(
    discord_harness: DiscordHarness, caplog: pytest.LogCaptureFixture, custom_id: str
) -> None:
    h = discord_harness
    await h.fake.invoke_slash(h.guild, h.member, "help")
    caplog.set_level(logging.ERROR)
    answer = await h.fake.click(guild_message(h), custom_id, h.member)
    unexpected = h.t("fr", "errors.unexpected", error_id="X").split("X")[0]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors and unexpected not in answer.content, (answer.content, errors[:1])
