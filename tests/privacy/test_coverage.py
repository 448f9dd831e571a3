"""Every table holding a person's data is exported and deleted by some feature; a purge leaves nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, delete, func, select

from bot.features import Feature, PrivacyHook, load_features
from bot.models import metadata
from cogs.directory.models import DirectoryQuery
from cogs.privacy._coverage import personal_tables, purge_gaps, uncovered
from cogs.privacy._privacy import CORE_TABLES
from storage.models import Community, Job, Post
from storage.settings import get_settings
from tests.directory.factory import add_profile
from tests.fakes.callers import caller_for


def test_every_personal_table_is_covered_by_a_privacy_hook():
    problems = uncovered(metadata, load_features(), CORE_TABLES)
    assert problems == [], "\n".join(problems)


def test_the_known_personal_tables_are_found():
    found = personal_tables(metadata)
    assert {"members", "posts", "profiles", "profile_skills", "profile_links"} <= set(found)
    assert "trades" not in found
    assert "communities" not in found
    assert "directory_queries" not in found


def _hook(*tables: str) -> PrivacyHook:
    async def noop(*_):
        return {}

    return PrivacyHook(tables, noop, noop)


def test_a_new_member_table_without_a_hook_fails_naming_it():
    md = MetaData()
    Table("members", md, Column("id", Integer, primary_key=True))
    Table("kudos", md, Column("id", Integer, primary_key=True),
          Column("reviewer", ForeignKey("members.id", ondelete="CASCADE")))
    Table("notes", md, Column("id", Integer, primary_key=True), Column("slack_user_id", String))
    Table("kudos_tags", md, Column("id", Integer, primary_key=True),
          Column("kudos_id", ForeignKey("kudos.id")))
    problems = uncovered(md, [], ["members"])
    assert [p.split(" ")[1] for p in problems] == ["kudos", "kudos_tags", "notes"]
    feature = Feature(name="feedback", package="cogs.privacy", privacy=_hook("kudos", "notes"))
    # the child table has no cascade from its covered parent: still reported
    assert [p.split(" ")[1] for p in uncovered(md, [feature], ["members"])] == ["kudos_tags"]


def test_every_community_table_cascades_from_communities():
    problems = purge_gaps(metadata)
    assert problems == [], "\n".join(problems)


def test_purge_gaps_names_a_table_that_would_survive():
    md = MetaData()
    Table("communities", md, Column("id", Integer, primary_key=True))
    Table("members", md, Column("id", Integer, primary_key=True),
          Column("community_id", ForeignKey("communities.id", ondelete="CASCADE")))
    Table("stray", md, Column("id", Integer, primary_key=True),
          Column("community_id", ForeignKey("communities.id")))
    Table("blocker", md, Column("id", Integer, primary_key=True),
          Column("member_id", ForeignKey("members.id")))
    assert [p.split(":")[0] for p in purge_gaps(md)] == ["table stray", "table blocker"]


async def test_deleting_a_community_leaves_nothing_of_it_in_any_table(db, clock):
    async with db.transaction() as s:
        ids = {}
        for guild in ("A", "B"):
            alice = await caller_for(s, f"alice-{guild}", guild=guild)
            bob = await caller_for(s, f"bob-{guild}", guild=guild)
            profile = await add_profile(s, alice, trades=("Développement",), skills=("seo",),
                                        sectors=("Mode",), city="Lyon", links=("https://a.example",))
            await add_profile(s, bob, trades=("Conseil",), skills=("figma",))
            await get_settings(s, alice.community_id)
            s.add(Post(community_id=alice.community_id, member_id=alice.member_id, feature="intros",
                       object_id=profile.id, channel_id="C1", message_id=f"M-{guild}"))
            s.add(Job(community_id=alice.community_id, kind="test", payload={}, due_at=clock.now()
                      + timedelta(hours=1)))
            s.add(DirectoryQuery(community_id=alice.community_id, token=f"{guild}" * 16, filters={}))
            ids[guild] = alice.community_id
    scoped = [t for t in metadata.tables.values() if "community_id" in t.columns]

    async def counts(community_id: int) -> dict[str, int]:
        async with db.transaction() as s:
            return {t.name: await s.scalar(select(func.count()).select_from(t)
                                           .where(t.c.community_id == community_id)) or 0 for t in scoped}

    before_a, before_b = await counts(ids["A"]), await counts(ids["B"])
    filled = {name for name, n in before_a.items() if n}
    assert {"members", "profiles", "profile_skills", "profile_links", "posts", "jobs",
            "community_settings", "directory_queries", "trades", "sectors"} <= filled
    async with db.transaction() as s:
        await s.execute(delete(Community).where(Community.id == ids["A"]))
    assert await counts(ids["A"]) == dict.fromkeys(before_a, 0)
    assert await counts(ids["B"]) == before_b
