"""/match on Discord through the real bot and the fake Discord: proposal, refusals, private thread."""

from __future__ import annotations

from typing import Any

from tests.directory.factory import add_profile
from tests.e2e.conftest import DiscordHarness
from tests.fakes.callers import make_caller
from tests.fakes.discord_payloads import FakeUser

PRIVATE_THREAD = 12


async def seed(h: DiscordHarness, name: str, **profile: Any) -> FakeUser:
    user = h.fake.add_user(name, guild=h.guild)
    caller = await make_caller(h.services, str(user.id), guild=str(h.guild.id), community_name=h.guild.name,
                               name=name)
    async with h.services.db.transaction() as session:
        await add_profile(session, caller, **profile)
    return user


def buttons(message: dict[str, Any]) -> dict[str, str]:
    return {b["label"]: b["custom_id"] for row in message.get("components") or [] for b in row["components"]}


async def test_match_a_pack_then_invite_the_team(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    team = [await seed(h, "Wanda", trades=("Rédaction web",), skills=("WordPress",)),
            await seed(h, "Dora", trades=("Design graphique",)),
            await seed(h, "Sam", trades=("SEO / SEA",), skills=("WordPress", "SEO")),
            await seed(h, "Vic", trades=("Développement",), skills=("WordPress",))]
    await seed(h, "Bruno", trades=("Développement",), availability="busy")

    answer = await h.fake.invoke_slash(h.guild, h.member, "match",
                                       {"pack": "Site vitrine", "skills": "wordpress", "max_rate": "600"})

    assert answer.ephemeral
    embed = answer.embeds[0]
    assert embed["title"] == h.t("fr", "matching.card.title", title="Site vitrine")
    assert [f["name"] for f in embed["fields"]] == [
        "Rédaction web : Wanda", "Design graphique : Dora", "SEO / SEA : Sam", "Développement : Vic"]
    assert h.t("fr", "matching.why.skills", value="wordpress") in embed["fields"][3]["value"]
    assert answer.data["allowed_mentions"] == {"parse": []}
    assert answer.original is not None
    invite = buttons(answer.original)[h.t("fr", "matching.card.invite")]
    assert invite.startswith("matching:invite:")

    await h.restart()  # the button survives a restart
    stranger = h.fake.add_user("Intrus", guild=h.guild)
    refused = await h.fake.click(answer.original, invite, stranger)
    assert h.t("fr", "matching.errors.not_yours") in refused.content

    clicked = await h.fake.click(answer.original, invite, h.member)

    assert h.t("fr", "matching.invite.opened", names="Wanda, Dora, Sam, Vic") in clicked.content
    [thread] = [c for c in h.fake.channels.values() if c.type == PRIVATE_THREAD]
    assert thread.members == [h.member.id, *(u.id for u in team)]
    [card] = h.fake.channel_messages(thread.id)
    assert card["embeds"][0]["title"] == h.t("fr", "matching.space.title", title="Site vitrine")
    again = await h.fake.click(answer.original, invite, h.member)
    assert h.t("fr", "matching.errors.already_invited") in again.content


async def test_bad_input_is_explained_in_french(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    answer = await h.fake.invoke_slash(h.guild, h.member, "match",
                                       {"pack": "Plomberie", "max_rate": "beaucoup"})
    assert answer.ephemeral
    assert h.t("fr", "matching.errors.unknown_pack", value="Plomberie") in answer.content
    assert h.t("fr", "matching.errors.rate", value="beaucoup") in answer.content


async def test_a_slot_nobody_can_fill_shows_the_closest_options(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    await seed(h, "Sam", trades=("SEO / SEA",), availability="busy")
    answer = await h.fake.invoke_slash(h.guild, h.member, "match", {"trades": "SEO"})
    [field] = answer.embeds[0]["fields"]
    assert field["name"] == h.t("fr", "matching.card.slot_empty", trade="SEO / SEA")
    assert "Sam : occupé·e" in field["value"]
    assert answer.original is not None and not buttons(answer.original)
