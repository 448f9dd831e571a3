"""The closing note and the kudos after a privacy deletion; Helpful once a request is closed."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.clock import FrozenClock
from bot.context import Caller
from bot.errors import UserError
from bot.notifier import CannotPost, PostRef
from bot.services import Services
from bot.usecase import run
from cogs.feedback._feedback import ask, close_request, kudos_top, mark_helpful, submit_answer
from cogs.feedback._validation import AnswerForm
from cogs.feedback.models import Kudos
from cogs.privacy._privacy import delete_member_data
from storage.models import Community, Job, Post
from tests.fakes.notifier import RecordingNotifier
from tests.feedback.conftest import good_request


async def _ask(services: Services, caller: Caller, **changes: object) -> int:
    done = await run(services, caller, ask, good_request(**changes))
    assert done.published is not None and done.published.posted
    return done.request_id


async def _answer(services: Services, caller: Caller, request_id: int, *, anonymous: bool = False) -> int:
    form = AnswerForm(text="Bien vu")
    return (await run(services, caller, submit_answer, request_id, anonymous, form)).answer_id


def _shown(notifier: RecordingNotifier) -> str:
    return "\n".join(f"{c.title}\n{c.text}\n{c.fields}" for c in notifier.messages.values())


async def _privacy_jobs(services: Services, clock: FrozenClock) -> None:
    """The jobs a privacy deletion queued (FORGET dated by the wall clock), run."""
    async with services.db.transaction() as session:
        await session.execute(update(Job).where(Job.kind == "feedback.forget").values(due_at=clock.now()))
    for _ in range(3):
        clock.advance(timedelta(minutes=5))
        await services.scheduler.run_due()


def _notes(notifier: RecordingNotifier) -> list[str]:
    return [c.text for c in notifier.messages.values() if c.title.startswith("✅")]


async def test_a_requester_s_deletion_removes_the_closing_note_naming_her_request(
    services: Services, alice: Caller, bob: Caller, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """"Demande close : Logo secret pour Client X — Merci à Bob" was never recorded: once Alice deleted
    her data, her card and the answers went, this note naming her request stayed."""
    request_id = await _ask(services, alice, title="Logo secret pour Client X")
    await _answer(services, bob, request_id)
    await run(services, alice, close_request, request_id)
    assert "Logo secret pour Client X" in _shown(notifier)
    await delete_member_data(services, alice, alice.member_id)
    await _privacy_jobs(services, clock)
    assert "Logo secret pour Client X" not in _shown(notifier)
    async with services.db.transaction() as session:
        assert list(await session.scalars(select(Post.id).where(Post.feature == "feedback_closing"))) == []


async def test_the_closing_note_under_the_card_goes_too_when_threads_are_refused(
    services: Services, alice: Caller, bob: Caller, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    notifier.open_thread = _no_thread  # type: ignore[method-assign]
    request_id = await _ask(services, alice, title="Logo secret pour Client X")
    await _answer(services, bob, request_id)
    await run(services, alice, close_request, request_id)
    assert len(_notes(notifier)) == 1
    await delete_member_data(services, alice, alice.member_id)
    await _privacy_jobs(services, clock)
    assert "Logo secret pour Client X" not in _shown(notifier)


async def _no_thread(community_external_id: str, ref: PostRef, name: str) -> None:
    return None


async def test_a_reviewer_s_deletion_takes_their_name_out_of_the_closing_note(
    services: Services, alice: Caller, bob: Caller, chloe: Caller, notifier: RecordingNotifier,
    clock: FrozenClock,
) -> None:
    """Bob deleted his data: his answer became "a former member", the note still thanked him by name."""
    request_id = await _ask(services, alice)
    await _answer(services, bob, request_id)
    await _answer(services, chloe, request_id)
    await run(services, alice, close_request, request_id)
    assert _notes(notifier) == ["Merci à Bob, Chloé pour leurs avis !"]
    await delete_member_data(services, bob, bob.member_id)
    await _privacy_jobs(services, clock)
    assert _notes(notifier) == ["Merci à Chloé et à 1 relecteur·rice anonyme pour leurs avis !"]
    assert "Bob" not in _shown(notifier)


async def test_an_anonymous_reviewer_s_deletion_redraws_nothing(
    services: Services, alice: Caller, bob: Caller, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    request_id = await _ask(services, alice)
    await _answer(services, bob, request_id, anonymous=True)
    await run(services, alice, close_request, request_id)
    await delete_member_data(services, bob, bob.member_id)
    async with services.db.transaction() as session:
        assert list(await session.scalars(select(Job.id).where(Job.kind == "feedback.card"))) == []
    assert _notes(notifier) == ["Merci à 1 relecteur·rice anonyme pour son avis !"]


class ArchivedThreadsRefuseEdits(RecordingNotifier):
    """Discord: a message in an archived thread cannot be edited (50083) until a message reopens it."""

    async def edit(self, community_external_id: str, ref: PostRef, card):  # type: ignore[no-untyped-def]
        space = self.threads.get(ref.channel_id)
        if space is not None and space.archived:
            self.calls.append(("edit", ref.channel_id))
            raise CannotPost(ref.channel_id, "archived")  # Discord: 50083 "Thread is archived"
        return await super().edit(community_external_id, ref, card)

    async def post_in_thread(self, community_external_id, thread, card):  # type: ignore[no-untyped-def]
        space = self.threads.get(thread.thread_id)
        if space is not None:
            space.archived = False  # a message reopens an archived thread
        return await super().post_in_thread(community_external_id, thread, card)


async def test_in_an_archived_thread_the_note_is_redrawn_after_a_notice_reopens_it(
    services: Services, alice: Caller, bob: Caller, clock: FrozenClock
) -> None:
    notifier = ArchivedThreadsRefuseEdits()
    services.notifiers["discord"] = notifier
    request_id = await _ask(services, alice)
    await _answer(services, bob, request_id)
    await run(services, alice, close_request, request_id)
    [space] = notifier.threads.values()
    assert space.archived
    await delete_member_data(services, bob, bob.member_id)
    await _privacy_jobs(services, clock)
    assert _notes(notifier) == ["Merci à 1 relecteur·rice anonyme pour son avis !"]
    assert services.t("fr", "feedback.closed.updated") in _shown(notifier)
    assert space.archived


async def test_a_deleted_giver_s_kudos_leaves_its_month_s_count_after_a_time_zone_change(
    services: Services, alice: Caller, bob: Caller, clock: FrozenClock
) -> None:
    """Given 30 Nov 23:30 UTC, 1 Dec in Paris: counted in December. The zone then set to UTC, Alice's
    deletion looked for it in November and /kudos top kept "Bob : 1 kudos" for a kudos gone."""
    request_id = await _ask(services, alice)
    answer_id = await _answer(services, bob, request_id)
    clock.advance(datetime(2026, 11, 30, 23, 30, tzinfo=UTC) - clock.now())
    await run(services, alice, mark_helpful, answer_id)
    async with services.db.transaction() as session:
        community = await session.get(Community, alice.community_id)
        assert community is not None
        community.timezone = "UTC"
    await delete_member_data(services, alice, alice.member_id)
    clock.advance(timedelta(days=2))
    card = await run(services, dataclasses.replace(bob, timezone="UTC"), kudos_top, write=False)
    assert "Bob" not in str(card.fields), card.fields


async def test_helpful_is_refused_once_the_request_is_closed(
    services: Services, alice: Caller, bob: Caller
) -> None:
    """The answer card shows Helpful only while the request is open; a button left from before worked."""
    request_id = await _ask(services, alice)
    answer_id = await _answer(services, bob, request_id)
    await run(services, alice, close_request, request_id)
    with pytest.raises(UserError) as refused:
        await run(services, alice, mark_helpful, answer_id)
    assert refused.value.key == "feedback.errors.closed_helpful"
    async with services.db.transaction() as session:
        assert list(await session.scalars(select(Kudos.id))) == []
