"""A closing note's redraw during an outage or in a locked thread; a late answer whose author left
meanwhile; the kudos' month in the export."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.cards import Card
from bot.clock import FrozenClock
from bot.context import Caller
from bot.notifier import CannotPost, PostRef, ThreadRef
from bot.services import Services
from bot.usecase import run
from cogs.config import REMOVE_POST_JOB
from cogs.feedback._feedback import ask, close_request, mark_helpful, on_start, submit_answer
from cogs.feedback._store import CLOSING_POSTS, export_member
from cogs.feedback._validation import AnswerForm
from cogs.feedback.models import FeedbackAnswer
from cogs.privacy._privacy import delete_member_data
from storage.models import Job, Post
from storage.settings import get_settings
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier
from tests.feedback.conftest import FEEDBACK_CHANNEL, good_request


class DiscordThreads(RecordingNotifier):
    """Discord's threads: a message in an archived one is neither edited nor deleted (50083) until a
    message reopens the thread; a locked thread takes no message at all. `outage`: every edit fails (503)."""

    def __init__(self) -> None:
        super().__init__()
        self.outage = False
        self.locked = False

    def _archived(self, channel_id: str) -> bool:
        space = self.threads.get(channel_id)
        return space is not None and space.archived

    async def edit(self, community_external_id: str, ref: PostRef, card: Card) -> bool:
        if self.outage:
            self.calls.append(("edit", ref.channel_id))
            raise RuntimeError("503 Service Unavailable")
        if self._archived(ref.channel_id):
            self.calls.append(("edit", ref.channel_id))
            raise CannotPost(ref.channel_id, "archived")  # Discord: 50083 "Thread is archived"
        return await super().edit(community_external_id, ref, card)

    async def delete(self, community_external_id: str, ref: PostRef) -> bool:
        if self._archived(ref.channel_id) and self.locked:  # the notifier reopens an unlocked one to delete
            self.calls.append(("delete", ref.channel_id))
            raise CannotPost(ref.channel_id, "archived")  # Discord: 50083 "Thread is archived"
        return await super().delete(community_external_id, ref)

    async def post_in_thread(
        self, community_external_id: str, thread: ThreadRef, card: Card
    ) -> PostRef | None:
        space = self.threads.get(thread.thread_id)
        if space is not None and self.locked:
            raise CannotPost(thread.thread_id, "archived")  # Discord: 50083 "Thread is locked"
        if space is not None:
            space.archived = False  # a message reopens an archived thread
        return await super().post_in_thread(community_external_id, thread, card)


async def _closed_with_bob(services: Services, notifier: RecordingNotifier, platform: str = "discord",
                           ) -> tuple[Caller, Caller, int]:
    """Alice's request, answered by Bob (signed), closed: the note thanks Bob; the thread archived."""
    services.notifiers[platform] = notifier
    await on_start(services)
    alice = await make_caller(services, name="Alice", platform=platform)
    async with services.db.transaction() as session:
        (await get_settings(session, alice.community_id)).feedback_channel_id = FEEDBACK_CHANNEL
    bob = await make_caller(services, user="U2", name="Bob", platform=platform)
    asked = await run(services, alice, ask, good_request())
    await run(services, bob, submit_answer, asked.request_id, False, AnswerForm(text="Bien vu"))
    await run(services, alice, close_request, asked.request_id)
    assert _notes(notifier) == ["Merci à Bob pour son avis !"]
    return alice, bob, asked.request_id


def _notes(notifier: RecordingNotifier) -> list[str]:
    return [c.text for c in notifier.messages.values() if c.title.startswith("✅")]


def _notices(services: Services, notifier: RecordingNotifier) -> list[Card]:
    """The "closing note above was updated" notices the thread shows now, and those posted at all."""
    updated = services.t("fr", "feedback.closed.updated")
    return [sent.card for sent in notifier.posts if sent.card.title == updated]


async def _delete_bob(services: Services, bob: Caller, clock: FrozenClock) -> None:
    await delete_member_data(services, bob, bob.member_id)
    async with services.db.transaction() as session:
        await session.execute(update(Job).where(Job.kind == "feedback.forget").values(due_at=clock.now()))


async def _half_hours(services: Services, clock: FrozenClock, times: int) -> None:
    for _ in range(times):
        clock.advance(timedelta(minutes=30))
        await services.scheduler.run_due()


async def test_a_redraw_during_an_outage_posts_one_notice_and_redraws_the_note_once_it_ends(
    services: Services, clock: FrozenClock
) -> None:
    """Every retry of the redraw posted "the closing note above was updated" again (and archived the
    thread again), while the edit kept failing: 5 notices in 4 hours for a note never updated. Then an
    outage (a 5xx, not "archived") posted the notice at all: it reopens a thread only when the edit says
    the thread is archived."""
    notifier = DiscordThreads()
    _, bob, _ = await _closed_with_bob(services, notifier)
    [space] = notifier.threads.values()
    assert space.archived
    notifier.outage = True
    await _delete_bob(services, bob, clock)
    await _half_hours(services, clock, 3)  # three attempts fail
    assert _notices(services, notifier) == []  # an outage: nothing to reopen
    assert space.archived
    notifier.outage = False
    await _half_hours(services, clock, 3)
    assert _notes(notifier) == ["Merci à 1 relecteur·rice anonyme pour son avis !"]
    assert len(_notices(services, notifier)) == 1
    assert space.archived


async def test_a_note_that_cannot_be_redrawn_by_the_last_attempt_is_removed_rather_than_naming_bob(
    services: Services, clock: FrozenClock
) -> None:
    """The job gave up after its attempts and the note went on thanking Bob, who deleted his data."""
    notifier = DiscordThreads()
    _, bob, request_id = await _closed_with_bob(services, notifier)
    notifier.outage = True
    await _delete_bob(services, bob, clock)
    await _half_hours(services, clock, 8)
    assert _notes(notifier) == []  # Bob's name with it
    updated = services.t("fr", "feedback.closed.updated")
    assert [c for c in notifier.messages.values() if c.title == updated] == []  # no "updated" left behind
    [space] = notifier.threads.values()
    assert space.archived
    async with services.db.transaction() as session:
        notes = list(await session.scalars(select(Post.id).where(Post.feature == CLOSING_POSTS,
                                                                 Post.object_id == request_id)))
        failed = list(await session.scalars(select(Job.kind).where(Job.state == "failed")))
    assert notes == [] and failed == []


async def test_in_a_locked_thread_the_note_is_removed_and_its_removal_retried_by_the_moderators_job(
    services: Services, clock: FrozenClock
) -> None:
    """A locked thread refuses the notice: the note stayed as it was, Bob's name in it, nothing said."""
    notifier = DiscordThreads()
    _, bob, request_id = await _closed_with_bob(services, notifier)
    notifier.locked = True
    [space] = notifier.threads.values()
    [note] = [ref for ref, c in notifier.messages.items() if c.title.startswith("✅")]
    await _delete_bob(services, bob, clock)
    await _half_hours(services, clock, 1)
    assert _notices(services, notifier) == []
    async with services.db.transaction() as session:
        rows = list(await session.scalars(select(Post.id).where(Post.feature == CLOSING_POSTS,
                                                                Post.object_id == request_id)))
        removals = [j.payload for j in await session.scalars(select(Job).where(Job.kind == REMOVE_POST_JOB))]
    assert rows == []
    # Discord refuses the deletion in the archived thread too: the moderators' removal job tries again,
    # and tells them should it never go.
    assert note in [(p["channel_id"], p["message_id"]) for p in removals]
    assert space.archived


async def test_on_slack_a_failed_redraw_posts_no_notice(services: Services, clock: FrozenClock) -> None:
    """Slack threads are never archived: the notice only said "updated" on every retry of an outage."""
    notifier = DiscordThreads()
    notifier.platform = "slack"
    _, bob, _ = await _closed_with_bob(services, notifier, platform="slack")
    for space in notifier.threads.values():
        space.archived = False  # Slack cannot archive
    notifier.outage = True
    await _delete_bob(services, bob, clock)
    await _half_hours(services, clock, 2)
    notifier.outage = False
    await _half_hours(services, clock, 2)
    assert _notices(services, notifier) == []
    assert _notes(notifier) == ["Merci à 1 relecteur·rice anonyme pour son avis !"]


# -- an answer posted late whose author deleted their data meanwhile ------------------------------------


class ThreadsFail(RecordingNotifier):
    failing_threads = False

    async def post_in_thread(
        self, community_external_id: str, thread: ThreadRef, card: Card
    ) -> PostRef | None:
        if self.failing_threads:
            raise RuntimeError("503 Service Unavailable")
        return await super().post_in_thread(community_external_id, thread, card)


async def test_an_answer_whose_author_deleted_their_data_before_its_late_post_is_not_posted(
    services: Services, alice: Caller, bob: Caller, chloe: Caller, clock: FrozenClock
) -> None:
    """Bob's answer failed to post (503); Bob deleted his data; the ANSWER job then posted an empty
    "a former member" answer and the card counted it."""
    notifier = ThreadsFail()
    services.notifiers["discord"] = notifier
    request_id = (await run(services, alice, ask, good_request())).request_id
    await run(services, chloe, submit_answer, request_id, False, AnswerForm(text="Très lisible"))
    notifier.failing_threads = True
    await run(services, bob, submit_answer, request_id, False, AnswerForm(text="Bien vu"))
    notifier.failing_threads = False
    await delete_member_data(services, bob, bob.member_id)
    for _ in range(3):
        clock.advance(timedelta(minutes=5))
        await services.scheduler.run_due()
    [space] = notifier.threads.values()
    assert len(notifier.in_channel(space.ref.thread_id)) == 1  # Chloé's alone
    [card] = notifier.in_channel(FEEDBACK_CHANNEL)
    assert "1 réponse" in str(card.fields), card.fields
    async with services.db.transaction() as session:
        assert list(await session.scalars(select(FeedbackAnswer.member_id))) == [chloe.member_id]


# -- export ------------------------------------------------------------------------------------------------


async def test_the_export_gives_each_kudos_its_month(
    services: Services, alice: Caller, bob: Caller
) -> None:
    request_id = (await run(services, alice, ask, good_request())).request_id
    answered = await run(services, bob, submit_answer, request_id, False, AnswerForm(text="Bien"))
    answer_id = answered.answer_id
    await run(services, alice, mark_helpful, answer_id)
    async with services.db.transaction() as session:
        given = (await export_member(session, alice.community_id, alice.member_id))["kudos_given"]
        received = (await export_member(session, bob.community_id, bob.member_id))["kudos_received"]
    assert [k["month"] for k in given] == [k["month"] for k in received] == ["2026-11"]
