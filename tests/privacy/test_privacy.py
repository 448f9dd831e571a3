from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.errors import NotFound
from bot.features import Feature, PrivacyHook
from bot.posting import RETRY_AFTER
from bot.usecase import run
from cogs.config._moderation import register_jobs as register_removals
from cogs.intros.models import Profile, ProfileSkill
from cogs.privacy._privacy import confirm_card, delete_member_data, export_member_data
from storage.models import Member, Post
from tests.directory.factory import add_profile
from tests.fakes.callers import caller_for
from tests.fakes.notifier import RecordingNotifier
from tests.privacy.conftest import post_for, snapshot


async def seed(services, notifier):
    async with services.db.transaction() as s:
        alice = await caller_for(s, "alice", name="Alice")
        bob = await caller_for(s, "bob", name="Bob")
        pa = await add_profile(s, alice, trades=("Rédaction web",), skills=("SEO", "WordPress"), city="Lyon",
                               bio="Rédactrice <@everyone>", links=("https://alice.example",))
        pb = await add_profile(s, bob, trades=("Développement",), skills=("Python",))
    await post_for(services, notifier, alice.community_id, alice.member_id, "intros", pa.id, "C-intro")
    await post_for(services, notifier, alice.community_id, alice.member_id, "intros", pa.id, "C-trade")
    await post_for(services, notifier, bob.community_id, bob.member_id, "intros", pb.id, "C-intro")
    return alice, bob


async def test_export_holds_the_member_their_posts_and_each_feature(services, notifier):
    alice, _ = await seed(services, notifier)
    export = await run(services, alice, export_member_data)
    data = json.loads(export.content)
    assert data["format"] == "collectif-export/1"
    assert data["member"]["user_id"] == "alice"
    assert data["member"]["display_name"] == "Alice"
    assert data["community"] == {"platform": "discord", "id": "g1", "name": "Guild g1"}
    assert sorted(p["channel_id"] for p in data["posts"]) == ["C-intro", "C-trade"]
    profile = data["features"]["intros"]["profile"]
    assert profile["bio"] == "Rédactrice <@everyone>"
    assert profile["skills"] == ["SEO", "WordPress"]
    assert profile["portfolio_links"] == ["https://alice.example"]
    assert export.filename.endswith(".json")
    assert export.card.title


async def test_delete_removes_cards_rows_and_member_then_export_is_empty(services, notifier):
    alice, bob = await seed(services, notifier)
    confirm = confirm_card(services.catalog, alice)
    assert [a.id for a in confirm.actions] == [f"privacy:confirm:{alice.member_id}",
                                               f"privacy:cancel:{alice.member_id}"]
    done = await delete_member_data(services, alice, alice.member_id)
    assert done.title
    assert sorted(r.channel_id for r in notifier.deleted) == ["C-intro", "C-trade"]
    assert [c for c, _ in notifier.messages] == ["C-intro"]  # Bob's card stays
    async with services.db.transaction() as s:
        assert await s.get(Member, alice.member_id) is None
        assert (await s.scalars(select(Profile.member_id))).all() == [bob.member_id]
        assert {p.member_id for p in (await s.scalars(select(Post))).all()} == {bob.member_id}
        assert len((await s.scalars(select(ProfileSkill))).all()) == 1  # Bob's python
    after = json.loads((await run(services, alice, export_member_data)).content)
    assert after["member"] is None
    assert after["posts"] == []
    assert after["features"]["intros"] == {}
    assert holds_nothing(after["features"])


def holds_nothing(value) -> bool:
    """Only empty containers: e.g. {"audit_entries": []} is an empty export, {"x": 1} is not."""
    if isinstance(value, dict):
        return all(holds_nothing(v) for v in value.values())
    if isinstance(value, list):
        return not value
    return value is None


async def test_someone_elses_confirmation_is_not_found_and_changes_nothing(services, notifier):
    alice, bob = await seed(services, notifier)
    async with services.db.transaction() as s:
        stranger = await caller_for(s, "alice", guild="g2")  # same person, another community
    before = await snapshot(services)
    for caller, target in ((bob, alice.member_id), (stranger, alice.member_id), (alice, 99999)):
        with pytest.raises(NotFound):
            await delete_member_data(services, caller, target)
    assert await snapshot(services) == before
    assert notifier.deleted == []


def _recording_feature(name, calls, *, fail=False):
    async def export(session, community_id, member_id):
        return {"name": name}

    async def delete(session, community_id, member_id):
        calls.append(name)
        session.add(Post(community_id=community_id, member_id=None, feature=name, object_id=1,
                         channel_id=f"C-{name}", message_id=str(len(calls))))  # in the hook's transaction
        if fail:
            raise RuntimeError("boom")

    return Feature(name=name, package="cogs.privacy", privacy=PrivacyHook((), export, delete))


async def test_hooks_run_in_reverse_order_one_transaction_each(services, notifier):
    alice, _ = await seed(services, notifier)
    calls: list[str] = []
    services.features = [_recording_feature("first", calls), _recording_feature("second", calls, fail=True)]
    with pytest.raises(RuntimeError):
        await delete_member_data(services, alice, alice.member_id)
    assert calls == ["second"]
    async with services.db.transaction() as s:
        assert await s.get(Member, alice.member_id) is not None  # a retry still knows who to delete
        assert (await s.scalars(select(Post.feature).where(Post.member_id.is_(None)))).all() == []
    services.features = [_recording_feature("first", calls), _recording_feature("second", calls)]
    await delete_member_data(services, alice, alice.member_id)
    # Once each, then all again with the member row (what was written meanwhile).
    assert calls == ["second", "second", "first", "second", "first"]
    async with services.db.transaction() as s:
        assert await s.get(Member, alice.member_id) is None


async def test_export_includes_every_hooked_feature(services, notifier):
    alice, _ = await seed(services, notifier)
    services.features = [*services.features, _recording_feature("extra", [])]
    data = json.loads((await run(services, replace(alice), export_member_data)).content)
    assert data["features"]["extra"] == {"name": "extra"}


async def test_the_directory_suggestions_forget_a_deleted_members_city_and_skill(services, notifier):
    """Alice, the only member from Trifouillis and the only one tagging "Calligraphie gothique",
    deletes her data: Bob's next keystroke in /members no longer offers them (before: the copy kept in
    memory still did, and was served once more even after it expired)."""
    from cogs.directory._complete import match_cities, match_skills
    from cogs.directory._values import VALUES
    from tests.directory.factory import add_profile
    from tests.fakes.callers import caller_for

    async with services.db.transaction() as s:
        alice = await caller_for(s, "alice", name="Alice")
        bob = await caller_for(s, "bob", name="Bob")
        await add_profile(s, alice, skills=("Calligraphie gothique",), city="Trifouillis-les-Oies")
        await add_profile(s, bob, skills=("Python",), city="Lyon")
    values = await VALUES.of(services.db, bob.community_id)  # someone typed before: kept in memory
    assert "Trifouillis-les-Oies" in [c.name for c in match_cities(values.cities, "trif")]

    await delete_member_data(services, alice, alice.member_id)

    values = await VALUES.of(services.db, bob.community_id)
    assert [c.name for c in match_cities(values.cities, "trif")] == []
    assert [c.name for c in match_skills(values.skills, "fr", "callig")] == []


@pytest.mark.parametrize("next_guild", ["B", "A"], ids=["another_guild", "same_guild_re_added"])
async def test_a_purged_communitys_cities_and_skills_are_not_suggested_to_the_next_community(
    services, clock, next_guild
):
    """Guild A removed the bot; after the grace period its data is purged, then a guild adds the bot
    (another, or A again) and SQLite gives its community A's freed id. Before: its members typing in
    /members were offered A's members' city and skill, from the copy kept in memory for A."""
    from datetime import timedelta

    from bot.lifecycle import deactivate
    from cogs.directory._complete import match_cities, match_skills
    from cogs.directory._values import VALUES
    from storage.models import Community
    from tests.fakes.callers import make_caller

    alice = await make_caller(services, "alice", guild="A", name="Alice")
    async with services.db.transaction() as s:
        await add_profile(s, alice, skills=("Calligraphie gothique",), city="Trifouillis-les-Oies")
    values = await VALUES.of(services.db, alice.community_id)  # someone in A typed: kept in memory
    assert [c.name for c in match_cities(values.cities, "trif")] == ["Trifouillis-les-Oies"]

    assert await deactivate(services, "discord", "A")
    clock.advance(timedelta(days=31))
    await services.scheduler.run_due()
    async with services.db.transaction() as s:
        assert await s.scalar(select(Community.id).where(Community.external_id == "A")) is None

    bea = await make_caller(services, "bea", guild=next_guild, name="Béa")
    if services.db.engine.dialect.name == "sqlite":
        assert bea.community_id == alice.community_id  # the case at stake
    values = await VALUES.of(services.db, bea.community_id)
    assert [c.name for c in match_cities(values.cities, "trif")] == []
    assert [s.name for s in match_skills(values.skills, "fr", "callig")] == []


async def test_a_card_posted_while_the_deletion_runs_is_removed_too(services, notifier, monkeypatch):
    """Her /intro form, opened before she confirmed (or on another device), is sent once her cards are
    gone: its new card must not stay on the platform with no row left to remove it."""
    import cogs.privacy._privacy as privacy
    from cogs.intros._publish import submit_intro
    from storage.settings import get_settings
    from tests.fakes.callers import make_caller
    from tests.intros.conftest import good_form

    alice = await make_caller(services, name="Alice")
    async with services.db.transaction() as session:
        (await get_settings(session, alice.community_id)).intro_channel_id = "C-INTRO"
    form = await good_form(services, alice, bio="Alice Martin, 06 12 34 56 78, Lyon")
    original = privacy.remove_posts
    sent = []

    async def then_her_intro_arrives(*args, **kwargs):
        removed = await original(*args, **kwargs)
        if not sent:
            sent.append(await run(services, alice, submit_intro, form, origin_channel_id="C-ORIGIN"))
        return removed

    monkeypatch.setattr(privacy, "remove_posts", then_her_intro_arrives)
    await delete_member_data(services, alice, alice.member_id)

    assert sent and "C-INTRO" in [p.channel_id for p in notifier.posts], "the intro was not posted"
    assert not [key for key, card in notifier.messages.items() if "06 12 34 56 78" in str(card)]
    async with services.db.transaction() as s:
        assert await s.get(Member, alice.member_id) is None
        assert (await s.scalars(select(Post))).all() == []


async def test_a_seat_taken_while_the_deletion_runs_is_given_back(services, notifier, clock, monkeypatch):
    """Bob's afterwork has 2 seats. Alice confirms /privacy delete; once every feature's hook ran, and
    before her member row goes, her phone sends "Going". Before: the row's cascade then dropped her
    answer but not the seat it took nor her name on the card, so Carol and Dan answered Going and Dan
    was put on the waitlist of an afterwork only Carol attends."""
    from datetime import UTC, datetime, timedelta

    import cogs.privacy._privacy as privacy
    from cogs.afterworks._polls import register_jobs
    from cogs.afterworks._publish import answer_afterwork
    from cogs.privacy._privacy import hooked
    from tests.afterworks.test_afterworks import create, event
    from tests.fakes.callers import make_caller

    clock.set(datetime.now(UTC))  # privacy jobs are queued at the real time: the story runs on it
    register_jobs(services)
    bob = await make_caller(services, "bob", name="Bob")
    alice = await make_caller(services, "alice", name="Alice Martin")
    carol = await make_caller(services, "carol", name="Carol")
    dan = await make_caller(services, "dan", name="Dan")
    aid = await create(services, bob, capacity="2", when=f"{clock.now() + timedelta(days=7):%Y-%m-%d} 19:00")
    original, sweeps = privacy.remove_posts, []
    last = len(hooked(services.features)) + 2  # once first, once before each hook, once after the last

    async def her_click_arrives(*args, **kwargs):
        sweeps.append(1)
        if len(sweeps) == last:  # every hook ran; the member row is still there
            await run(services, alice, answer_afterwork, aid, "going")
        return await original(*args, **kwargs)

    monkeypatch.setattr(privacy, "remove_posts", her_click_arrives)
    await delete_member_data(services, alice, alice.member_id)
    assert len(sweeps) == last

    assert (await event(services, aid)).going_count == 0
    clock.advance(timedelta(minutes=1))
    await services.scheduler.run_due()  # the card follows (a job, as for any deletion)
    assert [card for card in notifier.messages.values() if "Alice Martin" in str(card)] == []
    assert (await run(services, carol, answer_afterwork, aid, "going")).status == "going"
    assert (await run(services, dan, answer_afterwork, aid, "going")).status == "going"


async def test_a_click_not_yet_committed_when_the_member_row_goes_is_waited_for(
    services, notifier, clock, monkeypatch
):
    """PostgreSQL, where the click and the last step may overlap: her "Going" is written, not yet
    committed, when the member row's transaction begins. It waits for the click (the row is locked
    first), then sees its answer and gives the seat back. Without the lock, it deleted the member row
    behind the click, whose answer the cascade then dropped with its seat still counted."""
    import asyncio
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import text

    import cogs.privacy._privacy as privacy
    from cogs.afterworks._domain import answer_held
    from cogs.privacy._privacy import hooked
    from tests.afterworks.test_afterworks import create, event
    from tests.fakes.callers import make_caller

    if services.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's write lock runs the click and the last step one after the other")
    clock.set(datetime.now(UTC))
    bob = await make_caller(services, "bob", name="Bob")
    alice = await make_caller(services, "alice", name="Alice Martin")
    aid = await create(services, bob, capacity="2", when=f"{clock.now() + timedelta(days=7):%Y-%m-%d} 19:00")
    original, sweeps, tasks = privacy.remove_posts, [], []
    written, release = asyncio.Event(), asyncio.Event()

    async def click():
        async with services.db.transaction() as session:
            await answer_held(session, alice.community_id, aid, alice.member_id, "going", clock.now())
            written.set()
            await release.wait()  # committed once the deletion waits on a lock

    async def release_once_the_deletion_waits():
        waiting = text("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                       "WHERE NOT l.granted AND a.datname = current_database()")
        async with services.db.engine.connect() as connection:
            while not await connection.scalar(waiting):  # noqa: ASYNC110 (polling the server)
                await asyncio.sleep(0.01)
        release.set()

    async def her_click_arrives(*args, **kwargs):
        sweeps.append(1)
        if len(sweeps) == len(hooked(services.features)) + 2:  # right before the member row's step
            tasks.extend(asyncio.create_task(c) for c in (click(), release_once_the_deletion_waits()))
            await written.wait()
        return await original(*args, **kwargs)

    monkeypatch.setattr(privacy, "remove_posts", her_click_arrives)
    await asyncio.wait_for(delete_member_data(services, alice, alice.member_id), timeout=20)
    await asyncio.gather(*tasks)
    assert (await event(services, aid)).going_count == 0


class _FailingOnce(RecordingNotifier):
    """The platform answers 5xx (raises) the first time a message in `channel` is deleted."""

    def __init__(self, channel: str) -> None:
        super().__init__()
        self.channel, self.failed = channel, False

    async def delete(self, community_external_id, ref):
        if ref.channel_id == self.channel and not self.failed:
            self.failed = True
            raise RuntimeError("503 Service Unavailable")
        return await super().delete(community_external_id, ref)


async def test_a_platform_failure_on_one_card_does_not_stop_the_deletion(services, clock):
    """One card the platform fails to delete for a moment must not keep all the member's data: the
    other cards go, the data goes, and the moderators' removal job deletes that message later."""
    notifier = _FailingOnce("C-trade")
    services.notifiers["discord"] = notifier
    register_removals(services)
    alice, _ = await seed(services, notifier)

    done = await delete_member_data(services, alice, alice.member_id)

    assert done.title
    async with services.db.transaction() as s:
        assert await s.get(Member, alice.member_id) is None
        assert (await s.scalars(select(Post.channel_id))).all() == ["C-intro"]  # Bob's card
    assert sorted(c for c, _ in notifier.messages) == ["C-intro", "C-trade"]  # the failed one, still up
    clock.advance(RETRY_AFTER)
    await services.scheduler.run_due()
    assert [c for c, _ in notifier.messages] == ["C-intro"]
