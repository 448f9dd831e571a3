"""/config on Discord, through the real bot and a fake Discord: moderators only, stored, logged, lifecycle."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.lifecycle import PURGE_KIND
from storage.communities import get_community
from storage.models import Job, Member, Post
from storage.settings import get_settings
from tests.config.conftest import snapshot
from tests.e2e.conftest import DiscordHarness
from tests.fakes.discord_payloads import message_payload


async def _community(h: DiscordHarness):
    async with h.services.db.transaction() as session:
        return await get_community(session, "discord", str(h.guild.id))


async def _settings(h: DiscordHarness):
    community = await _community(h)
    async with h.services.db.transaction() as session:
        return await get_settings(session, community.id)


def _text(answer) -> str:
    return "\n".join(
        [
            answer.content,
            *(
                e.get("title", "")
                + "\n"
                + e.get("description", "")
                + "\n"
                + "\n".join(f"{f['name']}: {f['value']}" for f in e.get("fields", []))
                for e in answer.embeds
            ),
        ]
    )


async def test_the_command_is_hidden_from_members_by_default_and_localized(discord_harness: DiscordHarness):
    command = discord_harness.fake.registered("config")
    assert int(command["default_member_permissions"]) == 32  # Manage Server
    names = {o["name"]: o for o in command["options"]}
    assert {
        "show",
        "history",
        "channel",
        "trade",
        "sector",
        "pack",
        "export",
        "import",
        "remove-post",
    } <= set(names)
    assert names["show"]["name_localizations"]["fr"] == "afficher"
    assert names["trade"]["name_localizations"]["fr"] == "métier"
    menu = discord_harness.fake.registered("Remove post")
    assert menu["type"] == 3 and menu["name_localizations"]["fr"] == "Retirer la publication"
    assert int(menu["default_member_permissions"]) == 32


async def test_show_for_a_moderator(discord_harness: DiscordHarness):
    h = discord_harness
    answer = await h.fake.invoke_slash(h.guild, h.moderator, "config show", locale="fr")
    assert answer.ephemeral
    assert answer.embeds[0]["title"] == "Réglages de Les Freelances"
    assert answer.data["allowed_mentions"] == {"parse": []}


# A value for every option of every /config subcommand; a subcommand added later with an option not
# listed here fails the walk below (add it here), so every Discord action stays covered.
OPTION_VALUES: dict[str, Any] = {
    "name": "Illustration",
    "new_name": "Nouveau nom",
    "trade": "Conseil",
    "sector": "Mode",
    "merge_into": "Développement",
    "trades": "Conseil, Développement",
    "timezone": "Europe/London",
    "reminders": "2h",
    "value": 3,
    "days": 10,
    "link": "https://discord.com/channels/1/2/3",
    "reason": "spam",
    "setting": "limit.missions_per_week",
    "new_value": "5",
}


def _subcommands(command: dict[str, Any], path: str = "config") -> list[tuple[str, list[dict[str, Any]]]]:
    found = []
    for option in command.get("options") or []:
        if option["type"] == 1:
            found.append((f"{path} {option['name']}", option.get("options") or []))
        elif option["type"] == 2:
            found.extend(_subcommands(option, f"{path} {option['name']}"))
    return found


def _value(h: DiscordHarness, option: dict[str, Any], role: Any) -> Any:
    if option.get("choices"):
        return option["choices"][0]["value"]
    kind = option["type"]
    if kind == 7:
        return h.guild.default_channel
    if kind == 8:
        return role
    if kind == 11:
        return h.fake.attachment("reglages.toml", 'timezone = "Europe/London"')
    assert option["name"] in OPTION_VALUES, f"add a value for the option {option['name']!r} to OPTION_VALUES"
    return OPTION_VALUES[option["name"]]


async def test_a_member_is_refused_every_action_whatever_the_server_overrides(
    discord_harness: DiscordHarness,
):
    """Every /config subcommand (with all its options, and each without its optional ones), the
    import and reason modals sent without being asked, the "Remove post" menu and the autocompletes:
    a member is refused and no row of any table changes."""
    h = discord_harness
    role = await h.fake.create_role(h.guild, "Modos")
    await h.fake.invoke_slash(h.guild, h.member, "help")  # first contact: the member row exists
    before = await snapshot(h.services)
    subcommands = _subcommands(h.fake.registered("config"))
    assert len(subcommands) >= 21
    calls = []
    for name, options in subcommands:
        calls.append((name, {o["name"]: _value(h, o, role) for o in options}))
        if any(not o.get("required") for o in options):
            calls.append((name, {o["name"]: _value(h, o, role) for o in options if o.get("required")}))
    for name, options in calls:
        answer = await h.fake.invoke_slash(h.guild, h.member, name, options, locale="fr")
        assert (answer.ephemeral, answer.content) == (True, h.t("fr", "errors.forbidden")), name

    channel = h.guild.default_channel
    for custom_id in ("config:import", f"config:removepost:{channel.id}:{channel.id}"):
        answer = await h.fake.submit_modal(h.guild, h.member, custom_id, {"value": 'timezone = "UTC"'})
        assert answer.content == h.t("fr", "errors.forbidden"), custom_id
    message = message_payload(channel=channel, channel_id=channel.id, author=h.fake.bot_user, body={})
    answer = await h.fake.invoke_message_command(h.guild, h.member, "Remove post", message, locale="fr")
    assert answer.content == h.t("fr", "errors.forbidden")
    for name, typed, focused in [
        ("config trade rename", {"trade": ""}, "trade"),
        ("config sector remove", {"sector": ""}, "sector"),
        ("config pack set", {"name": "", "trades": ""}, "trades"),
        ("config setting", {"setting": ""}, "setting"),
        ("config setting", {"setting": "locale", "new_value": ""}, "new_value"),
    ]:
        answer = await h.fake.autocomplete(h.guild, h.member, name, typed, focused)
        assert answer.data["choices"] == [], name

    assert await snapshot(h.services) == before
    assert h.fake.attachment_downloads == []  # the file is not even read


async def test_setting_channels_logs_the_change_in_the_moderation_log(discord_harness: DiscordHarness):
    h = discord_harness
    modlog = h.guild.add_channel("modlog")
    intros = h.guild.add_channel("presentations")
    for channel in (modlog, intros):
        h.fake.channels_add(channel)
    await h.restart()  # the guild's new channels reach discord.py's cache
    answer = await h.fake.invoke_slash(
        h.guild, h.moderator, "config channel", {"which": "modlog", "channel": modlog}, locale="fr"
    )
    assert "Salon du journal de modération" in _text(answer)
    await h.fake.invoke_slash(h.guild, h.moderator, "config channel", {"which": "intros", "channel": intros})
    row = await _settings(h)
    assert (row.modlog_channel_id, row.intro_channel_id) == (str(modlog.id), str(intros.id))
    path = f"/channels/{modlog.id}/messages"  # posted after the answer
    await h.fake.wait_for_request(
        lambda r: r.method == "POST" and r.path == path and "présentations" in str(r.body)
    )
    logged = h.fake.channel_messages(modlog.id)
    assert len(logged) == 2
    assert "Salon des présentations" in logged[-1]["embeds"][0]["description"]
    assert logged[-1]["allowed_mentions"] == {"parse": []}


async def test_bad_values_are_refused_with_the_reason(discord_harness: DiscordHarness):
    h = discord_harness
    answer = await h.fake.invoke_slash(
        h.guild, h.moderator, "config timezone", {"timezone": "Mars/Olympus"}, locale="en-US"
    )
    assert "“Mars/Olympus” is not a time zone" in answer.content
    answer = await h.fake.invoke_slash(h.guild, h.moderator, "config trade add", {"name": "x" * 51})
    assert "51 caractères" in answer.content


async def test_trades_and_packs(discord_harness: DiscordHarness):
    h = discord_harness
    await h.fake.invoke_slash(h.guild, h.moderator, "config trade add", {"name": "Illustration"})
    answer = await h.fake.invoke_slash(
        h.guild, h.moderator, "config pack set", {"name": "Livre", "trades": "Illustration, Rédaction web"}
    )
    assert "Illustration, Rédaction web" in _text(answer)
    answer = await h.fake.invoke_slash(
        h.guild, h.moderator, "config pack set", {"name": "Livre", "trades": "Astrologie"}
    )
    assert "« Astrologie »" in answer.content
    shown = await h.fake.invoke_slash(h.guild, h.moderator, "config show")
    assert "Livre : Illustration + Rédaction web" in _text(shown)


async def test_import_through_the_modal_and_export_as_a_file(discord_harness: DiscordHarness):
    h = discord_harness
    opened = await h.fake.invoke_slash(h.guild, h.moderator, "config import")
    assert opened.response_type == 9 and opened.callback["data"]["custom_id"] == "config:import"
    answer = await h.fake.submit_modal(
        h.guild, h.moderator, "config:import", {"value": 'timezone = "America/Montreal"\nreminders = ["3h"]'}
    )
    assert "1 réglage" in _text(answer) or "2 réglage" in _text(answer)
    assert (await _community(h)).timezone == "America/Montreal"
    bad = await h.fake.submit_modal(h.guild, h.moderator, "config:import", {"value": "colour = 1"})
    assert "colour : clé inconnue" in bad.content

    exported = await h.fake.invoke_slash(h.guild, h.moderator, "config export")
    assert exported.response_type == 5 and exported.ephemeral  # "thinking…": reading packs may write
    sent = next(r for r in h.fake.requests if "/webhooks/" in r.path and r.files)  # the follow-up
    content = next(iter(sent.file_contents.values())).decode()
    assert 'timezone = "America/Montreal"' in content
    assert sent.files == ["collectif-les-freelances.toml"]


async def test_remove_a_post_from_the_message_menu(discord_harness: DiscordHarness):
    h = discord_harness
    channel = h.guild.default_channel
    message = message_payload(
        channel=channel, channel_id=channel.id, author=h.fake.bot_user, body={"content": "intro card"}
    )
    h.fake.messages[int(message["id"])] = message
    community = await _community(h)
    async with h.services.db.transaction() as session:
        await h.fake.invoke_slash(h.guild, h.member, "help")  # the member exists
        author = await session.scalar(select(Member).where(Member.platform_user_id == str(h.member.id)))
        session.add(
            Post(
                community_id=community.id,
                member_id=author.id,
                feature="intros",
                object_id=1,
                channel_id=str(channel.id),
                message_id=message["id"],
                posted_at=h.services.clock.now(),
            )
        )
    opened = await h.fake.invoke_message_command(h.guild, h.moderator, "Remove post", message, locale="fr")
    custom_id = opened.callback["data"]["custom_id"]
    assert opened.response_type == 9 and custom_id == f"config:removepost:{channel.id}:{message['id']}"

    refused = await h.fake.invoke_message_command(h.guild, h.member, "Remove post", message, locale="fr")
    assert refused.content == h.t("fr", "errors.forbidden")

    answer = await h.fake.submit_modal(h.guild, h.moderator, custom_id, {"value": "Hors sujet"})
    assert "Hors sujet" in _text(answer)
    await h.fake.wait_for_request(lambda r: r.method == "DELETE")  # after the answer
    assert int(message["id"]) not in h.fake.messages
    dm = await h.fake.wait_for_request(
        lambda r: r.method == "POST" and r.path.startswith("/channels/") and "Hors sujet" in str(r.body)
    )
    assert dm.status == 200
    async with h.services.db.transaction() as session:
        assert await session.scalar(select(Post)) is None


async def test_leaving_schedules_the_purge_and_coming_back_cancels_it(discord_harness: DiscordHarness):
    h = discord_harness
    community = await _community(h)
    removed = asyncio.ensure_future(h.bot.wait_for("community_removed", timeout=5))
    await h.fake.remove_guild(h.guild)
    await removed

    async def purge_jobs() -> list[str]:
        async with h.services.db.transaction() as session:
            return list(
                await session.scalars(
                    select(Job.state).where(Job.community_id == community.id, Job.kind == PURGE_KIND)
                )
            )

    for _ in range(50):  # the cog's listener runs beside the bot's own handler
        if await purge_jobs():
            break
        await asyncio.sleep(0.02)
    assert await purge_jobs() == ["pending"]
    ready = asyncio.ensure_future(h.bot.wait_for("community_ready", timeout=5))
    await h.fake.join_guild(h.guild)
    await ready
    for _ in range(50):
        if await purge_jobs() == ["skipped"]:
            break
        await asyncio.sleep(0.02)
    assert await purge_jobs() == ["skipped"]
    assert (await _community(h)).active
    h.services.clock.advance(timedelta(days=31))
    await h.services.scheduler.run_due()
    assert await _community(h) is not None


async def test_a_removal_is_answered_before_the_message_is_deleted_logged_and_its_author_told(
    discord_harness: DiscordHarness,
):
    """Deleting, DMing and posting to the modlog are three API calls: the interaction (3 s) comes first."""
    h = discord_harness
    modlog = h.fake.channels_add(h.guild.add_channel("modlog"))
    await h.restart()
    await h.fake.invoke_slash(h.guild, h.moderator, "config channel", {"which": "modlog", "channel": modlog})
    channel = h.guild.default_channel
    message = message_payload(channel=channel, channel_id=channel.id, author=h.fake.bot_user, body={})
    h.fake.messages[int(message["id"])] = message
    await h.fake.invoke_slash(h.guild, h.member, "help")  # the member exists
    community = await _community(h)
    async with h.services.db.transaction() as session:
        author = await session.scalar(select(Member).where(Member.platform_user_id == str(h.member.id)))
        session.add(
            Post(community_id=community.id, member_id=author.id, feature="intros", object_id=1,
                 channel_id=str(channel.id), message_id=message["id"], posted_at=h.services.clock.now())
        )
    start = len(h.fake.requests)
    await h.fake.submit_modal(
        h.guild, h.moderator, f"config:removepost:{channel.id}:{message['id']}", {"value": "Hors sujet"}
    )
    logged = f"/channels/{modlog.id}/messages"
    await h.fake.wait_for_request(lambda r: r.method == "POST" and r.path == logged)
    await h.fake.wait_for_request(lambda r: r.method == "DELETE")
    order = [
        "answer" if r.path.endswith("/callback") else "delete" if r.method == "DELETE"
        else "modlog" if r.path == logged else "other"
        for r in h.fake.requests[start:]
    ]
    assert order.index("answer") < order.index("delete")
    assert order.index("answer") < order.index("modlog")


async def test_config_channel_offers_the_pooling_channel(discord_harness: DiscordHarness):
    """/pool without a channel sends moderators to `/config channel` pooling (`/config salon` achats in
    French): its choices include it, named as /config show names it, and it sets the channel /pool
    uses. (Found by a review: its choices had no pooling channel.)"""
    from cogs.pooling import FEATURE
    from tests.e2e.test_pooling_discord import OPTIONS

    h = discord_harness
    await FEATURE.on_start(h.services)
    [config] = [c for c in [*h.fake.commands.get(h.guild.id, []), *h.fake.commands.get(None, [])]
                if c["name"] == "config"]
    [channel] = [o for o in config["options"] if o["name"] == "channel"]
    [which] = [o for o in channel["options"] if o["name"] == "which"]
    [pooling] = [c for c in which["choices"] if c["value"] == "pooling"]
    assert pooling["name_localizations"]["fr"] == h.t("fr", "config.setting.pooling.channel")
    refused = await h.fake.invoke_slash(h.guild, h.member, "pool", OPTIONS, locale="fr")
    assert "/config salon achats" in refused.content, refused.content
    achats = h.fake.channels_add(h.guild.add_channel("achats"))
    await h.restart()  # the guild's new channel reaches discord.py's cache
    await h.fake.invoke_slash(h.guild, h.moderator, "config channel", {"which": "pooling", "channel": achats})
    created = await h.fake.invoke_slash(h.guild, h.member, "pool", OPTIONS, locale="fr")
    assert created.content == h.t("fr", "pooling.created.posted", channel=str(achats.id))


async def test_a_config_change_discord_failed_to_log_reaches_the_modlog_later(
    discord_harness: DiscordHarness,
):
    """The modlog post was an effect nobody retried: a 503 and the change never showed in the moderation
    log. Now it is kept as the modlog's notice job and posted once Discord is back."""
    from tests.e2e.test_discord_outage import fail_route

    h = discord_harness
    modlog = h.fake.channels_add(h.guild.add_channel("modlog"))
    intros = h.fake.channels_add(h.guild.add_channel("presentations"))
    await h.restart()
    await h.fake.invoke_slash(h.guild, h.moderator, "config channel", {"which": "modlog", "channel": modlog},
                              locale="fr")
    logged = f"/channels/{modlog.id}/messages"
    await h.fake.wait_for_request(lambda r: r.method == "POST" and r.path == logged)
    hits = fail_route(h, "POST", r"/channels/(?P<cid>\d+)/messages", times=1,
                      when=lambda r, kw: kw["cid"] == str(modlog.id))
    await h.fake.invoke_slash(h.guild, h.moderator, "config channel", {"which": "intros", "channel": intros})
    for _ in range(40):  # the effect, after the answer: the post fails, the notice is kept
        async with h.services.db.transaction() as session:
            if await session.scalar(select(Job.id).where(Job.kind == "modlog.notice")):
                break
        await asyncio.sleep(0.05)
    assert hits
    for _ in range(3):
        h.services.clock.advance(timedelta(minutes=10))  # type: ignore[attr-defined]
        await h.services.scheduler.run_due()
    logged = [m for m in h.fake.channel_messages(modlog.id) if "présentations" in str(m.get("embeds"))]
    assert len(logged) == 1
    assert "Salon des présentations" in logged[0]["embeds"][0]["description"]
