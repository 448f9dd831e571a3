"""The Discord notifier through the real discord.py against the fake: threads, private spaces, events,
DMs with files, and a channel refusing the bot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import discord
import pytest

from bot.cards import Attachment, Card, Option, Select, when
from bot.discord_bot import notifier as discord_notifier
from bot.notifier import CannotPost, EventSpec, ThreadRef
from tests.e2e.conftest import DiscordHarness
from tests.e2e.test_discord_outage import fail_route

START = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
PING = "@everyone <@&1> regardez"


def notifier(h: DiscordHarness):  # type: ignore[no-untyped-def]
    return h.services.notifiers["discord"]


async def test_a_thread_on_a_card_gets_posts_then_is_archived(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    channel, gid = h.guild.default_channel, str(h.guild.id)
    ref = await notifier(h).post(gid, str(channel.id), Card(title="Demande de retour"))
    assert ref is not None

    thread = await notifier(h).open_thread(gid, ref, "Retours : " + "x" * 200)
    assert thread == ThreadRef(str(channel.id), ref.message_id)  # Discord: the thread id is the card's
    shown = h.fake.channels[int(thread.thread_id)]
    assert (shown.type, shown.parent_id, len(shown.name)) == (11, channel.id, 100)

    reply = await notifier(h).post_in_thread(gid, thread, Card(title="Merci", text=f"{PING} {when(START)}"))
    assert reply is not None and reply.channel_id == thread.thread_id
    [message] = h.fake.channel_messages(int(thread.thread_id))
    assert message["embeds"][0]["description"] == f"{PING} <t:{int(START.timestamp())}:F>"
    assert message["allowed_mentions"] == {"parse": []}

    assert await notifier(h).archive_thread(gid, thread) is True
    assert (shown.archived, shown.locked) == (True, False)
    # Only what the thread's creator may change: locking needs Manage Threads, not in the invite.
    [archived] = h.fake.requests_to("PATCH", f"/channels/{thread.thread_id}")
    assert archived.body == {"archived": True} and archived.status == 200

    shown.locked = True  # a moderator locked it by hand
    with pytest.raises(CannotPost) as refused:
        await notifier(h).post_in_thread(gid, thread, Card(title="trop tard"))
    assert (refused.value.channel_id, refused.value.reason) == (thread.thread_id, "archived")


async def test_a_message_of_an_archived_thread_is_deleted_and_the_thread_stays_archived(
    discord_harness: DiscordHarness,
) -> None:
    """Discord refuses to delete (or edit) a message of an archived thread (400, 50083): a member's
    privacy deletion or a moderator's removal was retried for hours, then handed to the moderators. The
    notifier reopens the thread (Send Messages is enough when it is not locked), deletes, archives again,
    as Discord's own client does. An edit says the thread is archived apart from an outage."""
    h = discord_harness
    channel, gid = h.guild.default_channel, str(h.guild.id)
    ref = await notifier(h).post(gid, str(channel.id), Card(title="Demande de retour"))
    assert ref is not None
    thread = await notifier(h).open_thread(gid, ref, "Retours")
    reply = await notifier(h).post_in_thread(gid, thread, Card(title="Merci à Bob"))
    assert reply is not None
    assert await notifier(h).archive_thread(gid, thread) is True
    shown = h.fake.channels[int(thread.thread_id)]

    with pytest.raises(CannotPost) as refused:
        await notifier(h).edit(gid, reply, Card(title="Merci"))
    assert refused.value.reason == "archived"
    assert await notifier(h).delete(gid, reply) is True
    assert h.fake.channel_messages(int(thread.thread_id)) == []
    assert shown.archived

    again = await notifier(h).post_in_thread(gid, thread, Card(title="Merci à Carol"))
    assert again is not None
    assert await notifier(h).archive_thread(gid, thread) is True
    shown.locked = True  # a moderator locked it: nothing reopens it
    with pytest.raises(CannotPost):
        await notifier(h).delete(gid, again)
    assert len(h.fake.channel_messages(int(thread.thread_id))) == 1 and shown.archived


async def test_the_fake_refuses_a_thread_lock_without_manage_threads_as_discord_does(
    discord_harness: DiscordHarness,
) -> None:
    """The invite does not ask for Manage Threads: Discord answers 403 (50013) to `locked`, which the
    notifier took for a thread gone, so a feedback thread was never archived."""
    h = discord_harness
    gid, channel = str(h.guild.id), h.guild.default_channel
    ref = await notifier(h).post(gid, str(channel.id), Card(title="Demande de retour"))
    assert ref is not None
    thread = await notifier(h).open_thread(gid, ref, "Retours")
    assert thread is not None and not h.fake.bot_permissions.manage_threads
    bot = notifier(h).bot
    with pytest.raises(discord.Forbidden) as refused:
        await bot.http.edit_channel(thread.thread_id, archived=True, locked=True)
    assert refused.value.code == 50013
    assert not h.fake.channels[int(thread.thread_id)].archived
    h.fake.bot_permissions = discord.Permissions(manage_threads=True)  # a server that granted it
    await bot.http.edit_channel(thread.thread_id, archived=True, locked=True)
    assert h.fake.channels[int(thread.thread_id)].locked


async def test_a_thread_on_a_deleted_card_is_none(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    gid, cid = str(h.guild.id), str(h.guild.default_channel.id)
    ref = await notifier(h).post(gid, cid, Card(title="x"))
    assert ref is not None
    assert await notifier(h).delete(gid, ref)
    assert await notifier(h).open_thread(gid, ref, "fil") is None


async def test_a_private_space_is_a_private_thread_with_the_members_added(
    discord_harness: DiscordHarness,
) -> None:
    h = discord_harness
    gid, channel = str(h.guild.id), h.guild.default_channel
    stranger = h.fake.add_user("Inconnu")  # not in the guild: skipped, the others are still added
    space = await notifier(h).open_private_space(
        gid, str(channel.id), [str(h.member.id), str(stranger.id), str(h.moderator.id)], "Binôme")
    assert space is not None
    thread = h.fake.channels[int(space.thread_id)]
    assert (thread.type, thread.invitable, thread.parent_id) == (12, False, channel.id)
    assert thread.members == [h.member.id, h.moderator.id]
    select = Select("pairing:pick:1", (Option("mon", "Lundi"), Option("tue", "Mardi", default=True)))
    assert await notifier(h).post_in_thread(gid, space, Card(title="Quand ?", selects=(select,)))
    [message] = h.fake.channel_messages(thread.id)
    [row] = message["components"]
    assert [o["label"] for o in row["components"][0]["options"]] == ["Lundi", "Mardi"]
    # Renamed by its creator, the bot, without Manage Threads (a member named in it deleted their data).
    assert not h.fake.bot_permissions.manage_threads
    assert await notifier(h).rename_private_space(gid, space, "Binôme : un ancien membre") is True
    assert thread.name == "Binôme : un ancien membre"


async def test_scheduled_events_are_created_edited_and_cancelled(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    gid = str(h.guild.id)
    spec = EventSpec("Afterwork Lyon", START, "Café des Freelances, Lyon", description="On se retrouve")
    event_id = await notifier(h).create_event(gid, spec)
    assert event_id is not None
    event = h.fake.scheduled_events[int(event_id)]
    assert (event["name"], event["entity_type"], event["entity_metadata"]) == (
        "Afterwork Lyon", 3, {"location": "Café des Freelances, Lyon"})
    assert datetime.fromisoformat(event["scheduled_end_time"]) == START + timedelta(hours=2)

    later = EventSpec("Afterwork Lyon", START + timedelta(days=1), "Le Comptoir",
                      end=START + timedelta(days=1, hours=3))
    assert await notifier(h).edit_event(gid, event_id, later)
    assert datetime.fromisoformat(event["scheduled_start_time"]) == START + timedelta(days=1)
    assert event["entity_metadata"] == {"location": "Le Comptoir"}

    assert await notifier(h).cancel_event(gid, event_id)
    assert event["status"] == 4
    assert await notifier(h).edit_event(gid, event_id, later) is False  # Discord refuses a cancelled one
    assert await notifier(h).cancel_event(gid, "123456789") is False


async def test_a_dm_carries_the_card_files(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    ics = Attachment("afterwork.ics", b"BEGIN:VCALENDAR", "text/calendar")
    card = Card(title="Votre invitation", attachments=(ics,))
    ref = await notifier(h).dm(str(h.guild.id), str(h.member.id), card,
                               Attachment("export.json", b'{"a": 1}', "application/json"))
    assert ref is not None
    sent = await h.fake.wait_for_request(
        lambda r: r.method == "POST" and r.path == f"/channels/{ref.channel_id}/messages")
    assert sent.file_contents == {"afterwork.ics": b"BEGIN:VCALENDAR", "export.json": b'{"a": 1}'}
    h.fake.closed_dms.add(h.member.id)
    assert await notifier(h).dm(str(h.guild.id), str(h.member.id), card) is None


async def test_a_channel_refusing_the_bot_raises_one_typed_error(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    gid, channel = str(h.guild.id), h.guild.channel("design")
    channel.bot_may_post = False
    with pytest.raises(CannotPost) as refused:
        await notifier(h).post(gid, str(channel.id), Card(title="x"))
    assert (refused.value.channel_id, refused.value.reason) == (str(channel.id), "forbidden")
    assert h.t("fr", refused.value.key, **refused.value.params).startswith("Collectif n’a pas le droit")
    with pytest.raises(CannotPost):
        await notifier(h).open_private_space(gid, str(channel.id), [str(h.member.id)], "x")
    assert await notifier(h).post(gid, "1234567890123", Card(title="x")) is None  # gone: None, as before


async def test_only_an_unknown_message_or_channel_is_gone_for_an_edit_or_a_delete(
    discord_harness: DiscordHarness,
) -> None:
    """A 403 (the bot's access to the channel taken away, maybe for a while) leaves the message shown.

    Answered "gone", its `posts` row was dropped and a member's privacy deletion left the card up: it is
    raised instead (bot.posting counts it as retrying and keeps the row).
    """
    h = discord_harness
    gid, cid = str(h.guild.id), str(h.guild.default_channel.id)
    ref = await notifier(h).post(gid, cid, Card(title="v1"))
    assert ref is not None
    original = list(h.fake._routes)
    fail_route(h, "PATCH", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)", status=403)
    fail_route(h, "DELETE", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)", status=403)
    with pytest.raises(discord.Forbidden):
        await notifier(h).edit(gid, ref, Card(title="v2"))
    with pytest.raises(discord.Forbidden):
        await notifier(h).delete(gid, ref)
    h.fake._routes = original

    assert await notifier(h).edit(gid, ref, Card(title="v3")) is True
    assert await notifier(h).delete(gid, ref) is True
    assert await notifier(h).edit(gid, ref, Card(title="v4")) is False  # 10008 Unknown Message
    assert await notifier(h).delete(gid, ref) is False
    h.fake.channels.pop(int(cid))
    assert await notifier(h).edit(gid, ref, Card(title="v5")) is False  # 10003 Unknown Channel


async def test_a_member_discord_failed_to_add_for_a_moment_is_added_on_a_retry(
    discord_harness: DiscordHarness, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 503 on adding one member must not leave them silently out of their pair's or team's thread."""
    h = discord_harness
    monkeypatch.setattr(discord_notifier, "ADD_RETRY_DELAYS", (0.01, 0.01))
    gid, channel = str(h.guild.id), h.guild.default_channel
    failed = fail_route(h, "PUT", "thread-members", times=2,
                        when=lambda _r, groups: groups["uid"] == str(h.moderator.id))

    pair = [str(h.member.id), str(h.moderator.id)]
    space = await notifier(h).open_private_space(gid, str(channel.id), pair, "Binôme")

    assert space is not None and len(failed) == 2
    assert h.fake.channels[int(space.thread_id)].members == [h.member.id, h.moderator.id]


async def test_a_member_discord_keeps_failing_to_add_raises_and_closes_the_half_filled_thread(
    discord_harness: DiscordHarness, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Still failing after the retries: raised (the caller's retry opens the space again with everyone),
    the thread opened for nothing archived."""
    h = discord_harness
    monkeypatch.setattr(discord_notifier, "ADD_RETRY_DELAYS", (0.01, 0.01))
    gid, channel = str(h.guild.id), h.guild.default_channel
    pair = [str(h.member.id), str(h.moderator.id)]
    failed = fail_route(h, "PUT", "thread-members", when=lambda _r, groups: groups["uid"] == pair[1])

    with pytest.raises(discord.DiscordServerError):
        await notifier(h).open_private_space(gid, str(channel.id), pair, "Binôme")

    assert len(failed) == 3
    [thread] = [c for c in h.fake.channels.values() if c.type == 12]
    assert thread.archived and thread.members == [h.member.id]


async def test_a_place_longer_than_the_events_location_is_cut_keeping_its_city(
    discord_harness: DiscordHarness,
) -> None:
    """Discord's location holds 100 characters: the place is cut, the city kept, the whole place (which
    may hold the door code or the floor) opens the description."""
    h = discord_harness
    place = "Espace de coworking La Cordée, 3e étage, salle du fond, " + "code 4521B, " * 8
    spec = EventSpec("Afterwork", START, f"{place} · Lyon", description="On se retrouve")

    event_id = await notifier(h).create_event(str(h.guild.id), spec)

    assert event_id is not None
    event = h.fake.scheduled_events[int(event_id)]
    location = event["entity_metadata"]["location"]
    assert len(location) == 100 and location.startswith("Espace de coworking")
    assert location.endswith("… · Lyon")
    assert event["description"] == f"{place} · Lyon\n\nOn se retrouve"


async def test_a_thread_discord_created_but_answered_5xx_for_is_found_on_the_retry(
    discord_harness: DiscordHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Discord creates the card's thread but answers 502: the retry gets 400 160004 "A thread has already
    been created for this message", then so would every later try. A message's thread has its id."""
    import discord.http as http_module

    from tests.e2e.test_discord_outage import _FastAsyncio
    from tests.fakes.discord_payloads import DiscordError

    h = discord_harness
    monkeypatch.setattr(http_module, "asyncio", _FastAsyncio())  # discord.py's 5xx retries, without waits
    gid, channel = str(h.guild.id), h.guild.default_channel
    ref = await notifier(h).post(gid, str(channel.id), Card(title="Demande de retour"))
    assert ref is not None
    created: list[object] = []

    def then_502(handler):  # type: ignore[no-untyped-def]
        async def answer(r, **groups):  # type: ignore[no-untyped-def]
            result = await handler(r, **groups)
            if not created:
                created.append(r)
                raise DiscordError(502, 0, "Bad Gateway")
            return result
        return answer

    h.fake._routes = [(m, p, then_502(handler) if m == "POST" and p.pattern.endswith("/threads") else handler)
                      for m, p, handler in h.fake._routes]
    thread = await notifier(h).open_thread(gid, ref, "Retours")
    assert created and int(ref.message_id) in h.fake.channels
    assert thread == ThreadRef(str(channel.id), ref.message_id)
    tries = h.fake.requests_to("POST", rf"/channels/{channel.id}/messages/\d+/threads")
    assert [r.status for r in tries] == [502, 400]
    # The caller's own retry (its job tried again) finds it too.
    assert await notifier(h).open_thread(gid, ref, "Retours") == thread
