"""A file attached to /feedback (Discord): bounded, posted with the card, its name kept."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot.context import Caller
from bot.errors import InvalidInput
from bot.services import Services
from bot.usecase import run
from cogs.feedback._feedback import ask
from cogs.feedback._store import export_member
from cogs.feedback._validation import MAX_FILE_BYTES, AttachedFile, validate_request
from cogs.feedback.models import FeedbackRequest
from tests.fakes.notifier import RecordingNotifier
from tests.feedback.conftest import FEEDBACK_CHANNEL, good_request


def test_an_attached_file_over_the_limit_is_refused_with_its_size() -> None:
    today = date(2026, 11, 26)
    big = AttachedFile("maquette.psd", MAX_FILE_BYTES + 1)
    with pytest.raises(InvalidInput) as refused:
        validate_request(good_request(file=big), today, "fr")
    assert refused.value.problems["file"] == ("feedback.problems.file_too_big", {"max": 8, "size": 9})
    at_limit = AttachedFile("maquette.png", MAX_FILE_BYTES, "image/png", b"x" * MAX_FILE_BYTES)
    data = validate_request(good_request(file=at_limit), today, "fr")
    assert data.file_name == "maquette.png" and data.file is not None
    assert (data.file.filename, data.file.content_type) == ("maquette.png", "image/png")
    named = validate_request(good_request(file=AttachedFile("a" * 5000 + ".png", 3)), today, "fr")
    assert named.file_name is not None and len(named.file_name) == 255 and named.file_name.endswith(".png")


async def test_an_attached_file_goes_with_the_card_and_the_request_keeps_its_name(
    services: Services, alice: Caller, notifier: RecordingNotifier
) -> None:
    """Discord's interaction attachments expire: the file is posted with the card (an edit keeps it),
    the card names it, and the request keeps its name, never the expiring URL."""
    attached = AttachedFile("maquette.png", 4, "image/png", b"\x89PNG")
    done = await run(services, alice, ask, good_request(file=attached))
    assert done.published is not None and done.published.posted
    [card] = notifier.in_channel(FEEDBACK_CHANNEL)
    assert [(a.filename, a.content) for a in card.attachments] == [("maquette.png", b"\x89PNG")]
    shown = "\n".join(f.value for f in card.fields)
    assert "📎 maquette.png (joint à ce message)" in shown
    async with services.db.transaction() as session:
        row = await session.scalar(select(FeedbackRequest))
        assert row is not None
        assert (row.file_name, row.links) == ("maquette.png", ["https://alice.example/logo.png"])
        exported = await export_member(session, alice.community_id, alice.member_id)
    assert exported["requests"][0]["file_name"] == "maquette.png"
