"""A pairing round on Discord through the real bot and fake Discord: private thread, check-in, stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.discord_bot import notifier as discord_notifier
from cogs.intros.models import Profile, ProfileTrade
from cogs.pairing import FEATURE
from storage.models import Community, Member, Trade
from storage.settings import get_settings, write_feature_values
from tests.e2e.conftest import DiscordHarness
from tests.e2e.test_discord_outage import fail_route

FIRST = datetime(2026, 11, 30, 18, tzinfo=UTC)  # Monday 19:00 Paris


async def opt_in_everyone(h: DiscordHarness, channel: str) -> int:
    async with h.services.db.transaction() as session:
        cid = await session.scalar(select(Community.id).where(Community.external_id == str(h.guild.id)))
        assert cid is not None
        (await get_settings(session, cid)).pairing_channel_id = channel
        await write_feature_values(
            session,
            cid,
            {"pairing.enabled": True, "pairing.cadence": "weekly", "pairing.day": "mon", "pairing.hour": 19},
        )
        trades = list(
            await session.scalars(select(Trade.id).where(Trade.community_id == cid).order_by(Trade.id))
        )
        members = list(
            await session.scalars(select(Member).where(Member.community_id == cid).order_by(Member.id))
        )
        for i, member in enumerate(members):
            profile = Profile(community_id=cid, member_id=member.id, opt_pairing=True, bio="Bio @everyone")
            session.add(profile)
            await session.flush()
            session.add(ProfileTrade(community_id=cid, profile_id=profile.id, trade_id=trades[i], position=0))
    return cid


def buttons(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components") or [] for c in row["components"]]


async def test_a_round_opens_a_private_thread_then_check_in_and_stats(
    discord_harness: DiscordHarness,
) -> None:
    h = discord_harness
    await FEATURE.on_start(h.services)
    for user in (h.member, h.moderator):  # first contact creates the members
        answer = await h.fake.invoke_slash(h.guild, user, "pairing history", locale="fr")
        assert h.t("fr", "pairing.history.no_profile") in str(answer.embeds)
    channel = str(h.guild.channel("général").id)
    await opt_in_everyone(h, channel)
    await h.services.scheduler.run_due()  # the planner: the first round is next Monday 19:00

    clock = h.services.clock
    clock.advance(FIRST - clock.now())  # type: ignore[attr-defined]
    await h.services.scheduler.run_due()
    [thread] = [c for c in h.fake.channels.values() if c.type == 12]
    assert thread.parent_id == int(channel) and sorted(thread.members) == sorted(
        [h.member.id, h.moderator.id]
    )
    [welcome] = h.fake.channel_messages(thread.id)
    assert welcome["embeds"][0]["title"] == h.t("fr", "pairing.card.title")
    assert welcome["allowed_mentions"] == {"parse": []}
    [opt_out] = buttons(welcome)
    assert opt_out.startswith("pairing:opt:out:")  # it names the group: clickable in a DM too
    [announce] = [m for m in h.fake.channel_messages(int(channel)) if m.get("embeds")]
    assert buttons(announce) == ["pairing:opt:in"]

    clock.advance(timedelta(days=3, hours=12))  # type: ignore[attr-defined]
    await h.services.scheduler.run_due()
    ask = h.fake.channel_messages(thread.id)[-1]
    met = next(b for b in buttons(ask) if b.endswith(":met"))
    clicked = await h.fake.click(ask, met, h.member, locale="fr")
    [thanks] = await clicked.wait_followups(1)
    assert thanks["content"] == h.t("fr", "pairing.checkin.thanks_met")

    refused = await h.fake.invoke_slash(h.guild, h.member, "pairing stats", locale="fr")
    assert h.t("fr", "errors.forbidden") in str(refused.all_texts())
    shown = await h.fake.invoke_slash(h.guild, h.moderator, "pairing stats", locale="fr")
    [embed] = shown.embeds
    assert embed["title"] == h.t("fr", "pairing.stats.title")
    assert any(f["value"].startswith("100\u00a0% ") for f in embed["fields"])  # CLDR French: "100 %"

    left = await h.fake.click(welcome, opt_out, h.member, locale="fr")
    [note] = await left.wait_followups(1)
    assert note["content"] == h.t("fr", "pairing.opt.out")
    mine = await h.fake.invoke_slash(h.guild, h.member, "pairing history", locale="fr")
    assert "Dominique" in str(mine.embeds) and h.t("fr", "pairing.history.opted_out") in str(mine.embeds)


async def test_a_member_who_left_the_server_is_not_paired(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    await FEATURE.on_start(h.services)
    gone = h.fake.add_user("Claude", guild=h.guild)
    for user in (h.member, h.moderator, gone):
        await h.fake.invoke_slash(h.guild, user, "pairing history", locale="fr")
    channel = str(h.guild.channel("général").id)
    await opt_in_everyone(h, channel)
    del h.guild.members[gone.id]  # left the server: no event reaches a bot without the members intent
    await h.services.scheduler.run_due()
    clock = h.services.clock
    clock.advance(FIRST - clock.now())  # type: ignore[attr-defined]
    await h.services.scheduler.run_due()

    [thread] = [c for c in h.fake.channels.values() if c.type == 12]
    assert sorted(thread.members) == sorted([h.member.id, h.moderator.id])  # a pair, not a trio
    added = {r.path.rsplit("/", 1)[1] for r in h.fake.requests_to("PUT", r"/channels/\d+/thread-members/\d+")}
    assert added == {str(h.member.id), str(h.moderator.id)}  # Claude was not even tried
    [welcome] = h.fake.channel_messages(thread.id)
    assert "Claude" not in str(welcome["embeds"])
    asked = {r.path.rsplit("/", 1)[1] for r in h.fake.requests_to("GET", r"/guilds/\d+/members/\d+")}
    assert asked == {str(u.id) for u in (h.member, h.moderator, gone)}


async def test_the_group_card_and_check_in_sent_by_dm_answer_their_buttons(
    discord_harness: DiscordHarness,
) -> None:
    """No pairing channel: the group card and the check-in go by DM. Discord sends a DM click with no
    server; the buttons name the group, whose members' clicks find its community (before: the
    generic error, nothing recorded). A stranger's click on the same ids finds nothing."""
    from cogs.pairing.models import PairingGroup

    h = discord_harness
    await FEATURE.on_start(h.services)
    for user in (h.member, h.moderator):
        await h.fake.invoke_slash(h.guild, user, "pairing history", locale="fr")
    await opt_in_everyone(h, None)  # type: ignore[arg-type]  (no pairing channel: the DM fallback)
    await h.services.scheduler.run_due()
    clock = h.services.clock
    clock.advance(FIRST - clock.now())  # type: ignore[attr-defined]
    await h.services.scheduler.run_due()
    [welcome] = [m for m in h.fake.dm_messages(h.member) if buttons(m)]
    [opt_out] = buttons(welcome)
    assert opt_out.startswith("pairing:opt:out:")

    clock.advance(timedelta(days=3, hours=12))  # type: ignore[attr-defined]
    await h.services.scheduler.run_due()
    ask = [m for m in h.fake.dm_messages(h.member) if buttons(m)][-1]
    met = next(b for b in buttons(ask) if b.endswith(":met"))
    stranger = h.fake.add_user("Sacha", locale="fr", guild=h.guild)
    refused = await h.fake.click(ask, met, stranger, locale="fr")
    await refused.wait_answer()
    assert h.t("fr", "pairing.checkin.thanks_met") not in str(refused.all_texts())

    clicked = await h.fake.click(ask, met, h.member, locale="fr")
    await clicked.wait_answer()
    assert h.t("fr", "pairing.checkin.thanks_met") in str(clicked.all_texts())
    left = await h.fake.click(welcome, opt_out, h.member, locale="fr")
    await left.wait_answer()
    assert h.t("fr", "pairing.opt.out") in str(left.all_texts())
    async with h.services.db.transaction() as session:
        assert (await session.scalars(select(PairingGroup.outcome))).all() == ["met"]
        member_id = await session.scalar(select(Member.id).where(Member.platform_user_id == str(h.member.id)))
        opted = await session.scalar(select(Profile.opt_pairing).where(Profile.member_id == member_id))
    assert opted is False


async def test_joining_while_pairing_is_off_says_rounds_are_off_in_the_answer_and_the_history(
    discord_harness: DiscordHarness,
) -> None:
    """A fresh server (pairing off, the default): /pairing join used to promise "the next rounds"."""
    from bot.i18n import expand_commands
    from tests.e2e.test_intros_discord import run_intro

    h = discord_harness
    await (await run_intro(h, h.member)).wait_followups(1)
    for locale in ("fr", "en"):
        joined = await h.fake.invoke_slash(h.guild, h.member, "pairing join", locale=locale)
        [note] = await joined.wait_followups(1)
        assert note["content"] == expand_commands(h.t(locale, "pairing.opt.in_off"), "discord")
    shown = await h.fake.invoke_slash(h.guild, h.member, "pairing history", locale="en")
    [embed] = shown.embeds
    status = next(f["value"] for f in embed["fields"] if f["name"] == h.t("en", "pairing.history.status"))
    assert status == expand_commands(h.t("en", "pairing.history.opted_in_off"), "discord")
    assert "/config setting pairing.enabled" in status


async def test_a_members_data_deletion_takes_them_off_the_group_cards_sent_by_dm(
    discord_harness: DiscordHarness,
) -> None:
    """No pairing channel: each member got the group card (everyone's bio) by DM. Once Camille deletes her
    data, her own copy is removed and Dominique's is edited to show "a former member" in her place."""
    h = discord_harness
    await FEATURE.on_start(h.services)
    for user in (h.member, h.moderator):
        await h.fake.invoke_slash(h.guild, user, "pairing history", locale="fr")
    cid = await opt_in_everyone(h, None)  # type: ignore[arg-type]  (no pairing channel: the DM fallback)
    await h.services.scheduler.run_due()
    clock: Any = h.services.clock
    clock.advance(FIRST - clock.now())
    await h.services.scheduler.run_due()
    [hers] = [m for m in h.fake.dm_messages(h.member) if buttons(m)]
    [his] = [m for m in h.fake.dm_messages(h.moderator) if buttons(m)]
    assert "Camille" in str(his["embeds"])

    asked = await h.fake.invoke_slash(h.guild, h.member, "privacy delete")
    confirm = next(i for i in buttons(asked.original) if i.startswith("privacy:confirm:"))
    confirmed = await h.fake.click(asked.original, confirm, h.member)
    await confirmed.wait_followups(1)
    clock.set(max(clock.now(), datetime.now(UTC)) + timedelta(minutes=1))  # privacy jobs: the wall clock
    await h.services.scheduler.run_due()

    assert int(hers["id"]) not in h.fake.messages
    shown = str(h.fake.messages[int(his["id"])]["embeds"])
    async with h.services.db.transaction() as session:
        locale = (await session.get_one(Community, cid)).locale
    assert "Camille" not in shown and h.services.t(locale, "pairing.card.former_member") in shown


async def test_a_member_discord_failed_to_add_to_the_private_thread_for_a_moment_is_in_it(
    discord_harness: DiscordHarness, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 503 on adding Dominique to the pair's private thread: she is added on the notifier's retry, not
    silently left out of the conversation with Camille (bot/discord_bot/notifier.py)."""
    h = discord_harness
    monkeypatch.setattr(discord_notifier, "ADD_RETRY_DELAYS", (0.01, 0.01))
    await FEATURE.on_start(h.services)
    for user in (h.member, h.moderator):  # first contact creates the members
        await h.fake.invoke_slash(h.guild, user, "pairing history", locale="fr")
    await opt_in_everyone(h, str(h.guild.channel("général").id))
    await h.services.scheduler.run_due()  # the planner: the first round is next Monday 19:00
    failed = fail_route(h, "PUT", "thread-members", times=1,
                        when=lambda _r, groups: groups["uid"] == str(h.moderator.id))

    h.services.clock.advance(FIRST - h.services.clock.now())  # type: ignore[attr-defined]
    await h.services.scheduler.run_due()

    [thread] = [c for c in h.fake.channels.values() if c.type == 12]
    assert failed and sorted(thread.members) == sorted([h.member.id, h.moderator.id])


async def _round_after_a_503(h: DiscordHarness, channel: str | None, fails: Any) -> list[Any]:
    """The first round, Discord answering 503 to the first message `fails(channel)` accepts, then the
    jobs' retries over the next 40 minutes; the requests that failed."""
    from datetime import timedelta

    await FEATURE.on_start(h.services)
    for user in (h.member, h.moderator):  # first contact creates the members
        await h.fake.invoke_slash(h.guild, user, "pairing history", locale="fr")
    await opt_in_everyone(h, channel)  # type: ignore[arg-type]  # None: no pairing channel
    await h.services.scheduler.run_due()  # the planner: the first round is next Monday 19:00
    failed = fail_route(h, "POST", r"/channels/(?P<cid>\d+)/messages", times=1,
                        when=lambda _r, groups: fails(h.fake.channels[int(groups["cid"])]))
    clock = h.services.clock
    clock.advance(FIRST - clock.now())  # type: ignore[attr-defined]
    await h.services.scheduler.run_due()
    for _ in range(4):
        clock.advance(timedelta(minutes=10))  # type: ignore[attr-defined]
        await h.services.scheduler.run_due()
    return failed


async def test_a_welcome_discord_failed_once_does_not_open_a_second_private_thread(
    discord_harness: DiscordHarness,
) -> None:
    """A 503 on the group's card in its new private thread gave the whole group back: the round's retry
    opened a second thread. Now the thread is recorded first, and the card alone is sent again."""
    h = discord_harness
    failed = await _round_after_a_503(h, str(h.guild.channel("général").id), lambda c: c.type == 12)
    assert failed
    [thread] = [c for c in h.fake.channels.values() if c.type == 12]
    [welcome] = h.fake.channel_messages(thread.id)
    assert welcome["embeds"][0]["title"] == h.t("fr", "pairing.card.title")


async def test_a_group_sent_by_dm_is_not_sent_twice_to_one_member_after_a_503_on_the_other(
    discord_harness: DiscordHarness,
) -> None:
    """No pairing channel: the card goes by DM. A 503 on the second member's DM gave the group back, and
    the retry DMed the first member again. Now each copy is recorded as it goes, the missing one sent
    again alone."""
    h = discord_harness
    dms = {u.id for u in (h.member, h.moderator)}
    got_one = [False]

    def second_dm(channel: Any) -> bool:  # the DM after the first one went out
        if channel.type != 1 or channel.recipient is None or channel.recipient.id not in dms:
            return False
        if not got_one[0]:
            got_one[0] = True
            return False
        return True

    assert await _round_after_a_503(h, None, second_dm)
    title = h.t("fr", "pairing.card.title")
    got = {u.name: sum(1 for m in h.fake.dm_messages(u)
                       if m.get("embeds") and m["embeds"][0]["title"] == title)
           for u in (h.member, h.moderator)}
    assert got == {h.member.name: 1, h.moderator.name: 1}
