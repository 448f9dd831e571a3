"""After the commit: the user is answered first, and a failing modlog neither hides nor undoes the change."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cogs.config import _audit
from cogs.config._context import run
from cogs.config._moderation import remove_post
from cogs.config._settings import set_setting
from storage.models import Post
from tests.config.conftest import INTROS, MODLOG, make_caller

MESSAGE = "200000000000000001"


async def _author_post(services) -> None:
    author = await make_caller(services, "author", moderator=False)
    async with services.db.transaction() as s:
        s.add(
            Post(
                community_id=author.community_id,
                member_id=author.member_id,
                feature="intros",
                object_id=7,
                channel_id=INTROS,
                message_id=MESSAGE,
                posted_at=services.clock.now(),
            )
        )


async def test_a_modlog_that_cannot_be_built_still_deletes_the_message_and_tells_the_author(
    config_services, mod, notifier, monkeypatch
):
    await _author_post(config_services)
    await run(config_services, mod, set_setting, "channel.modlog", MODLOG)

    async def broken(*args, **kwargs):  # e.g. the platform did not answer a channel lookup
        raise RuntimeError("Slack is down")

    monkeypatch.setattr(_audit, "modlog_notice", broken)
    card = await run(config_services, mod, remove_post, INTROS, MESSAGE, "spam")
    assert "spam" in card.text
    assert [ref.message_id for ref in notifier.deleted] == [MESSAGE]
    assert [user for user, _, _ in notifier.dms] == ["author"]
    async with config_services.db.transaction() as s:
        assert await s.scalar(select(Post)) is None


async def test_the_user_is_answered_before_the_modlog_post_the_deletion_and_the_dm(
    config_services, mod, notifier
):
    await _author_post(config_services)
    await run(config_services, mod, set_setting, "channel.modlog", MODLOG)
    seen: list[tuple[int, int, int]] = []

    async def respond(card) -> None:
        seen.append((len(notifier.posts), len(notifier.deleted), len(notifier.dms)))

    posted = len(notifier.posts)
    await run(config_services, mod, remove_post, INTROS, MESSAGE, "spam", respond=respond)
    assert seen == [(posted, 0, 0)]
    assert (len(notifier.posts), len(notifier.deleted), len(notifier.dms)) == (posted + 1, 1, 1)


async def test_the_effects_run_even_when_answering_fails(config_services, mod, notifier):
    await _author_post(config_services)

    async def expired(card) -> None:
        raise TimeoutError("interaction expired")

    with pytest.raises(TimeoutError):
        await run(config_services, mod, remove_post, INTROS, MESSAGE, "spam", respond=expired)
    assert [ref.message_id for ref in notifier.deleted] == [MESSAGE]
    assert len(notifier.dms) == 1
