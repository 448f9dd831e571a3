"""The RSVP card edit after the commit: the view read in the answer's transaction, edited by known message."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.context import Caller
from bot.services import Services
from bot.usecase import run
from cogs.afterworks._form import AfterworkForm
from cogs.afterworks._publish import answer_afterwork, create_afterwork, register_jobs
from storage.models import Post
from storage.settings import get_settings
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier


@pytest.fixture
def notifier(services: Services) -> RecordingNotifier:
    recording = RecordingNotifier()
    services.notifiers["discord"] = recording
    register_jobs(services)
    return recording


async def create(services: Services, caller: Caller, capacity: int = 5) -> int:
    async with services.db.transaction() as session:
        (await get_settings(session, caller.community_id)).afterworks_channel_id = "C-AW"
    form = AfterworkForm(
        title="Apéro", when="2026-12-04 19:00", where="Le Comptoir", city="Lyon", capacity=str(capacity)
    )
    return (await run(services, caller, create_afterwork, form, origin_channel_id="C-HERE")).afterwork_id


def going_field(notifier: RecordingNotifier) -> tuple[str, str]:
    [card] = notifier.in_channel("C-AW")
    return next((f.name, f.value) for f in card.fields if "/ 5" in f.name)


async def test_an_edit_finishing_after_a_newer_answer_never_shows_the_older_card(
    services: Services, notifier: RecordingNotifier
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    carol = await make_caller(services, "U3", name="Carol")
    aid = await create(services, alice)

    async def bob_answers_first(_: object) -> None:  # after Carol's commit, before her card edit
        await run(services, bob, answer_afterwork, aid, "going")

    await run(services, carol, answer_afterwork, aid, "going", respond=bob_answers_first)
    # Bob's edit (Carol and Bob going) went out first; Carol's, read before Bob's answer, is not sent.
    assert going_field(notifier) == ("Participant·es : 2 / 5", "Carol, Bob")


async def test_a_card_deleted_by_hand_is_forgotten_when_an_answer_edits_it(
    services: Services, notifier: RecordingNotifier
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    aid = await create(services, alice)
    notifier.messages.clear()  # someone deleted the card on the platform

    assert (await run(services, bob, answer_afterwork, aid, "going")).status == "going"
    async with services.db.transaction(write=False) as session:
        found = select(Post).where(Post.feature == "afterworks", Post.object_id == aid)
        posts = list(await session.scalars(found))
    assert posts == []
    await run(services, bob, answer_afterwork, aid, "cant")  # the next edit finds nothing to edit
    assert notifier.calls.count(("edit", "C-AW")) == 1


async def test_a_full_event_card_names_the_first_going_and_counts_the_rest(
    services: Services, notifier: RecordingNotifier
) -> None:
    """The card reads only the names it shows (NAMES_SHOWN) and counts the others and the waitlist."""
    alice = await make_caller(services, "U0", name="Alice")
    aid = await create(services, alice, capacity=17)
    people = [await make_caller(services, f"U{i}", name=f"Membre {i:02d}") for i in range(1, 21)]
    for person in people:
        await run(services, person, answer_afterwork, aid, "going")

    [card] = notifier.in_channel("C-AW")
    fields = {f.name: f.value for f in card.fields}
    names = [f"Membre {i:02d}" for i in range(1, 16)]
    assert fields["Participant·es : 17 / 17"] == ", ".join([*names, "et 2 autres"])
    answers = fields[services.t("fr", "afterworks.fields.answers")]
    assert services.t("fr", "afterworks.card.waitlist", count=3) in answers
