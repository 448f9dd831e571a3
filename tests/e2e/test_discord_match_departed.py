"""A member who left the server (Discord sends no event without the members intent)."""

from __future__ import annotations

from tests.e2e.conftest import DiscordHarness
from tests.e2e.test_matching_discord import press, seed


async def test_a_member_who_left_the_server_is_not_invited_to_a_team(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    vic = await seed(h, "Vic", trades=("Développement",), skills=("Python", "Django"))
    val = await seed(h, "Val", trades=("Développement",), skills=("Python",))
    del h.guild.members[vic.id]  # Vic left the server; he still shares another server with the bot
    answer = await h.fake.invoke_slash(h.guild, h.member, "match",
                                       {"trades": "Développement", "skills": "python, django"})
    assert answer.original is not None
    await press(h, answer.original, "matching.card.invite", h.member)
    assert h.fake.dm_messages(vic) == [], "the team's request was DMed to a member who left the server"
    assert h.fake.dm_messages(val), "the alternative still in the server was not invited"
