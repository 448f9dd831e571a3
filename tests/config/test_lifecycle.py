"""Removed -> paused, one purge whatever the signals' order; back -> restored; a purge leaves nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.lifecycle import PURGE_KIND, deactivate, on_slack_event, reactivate
from bot.models import metadata
from bot.scheduler import PENDING, SKIPPED
from cogs.config._context import run
from cogs.config._moderation import remove_post
from cogs.config._packs import set_pack
from cogs.config._settings import set_setting
from cogs.config._trades import add_trade
from cogs.intros.models import Profile, ProfileTrade
from storage.models import Community, Job, Post, Trade
from tests.config.conftest import GUILD_A, INTROS, MODLOG, make_caller, with_probe

UNINSTALLED = {"type": "app_uninstalled"}
BOT_REVOKED = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}
USER_REVOKED = {"type": "tokens_revoked", "tokens": {"oauth": ["U1"]}}


async def _community(services, platform, external_id) -> Community | None:
    async with services.db.transaction() as s:
        return await s.scalar(
            select(Community).where(Community.platform == platform, Community.external_id == external_id)
        )


async def _jobs(services, community_id) -> list[tuple[str, str]]:
    async with services.db.transaction() as s:
        rows = await s.execute(
            select(Job.state, Job.due_at)
            .where(Job.community_id == community_id, Job.kind == PURGE_KIND)
            .order_by(Job.id)
        )
        return [(state, due) for state, due in rows]


@pytest.mark.parametrize(
    "events",
    [
        [UNINSTALLED, BOT_REVOKED],
        [BOT_REVOKED, UNINSTALLED],
        [UNINSTALLED, UNINSTALLED, BOT_REVOKED, BOT_REVOKED],  # Slack retries
    ],
)
async def test_slack_removal_signals_in_any_order_pause_once(config_services, clock, events):
    caller = await make_caller(config_services, "UADMIN", guild="T1", platform="slack")
    for event in events:
        await on_slack_event(config_services, "T1", event)
        clock.advance(timedelta(seconds=3))
    community = await _community(config_services, "slack", "T1")
    assert not community.active
    assert await _jobs(config_services, caller.community_id) == [
        (PENDING, community.deactivated_at + timedelta(days=30))
    ]


async def test_revoking_user_tokens_only_changes_nothing(config_services):
    caller = await make_caller(config_services, "UADMIN", guild="T1", platform="slack")
    assert not await on_slack_event(config_services, "T1", USER_REVOKED)
    assert (await _community(config_services, "slack", "T1")).active
    assert await _jobs(config_services, caller.community_id) == []


async def test_the_grace_period_is_the_community_setting(config_services, mod, clock):
    await run(config_services, mod, set_setting, "purge_grace_days", "3")
    await deactivate(config_services, "discord", GUILD_A)
    assert await _jobs(config_services, mod.community_id) == [(PENDING, clock.now() + timedelta(days=3))]


async def test_coming_back_restores_and_cancels_the_purge(config_services, mod, clock):
    await deactivate(config_services, "discord", GUILD_A)
    clock.advance(timedelta(days=10))
    assert await reactivate(config_services, "discord", GUILD_A)
    community = await _community(config_services, "discord", GUILD_A)
    assert community.active and community.deactivated_at is None
    assert [state for state, _ in await _jobs(config_services, mod.community_id)] == [SKIPPED]
    clock.advance(timedelta(days=30))
    await config_services.scheduler.run_due()
    assert await _community(config_services, "discord", GUILD_A) is not None
    # removed again: a fresh purge, although the first job kept its dedupe key
    await deactivate(config_services, "discord", GUILD_A)
    assert [state for state, _ in await _jobs(config_services, mod.community_id)] == [SKIPPED, PENDING]


async def test_a_request_from_a_paused_community_reactivates_it_and_cancels_the_purge(
    config_services, mod, clock
):
    await deactivate(config_services, "discord", GUILD_A)
    await make_caller(config_services, "someone", moderator=False)
    assert (await _community(config_services, "discord", GUILD_A)).active
    assert [state for state, _ in await _jobs(config_services, mod.community_id)] == [SKIPPED]
    clock.advance(timedelta(days=31))
    assert await config_services.scheduler.run_due() == 0
    assert await _community(config_services, "discord", GUILD_A) is not None


async def _owned_rows(services, community_id) -> dict[str, set]:
    """Every row of the community: rows with its community_id, and rows pointing at those (transitively)."""
    owned: dict[str, set] = {name: set() for name in metadata.tables}
    async with services.db.transaction() as s:
        owned["communities"].add((community_id,))
        changed = True
        while changed:
            changed = False
            for table in metadata.sorted_tables:
                pk = list(table.primary_key.columns)
                conditions = []
                if "community_id" in table.c:
                    conditions.append(table.c.community_id == community_id)
                for fk in table.foreign_keys:
                    parent = fk.column.table.name
                    ids = [row[0] for row in owned[parent]]
                    if ids and len(fk.column.table.primary_key.columns) == 1:
                        conditions.append(fk.parent.in_(ids))
                for condition in conditions:
                    for row in (await s.execute(select(*pk).where(condition))).all():
                        if tuple(row) not in owned[table.name]:
                            owned[table.name].add(tuple(row))
                            changed = True
    return owned


async def test_purge_leaves_nothing_of_the_community_in_any_table(
    config_services, mod, mod_b, clock, notifier
):
    member = await make_caller(config_services, "member-a", moderator=False)
    with_probe(config_services)  # a feature's declared setting is a feature_settings row
    await run(config_services, mod, set_setting, "probe.group_size", "3")
    await run(config_services, mod_b, set_setting, "probe.group_size", "3")
    await run(config_services, mod, set_setting, "channel.modlog", MODLOG)
    await run(config_services, mod, add_trade, "Illustration")
    await run(config_services, mod, set_pack, "Livre", "Illustration, Rédaction web")
    async with config_services.db.transaction() as s:
        profile = Profile(community_id=mod.community_id, member_id=member.member_id)
        s.add(profile)
        await s.flush()
        trade_id = await s.scalar(select(Trade.id).where(Trade.community_id == mod.community_id))
        s.add(ProfileTrade(community_id=mod.community_id, profile_id=profile.id, trade_id=trade_id))
        for message in ("1", "2"):
            s.add(
                Post(
                    community_id=mod.community_id,
                    member_id=member.member_id,
                    feature="intros",
                    object_id=profile.id,
                    channel_id=INTROS,
                    message_id=message,
                    posted_at=clock.now(),
                )
            )
    await run(config_services, mod, remove_post, INTROS, "1", "test")
    await run(config_services, mod_b, add_trade, "Stays in B")
    owned = await _owned_rows(config_services, mod.community_id)
    assert all(
        owned[t]
        for t in (
            "members",
            "trades",
            "packs",
            "pack_trades",
            "audit_entries",
            "profiles",
            "profile_trades",
            "posts",
            "community_settings",
            "feature_settings",
        )
    )
    others_before = await _owned_rows(config_services, mod_b.community_id)

    await deactivate(config_services, "discord", GUILD_A)
    clock.advance(timedelta(days=29))
    assert await config_services.scheduler.run_due() == 0  # not yet
    clock.advance(timedelta(days=1, seconds=1))
    assert await config_services.scheduler.run_due() == 1

    async with config_services.db.transaction() as s:
        for table in metadata.sorted_tables:
            if "community_id" in table.c:
                left = await s.scalar(
                    select(func.count()).select_from(table).where(table.c.community_id == mod.community_id)
                )
                assert left == 0, table.name
            pk = list(table.primary_key.columns)
            for row in owned[table.name]:
                found = await s.scalar(
                    select(func.count())
                    .select_from(table)
                    .where(*(c == v for c, v in zip(pk, row, strict=True)))
                )
                assert found == 0, (table.name, row)
    assert await _owned_rows(config_services, mod_b.community_id) == others_before


async def test_a_guild_that_came_back_stays_active_without_a_purge(config_services, mod, clock):
    """Removed, then re-added: the removal paused it and scheduled the purge in one step, the return
    restored it and cancelled the purge; nothing pauses it again afterwards."""
    await deactivate(config_services, "discord", GUILD_A)
    clock.advance(timedelta(seconds=5))
    await reactivate(config_services, "discord", GUILD_A)  # the guild re-added the bot
    assert (await _community(config_services, "discord", GUILD_A)).active
    assert [state for state, _ in await _jobs(config_services, mod.community_id)] == ["skipped"]


async def test_a_removal_schedules_the_purge_of_a_guild_still_gone(config_services, mod, clock):
    await deactivate(config_services, "discord", GUILD_A)
    assert await _jobs(config_services, mod.community_id) == [(PENDING, clock.now() + timedelta(days=30))]
