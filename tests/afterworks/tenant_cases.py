"""Afterworks tenant cases (registry: tests/tenant.py): B's afterwork, tried from community A."""

from __future__ import annotations

from bot.services import Services
from bot.usecase import run
from cogs.afterworks._form import AfterworkForm
from cogs.afterworks._polls import check_vote, pick, vote
from cogs.afterworks._publish import (
    answer_afterwork,
    calendar_of,
    cancel_afterwork,
    check_answer,
    edit_afterwork,
    edit_form,
    end_series,
)
from cogs.afterworks.models import Afterwork, Poll, PollSlot
from tests.tenant import Case, World

FORM = AfterworkForm(title="Apéro", when="2027-06-04 19:00", where="Le Comptoir")

CASES = [
    Case(
        "afterworks: Going / Maybe / Can't of an afterwork id",
        "b_afterwork",
        lambda s, c, i: run(s, c, answer_afterwork, i, "going"),
        covers=("afterworks:rsvp:42:going", "afterworks:rsvp:42:maybe", "afterworks:rsvp:42:cant"),
    ),
    Case(
        "afterworks: the read-only check before an answer",
        "b_afterwork",
        lambda s, c, i: run(s, c, check_answer, i, write=False),
    ),
    Case(
        "afterworks: Add to calendar of an afterwork id",
        "b_afterwork",
        lambda s, c, i: run(s, c, calendar_of, i, write=False),
        covers=("afterworks:ics:42",),
    ),
    Case(
        "afterworks: Edit of an afterwork id",
        "b_afterwork",
        lambda s, c, i: run(s, c, edit_form, i, write=False),
        covers=("afterworks:edit:42",),
    ),
    Case(
        "afterworks: the edit form of an afterwork id",
        "b_afterwork",
        lambda s, c, i: run(s, c, edit_afterwork, i, FORM),
        covers=("afterworks:edit_form:42",),
    ),
    Case(
        "afterworks: Cancel of an afterwork id",
        "b_afterwork",
        lambda s, c, i: run(s, c, cancel_afterwork, i),
        covers=("afterworks:cancel:42",),
    ),
    Case(
        "afterworks: End the series of an afterwork id",
        "b_afterwork",
        lambda s, c, i: run(s, c, end_series, i),
        covers=("afterworks:end:42",),
    ),
    Case(
        "afterworks: tick a date poll's slot id",
        "b_slot",
        lambda s, c, i: run(s, c, vote, i),
        covers=("afterworks:vote:42",),
    ),
    Case(
        "afterworks: the read-only check before a tick or a pick",
        "b_slot",
        lambda s, c, i: run(s, c, check_vote, i, write=False),
    ),
    Case(
        "afterworks: pick a date poll's slot id",
        "b_slot",
        lambda s, c, i: run(s, c, pick, i),
        covers=("afterworks:pick:42",),
    ),
]


async def seed(services: Services, world: World) -> None:
    """B's afterwork, organized by B's first member, far ahead."""
    from datetime import UTC, datetime

    async with services.db.transaction() as session:
        afterwork = Afterwork(
            community_id=world.b.community_id,
            organizer_id=world.b.member_id,
            title="Apéro B",
            starts_at=datetime(2027, 6, 4, 17, 0, tzinfo=UTC),
        )
        session.add(afterwork)
        poll = Poll(community_id=world.b.community_id, organizer_id=world.b.member_id, title="Sondage B",
                    details={"title": "Sondage B", "where": "Le Comptoir"})
        session.add(poll)
        await session.flush()
        slot = PollSlot(community_id=world.b.community_id, poll_id=poll.id, position=1,
                        starts_at=datetime(2027, 6, 4, 17, 0, tzinfo=UTC))
        session.add(slot)
        await session.flush()
        world.ids.update(b_afterwork=afterwork.id, b_slot=slot.id)

WITHOUT_OBJECT_IDS = {
    "afterworks:confirm:0123abcd": "the caller's own summary draft, kept in memory by community and member: "
                                   "names no stored object",
}
