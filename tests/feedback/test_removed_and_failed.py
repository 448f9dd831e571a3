"""A request card or answer a moderator removed stays removed; a close the platform failed is done later."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.context import Caller
from bot.errors import UserError
from bot.notifier import PostRef
from bot.services import Services
from bot.usecase import run
from cogs.config._context import run as config_run
from cogs.config._moderation import register_jobs, remove_post
from cogs.feedback._feedback import answer_form, ask, check_answer, close_request, submit_answer
from cogs.feedback._store import ANSWER_POSTS, FEATURE
from cogs.feedback._validation import AnswerForm
from storage.models import Post
from tests.fakes.notifier import RecordingNotifier
from tests.feedback.conftest import FEEDBACK_CHANNEL, good_request


class EditsFail(RecordingNotifier):
    """The platform answers 503 to edits in `failing_edits` and to posts in threads of `failing_threads`."""

    def __init__(self) -> None:
        super().__init__()
        self.failing_edits: set[str] = set()
        self.failing_threads = False

    async def edit(self, community_external_id: str, ref: PostRef, card):  # type: ignore[no-untyped-def]
        if ref.channel_id in self.failing_edits:
            self.calls.append(("edit", ref.channel_id))
            raise RuntimeError(f"503 Service Unavailable editing in {ref.channel_id}")
        return await super().edit(community_external_id, ref, card)

    async def post_in_thread(self, community_external_id, thread, card):  # type: ignore[no-untyped-def]
        if self.failing_threads:
            self.calls.append(("post_in_thread", thread.thread_id))
            raise RuntimeError("503 Service Unavailable")
        return await super().post_in_thread(community_external_id, thread, card)


@pytest.fixture
def flaky(services: Services, notifier: RecordingNotifier) -> EditsFail:
    fake = EditsFail()
    services.notifiers["discord"] = fake
    return fake


async def _ask(services: Services, caller: Caller, **changes: object) -> int:
    done = await run(services, caller, ask, good_request(**changes))
    assert done.published is not None and done.published.posted
    return done.request_id


async def _answer(services: Services, caller: Caller, request_id: int, text: str = "Bien vu") -> int:
    return (await run(services, caller, submit_answer, request_id, False, AnswerForm(text=text))).answer_id


async def _post(services: Services, feature: str, object_id: int) -> Post:
    async with services.db.transaction() as session:
        post = await session.scalar(select(Post).where(Post.feature == feature, Post.object_id == object_id))
    assert post is not None
    return post


async def _remove(services: Services, moderator: Caller, feature: str, object_id: int) -> None:
    post = await _post(services, feature, object_id)
    await config_run(services, moderator, remove_post, post.channel_id, post.message_id, "contenu injurieux")


async def _run_jobs(services: Services, clock: FrozenClock, after: timedelta, times: int = 1) -> None:
    for _ in range(times):
        clock.advance(after)
        await services.scheduler.run_due()


# -- a request card a moderator removed --------------------------------------------------------------


async def test_a_removed_request_card_is_not_nudged_back_nor_due_dated(
    services: Services, alice: Caller, moderator: Caller, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """The nudge checked the request's message id, not its card's `posts` row: two days after a
    moderator removed the card, "Still waiting for feedback: <title>" with **Give feedback** came back."""
    register_jobs(services)
    request_id = await _ask(services, alice, title="Titre injurieux", due="2026-11-27")
    await _remove(services, moderator, FEATURE, request_id)
    assert notifier.in_channel(FEEDBACK_CHANNEL) == []
    await _run_jobs(services, clock, timedelta(hours=49))
    assert notifier.in_channel(FEEDBACK_CHANNEL) == []
    assert [d for d in notifier.dms if d.card.title.startswith("⏰")] == []


async def test_a_request_whose_card_was_removed_takes_no_more_answers(
    services: Services, alice: Caller, bob: Caller, moderator: Caller
) -> None:
    request_id = await _ask(services, alice)
    await _remove(services, moderator, FEATURE, request_id)
    for use_case, args in (
        (answer_form, (request_id, False)),
        (check_answer, (request_id, False, AnswerForm(text="Bien"))),
        (submit_answer, (request_id, False, AnswerForm(text="Bien"))),
    ):
        with pytest.raises(UserError) as refused:
            await run(services, bob, use_case, *args)
        assert refused.value.key == "feedback.errors.removed"
    assert services.t("fr", "feedback.errors.removed") == (
        "Cette demande d’avis a été retirée par la modération : elle ne prend plus de réponses."
    )


# -- an answer a moderator removed --------------------------------------------------------------------


async def test_an_answer_a_moderator_removed_is_not_posted_again_by_the_card_s_retry(
    services: Services, alice: Caller, bob: Caller, moderator: Caller, flaky: EditsFail, clock: FrozenClock
) -> None:
    """The answer is posted, the card's edit fails (503): the ANSWER job is queued. A moderator removes
    the answer meanwhile; the job found no post recorded for it and posted it again."""
    register_jobs(services)
    request_id = await _ask(services, alice)
    flaky.failing_edits.add(FEEDBACK_CHANNEL)
    answer_id = await _answer(services, bob, request_id, text="Texte abusif")
    flaky.failing_edits.clear()
    post = await _post(services, ANSWER_POSTS, answer_id)
    await _remove(services, moderator, ANSWER_POSTS, answer_id)
    await _run_jobs(services, clock, timedelta(minutes=4))
    assert [c.text for c in flaky.in_channel(post.channel_id)] == []
    [card] = flaky.in_channel(FEEDBACK_CHANNEL)
    assert "1 réponse" in str(card.fields)  # the card's edit is done all the same


async def test_an_answer_whose_post_failed_is_posted_by_the_job_once(
    services: Services, alice: Caller, bob: Caller, flaky: EditsFail, clock: FrozenClock
) -> None:
    request_id = await _ask(services, alice)
    flaky.failing_threads = True
    await _answer(services, bob, request_id, text="Posté plus tard")
    flaky.failing_threads = False
    await _run_jobs(services, clock, timedelta(minutes=4), times=3)
    shown = [c.text for (channel, _), c in flaky.messages.items() if channel.startswith("thread-")]
    assert shown == ["Posté plus tard"]


# -- a close the platform failed to finish ------------------------------------------------------------


async def test_a_close_whose_card_edit_failed_is_edited_by_the_card_job(
    services: Services, alice: Caller, bob: Caller, flaky: EditsFail, clock: FrozenClock
) -> None:
    """Closed during a 503 on the card's channel: the card kept **Give feedback** / **Close** for good
    (the failed edit was only logged, "no retry declared")."""
    request_id = await _ask(services, alice)
    await _answer(services, bob, request_id)
    flaky.failing_edits.add(FEEDBACK_CHANNEL)
    await run(services, alice, close_request, request_id)
    flaky.failing_edits.clear()
    [card] = flaky.in_channel(FEEDBACK_CHANNEL)
    assert card.actions != ()
    await _run_jobs(services, clock, timedelta(minutes=5), times=2)
    [card] = flaky.in_channel(FEEDBACK_CHANNEL)
    assert card.actions == ()
    [space] = flaky.threads.values()
    assert space.archived
    notes = [c for c in flaky.in_channel(space.ref.thread_id) if c.title.startswith("✅")]
    assert len(notes) == 1


async def test_a_closing_note_the_platform_failed_is_posted_later_then_the_thread_archived_once(
    services: Services, alice: Caller, bob: Caller, flaky: EditsFail, clock: FrozenClock
) -> None:
    request_id = await _ask(services, alice)
    await _answer(services, bob, request_id)
    flaky.failing_threads = True
    await run(services, alice, close_request, request_id)
    [space] = flaky.threads.values()
    assert not space.archived  # the note first: archived after it
    await _run_jobs(services, clock, timedelta(minutes=5))  # still failing: retried with the backoff
    flaky.failing_threads = False
    await _run_jobs(services, clock, timedelta(minutes=10), times=3)
    assert space.archived
    notes = [c for c in flaky.in_channel(space.ref.thread_id) if c.title.startswith("✅")]
    assert [n.text for n in notes] == ["Merci à Bob pour son avis !"]
    from cogs.feedback._store import CLOSING_POSTS

    note = await _post(services, CLOSING_POSTS, request_id)
    assert note.member_id == alice.member_id  # the requester's: it goes with her data
