"""/config options that need more of Discord: an attached file, a role, and trade autocomplete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from cogs.config.models import AuditEntry
from storage.communities import get_community, trades
from storage.settings import get_settings
from tests.e2e.conftest import DiscordHarness
from tests.fakes.discord_payloads import FakeChannel, FakeRole

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


async def test_a_file_saved_with_a_utf8_byte_order_mark_is_imported(discord_harness: DiscordHarness):
    """Windows editors save "UTF-8 with BOM": the file is the same TOML all the same."""
    h = discord_harness
    file = h.fake.attachment("reglages.toml", "\ufeff" + 'timezone = "America/Montreal"\n')
    answer = await h.fake.invoke_slash(h.guild, h.moderator, "config import", {"file": file}, locale="fr")
    [reply] = await answer.wait_followups()
    assert reply["embeds"][0]["title"] == h.t("fr", "config.import.title"), reply
    assert (await _community(h)).timezone == "America/Montreal"


# -- channels and roles named in a setting or a file: text channels, never the first of a shared name --

VOICE, CATEGORY = 2, 4


@dataclass
class FakeVoiceChannel(FakeChannel):
    """A voice channel as Discord describes it in GUILD_CREATE."""

    def payload(self) -> dict[str, Any]:
        return {**super().payload(), "bitrate": 64000, "user_limit": 0, "rtc_region": None}


async def _settings(h: DiscordHarness):
    community = await _community(h)
    async with h.services.db.transaction() as session:
        return await get_settings(session, community.id)


async def _import(h: DiscordHarness, content: str) -> str:
    file = h.fake.attachment("reglages.toml", content)
    answer = await h.fake.invoke_slash(h.guild, h.moderator, "config import", {"file": file}, locale="fr")
    [reply] = await answer.wait_followups()
    return reply.get("content") or reply["embeds"][0]["title"]


async def _exported(h: DiscordHarness) -> str:
    await h.fake.invoke_slash(h.guild, h.moderator, "config export")
    sent = await h.fake.wait_for_request(lambda r: "/webhooks/" in r.path and bool(r.files))
    return next(iter(sent.file_contents.values())).decode()


async def test_a_channel_name_shared_with_a_voice_channel_is_the_text_channel(
    discord_harness: DiscordHarness,
):
    """Another server's export says `afterworks = "#afterworks"`; here a voice channel has that name too."""
    h = discord_harness
    voice = FakeVoiceChannel(name="afterworks", guild_id=h.guild.id, type=VOICE)
    h.guild.channels.append(voice)
    h.fake.channels_add(voice)
    text = h.fake.channels_add(h.guild.add_channel("afterworks"))
    await h.restart()
    assert await _import(h, '[channels]\nafterworks = "#afterworks"\n') == h.t("fr", "config.import.title")
    assert (await _settings(h)).afterworks_channel_id == str(text.id)


async def test_a_category_or_a_voice_channel_is_refused_as_a_channel(discord_harness: DiscordHarness):
    """`/config channel` offers text channels only; `/config setting channel.intros <id>` is held to it."""
    h = discord_harness
    category = h.fake.channels_add(h.guild.add_channel("Communauté", type=CATEGORY))
    voice = FakeVoiceChannel(name="salon-vocal", guild_id=h.guild.id, type=VOICE)
    h.guild.channels.append(voice)
    h.fake.channels_add(voice)
    await h.restart()
    for channel, typed in ((category, f"<#{category.id}>"), (voice, "#salon-vocal")):
        answer = await h.fake.invoke_slash(
            h.guild, h.moderator, "config setting", {"setting": "channel.intros", "new_value": typed},
            locale="fr",
        )
        said = (await answer.wait_followups())[0]["content"]
        assert (await _settings(h)).intro_channel_id is None, typed
        if channel is category:
            assert "« #Communauté » n’est pas un salon textuel" in said, said
        else:
            assert "salon inconnu « #salon-vocal »" in said, said


async def test_export_then_import_in_the_same_server_keeps_a_channel_whose_name_another_shares(
    discord_harness: DiscordHarness,
):
    """Two categories each have a #missions: the export writes the chosen one's id beside its name."""
    h = discord_harness
    dev = h.fake.channels_add(h.guild.add_channel("Dev", type=CATEGORY))
    design = h.fake.channels_add(h.guild.add_channel("Design", type=CATEGORY))
    h.fake.channels_add(h.guild.add_channel("missions", parent_id=dev.id))
    chosen = h.fake.channels_add(h.guild.add_channel("missions", parent_id=design.id))
    await h.restart()
    await h.fake.invoke_slash(
        h.guild, h.moderator, "config channel", {"which": "missions", "channel": chosen}
    )
    content = await _exported(h)
    assert f'missions = "#missions ({chosen.id})"' in content
    await h.fake.invoke_slash(h.guild, h.moderator, "config channel", {"which": "missions"})  # cleared
    assert await _import(h, content) == h.t("fr", "config.import.title")
    assert (await _settings(h)).missions_channel_id == str(chosen.id)

    # By name alone (another server's file, or an earlier version's): which one is not guessed.
    said = await _import(h, '[channels]\nfeedback = "#missions"\n')
    assert "channels.feedback : plusieurs salons s’appellent « #missions »" in said, said
    assert (await _settings(h)).feedback_channel_id is None


async def test_a_role_name_two_roles_share_is_refused_and_the_export_keeps_the_chosen_one(
    discord_harness: DiscordHarness,
):
    h = discord_harness
    await h.fake.create_role(h.guild, "Modos")
    chosen = await h.fake.create_role(h.guild, "Modos")
    await h.fake.invoke_slash(h.guild, h.moderator, "config moderator-role", {"role": chosen})
    content = await _exported(h)
    assert f'role = "@Modos ({chosen.id})"' in content
    await h.fake.invoke_slash(h.guild, h.moderator, "config moderator-role")  # cleared
    assert await _import(h, content) == h.t("fr", "config.import.title")
    assert (await _settings(h)).moderator_role_id == str(chosen.id)

    said = await _import(h, '[moderators]\nrole = "@Modos"\n')
    assert "moderators.role : plusieurs rôles s’appellent « @Modos »" in said, said
