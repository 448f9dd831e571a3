"""/privacy export and /privacy delete on Discord, through the real bot and the fake Discord."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from bot.cards import Card
from bot.context import Origin
from bot.posting import PostOwner, post_card
from cogs.intros.models import Profile
from storage.models import Member, Post
from tests.directory.factory import add_profile
from tests.e2e.conftest import DiscordHarness
from tests.fakes.callers import origin
from tests.fakes.discord_interactions import FakeInteraction

UPDATE_MESSAGE = 7


async def introduce(h: DiscordHarness) -> tuple[int, str]:
    """Camille's profile and her intro card posted in the default channel (as /intro would)."""
    caller = await h.services.caller(_origin(h))
    async with h.services.db.transaction() as session:
        profile = await add_profile(session, caller, trades=("Développement",), skills=("WordPress",),
                                    city="Lyon", bio="Dev <@&123> @everyone")
    channel = str(h.guild.default_channel.id)
    ref = await post_card(h.services, PostOwner(caller.community_id, "intros", profile.id, caller.member_id),
                          channel, Card(title="👋 Camille", text="Dev"))
    assert ref is not None
    return caller.member_id, ref.message_id


def _origin(h: DiscordHarness) -> Origin:
    return origin(str(h.member.id), guild=str(h.guild.id), community_name=h.guild.name, name="Camille")


def exported(h: DiscordHarness, answer: FakeInteraction) -> dict[str, Any]:
    """The JSON file of the export's follow-up (the command is deferred: "thinking…" at once)."""
    assert answer.callback.get("type") == 5  # deferred: the export is read and built after
    [request] = list(h.fake.requests_to("POST", rf"/webhooks/.*/{answer.token}"))
    [(filename, content)] = request.file_contents.items()
    assert filename.endswith(".json")
    return json.loads(content)


def buttons(message: dict[str, Any]) -> dict[str, str]:
    return {b["label"]: b["custom_id"] for row in message.get("components") or [] for b in row["components"]}


async def test_export_then_delete_then_export(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    member_id, message_id = await introduce(h)

    first = await h.fake.invoke_slash(h.guild, h.member, "privacy export")
    assert first.ephemeral
    assert first.embeds[0]["title"] == h.t("fr", "privacy.export.title")
    data = exported(h, first)
    assert data["member"]["user_id"] == str(h.member.id)
    assert data["features"]["intros"]["profile"]["bio"] == "Dev <@&123> @everyone"
    assert data["features"]["intros"]["profile"]["skills"] == ["WordPress"]
    assert [p["message_id"] for p in data["posts"]] == [message_id]

    asked = await h.fake.invoke_slash(h.guild, h.member, "privacy delete")
    assert asked.ephemeral
    choices = buttons(asked.original)
    assert choices == {h.t("fr", "privacy.delete.yes"): f"privacy:confirm:{member_id}",
                       h.t("fr", "privacy.delete.cancel"): f"privacy:cancel:{member_id}"}

    confirmed = await h.fake.click(asked.original, f"privacy:confirm:{member_id}", h.member)
    assert confirmed.response_type == UPDATE_MESSAGE
    assert confirmed.data["components"] == []  # no second click
    [done] = await confirmed.wait_followups(1)
    assert done["embeds"][0]["title"] == h.t("fr", "privacy.delete.done_title")
    assert int(message_id) not in h.fake.messages  # the intro card is gone from the channel
    async with h.services.db.transaction() as session:
        assert await session.get(Member, member_id) is None
        assert await session.scalar(select(func.count()).select_from(Profile)) == 0
        assert await session.scalar(select(func.count()).select_from(Post)) == 0

    again = await h.fake.invoke_slash(h.guild, h.member, "privacy export")
    after = exported(h, again)
    assert after["features"]["intros"] == {}
    assert after["posts"] == []
    assert after["member"]["user_id"] == str(h.member.id)  # a fresh row: the command itself was a contact


async def test_cancel_keeps_everything_and_others_cannot_confirm(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    member_id, message_id = await introduce(h)
    asked = await h.fake.invoke_slash(h.guild, h.member, "privacy delete")

    stolen = await h.fake.click(asked.original, f"privacy:confirm:{member_id}", h.moderator)
    assert stolen.content == h.t("fr", "privacy.errors.gone")
    cancelled = await h.fake.click(asked.original, f"privacy:cancel:{member_id}", h.member)
    assert cancelled.response_type == UPDATE_MESSAGE
    assert cancelled.data["embeds"][0]["title"] == h.t("fr", "privacy.delete.cancelled")

    assert int(message_id) in h.fake.messages
    async with h.services.db.transaction() as session:
        assert await session.get(Member, member_id) is not None
        assert await session.scalar(select(func.count()).select_from(Profile)) == 1


async def test_delete_forgets_the_unsent_intro_draft(discord_harness: DiscordHarness) -> None:
    """A draft of the intro form (typed bio included) must not outlive the member's deletion: with
    SQLite reusing the highest id, the next newcomer would otherwise find it pre-filled."""
    h = discord_harness
    started = await h.fake.invoke_slash(h.guild, h.member, "intro")
    await h.fake.click(started.original, "intros:form:open", h.member)
    refused = await h.fake.submit_modal(h.guild, h.member, "intros:form:submit",
                                        {"bio": "Mon secret", "links": "ftp://x"}, message=started.original)
    assert refused.ephemeral
    caller = await h.services.caller(_origin(h))
    from cogs.intros._validation import IntroForm

    drafts = h.bot.drafts
    key = ("intro", caller.community_id, caller.member_id, IntroForm)
    assert drafts.get(*key) is not None

    asked = await h.fake.invoke_slash(h.guild, h.member, "privacy delete")
    confirmed = await h.fake.click(asked.original, f"privacy:confirm:{caller.member_id}", h.member)
    await confirmed.wait_followups(1)

    assert drafts.get(*key) is None
