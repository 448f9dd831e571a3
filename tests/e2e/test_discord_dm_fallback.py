"""An answer Discord no longer takes (expired, or refused with a 5xx) goes by DM: whole, and usable there."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest

from bot.cards import Action, Card
from bot.discord_bot.replies import send_card
from bot.discord_bot.router import DiscordRequest
from tests.e2e.conftest import DiscordHarness
from tests.e2e.test_discord_outage import _FastAsyncio, fail_route
from tests.fakes.callers import origin


async def settle(rounds: int = 40) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0.02)


def _dms_with_files(h: DiscordHarness) -> list[Any]:
    return [r for r in h.fake.requests_to("POST", r"/channels/\d+/messages") if r.files]


@pytest.mark.parametrize(("command", "who", "suffix"), [("privacy export", "member", ".json"),
                                                         ("config export", "moderator", ".toml")])
async def test_an_export_refused_as_a_follow_up_is_dmed_with_its_whole_file(
    discord_harness: DiscordHarness, monkeypatch: pytest.MonkeyPatch, command: str, who: str, suffix: str
) -> None:
    """The follow-up read the export's file to its end: the DM sends a new one, not an empty file."""
    import discord.webhook.async_ as webhook_module

    h = discord_harness
    user = getattr(h, who)
    await h.fake.invoke_slash(h.guild, user, "help")
    monkeypatch.setattr(webhook_module, "asyncio", _FastAsyncio())
    refused = fail_route(h, "POST", "/webhooks/")  # every follow-up answered 503, however often retried
    answer = await h.fake.invoke_slash(h.guild, user, command, timeout=1)
    assert answer.response_type == 5
    await settle()
    assert refused and refused[0].file_contents
    [(filename, content)] = _dms_with_files(h)[-1].file_contents.items()
    assert filename.endswith(suffix)
    assert content and content == next(iter(refused[0].file_contents.values()))
    if suffix == ".json":
        assert json.loads(content)["member"]["user_id"] == str(h.member.id)


async def test_an_expired_confirmation_dmed_leaves_out_the_servers_buttons_and_says_so(
    discord_harness: DiscordHarness,
) -> None:
    """/privacy delete's "Yes, delete" clicked in a DM could only fail (a guild route): left out."""
    h = discord_harness
    await h.fake.invoke_slash(h.guild, h.member, "help")
    h.fake.interaction_deadline = -1.0  # Discord refuses the first answer: the interaction expired
    await h.fake.invoke_slash(h.guild, h.member, "privacy delete", wait=False)
    await settle()
    h.fake.interaction_deadline = 3.0
    [dm] = h.fake.dm_messages(h.member)
    assert dm["embeds"]  # the confirmation itself is still told
    assert not [b for row in dm["components"] for b in row["components"] if b.get("custom_id")]
    assert h.t("fr", "discord.buttons_in_server") in dm["content"]


async def test_a_dmed_answer_keeps_its_links_and_the_buttons_routed_in_dms(
    discord_harness: DiscordHarness,
) -> None:
    h = discord_harness
    clicked: list[str] = []

    async def ask(request: DiscordRequest) -> None:
        await send_card(request.interaction, Card(title="Réponse", actions=(
            Action("test:guild:1", "Serveur"), Action("test:dm:1", "Message privé"),
            Action("test:site", "Site", url="https://example.org/"))))

    async def in_dm(request: DiscordRequest) -> None:
        await request.caller()
        clicked.append(request.match["id"])
        await request.interaction.response.send_message("ok", ephemeral=True)

    me = origin(str(h.member.id), guild=str(h.guild.id), community_name=h.guild.name, name="Camille")
    community_id = (await h.services.caller(me)).community_id

    async def community(_session: Any, _match: re.Match[str], _user_id: str) -> int | None:
        return community_id

    h.bot.router.action(r"test:ask", ask)
    h.bot.router.action(r"test:guild:(?P<id>\d+)", ask)
    h.bot.router.action(r"test:dm:(?P<id>\d+)", in_dm, dm=community)
    gid, channel = str(h.guild.id), h.guild.default_channel
    ref = await h.services.notifiers["discord"].post(gid, str(channel.id), Card(
        title="Question", actions=(Action("test:ask", "Demander"),)))
    assert ref is not None
    h.fake.interaction_deadline = -1.0
    await h.fake.click(h.fake.messages[int(ref.message_id)], "test:ask", h.member, wait=False)
    await settle()
    h.fake.interaction_deadline = 3.0
    [dm] = h.fake.dm_messages(h.member)
    shown = [b.get("custom_id") or b.get("url") for row in dm["components"] for b in row["components"]]
    assert shown == ["test:dm:1", "https://example.org/"]
    assert h.t("fr", "discord.buttons_in_server") in dm["content"]
    answer = await h.fake.click(dm, "test:dm:1", h.member)
    assert clicked == ["1"] and answer.content == "ok"

