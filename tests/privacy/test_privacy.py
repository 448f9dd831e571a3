from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.errors import NotFound
from bot.features import Feature, PrivacyHook
from bot.usecase import run
from cogs.intros.models import Profile, ProfileSkill
from cogs.privacy._privacy import confirm_card, delete_member_data, export_member_data
from storage.models import Member, Post
from tests.directory.factory import add_profile
from tests.fakes.callers import caller_for
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
                         channel_id=f"C-{name}", message_id="1"))  # written in the hook's transaction
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
    assert calls == ["second", "second", "first"]
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
