"""A pairing round on Slack through the real Bolt app: group DM, check-in, stats, opt-out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from cogs.intros.models import Profile, ProfileTrade
from cogs.pairing import FEATURE
from storage.models import Community, Member, Trade
from storage.settings import write_feature_values
from tests.e2e.slack_harness import SlackHarness

FIRST = datetime(2026, 11, 30, 18, tzinfo=UTC)  # Monday 19:00 Paris


async def opt_in(slack: SlackHarness) -> None:
    async with slack.services.db.transaction() as session:
        cid = await session.scalar(select(Community.id).where(Community.external_id == slack.fake.team_id))
        assert cid is not None
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
            profile = Profile(community_id=cid, member_id=member.id, opt_pairing=True)
            session.add(profile)
            await session.flush()
            session.add(ProfileTrade(community_id=cid, profile_id=profile.id, trade_id=trades[i], position=0))


async def test_a_round_opens_a_group_dm_then_check_in_and_stats(slack: SlackHarness) -> None:
    await FEATURE.on_start(slack.services)
    for user in (slack.member_fr, slack.admin):  # first contact creates the community and members
        _, url = await slack.sender.command("binomes historique", user_id=user)
        assert slack.t("fr", "pairing.history.no_profile") in (await slack.fake.wait_for_post(url)).text
        await slack.completions.wait(1)
    await opt_in(slack)
    await slack.services.scheduler.run_due()  # the planner
    clock = slack.services.clock
    clock.advance(FIRST - clock.now())  # type: ignore[attr-defined]
    await slack.services.scheduler.run_due()

    opened = await slack.fake.wait_for_call("conversations.open", lambda c: "," in c.args.get("users", ""))
    assert sorted(opened.args["users"].split(",")) == sorted([slack.member_fr, slack.admin])
    welcome = await slack.fake.wait_for_call("chat.postMessage", lambda c: c.args["channel"].startswith("G"))
    group_dm = welcome.args["channel"]
    assert "pairing:opt:out" in str(welcome.args["blocks"])

    clock.advance(timedelta(days=3, hours=12))  # type: ignore[attr-defined]
    await slack.services.scheduler.run_due()
    ask = [c for c in slack.fake.calls_to("chat.postMessage") if c.args["channel"] == group_dm][-1]
    met = next(
        a["action_id"]
        for b in ask.args["blocks"]
        if b.get("type") == "actions"
        for a in b["elements"]
        if a["action_id"].endswith(":met")
    )
    _, url = await slack.sender.action(met, user_id=slack.member_fr)
    assert (await slack.fake.wait_for_post(url)).text == slack.t("fr", "pairing.checkin.thanks_met")

    _, url = await slack.sender.command("pairing stats", user_id=slack.admin)
    shown = (await slack.fake.wait_for_post(url)).text
    assert slack.t("fr", "pairing.stats.title") in shown and "100\u00a0%" in shown

    _, url = await slack.sender.command("binomes pause 12", user_id=slack.member_fr)
    assert (await slack.fake.wait_for_post(url)).text == slack.t(
        "fr", "pairing.errors.snooze_range", low=1, high=8
    )
    _, url = await slack.sender.action("pairing:opt:out", user_id=slack.member_fr)
    assert (await slack.fake.wait_for_post(url)).text == slack.t("fr", "pairing.opt.out")


async def test_a_deactivated_or_removed_member_is_not_paired(slack: SlackHarness) -> None:
    await FEATURE.on_start(slack.services)
    slack.fake.add_user("UCLAUDE", "claude")
    slack.fake.add_user("UDOMI", "domi")
    for user in (slack.member_fr, slack.admin, "UCLAUDE", "UDOMI"):
        _, url = await slack.sender.command("binomes historique", user_id=user)
        await slack.fake.wait_for_post(url)
    await slack.completions.wait(4)
    await opt_in(slack)
    slack.fake.users["UCLAUDE"].deleted = True  # deactivated by an admin
    del slack.fake.users["UDOMI"]  # no longer in the workspace
    await slack.services.scheduler.run_due()
    clock = slack.services.clock
    clock.advance(FIRST - clock.now())  # type: ignore[attr-defined]
    await slack.services.scheduler.run_due()

    opened = await slack.fake.wait_for_call("conversations.open", lambda c: "," in c.args.get("users", ""))
    assert sorted(opened.args["users"].split(",")) == sorted([slack.member_fr, slack.admin])
    groups = [c for c in slack.fake.calls_to("conversations.open") if "," in c.args.get("users", "")]
    assert len(groups) == 1  # the two who left make no second pair
    asked = {c.args["user"] for c in slack.fake.calls_to("users.info")}
    assert {"UCLAUDE", "UDOMI", slack.member_fr, slack.admin} <= asked


async def test_when_slack_cannot_tell_who_left_everyone_is_still_paired(slack: SlackHarness) -> None:
    await FEATURE.on_start(slack.services)
    for user in (slack.member_fr, slack.admin):
        _, url = await slack.sender.command("binomes historique", user_id=user)
        await slack.fake.wait_for_post(url)
    await slack.completions.wait(2)
    await opt_in(slack)
    slack.fake.errors["users.info"] = "fatal_error"
    await slack.services.scheduler.run_due()
    clock = slack.services.clock
    clock.advance(FIRST - clock.now())  # type: ignore[attr-defined]
    await slack.services.scheduler.run_due()
    opened = await slack.fake.wait_for_call("conversations.open", lambda c: "," in c.args.get("users", ""))
    assert sorted(opened.args["users"].split(",")) == sorted([slack.member_fr, slack.admin])


async def test_a_members_data_deletion_redraws_the_group_dm_card_without_them(slack: SlackHarness) -> None:
    """The group DM's card showed Camille's bio: once she deletes her data, chat.update redraws it with
    "a former member" in her place (Slack lets the bot edit its own messages in a group DM)."""
    await FEATURE.on_start(slack.services)
    for user in (slack.member_fr, slack.admin):
        _, url = await slack.sender.command("binomes historique", user_id=user)
        await slack.fake.wait_for_post(url)
    await slack.completions.wait(2)
    await opt_in(slack)
    async with slack.services.db.transaction() as session:
        camille = (
            await session.scalars(select(Member).where(Member.platform_user_id == slack.member_fr))
        ).one()
        await session.execute(
            update(Profile).where(Profile.member_id == camille.id).values(bio="Bio de Camille")
        )
        locale = (await session.get_one(Community, camille.community_id)).locale
    await slack.services.scheduler.run_due()
    clock = slack.services.clock
    clock.advance(FIRST - clock.now())  # type: ignore[attr-defined]
    await slack.services.scheduler.run_due()
    welcome = await slack.fake.wait_for_call("chat.postMessage", lambda c: c.args["channel"].startswith("G"))
    [card_at] = [key for key, m in slack.fake.messages.items() if key[0] == welcome.args["channel"]]
    assert "Bio de Camille" in str(slack.fake.messages[card_at]["blocks"])

    done = slack.completions.count
    await slack.sender.action(f"privacy:confirm:{camille.id}", user_id=slack.member_fr)
    await slack.completions.wait(done + 1)
    clock.set(max(clock.now(), datetime.now(UTC)) + timedelta(minutes=1))  # type: ignore[attr-defined]
    await slack.services.scheduler.run_due()  # the redraw the privacy hook queued (wall clock)

    await slack.fake.wait_for_call("chat.update", lambda c: c.args["channel"] == card_at[0])
    shown = str(slack.fake.messages[card_at]["blocks"])
    assert "Bio de Camille" not in shown and camille.display_name not in shown
    assert slack.services.t(locale, "pairing.card.former_member") in shown
