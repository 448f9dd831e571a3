"""A card a moderator removed (Remove post) stays removed: no job posts it there again.

Jobs post a card wherever a wanted channel has no post (a trade merged, an edit, a retry): they took a
moderator's removal for a card never posted (bot.posting.mark_removed, sync_card). Only the member's
own new post (an intro posted again within its allowance) may go there again.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.clock import FrozenClock
from bot.context import Caller
from bot.services import Services
from bot.usecase import run
from cogs.config import _context as config_context
from cogs.config._moderation import register_jobs as register_moderation
from cogs.config._moderation import remove_post
from cogs.config._trades import remove_trade
from cogs.intros._publish import register_jobs as register_intros
from cogs.missions._publish import register_jobs as register_missions
from cogs.missions._publish import show_interest, submit_mission
from cogs.privacy._privacy import delete_member_data
from storage.models import Post, RemovedPost
from tests.config.test_trade_cards import _names
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier
from tests.intros.test_publish import configure, submit
from tests.missions.conftest import alice, bob, carol, channels, form, notifier  # noqa: F401


async def _posts(services: Services, feature: str, object_id: int) -> list[tuple[str, str]]:
    async with services.db.transaction(write=False) as session:
        rows = await session.execute(
            select(Post.channel_id, Post.message_id)
            .where(Post.feature == feature, Post.object_id == object_id)
        )
        return [(c, m) for c, m in rows]




async def test_a_mission_card_a_moderator_removed_is_not_posted_again_by_the_cards_job(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller, carol: Caller  # noqa: F811
) -> None:
    """Alice shares a mission; a moderator removes its card from the Développement channel ("hors
    charte"). Later Bob, a candidate, deletes his data: the missions cards job runs publish_mission,
    which finds no post in the trade's channel and posts the card there again, as if never removed
    (feedback requests keep a removed card removed: cogs/feedback, "never posted again")."""
    register_missions(services)
    register_moderation(services)
    trades = await channels(services, alice)
    done = await run(services, alice, submit_mission, form(trades[:1]), origin_channel_id="CORIGIN")
    mission_id = done.mission_id
    await run(services, bob, show_interest, mission_id)
    posts = await _posts(services, "missions", mission_id)
    removed = next((c, m) for c, m in posts if c == "C0")
    mod = await make_caller(services, user="MOD", name="Modo", moderator=True)
    await config_context.run(services, mod, remove_post, removed[0], removed[1], "hors charte")
    await services.scheduler.run_due()
    assert removed not in notifier.messages
    posted_before = len([p for p in notifier.posts if p.channel_id == "C0"])

    await delete_member_data(services, bob, bob.member_id)
    await services.scheduler.run_due()

    again = [p for p in notifier.posts if p.channel_id == "C0"][posted_before:]
    assert again == [], "the card the moderator removed was posted again in the trade's channel"




async def test_an_intro_card_a_moderator_removed_is_not_posted_again_when_a_trade_is_merged(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier, alice: Caller  # noqa: F811
) -> None:
    """A moderator removes Alice's intro card from the intro channel ("auto-promotion"). A week later
    another moderator merges one of her trades into another: the REPUBLISH job (claim=False, no repost
    limit) posts the card in every wanted channel without a post, the intro channel included: the
    removed card is back, though Alice did nothing."""
    register_intros(services)
    register_moderation(services)
    trades = await configure(services, alice)
    await submit(services, alice)  # trades[2] and trades[3]; intro channel C-INTRO
    [intro] = [(c, m) for c, m in notifier.messages if c == "C-INTRO"]
    mod = await make_caller(services, user="MOD", name="Modo", moderator=True)
    await config_context.run(services, mod, remove_post, intro[0], intro[1], "auto-promotion")
    await services.scheduler.run_due()
    assert notifier.in_channel("C-INTRO") == []

    clock.advance(timedelta(days=1))
    names = await _names(services)
    await config_context.run(services, mod, remove_trade, names[trades[3]], names[trades[5]])
    await services.scheduler.run_due()

    assert notifier.in_channel("C-INTRO") == [], "the intro card the moderator removed was posted again"


async def test_the_members_own_new_intro_may_go_there_again(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier, alice: Caller  # noqa: F811
) -> None:
    """Alice fixes her intro and posts it again once her repost allowance lets her: her own new post."""
    register_intros(services)
    register_moderation(services)
    await configure(services, alice)
    await submit(services, alice)
    [intro] = [(c, m) for c, m in notifier.messages if c == "C-INTRO"]
    mod = await make_caller(services, user="MOD", name="Modo", moderator=True)
    await config_context.run(services, mod, remove_post, intro[0], intro[1], "auto-promotion")
    await services.scheduler.run_due()

    clock.advance(timedelta(days=8))
    await submit(services, alice, bio="Rédactrice web, je reprends ma présentation.")
    assert len(notifier.in_channel("C-INTRO")) == 1
    async with services.db.transaction(write=False) as session:
        assert list(await session.scalars(select(RemovedPost.channel_id))) == []


async def test_a_removal_mark_goes_with_its_mission(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller  # noqa: F811
) -> None:
    """Alice's removed mission is deleted with her data: its mark went on, and Bob's next mission, given
    the same id by SQLite, never reached that channel."""
    register_missions(services)
    register_moderation(services)
    trades = await channels(services, alice)
    shared = await run(services, alice, submit_mission, form(trades[:1]), origin_channel_id="CORIGIN")
    first = shared.mission_id
    removed = next((c, m) for c, m in await _posts(services, "missions", first) if c == "C0")
    mod = await make_caller(services, user="MOD", name="Modo", moderator=True)
    await config_context.run(services, mod, remove_post, removed[0], removed[1], "hors charte")
    await services.scheduler.run_due()
    await delete_member_data(services, alice, alice.member_id)
    await services.scheduler.run_due()

    second = (await run(services, bob, submit_mission, form(trades[:1], title="Une autre mission"),
                        origin_channel_id="CORIGIN")).mission_id
    await services.scheduler.run_due()
    assert [c for c, _ in await _posts(services, "missions", second) if c == "C0"] == ["C0"]
    async with services.db.transaction(write=False) as session:
        assert list(await session.scalars(select(RemovedPost.object_id))) == []
