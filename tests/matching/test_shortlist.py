"""The database's shortlist: `_quick`'s scores, and the same team as from every candidate, on random data.

`_store.shortlist` ranks candidates with `_team._quick`'s score and blockers written in SQL: each
(member, trade) score is compared, then `propose` on the shortlist against `propose` on everyone.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.community_time import community_today
from bot.context import Caller
from bot.services import Services
from bot.usecase import run
from cogs.feedback.models import FeedbackAnswer, FeedbackRequest, Kudos
from cogs.intros.profiles import normalize_skill
from cogs.matching import _store as store
from cogs.matching._match import find_team
from cogs.matching._request import MatchInput
from cogs.matching._team import Request, _quick, propose, tie_break
from storage.models import Sector, Trade
from storage.text import city_key
from tests.directory.factory import add_profile
from tests.fakes.callers import make_caller

TRADES = ("Développement", "Design graphique", "SEO / SEA")
SKILLS = ("Python", "Figma", "SEO", "WordPress")
CITIES = ("Lyon", "Paris", "")


async def community(services: Services, alice: Caller, rng: random.Random, size: int) -> None:
    today = community_today(services.clock.now(), alice.timezone)
    async with services.db.transaction() as session:
        sectors = list(await session.scalars(
            select(Sector.name).where(Sector.community_id == alice.community_id)))
        feedback = FeedbackRequest(community_id=alice.community_id, member_id=alice.member_id, title="t",
                                   kind="general", channel_id="c", week="2026-W48", week_slot=1)
        session.add(feedback)
    askers = [await make_caller(services, f"A{n}", name=f"Asker {n}") for n in range(12)]  # no profile
    for i in range(size):
        caller = await make_caller(services, f"M{i}", name=f"Member {i}")
        availability = rng.choice(("available", "available", "from_date", "busy"))
        async with services.db.transaction() as session:
            profile = await add_profile(
                session, caller, trades=tuple(rng.sample(TRADES, rng.choice((1, 1, 2)))),
                skills=tuple(rng.sample(SKILLS, rng.randint(0, 3))),
                sectors=tuple(rng.sample(sectors, rng.randint(0, 1))), city=rng.choice(CITIES),
                work_mode=rng.choice(("remote", "onsite", "hybrid")), availability=availability,
                available_from=today + timedelta(days=rng.randint(-5, 40)) if availability == "from_date"
                else None)
            profile.opt_matching = rng.random() > 0.1
            if rng.random() < 0.7:
                profile.rate_min = rng.choice((300, 400, 500, 600))
                profile.rate_max = rng.choice((None, profile.rate_min, profile.rate_min + 150))
                if profile.rate_min == 600 and profile.rate_max is None:
                    profile.currency = "USD"  # not compared with a budget in euros, in SQL as in `_quick`
            elif rng.random() < 0.3:
                profile.rate_max = 450  # a maximum without a minimum: no rate term, as in `_quick`
            for _ in range(rng.choice((0, 0, 0, 1, 3, 7))):
                answer = FeedbackAnswer(community_id=alice.community_id, request_id=feedback.id,
                                        member_id=caller.member_id)
                session.add(answer)
                await session.flush()
                session.add(Kudos(community_id=alice.community_id, answer_id=answer.id,
                                  giver_id=alice.member_id, receiver_id=caller.member_id, kind="helpful",
                                  created_at=services.clock.now()))
            if rng.random() < 0.3:  # proposed before, to 1, 4 or 12 members: rotation (capped at 10)
                for n in range(rng.choice((1, 4, 12))):
                    await store.store_proposal(session, alice.community_id, askers[n].member_id,
                                               f"{i:08x}{n:08x}", 1, {}, [(0, None, caller.member_id)],
                                               services.clock.now())


async def test_the_shortlist_changes_no_team(services: Services, alice: Caller,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(12)
    ranked = store._ranked
    calls: list[tuple[bool, int]] = []  # (skilled only, how many trades)

    def spy(*args: Any, skilled: bool, **kwargs: Any) -> Any:
        calls.append((skilled, len(args[3])))
        return ranked(*args, skilled=skilled, **kwargs)

    monkeypatch.setattr(store, "_ranked", spy)
    paths: set[str] = set()
    await community(services, alice, rng, 90)
    today = community_today(services.clock.now(), alice.timezone)
    async with services.db.transaction(write=False) as session:
        trades = dict((await session.execute(select(Trade.name, Trade.id).where(
            Trade.community_id == alice.community_id))).all())
        sectors = list(await session.scalars(
            select(Sector.id).where(Sector.community_id == alice.community_id)))
        compared = 0
        for _ in range(120):
            slots = tuple(trades[rng.choice(TRADES)] for _ in range(rng.randint(1, 4)))
            request = Request(
                slots=slots, today=today,
                skill_keys=tuple(normalize_skill(s, "fr") for s in rng.sample(SKILLS, rng.randint(0, 2))),
                city_key=city_key(rng.choice(CITIES)), remote=rng.random() < 0.3,
                available_by=rng.choice((None, today + timedelta(days=rng.randint(0, 30)))),
                max_rate=rng.choice((None, 350, 500)), sector_id=rng.choice((None, *sectors)),
                requester_id=alice.member_id, seed=rng.randrange(2**31),
            )
            now = services.clock.now()
            everyone = await store.candidates(session, alice.community_id, slots, request.skill_keys,
                                              request.sector_id, now, alice.member_id)
            calls.clear()
            short = await store.shortlist(session, alice.community_id, request, now)
            few = await store.candidates(session, alice.community_id, slots, request.skill_keys,
                                         request.sector_id, now, alice.member_id, profile_ids=short)
            wanted = frozenset(request.skill_keys)
            database = await store.sql_scores(session, alice.community_id, request, now)
            python = {(c.member_id, t): (*_quick(request, c, wanted), tie_break(request.seed, c.member_id))
                      for c in everyone if c.member_id != alice.member_id for t in c.trade_ids & set(slots)}
            assert database == python, request
            assert propose(request, few) == propose(request, everyone), request
            paths.add("skilled only" if calls[-1][0] else "everyone after skilled" if len(calls) > 1
                      and calls[-2][0] and calls[-2][1] > calls[-1][1] else "everyone")
            if rng.random() < 0.3:  # members left out (a mission's candidates): the same on both sides
                out = {c.member_id for c in rng.sample(everyone, min(len(everyone), 5))}
                short_out = await store.shortlist(session, alice.community_id, request, now, exclude=out)
                rest = await store.candidates(session, alice.community_id, slots, request.skill_keys,
                                              request.sector_id, now, alice.member_id, profile_ids=short_out)
                assert propose(request, [c for c in rest if c.member_id not in out]) == propose(
                    request, [c for c in everyone if c.member_id not in out]), request
            assert len(few) <= len(everyone)
            compared += len(few) < len(everyone)
    assert compared > 60  # the shortlist did leave people out, most of the time
    # every path: trades settled by the skilled alone, some settled and the others ranked over everyone,
    # none settled (or no skill asked)
    assert paths == {"skilled only", "everyone after skilled", "everyone"}, paths


async def test_a_member_without_the_skills_can_still_win_the_slot(services: Services, alice: Caller) -> None:
    """Four Python developers proposed often, available only later (30 + 5 - 20 = 15), and one developer
    without Python but with five kudos (10 + 10 = 20): the skilled alone do not settle the trade."""
    today = community_today(services.clock.now(), alice.timezone)
    kudos = await make_caller(services, "K1", name="Kim")
    async with services.db.transaction() as session:
        feedback = FeedbackRequest(community_id=alice.community_id, member_id=alice.member_id, title="t",
                                   kind="general", channel_id="c", week="2026-W48", week_slot=1)
        session.add(feedback)
        await add_profile(session, kudos, trades=("Développement",))
        for _ in range(5):
            answer = FeedbackAnswer(community_id=alice.community_id, request_id=feedback.id,
                                    member_id=kudos.member_id)
            session.add(answer)
            await session.flush()
            session.add(Kudos(community_id=alice.community_id, answer_id=answer.id, giver_id=alice.member_id,
                              receiver_id=kudos.member_id, kind="helpful", created_at=services.clock.now()))
    askers = [await make_caller(services, f"R{n}", name=f"Requester {n}") for n in range(10)]
    for i in range(4):
        dev = await make_caller(services, f"P{i}", name=f"Pythonista {i}")
        async with services.db.transaction() as session:
            await add_profile(session, dev, trades=("Développement",), skills=("Python",),
                              availability="from_date", available_from=today + timedelta(days=3))
            for n, asker in enumerate(askers):  # proposed to ten members (each counts once)
                await store.store_proposal(session, alice.community_id, asker.member_id, f"{i:08x}{n:08x}", 1,
                                           {}, [(0, None, dev.member_id)], services.clock.now())
    typed = MatchInput(trades="Développement", skills="python",
                       available_by=(today + timedelta(days=5)).isoformat())
    answer = await run(services, alice, find_team, typed, write=False)
    [slot] = answer.team.slots
    assert slot.chosen is not None and slot.chosen.member_id == kudos.member_id
    assert slot.chosen.score == 20 and all(f.score == 15 for f in slot.alternatives)
