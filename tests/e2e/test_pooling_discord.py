"""Pooling on Discord, through the real bot and the fake Discord, with the harness's frozen clock.

NOW (tests/conftest.py) is Thursday 2026-11-26 10:00 UTC, 11:00 in Paris.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from cogs.pooling import FEATURE
from cogs.pooling._settings import CHANNEL
from cogs.pooling.models import Pool
from storage.models import Community, FeatureSetting
from tests.e2e.conftest import DiscordHarness
from tests.fakes.discord_payloads import FakeUser

OPTIONS = {"title": "Licences Figma", "what": "Un an de Figma Pro", "link": "https://figma.example/team",
           "tiers": "1-2: 15; 3+: 10", "minimum": 2, "maximum": 3, "deadline": "2026-12-04 18:00"}
DEADLINE = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)


@pytest.fixture
async def h(discord_harness: DiscordHarness) -> DiscordHarness:
    """The harness with pooling's start hook run (its job kinds), as bot.runner does."""
    await FEATURE.on_start(discord_harness.services)
    return discord_harness


async def community_id(h: DiscordHarness, guild_id: int | None = None) -> int:
    async with h.services.db.transaction() as session:
        found = await session.scalar(
            select(Community.id).where(Community.external_id == str(guild_id or h.guild.id))
        )
    assert found is not None
    return found


async def use_channel(h: DiscordHarness, name: str = "design") -> int:
    """The community comes with its first interaction (here /help); then its pooling channel."""
    await h.fake.invoke_slash(h.guild, h.member, "help")
    channel = h.guild.channel(name).id
    cid = await community_id(h)
    async with h.services.db.transaction() as session:
        session.add(FeatureSetting(community_id=cid, key=CHANNEL.key, value=str(channel)))
    return channel


async def pools(h: DiscordHarness) -> list[Pool]:
    async with h.services.db.transaction() as session:
        return list(await session.scalars(select(Pool).order_by(Pool.id)))


def cards(h: DiscordHarness, channel: int) -> list[dict[str, Any]]:
    return [m for m in h.fake.channel_messages(channel) if m.get("embeds")]


def fields(message: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in message["embeds"][0].get("fields", [])}


def buttons(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components") or [] for c in row["components"]]


async def click(h: DiscordHarness, message: dict[str, Any], custom_id: str, user: FakeUser) -> str:
    return (await h.fake.click(message, custom_id, user)).content


def dm_titles(h: DiscordHarness, user: FakeUser) -> list[str]:
    return [m["embeds"][0]["title"] for m in h.fake.dm_messages(user) if m.get("embeds")]


async def test_create_join_tier_full_waitlist_leave_and_the_deadline(h: DiscordHarness) -> None:
    channel = await use_channel(h)
    answer = await h.fake.invoke_slash(h.guild, h.member, "pool", OPTIONS)
    assert answer.ephemeral
    assert answer.content == h.t("fr", "pooling.created.posted", channel=channel)
    [pool] = await pools(h)
    pid = pool.id
    assert pool.deadline == DEADLINE
    [card] = cards(h, channel)
    assert card["embeds"][0]["title"] == "🛒 Licences Figma"
    assert card["allowed_mentions"] == {"parse": []}
    shown = fields(card)
    assert shown[h.t("fr", "pooling.fields.price")] == "15\xa0€"
    stamp = int(DEADLINE.timestamp())
    assert shown[h.t("fr", "pooling.fields.deadline")] == f"<t:{stamp}:F> (<t:{stamp}:R>)"
    assert shown[h.t("fr", "pooling.fields.next")] == h.t(
        "fr", "pooling.card.next_tier", price="10\xa0€", low=3, count=3)
    assert h.t("fr", "pooling.card.payments") in card["embeds"][0]["footer"]["text"]
    assert buttons(card) == [f"pooling:{verb}:{pid}" for verb in ("join", "leave", "close", "cancel")]

    alex, bea, chris, dan = (h.fake.add_user(n, guild=h.guild) for n in ("Alex", "Bea", "Chris", "Dan"))
    joined = h.t("fr", "pooling.answered.in")
    assert await click(h, card, f"pooling:join:{pid}", alex) == joined
    assert await click(h, card, f"pooling:join:{pid}", bea) == joined
    assert await click(h, card, f"pooling:join:{pid}", bea) == h.t("fr", "pooling.answered.unchanged")
    assert await click(h, card, f"pooling:join:{pid}", chris) == joined
    card = cards(h, channel)[0]
    shown = fields(card)
    assert shown[h.t("fr", "pooling.fields.price")] == "10\xa0€"  # the third crossed the tier
    assert shown[h.t("fr", "pooling.fields.next")] == h.t("fr", "pooling.card.best_price")
    assert shown[h.t("fr", "pooling.fields.seats")] == "3 / 3"
    assert await click(h, card, f"pooling:join:{pid}", dan) == h.t(
        "fr", "pooling.answered.waitlist", position=1)
    assert h.t("fr", "pooling.card.waitlist", count=1) in fields(cards(h, channel)[0]).values()

    # Bea leaves: Dan, first waiting, gets the seat and one DM.
    assert await click(h, card, f"pooling:leave:{pid}", bea) == h.t("fr", "pooling.answered.left")
    assert dm_titles(h, dan) == [h.t("fr", "pooling.dm.promoted_title", title="Licences Figma")]
    participants = h.t("fr", "pooling.card.participants_of", count=3, minimum=2)
    assert fields(cards(h, channel)[0])[participants].endswith("Alex, Chris, Dan")

    # Only the organizer or a moderator closes or cancels.
    refused = h.t("fr", "pooling.errors.not_organizer")
    assert await click(h, card, f"pooling:cancel:{pid}", alex) == refused
    assert await click(h, card, f"pooling:close:{pid}", alex) == refused

    # The deadline: decided once, the card follows, each participant and the organizer DM'd once.
    h.services.clock.set(DEADLINE)
    await h.services.scheduler.run_due()
    await h.services.scheduler.run_due()
    card = cards(h, channel)[0]
    assert card["embeds"][0]["title"] == h.t("fr", "pooling.card.happening_title", title="Licences Figma")
    assert buttons(card) == [f"pooling:payments:{pid}:0"]  # for the organizer and the moderators
    happening = h.t("fr", "pooling.dm.happening_title", title="Licences Figma")
    for user in (alex, chris, dan):
        assert dm_titles(h, user).count(happening) == 1, user.name
    assert happening not in dm_titles(h, bea)
    summary = [m for m in h.fake.dm_messages(h.member) if m.get("embeds")]
    assert [m["embeds"][0]["title"] for m in summary] == [
        h.t("fr", "pooling.dm.summary_title", title="Licences Figma")]
    assert "Alex" in summary[0]["embeds"][0]["description"]
    [decided] = await pools(h)
    assert (decided.status, decided.final_count) == ("happening", 3)

    # A restart, and the due jobs run again: nothing more is sent.
    await h.restart()
    await FEATURE.on_start(h.services)
    await h.services.scheduler.run_due()
    assert dm_titles(h, alex).count(happening) == 1
    assert await click(h, card, f"pooling:join:{pid}", bea) == h.t("fr", "pooling.errors.closed")


async def test_not_enough_by_the_deadline_is_cancelled_and_everyone_told(h: DiscordHarness) -> None:
    channel = await use_channel(h)
    await h.fake.invoke_slash(h.guild, h.member, "pool", {**OPTIONS, "minimum": 3, "maximum": 1})
    assert await pools(h) == []  # a maximum below the minimum: refused
    await h.fake.invoke_slash(h.guild, h.member, "pool", {**OPTIONS, "minimum": 3})
    [pool] = await pools(h)
    alex = h.fake.add_user("Alex", guild=h.guild)
    card = cards(h, channel)[0]
    await click(h, card, f"pooling:join:{pool.id}", alex)
    assert await click(h, card, f"pooling:close:{pool.id}", h.member) == h.t(
        "fr", "pooling.errors.minimum_not_reached", minimum=3)
    h.services.clock.set(DEADLINE + timedelta(minutes=5))
    await h.services.scheduler.run_due()
    failed = h.t("fr", "pooling.dm.failed_title", title="Licences Figma")
    assert dm_titles(h, alex) == [failed]
    assert dm_titles(h, h.member) == [failed]
    assert cards(h, channel)[0]["embeds"][0]["title"] == h.t(
        "fr", "pooling.card.failed_title", title="Licences Figma")


async def test_the_organizer_cancels_and_those_in_are_told(h: DiscordHarness) -> None:
    channel = await use_channel(h)
    await h.fake.invoke_slash(h.guild, h.member, "pool", OPTIONS)
    [pool] = await pools(h)
    alex = h.fake.add_user("Alex", guild=h.guild)
    card = cards(h, channel)[0]
    await click(h, card, f"pooling:join:{pool.id}", alex)
    assert await click(h, card, f"pooling:cancel:{pool.id}", h.member) == h.t("fr", "pooling.cancelled.done")
    assert dm_titles(h, alex) == [h.t("fr", "pooling.dm.cancelled_title", title="Licences Figma")]
    card = cards(h, channel)[0]
    assert card["embeds"][0]["title"] == h.t("fr", "pooling.card.cancelled_title", title="Licences Figma")
    assert buttons(card) == []
    h.services.clock.set(DEADLINE)
    await h.services.scheduler.run_due()
    assert len(dm_titles(h, alex)) == 1


async def test_bad_inputs_are_refused_in_french_and_save_nothing(h: DiscordHarness) -> None:
    channel = await use_channel(h)
    cases = {
        "tiers": ({"tiers": "1-2: 10; 3+: 12"}, "pooling.problems.tiers_not_lower", {}),
        "price": ({"tiers": "1-2: gratuit"}, "pooling.problems.tiers_price", {"text": "gratuit"}),
        "link": ({"link": "ftp://files.example/offer"}, "pooling.problems.link_scheme", {}),
        "past": ({"deadline": "2026-11-20 18:00"}, "pooling.problems.deadline_past", {}),
        "far": ({"deadline": "2027-06-01 18:00"}, "pooling.problems.deadline_too_far", {"days": 90}),
        "max": ({"minimum": 3, "maximum": 2}, "pooling.problems.minimum_above_maximum", {"minimum": 3}),
    }
    for name, (options, key, params) in cases.items():
        answer = await h.fake.invoke_slash(h.guild, h.member, "pool", {**OPTIONS, **options})
        assert answer.ephemeral, name
        assert h.t("fr", key, **params) in answer.content, name
    assert await pools(h) == []
    assert cards(h, channel) == []


async def test_a_button_of_another_community_finds_nothing_and_no_text_pings(h: DiscordHarness) -> None:
    channel = await use_channel(h)
    other = h.fake.new_guild("Autre collectif")
    await h.fake.join_guild(other)
    stranger = h.fake.add_user("Sacha", guild=other)
    await h.fake.invoke_slash(other, stranger, "help")
    their_channel = other.channel("général").id
    async with h.services.db.transaction() as session:
        session.add(FeatureSetting(community_id=await community_id(h, other.id), key=CHANNEL.key,
                                   value=str(their_channel)))
    await h.fake.invoke_slash(other, stranger, "pool", OPTIONS)
    [theirs] = await pools(h)
    loud = "@everyone <@&1> @here"
    await h.fake.invoke_slash(h.guild, h.member, "pool", {**OPTIONS, "title": f"Achat {loud}",
                                                          "what": f"Venez {loud}"})
    card = cards(h, channel)[0]
    not_found = h.t("fr", "pooling.errors.not_found")
    for verb in ("join", "leave", "close", "cancel"):
        assert await click(h, card, f"pooling:{verb}:{theirs.id}", h.member) == not_found, verb
    [still, _mine] = await pools(h)
    assert (still.status, still.participant_count) == ("open", 0)
    for message in h.fake.channel_messages(channel):
        assert message["allowed_mentions"] == {"parse": []}


async def test_a_moderator_opens_a_happened_purchase_s_payments_from_its_card(h: DiscordHarness) -> None:
    """Privately, to the organizer or a moderator only: anyone else clicking is told so, privately."""
    channel = await use_channel(h)
    await h.fake.invoke_slash(h.guild, h.member, "pool", {**OPTIONS, "minimum": 1})
    [pool] = await pools(h)
    alex = h.fake.add_user("Alex", guild=h.guild)
    await click(h, cards(h, channel)[0], f"pooling:join:{pool.id}", alex)
    await click(h, cards(h, channel)[0], f"pooling:close:{pool.id}", h.member)
    card = cards(h, channel)[0]
    assert buttons(card) == [f"pooling:payments:{pool.id}:0"]
    refused = await h.fake.click(card, f"pooling:payments:{pool.id}:0", alex)
    assert refused.ephemeral
    assert refused.content == h.t("fr", "pooling.errors.not_organizer")
    listed = await h.fake.click(card, f"pooling:payments:{pool.id}:0", h.moderator)
    assert listed.ephemeral
    assert "⏳ Alex" in str(listed.embeds)
    assert len(cards(h, channel)) == 1  # nothing posted in the channel


async def test_a_moderator_s_cancel_tells_the_organizer(h: DiscordHarness) -> None:
    channel = await use_channel(h)
    await h.fake.invoke_slash(h.guild, h.member, "pool", OPTIONS)
    [pool] = await pools(h)
    alex = h.fake.add_user("Alex", guild=h.guild)
    card = cards(h, channel)[0]
    await click(h, card, f"pooling:join:{pool.id}", alex)
    answer = await click(h, card, f"pooling:cancel:{pool.id}", h.moderator)
    assert answer == h.t("fr", "pooling.cancelled.done_moderator")
    title = h.t("fr", "pooling.dm.cancelled_title", title="Licences Figma")
    assert dm_titles(h, alex) == [title]
    assert dm_titles(h, h.member) == [title]
    told = [m["embeds"][0]["description"] for m in h.fake.dm_messages(h.member) if m.get("embeds")]
    assert told == [h.t("fr", "pooling.dm.cancelled_organizer", title="Licences Figma")]
