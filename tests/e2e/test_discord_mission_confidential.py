"""a mission's confidential client name, "that only you and the final team see" (README)."""

from __future__ import annotations

import json

import pytest

from cogs.missions import FEATURE
from tests.e2e.conftest import DiscordHarness
from tests.e2e.test_missions_discord import DETAILS, cards, configure, post_mission


@pytest.fixture(autouse=True)
async def job_kinds(discord_harness: DiscordHarness) -> None:
    await FEATURE.on_start(discord_harness.services)


async def test_a_moderator_editing_a_mission_does_not_see_its_confidential_client(
    discord_harness: DiscordHarness,
) -> None:
    h = discord_harness
    channels = await configure(h)
    mission, _ = await post_mission(h, h.member)
    [card] = cards(h, channels["général"])

    edit = await h.fake.click(card, f"missions:edit:{mission.id}", h.moderator)  # moderators may edit
    form = edit.original or edit.data
    assert form, edit.callbacks
    details = await h.fake.click(form if "channel_id" in form else card, "missions:form:details", h.moderator)
    assert details.response_type == 9, details.callbacks  # the "Dates and details" modal
    shown = json.dumps(details.callback["data"], ensure_ascii=False)
    assert DETAILS["client_name"] not in shown, "the moderator is shown the confidential client name"
