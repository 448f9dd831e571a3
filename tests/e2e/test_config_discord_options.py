"""/config options that need more of Discord: an attached file, a role, and trade autocomplete."""

from __future__ import annotations

from sqlalchemy import func, select

from cogs.config.models import AuditEntry
from storage.communities import get_community, trades
from storage.settings import get_settings
from tests.e2e.conftest import DiscordHarness
from tests.fakes.discord_payloads import FakeRole

GOOD_FILE = """\
format = 1
timezone = "America/Montreal"
reminders = ["3h", "30min"]
sectors = ["Mode", "Luxe"]

[limits]
missions_per_week = 7
"""


async def _community(h: DiscordHarness):
    async with h.services.db.transaction() as session:
        return await get_community(session, "discord", str(h.guild.id))


async def _state(h: DiscordHarness) -> tuple:
    """What an import may change: zone, settings version and values, audit rows."""
    community = await _community(h)
    async with h.services.db.transaction() as session:
        row = await get_settings(session, community.id)
        audits = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.community_id == community.id)
        )
        return (community.timezone, row.version, row.reminder_offsets_minutes, row.missions_per_week, audits)


async def test_import_an_attached_file_applies_it_and_logs_it(discord_harness: DiscordHarness):
    h = discord_harness
    file = h.fake.attachment("reglages.toml", GOOD_FILE)
    answer = await h.fake.invoke_slash(h.guild, h.moderator, "config import", {"file": file}, locale="fr")
    assert answer.response_type == 5 and answer.ephemeral  # deferred while the file is fetched
    [reply] = await answer.wait_followups()
    assert h.fake.attachment_downloads == [file.id]
    assert reply["embeds"][0]["title"] == h.t("fr", "config.import.title")

    community = await _community(h)
    assert community.timezone == "America/Montreal"
    async with h.services.db.transaction() as session:
        row = await get_settings(session, community.id)
        assert (row.reminder_offsets_minutes, row.missions_per_week) == ([180, 30], 7)
        entries = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.community_id == community.id).order_by(AuditEntry.id)
            )
        )
    logged = {e.setting: (e.old_value, e.new_value) for e in entries}
    assert logged["timezone"] == ("Europe/Paris", "America/Montreal")
    assert logged["reminders"][1] == "180,30"
    assert logged["limit.missions_per_week"][1] == "7"
    assert entries[-1].setting == "import"  # the summary of the whole file
    assert {e.actor_name for e in entries} == {"Dominique"}


async def test_import_a_malformed_file_changes_nothing_and_names_the_key(discord_harness: DiscordHarness):
    h = discord_harness
    before = await _state(h)
    bad = GOOD_FILE.replace("missions_per_week = 7", "missions_per_week = 7\ncolour = 1")
    file = h.fake.attachment("reglages.toml", bad)
    answer = await h.fake.invoke_slash(h.guild, h.moderator, "config import", {"file": file}, locale="fr")
    [reply] = await answer.wait_followups()
    assert "limits.colour : clé inconnue" in reply["content"]
    assert await _state(h) == before

    english = h.fake.attachment("settings.toml", 'timezone = "Mars/Olympus"')
    answer = await h.fake.invoke_slash(
        h.guild, h.moderator, "config import", {"file": english}, locale="en-US"
    )
    [reply] = await answer.wait_followups()
    assert "timezone" in reply["content"] and "“Mars/Olympus” is not a time zone" in reply["content"]
    assert await _state(h) == before


async def test_a_file_that_is_not_toml_is_refused(discord_harness: DiscordHarness):
    h = discord_harness
    before = await _state(h)
    file = h.fake.attachment("photo.toml", b"\xff\xd8\xff\xe0 not text")
    answer = await h.fake.invoke_slash(h.guild, h.moderator, "config import", {"file": file}, locale="fr")
    [reply] = await answer.wait_followups()
    assert "UTF-8" in reply["content"]
    assert await _state(h) == before


async def test_the_moderator_role_makes_its_members_moderators(discord_harness: DiscordHarness):
    h = discord_harness
    role = await h.fake.create_role(h.guild, "Modos")
    with_role = h.fake.add_user("Alix", guild=h.guild)
    h.guild.give_role(with_role, role)
    assert not h.guild.members[with_role.id].permissions.manage_guild

    refused = await h.fake.invoke_slash(h.guild, with_role, "config show", locale="fr")
    assert refused.content == h.t("fr", "errors.forbidden")

    answer = await h.fake.invoke_slash(h.guild, h.moderator, "config moderator-role", {"role": role})
    assert answer.embeds[0]["fields"] == [
        {"inline": False, "name": "Rôle modérateur", "value": f"— → <@&{role.id}>"}
    ]
    # Discord shows /config to Manage Server by default: the answer says how the role gets to see it
    assert "Paramètres du serveur → Intégrations → Collectif" in answer.embeds[0]["description"]
    assert "pour que Modos les voie" in answer.embeds[0]["description"]
    assert "Discord ne montre /config et" in answer.embeds[0]["description"]
    community = await _community(h)
    async with h.services.db.transaction() as session:
        assert (await get_settings(session, community.id)).moderator_role_id == str(role.id)

    shown = await h.fake.invoke_slash(h.guild, with_role, "config show", locale="fr")
    assert shown.embeds[0]["title"] == "Réglages de Les Freelances"
    added = await h.fake.invoke_slash(h.guild, with_role, "config trade add", {"name": "Illustration"})
    assert "Illustration" in added.embeds[0]["description"]
    async with h.services.db.transaction() as session:
        assert "Illustration" in [t.name for t in await trades(session, community.id)]

    # a member without the role (and without Manage Server) is still refused, nothing changes
    refused = await h.fake.invoke_slash(h.guild, h.member, "config trade add", {"name": "Gravure"})
    assert refused.content == h.t("fr", "errors.forbidden")
    async with h.services.db.transaction() as session:
        assert "Gravure" not in [t.name for t in await trades(session, community.id)]


async def test_an_unknown_role_is_refused(discord_harness: DiscordHarness):
    h = discord_harness
    ghost = h.guild.add_role("Fantômes")  # deleted before the bot heard of it: not in its cache
    answer = await h.fake.invoke_slash(h.guild, h.moderator, "config moderator-role", {"role": ghost})
    assert h.t("fr", "config.errors.unknown_role", role=str(ghost.id)) in answer.content
    community = await _community(h)
    async with h.services.db.transaction() as session:
        assert (await get_settings(session, community.id)).moderator_role_id is None


async def test_everyone_cannot_become_the_moderator_role(discord_harness: DiscordHarness):
    """@everyone (its id is the guild's) would make every member a moderator: refused like an unknown role."""
    h = discord_harness
    everyone = FakeRole(name="@everyone", guild_id=h.guild.id, id=h.guild.id, position=0)
    answer = await h.fake.invoke_slash(h.guild, h.moderator, "config moderator-role", {"role": everyone})
    assert h.t("fr", "config.errors.unknown_role", role=str(h.guild.id)) in answer.content
    community = await _community(h)
    async with h.services.db.transaction() as session:
        assert (await get_settings(session, community.id)).moderator_role_id is None


async def test_trade_autocomplete_lists_the_community_trades_filtered_by_what_is_typed(
    discord_harness: DiscordHarness,
):
    h = discord_harness
    community = await _community(h)
    async with h.services.db.transaction() as session:
        names = [t.name for t in await trades(session, community.id)]

    everything = await h.fake.autocomplete(
        h.guild, h.moderator, "config trade rename", {"trade": "", "new_name": ""}, "trade"
    )
    assert everything.response_type == 8
    assert [c["value"] for c in everything.data["choices"]] == names[:25]

    # case and accents do not matter
    typed = await h.fake.autocomplete(h.guild, h.moderator, "config trade remove", {"trade": "DEV"}, "trade")
    assert typed.data["choices"] == [{"name": "Développement", "value": "Développement"}]

    merge = await h.fake.autocomplete(
        h.guild,
        h.moderator,
        "config trade remove",
        {"trade": "Conseil", "merge_into": "design g"},
        "merge_into",
    )
    assert [c["value"] for c in merge.data["choices"]] == ["Design graphique"]

    # a member sees no trade list
    hidden = await h.fake.autocomplete(h.guild, h.member, "config trade channel", {"trade": ""}, "trade")
    assert hidden.response_type == 8 and hidden.data["choices"] == []


async def test_trade_autocomplete_caps_at_25_choices(discord_harness: DiscordHarness):
    """A community holds 25 trades at most now; one from before that limit may hold more."""
    from storage.models import Community, Trade
    from storage.text import fold

    h = discord_harness
    await h.fake.invoke_slash(h.guild, h.moderator, "help")  # the community exists
    async with h.services.db.transaction() as session:
        community = await session.scalar(select(Community.id))
        session.add_all(Trade(community_id=community, key=fold(f"Métier {n:02d}"), name=f"Métier {n:02d}",
                              position=100 + n) for n in range(30))
    answer = await h.fake.autocomplete(
        h.guild, h.moderator, "config trade channel", {"trade": "métier"}, "trade"
    )
    choices = [c["value"] for c in answer.data["choices"]]
    assert len(choices) == 25
    assert choices == [f"Métier {n:02d}" for n in range(25)]


async def test_a_file_over_the_size_limit_is_refused_unread(discord_harness: DiscordHarness):
    h = discord_harness
    before = await _state(h)
    file = h.fake.attachment("enorme.toml", "# " + "x" * 70_000)
    answer = await h.fake.invoke_slash(h.guild, h.moderator, "config import", {"file": file}, locale="fr")
    assert h.t("fr", "config.errors.import_too_big", max_kb=64) in answer.content
    assert h.fake.attachment_downloads == []
    assert await _state(h) == before
