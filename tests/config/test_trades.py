"""Trades and sectors: unique names, channels, concurrent additions, removal with a generic merge."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.config import Secrets
from bot.errors import InvalidInput, NotFound, UserError
from bot.services import Services
from cogs.config._context import run
from cogs.config._packs import packs
from cogs.config._trades import (
    add_sector,
    add_trade,
    bind_trade,
    remove_sector,
    remove_trade,
    rename_sector,
    rename_trade,
)
from cogs.config.models import AuditEntry
from cogs.intros.models import Profile, ProfileSector, ProfileTrade
from storage.communities import sectors, trades
from storage.models import Sector, Trade
from storage.text import fold
from tests.config.conftest import DEV, directory_a, make_caller, snapshot


async def _trades(services, caller) -> dict[str, str | None]:
    async with services.db.transaction() as s:
        return {t.name: t.channel_id for t in await trades(s, caller.community_id)}


async def _id(services, model, caller, name) -> int:
    async with services.db.transaction() as s:
        return await s.scalar(
            select(model.id).where(model.community_id == caller.community_id, model.key == fold(name))
        )


async def _profile(services, caller, trade_names=(), sector_names=()) -> int:
    async with services.db.transaction() as s:
        profile = Profile(community_id=caller.community_id, member_id=caller.member_id)
        s.add(profile)
        await s.flush()
        for i, name in enumerate(trade_names):
            trade_id = await s.scalar(
                select(Trade.id).where(Trade.community_id == caller.community_id, Trade.key == fold(name))
            )
            s.add(
                ProfileTrade(
                    community_id=caller.community_id, profile_id=profile.id, trade_id=trade_id, position=i
                )
            )
        for name in sector_names:
            sector_id = await s.scalar(
                select(Sector.id).where(Sector.community_id == caller.community_id, Sector.key == fold(name))
            )
            s.add(ProfileSector(community_id=caller.community_id, profile_id=profile.id, sector_id=sector_id))
        return profile.id


async def _profile_trades(services, profile_id) -> list[str]:
    async with services.db.transaction() as s:
        rows = await s.scalars(
            select(Trade.name)
            .join(ProfileTrade, ProfileTrade.trade_id == Trade.id)
            .where(ProfileTrade.profile_id == profile_id)
            .order_by(Trade.name)
        )
        return list(rows)


async def test_add_rename_bind_and_remove_a_trade(config_services, mod):
    await run(config_services, mod, add_trade, "  Motion   design ")
    assert list(await _trades(config_services, mod))[-1] == "Motion design"
    await run(config_services, mod, rename_trade, "MOTION DESIGN", "Motion")
    card = await run(config_services, mod, bind_trade, "motion", "#dev", directory=directory_a())
    assert "#dev" in card.text
    assert (await _trades(config_services, mod))["Motion"] == DEV
    await run(config_services, mod, bind_trade, "Motion", "-")
    assert (await _trades(config_services, mod))["Motion"] is None
    await run(config_services, mod, remove_trade, "Motion")
    assert "Motion" not in await _trades(config_services, mod)
    async with config_services.db.transaction() as s:
        settings = [
            (e.setting, e.target, e.old_value, e.new_value)
            for e in await s.scalars(
                select(AuditEntry).where(AuditEntry.community_id == mod.community_id).order_by(AuditEntry.id)
            )
        ]
    assert settings == [
        ("trade.add", "Motion design", "", "Motion design"),
        ("trade.rename", "Motion design", "Motion design", "Motion"),
        ("trade.channel", "Motion", "", DEV),
        ("trade.channel", "Motion", DEV, ""),
        ("trade.remove", "Motion", "Motion", ""),
    ]


@pytest.mark.parametrize(
    ("action", "args", "message"),
    [
        (add_trade, ("x" * 51,), "le nom fait 51 caractères ; 50 au plus"),
        (add_trade, ("Œ" * 50,), "trop long une fois ses ligatures écrites"),  # 100 once folded
        (add_sector, ("ﬃ" * 30,), "trop long une fois ses ligatures écrites"),
        (add_trade, ("developpement",), "« developpement » existe déjà"),
        (add_trade, ("DÉVELOPPEMENT",), "existe déjà"),
        (add_trade, ("   ",), "le nom est vide"),
        (add_trade, ("Dev, Ops",), "virgule"),
        (rename_trade, ("Conseil", "Développement"), "« Développement » existe déjà"),
        (rename_trade, ("Conseil", "y" * 60), "50 au plus"),
        (bind_trade, ("Conseil", "#nowhere"), "salon inconnu"),
        (add_sector, ("mode",), "« mode » existe déjà"),
        (rename_sector, ("Sport", "Santé"), "existe déjà"),
        (remove_trade, ("Conseil", "Conseil"), "ne peut pas être fusionné avec lui-même"),
    ],
)
async def test_bad_names_are_refused_and_nothing_changes(config_services, mod, action, args, message):
    before = await snapshot(config_services)
    with pytest.raises(InvalidInput) as caught:
        await run(config_services, mod, action, *args, directory=directory_a())
    [(key, params)] = caught.value.problems.values()
    assert message in config_services.t("fr", key, **params)
    assert await snapshot(config_services) == before


@pytest.mark.parametrize("action", [rename_trade, remove_trade, bind_trade, rename_sector, remove_sector])
async def test_unknown_names_are_not_found(config_services, mod, action):
    with pytest.raises(NotFound):
        await run(config_services, mod, action, "Astrologie", "-")


async def test_two_moderators_adding_trades_at_once_both_exist(any_db, clock, settings):
    services = Services.build(settings, Secrets(), clock=clock, db=any_db)
    first = await make_caller(services, "mod-1")
    second = await make_caller(services, "mod-2")
    await asyncio.gather(
        run(services, first, add_trade, "Illustration"), run(services, second, add_trade, "Podcast")
    )
    names = await _trades(services, first)
    assert {"Illustration", "Podcast"} <= set(names)
    results = await asyncio.gather(
        run(services, first, add_trade, "Sound design"),
        run(services, second, add_trade, "sound DESIGN"),
        return_exceptions=True,
    )
    assert sum(isinstance(r, InvalidInput) for r in results) == 1
    assert (
        list(await _trades(services, first)).count("Sound design")
        + list(await _trades(services, first)).count("sound DESIGN")
        == 1
    )
    await services.scheduler.stop()


async def test_trades_added_at_once_past_the_25th_leave_25(any_db, clock, settings):
    """Each counted 21 and all were added: a 26th trade and more, past what a Discord menu shows (the
    intro and mission forms' trade select then failed for everyone). Those past the 25th are refused."""
    services = Services.build(settings, Secrets(), clock=clock, db=any_db)
    first = await make_caller(services, "mod-1")
    second = await make_caller(services, "mod-2")
    for n in range(25 - len(await _trades(services, first)) - 4):
        await run(services, first, add_trade, f"Métier {n}")
    assert len(await _trades(services, first)) == 21
    results = await asyncio.gather(
        *(run(services, (first, second)[n % 2], add_trade, f"Nouveau {n}") for n in range(8)),
        return_exceptions=True,
    )
    assert len(await _trades(services, first)) == 25
    refused = [r for r in results if isinstance(r, InvalidInput)]
    assert [r.problems["name"][0] for r in refused] == ["config.errors.too_many_trades"] * 4
    await services.scheduler.stop()


async def test_a_rename_to_the_name_being_added_at_once_is_no_deadlock(any_db, clock, settings, monkeypatch):
    """A moderator renames a trade to "Podcast" while another adds "Podcast". The add held the community
    row FOR UPDATE and waited for the renamed name; the rename's audit entry (referring to the community)
    waited for the add: on PostgreSQL a deadlock, the add answered with an unexpected error. The add is
    told the name exists."""
    from cogs.config import _trades as trades_module
    from tests.races import Meanwhile

    services = Services.build(settings, Secrets(), clock=clock, db=any_db)
    first = await make_caller(services, "mod-1")
    second = await make_caller(services, "mod-2")
    await run(services, first, add_trade, "Conseil en com")
    original, meanwhile = trades_module.record, Meanwhile()

    async def record_after_another_add(ctx, action, *args, **kw):  # the rename is written, not committed
        if action == "trade.rename":
            await meanwhile.run(run(services, second, add_trade, "Podcast"))
        return await original(ctx, action, *args, **kw)

    monkeypatch.setattr(trades_module, "record", record_after_another_add)
    [renamed] = await asyncio.gather(
        run(services, first, rename_trade, "Conseil en com", "Podcast"), return_exceptions=True
    )
    [added] = await meanwhile.settle()
    assert not isinstance(renamed, Exception), renamed
    assert isinstance(added, InvalidInput) and added.problems["name"][0] == "config.errors.duplicate", added
    names = list(await _trades(services, first))
    assert names.count("Podcast") == 1 and "Conseil en com" not in names, names
    await services.scheduler.stop()


def _merge_meanwhile(monkeypatch, other):
    """Runs `other` (another moderator's request) when the merge moves the uses, its rows held; awaiting
    what this returns gives the other's result (or exception), once the merge is over."""
    from cogs.config import _merge
    from tests.races import Meanwhile

    original, meanwhile, waiting, early = _merge.merge, Meanwhile(), [other], []

    async def merge_after_other(session, table, source, target):  # the first merge's: not other's own
        if waiting:
            early.append(await meanwhile.run(waiting.pop()))  # None while it waits
        return await original(session, table, source, target)

    async def outcome():
        return next((r for r in early if r is not None), None) or (await meanwhile.settle() or [None])[0]

    monkeypatch.setattr(_merge, "merge", merge_after_other)
    return outcome


async def test_a_merge_into_a_trade_removed_at_once(any_db, clock, settings, monkeypatch):
    """"Conseil" merged into "Podcast" while another moderator removes "Podcast" (nobody used it yet): on
    PostgreSQL the removal committed first and the merge failed on its foreign key, an unexpected error.
    The removal waits for the merge, then finds "Podcast" used."""
    services = Services.build(settings, Secrets(), clock=clock, db=any_db)
    first = await make_caller(services, "mod-1")
    second = await make_caller(services, "mod-2")
    member = await make_caller(services, "member")
    await run(services, first, add_trade, "Podcast")
    profile = await _profile(services, member, ["Conseil"])
    other = _merge_meanwhile(monkeypatch, run(services, second, remove_trade, "Podcast"))
    [merged] = await asyncio.gather(run(services, first, remove_trade, "Conseil", "Podcast"),
                                    return_exceptions=True)
    removed = await other()
    assert not isinstance(merged, Exception), merged
    assert isinstance(removed, UserError) and removed.key == "config.errors.trade_in_use", removed
    assert await _profile_trades(services, profile) == ["Podcast"]
    await services.scheduler.stop()


async def test_two_merges_crossing_at_once_are_no_deadlock(any_db, clock, settings, monkeypatch):
    """"Conseil" merged into "Podcast" while another moderator merges "Podcast" into "Conseil": each held
    its trade and waited for the other's (the foreign keys of the uses moved): on PostgreSQL a deadlock.
    The second waits, then is told "Conseil" no longer exists."""
    services = Services.build(settings, Secrets(), clock=clock, db=any_db)
    first = await make_caller(services, "mod-1")
    second = await make_caller(services, "mod-2")
    await run(services, first, add_trade, "Podcast")
    alice = await _profile(services, await make_caller(services, "alice"), ["Conseil"])
    bob = await _profile(services, await make_caller(services, "bob"), ["Podcast"])
    other = _merge_meanwhile(monkeypatch, run(services, second, remove_trade, "Podcast", "Conseil"))
    [merged] = await asyncio.gather(run(services, first, remove_trade, "Conseil", "Podcast"),
                                    return_exceptions=True)
    crossing = await other()
    assert not isinstance(merged, Exception), merged
    assert isinstance(crossing, NotFound) and crossing.key == "config.errors.unknown_trade", crossing
    assert await _profile_trades(services, alice) == await _profile_trades(services, bob) == ["Podcast"]
    await services.scheduler.stop()


async def test_removing_a_used_trade_asks_where_members_go(config_services, mod, member):
    profile = await _profile(config_services, member, ["Conseil"])
    before = await snapshot(config_services)
    with pytest.raises(UserError) as caught:
        await run(config_services, mod, remove_trade, "Conseil")
    assert caught.value.key == "config.errors.trade_in_use"
    text = config_services.t("fr", caught.value.key, **caught.value.params)
    assert text.startswith("1 profil, publication ou tâche utilise le métier « Conseil ».")
    assert "Développement" in text
    assert await snapshot(config_services) == before
    await run(config_services, mod, remove_trade, "Conseil", "Développement")
    assert await _profile_trades(config_services, profile) == ["Développement"]
    assert "Conseil" not in await _trades(config_services, mod)


async def test_merge_keeps_one_row_when_a_member_had_both_trades(config_services, mod, member):
    both = await _profile(config_services, member, ["Conseil", "Développement"])
    other = await make_caller(config_services, "member-2", moderator=False)
    single = await _profile(config_services, other, ["Conseil"])
    await run(config_services, mod, remove_trade, "Conseil", "développement")
    assert await _profile_trades(config_services, both) == ["Développement"]
    assert await _profile_trades(config_services, single) == ["Développement"]


async def test_merging_moves_pack_slots_too(config_services, mod):
    async with config_services.db.transaction() as s:
        before = dict(await packs(s, mod.community_id, "fr"))
    assert before["Identité visuelle"] == ["Design graphique", "Rédaction web", "Photographie"]
    await run(config_services, mod, remove_trade, "Photographie", "Design graphique")  # unused by members
    async with config_services.db.transaction() as s:
        after = dict(await packs(s, mod.community_id))
    assert after["Identité visuelle"] == ["Design graphique", "Rédaction web"]


async def test_sectors_add_rename_remove_and_merge(config_services, mod, member):
    profile = await _profile(config_services, member, sector_names=["Mode"])
    await run(config_services, mod, add_sector, "Luxe")
    await run(config_services, mod, rename_sector, "luxe", "Luxe & joaillerie")
    with pytest.raises(UserError) as caught:
        await run(config_services, mod, remove_sector, "Mode")
    assert caught.value.key == "config.errors.sector_in_use"
    await run(config_services, mod, remove_sector, "Mode", "Luxe & Joaillerie")
    async with config_services.db.transaction() as s:
        names = [x.name for x in await sectors(s, mod.community_id)]
        moved = await s.scalar(
            select(Sector.name)
            .join(ProfileSector, ProfileSector.sector_id == Sector.id)
            .where(ProfileSector.profile_id == profile)
        )
    assert "Mode" not in names and "Luxe & joaillerie" in names
    assert moved == "Luxe & joaillerie"


async def test_a_trade_of_another_community_is_not_found(config_services, mod, mod_b):
    await run(config_services, mod_b, add_trade, "Only in B")
    before = await snapshot(config_services)
    for action, args in [
        (rename_trade, ("Only in B", "Mine")),
        (remove_trade, ("Only in B",)),
        (bind_trade, ("Only in B", "-")),
        (remove_trade, ("Conseil", "Only in B")),
    ]:
        with pytest.raises(NotFound):
            await run(config_services, mod, action, *args)
    assert await snapshot(config_services) == before


async def test_a_trade_saved_in_a_profile_beside_its_removal_is_never_stripped_silently(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The moderator's removal counted nobody using the trade; Alice saves her profile with it before
    the removal commits (PostgreSQL, READ COMMITTED). Her profile keeps the trade she chose (the
    removal is then refused as in use), or her save is refused: the cascade never strips it."""
    import cogs.config._merge as merge
    from bot.usecase import run as run_usecase
    from cogs.intros._publish import submit_intro
    from tests.fakes.callers import make_caller as make_member
    from tests.fakes.notifier import RecordingNotifier
    from tests.intros.conftest import good_form
    from tests.races import Meanwhile

    services.notifiers["discord"] = RecordingNotifier()
    mod = await make_member(services, "mod", name="Modo", moderator=True)
    alice = await make_member(services, "U1", name="Alice")
    async with services.db.transaction() as session:
        victim = next(iter(await trades(session, alice.community_id)))
    form = await good_form(services, alice, trade_ids=[str(victim.id)])
    original, meanwhile = merge.usage, Meanwhile()

    async def usage_then_her_save(session, table, row_id, **kw):
        used = await original(session, table, row_id, **kw)
        await meanwhile.run(run_usecase(services, alice, submit_intro, form, origin_channel_id=None))
        return used

    monkeypatch.setattr(merge, "usage", usage_then_her_save)
    [removal] = await asyncio.gather(run(services, mod, remove_trade, victim.name), return_exceptions=True)
    await meanwhile.settle()
    async with services.db.transaction() as session:
        profile = await session.scalar(select(Profile).where(Profile.member_id == alice.member_id))
        kept = [] if profile is None else list(await session.scalars(
            select(ProfileTrade.trade_id).where(ProfileTrade.profile_id == profile.id)))
        still = await session.get(Trade, victim.id)
    if profile is not None:
        assert kept == [victim.id] and still is not None, (kept, removal)
        assert isinstance(removal, UserError) and removal.key == "config.errors.trade_in_use", removal
    else:
        assert still is None and not isinstance(removal, Exception), removal


# -- ids features hold without a foreign key (bot.features.HeldIds) ----------------------------------


async def test_a_merge_carries_the_trades_candidates_cover(config_services, mod, member):
    """Mission needs "Conseil"; one candidate covers it, another covers it and "Développement" too."""
    from datetime import date

    from cogs.missions._missions import get_mission, load_view
    from cogs.missions.models import Candidacy, Mission, MissionTrade

    other = await make_caller(config_services, "member-2", moderator=False)
    conseil = await _id(config_services, Trade, mod, "Conseil")
    dev = await _id(config_services, Trade, mod, "Développement")
    async with config_services.db.transaction() as s:
        mission = Mission(community_id=mod.community_id, author_member_id=mod.member_id, title="Audit",
                          title_key="audit", answer_by=date(2026, 12, 31))
        s.add(mission)
        await s.flush()
        s.add(MissionTrade(community_id=mod.community_id, mission_id=mission.id, trade_id=conseil))
        s.add(Candidacy(community_id=mod.community_id, mission_id=mission.id, member_id=member.member_id,
                        trade_ids=[conseil]))
        s.add(Candidacy(community_id=mod.community_id, mission_id=mission.id, member_id=other.member_id,
                        trade_ids=[dev, conseil]))
        mission_id = mission.id
    await run(config_services, mod, remove_trade, "Conseil", "Développement")
    async with config_services.db.transaction() as s:
        view = await load_view(s, await get_mission(s, mod.community_id, mission_id))
    assert [t[1] for t in view.trades] == ["Développement"]
    assert view.counts == (2,)  # both still cover the mission's trade
    assert sorted(c.trade_ids for c in view.candidates) == [(dev,), (dev,)]  # each id once


async def test_a_rota_task_for_a_merged_trade_is_still_taken_by_its_members(config_services, mod, member):
    from cogs.pooling._rota_store import may_take
    from cogs.pooling.models import RotaTask

    await _profile(config_services, member, ["Conseil"])
    conseil = await _id(config_services, Trade, mod, "Conseil")
    async with config_services.db.transaction() as s:
        task = RotaTask(community_id=mod.community_id, key="compta", name="Compta", cadence="monthly",
                        weekday="mon", trade_ids=[conseil])
        s.add(task)
        await s.flush()
        task_id = task.id
    await run(config_services, mod, remove_trade, "Conseil", "Développement")
    async with config_services.db.transaction() as s:
        task = await s.get(RotaTask, task_id)
        assert await may_take(s, task, [member.member_id]) == {member.member_id}, task.trade_ids


async def test_a_trade_a_rota_task_is_limited_to_is_in_use(config_services, mod, member):
    """Nobody has "Traduction": removing it would leave a task nobody may ever take; a merge is asked."""
    from cogs.pooling.models import RotaTask

    traduction = await _id(config_services, Trade, mod, "Traduction")
    async with config_services.db.transaction() as s:
        s.add(RotaTask(community_id=mod.community_id, key="veille", name="Veille", cadence="monthly",
                       weekday="mon", trade_ids=[str(traduction)]))  # as a form may have sent it
    before = await snapshot(config_services)
    with pytest.raises(UserError) as caught:
        await run(config_services, mod, remove_trade, "Traduction")
    assert (caught.value.key, caught.value.params["count"]) == ("config.errors.trade_in_use", 1)
    assert await snapshot(config_services) == before


async def test_a_merge_adds_the_months_kudos_of_both_trades(config_services, mod, member):
    """Kudos this month under "Conseil" and under "Développement": /kudos top shows their sum."""
    from cogs.feedback._store import count_kudos, top_reviewers

    conseil = await _id(config_services, Trade, mod, "Conseil")
    dev = await _id(config_services, Trade, mod, "Développement")
    async with config_services.db.transaction() as s:
        await count_kudos(s, mod.community_id, "2026-11", conseil, member.member_id, 3)
        await count_kudos(s, mod.community_id, "2026-11", dev, member.member_id, 2)
        await count_kudos(s, mod.community_id, "2026-10", conseil, member.member_id, 1)
    await run(config_services, mod, remove_trade, "Conseil", "Développement")
    async with config_services.db.transaction() as s:
        november = await top_reviewers(s, mod.community_id, "2026-11", 3)
        october = await top_reviewers(s, mod.community_id, "2026-10", 3)
    assert november == [("Développement", "User member-a", 5)]
    assert october == [("Développement", "User member-a", 1)]


async def test_stored_searches_naming_a_removed_trade_or_sector_are_forgotten(config_services, mod):
    """Their paging buttons say to search again, instead of paging a search for a row that is gone."""
    from cogs.directory.models import DirectoryQuery
    from cogs.missions.models import MissionSearch

    conseil = await _id(config_services, Trade, mod, "Conseil")
    await run(config_services, mod, add_sector, "Luxe")
    luxe = await _id(config_services, Sector, mod, "Luxe")
    async with config_services.db.transaction() as s:
        s.add_all([
            DirectoryQuery(community_id=mod.community_id, token="t-conseil", filters={"trade_id": conseil}),
            DirectoryQuery(community_id=mod.community_id, token="t-luxe", filters={"sector_id": luxe}),
            DirectoryQuery(community_id=mod.community_id, token="t-other", filters={"trade_id": None}),
            MissionSearch(community_id=mod.community_id, token="m-conseil", filters={"trade_id": conseil}),
            MissionSearch(community_id=mod.community_id, token="m-other", filters={"trade_id": 0}),
        ])
    await run(config_services, mod, remove_trade, "Conseil", "Développement")
    await run(config_services, mod, remove_sector, "Luxe")  # searched for, yet not in use
    async with config_services.db.transaction() as s:
        left = {*await s.scalars(select(DirectoryQuery.token)), *await s.scalars(select(MissionSearch.token))}
    assert left == {"t-other", "m-other"}


async def test_a_merge_sent_twice_at_once_adds_the_months_kudos_once(config_services, mod, member):
    """Two moderators (or a double submit) merging "Conseil" into "Développement" at once: on PostgreSQL
    both merges added Conseil's kudos to Développement's (/kudos top said 8 instead of 5) and the log had
    two merges. The trade is locked first: the second finds it gone."""
    from cogs.feedback._store import count_kudos, top_reviewers

    conseil = await _id(config_services, Trade, mod, "Conseil")
    dev = await _id(config_services, Trade, mod, "Développement")
    async with config_services.db.transaction() as s:
        await count_kudos(s, mod.community_id, "2026-11", conseil, member.member_id, 3)
        await count_kudos(s, mod.community_id, "2026-11", dev, member.member_id, 2)
    outcomes = await asyncio.gather(
        *(run(config_services, mod, remove_trade, "Conseil", "Développement") for _ in range(2)),
        return_exceptions=True,
    )
    async with config_services.db.transaction() as s:
        november = await top_reviewers(s, mod.community_id, "2026-11", 3)
        logged = list(await s.scalars(select(AuditEntry.setting)))
    assert november == [("Développement", "User member-a", 5)], outcomes
    assert logged == ["trade.remove"], outcomes
    gone = [o for o in outcomes if isinstance(o, NotFound)]
    assert [(e.key, e.params["name"]) for e in gone] == [("config.errors.unknown_trade", "Conseil")], outcomes


async def test_a_removal_sent_twice_at_once_is_done_and_logged_once(config_services, mod):
    outcomes = await asyncio.gather(*(run(config_services, mod, remove_trade, "Conseil") for _ in range(2)),
                                    return_exceptions=True)
    async with config_services.db.transaction() as s:
        logged = list(await s.scalars(select(AuditEntry.setting)))
    assert logged == ["trade.remove"], outcomes
    assert sum(isinstance(o, NotFound) for o in outcomes) == 1, outcomes
