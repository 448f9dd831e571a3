"""/members on Discord through the real bot and the fake Discord: filters, paging, autocomplete."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

from sqlalchemy import event

from cogs.directory._filters import Filters
from cogs.directory._search import search_members
from tests.directory.factory import T0, add_profile
from tests.e2e.conftest import DiscordHarness
from tests.fakes.callers import make_caller
from tests.fakes.discord_interactions import FakeInteraction

AUTOCOMPLETE_RESULT = 8
UPDATE_MESSAGE = 7


async def seed(h: DiscordHarness, count: int, first: int = 0, **profile: Any) -> list[str]:
    """`count` listed members of the harness guild with the given profile, most recent first."""
    names = []
    for i in range(first, first + count):
        name = f"Membre {i:02d}"
        caller = await make_caller(h.services, str(9000 + i), guild=str(h.guild.id),
                                   community_name=h.guild.name, name=name)
        async with h.services.db.transaction() as session:
            await add_profile(session, caller, updated_at=T0 + timedelta(hours=i), **profile)
        names.insert(0, name)
    return names


async def autocomplete(h: DiscordHarness, option: str, typed: str, **others: str) -> FakeInteraction:
    """What Discord sends while a member types in an option of /members (type 4, focused option)."""
    return await h.fake.autocomplete(h.guild, h.member, "members", {**others, option: typed}, option,
                                     locale="fr")


def names(answer: dict[str, Any]) -> list[str]:
    return [f["name"] for f in answer["embeds"][0]["fields"]]


def buttons(message: dict[str, Any]) -> dict[str, str]:
    return {b["label"]: b["custom_id"] for row in message.get("components") or [] for b in row["components"]}


async def test_search_with_filters_and_paging(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    expected = await seed(h, 7, skills=("Figma", "Webflow"), city="Lyon", trades=("Design graphique",))
    await seed_elsewhere(h)

    answer = await h.fake.invoke_slash(h.guild, h.member, "members", {"skill": "figma", "city": "lyon"})

    assert answer.ephemeral
    embed = answer.embeds[0]
    assert embed["title"] == h.t("fr", "directory.card.title")
    assert h.t("fr", "directory.card.count", count=7) in embed["description"]
    assert names(answer.data) == expected[:5]
    assert embed["footer"]["text"] == h.t("fr", "common.page", page=1, pages=2)
    assert answer.data["allowed_mentions"] == {"parse": []}
    first = answer.original
    assert first is not None
    next_id = buttons(first)[h.t("fr", "common.next")]
    assert next_id.startswith("directory:page:2:")

    await h.restart()  # the buttons survive a restart (DynamicItem)
    clicked = await h.fake.click(first, next_id, h.member)

    assert clicked.response_type == UPDATE_MESSAGE
    assert names(clicked.data) == expected[5:]
    assert clicked.data["embeds"][0]["footer"]["text"] == h.t("fr", "common.page", page=2, pages=2)
    assert list(buttons(clicked.data)) == [h.t("fr", "common.previous")]


async def seed_elsewhere(h: DiscordHarness) -> None:
    """A second guild whose members match the same search: they must never show up."""
    other = h.fake.add_guild("Autre collectif", preferred_locale="fr")
    caller = await make_caller(h.services, "777", guild=str(other.id), community_name=other.name,
                               name="Étranger")
    async with h.services.db.transaction() as session:
        await add_profile(session, caller, skills=("Figma",), city="Lyon")


async def test_unknown_trade_is_explained_in_french(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    answer = await h.fake.invoke_slash(h.guild, h.member, "members", {"trade": "Plomberie"})
    assert answer.ephemeral
    assert h.t("fr", "directory.errors.unknown_trade", value="Plomberie") in answer.content


async def test_autocomplete_answers_with_at_most_25_choices(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    await seed(h, 30, skills=tuple(f"Outil {i}" for i in range(12)), city="Lyon")
    await seed(h, 1, 50, skills=("Figma",), city="Lille")

    skills = await autocomplete(h, "skill", "out")
    trades = await autocomplete(h, "trade", "de")
    cities = await autocomplete(h, "city", "l", skill="figma")
    everything = await autocomplete(h, "skill", "")

    assert skills.response_type == AUTOCOMPLETE_RESULT
    assert [c["value"] for c in skills.data["choices"]][:3] == ["outil 0", "outil 1", "outil 10"]
    assert [c["name"] for c in trades.data["choices"]][:2] == ["Développement", "Design graphique"]
    assert {c["name"] for c in cities.data["choices"]} == {"Lille", "Lyon"}
    assert len(everything.data["choices"]) == 13
    for answer in (skills, trades, cities, everything):
        assert len(answer.data["choices"]) <= 25
        assert answer.answered_at - answer.sent_at < 1.0  # well within Discord's 3 s


async def test_keystrokes_after_the_first_open_no_transaction(discord_harness: DiscordHarness) -> None:
    """Skills and cities come from memory, the caller from its cache: a keystroke opens no transaction."""
    h = discord_harness
    await seed(h, 3, skills=("Figma", "Framer"), city="Lyon")
    await autocomplete(h, "skill", "f")  # the community's first read and the caller's
    checkouts: list[object] = []
    event.listen(h.services.db.engine.sync_engine.pool, "checkout", lambda *args: checkouts.append(args))

    skills = await autocomplete(h, "skill", "fig")
    cities = await autocomplete(h, "city", "ly")

    assert [c["value"] for c in skills.data["choices"]] == ["figma"]
    assert [c["name"] for c in cities.data["choices"]] == ["Lyon"]
    assert checkouts == []  # no connection, so no BEGIN / ROLLBACK per keystroke


async def test_a_search_token_of_another_guild_is_not_found(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    await seed(h, 6, skills=("Figma",))
    other = h.fake.add_guild("Autre collectif", preferred_locale="fr")
    theirs = await make_caller(h.services, "777", guild=str(other.id), community_name=other.name, name="Bea")
    for i in range(3):
        member = await make_caller(h.services, str(800 + i), guild=str(other.id),
                                   community_name=other.name, name=f"B{i}")
        async with h.services.db.transaction() as session:
            await add_profile(session, member, skills=("Figma",))
    async with h.services.db.transaction() as session:
        found = await search_members(session, theirs, Filters(skills=("figma",)), page_size=1,
                                     today=date(2026, 11, 26))
    assert found.has_next

    mine = await h.fake.invoke_slash(h.guild, h.member, "members", {"skill": "figma"})
    # Discord only sends custom_ids of the message's buttons: a forged message carries B's token.
    forged = copy.deepcopy(mine.original)
    button = forged["components"][0]["components"][0]
    button["custom_id"] = f"directory:page:2:{found.token}"
    clicked = await h.fake.click(forged, button["custom_id"], h.member)

    assert clicked.ephemeral
    assert clicked.content == h.t("fr", "directory.errors.search_expired")
    assert h.fake.messages[int(mine.original["id"])]["embeds"] == mine.original["embeds"]  # unchanged
