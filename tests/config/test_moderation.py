"""Moderators remove a member's post with a reason: message deleted, row gone, author told, logged."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.errors import InvalidInput, NotFound
from bot.notifier import PostRef
from cogs.config._context import run
from cogs.config._moderation import register_jobs, remove_post, remove_post_by_link
from cogs.config._refs import message_link
from cogs.config._settings import set_setting
from cogs.config.models import AuditEntry
from storage.models import Member, Post
from tests.config.conftest import GUILD_A, GUILD_B, INTROS, MODLOG, make_caller, snapshot
from tests.fakes.notifier import RecordingNotifier

MESSAGE = "200000000000000001"


async def _post(services, caller, message_id=MESSAGE, channel=INTROS) -> None:
    async with services.db.transaction() as s:
        s.add(
            Post(
                community_id=caller.community_id,
                member_id=caller.member_id,
                feature="intros",
                object_id=7,
                channel_id=channel,
                message_id=message_id,
                posted_at=services.clock.now(),
            )
        )


async def _posts(services) -> list[tuple[int, str]]:
    async with services.db.transaction() as s:
        return [(p.community_id, p.message_id) for p in await s.scalars(select(Post))]


def _link(guild=GUILD_A, channel=INTROS, message=MESSAGE) -> str:
    return f"https://discord.com/channels/{guild}/{channel}/{message}"


async def test_removing_a_post(config_services, mod, notifier):
    author = await make_caller(config_services, "author", moderator=False, locale="en")
    async with config_services.db.transaction() as s:
        (await s.get(Member, author.member_id)).locale = "en"  # DMs go in the member's language when known
    await _post(config_services, author)
    await run(config_services, mod, set_setting, "channel.modlog", MODLOG)
    card = await run(config_services, mod, remove_post_by_link, _link(), "  Pas de   publicité  ")
    assert "Pas de publicité" in card.text
    assert await _posts(config_services) == []
    assert notifier.deleted == [PostRef(INTROS, MESSAGE)]
    [(user, dm, _)] = notifier.dms
    assert user == "author"
    assert dm.title == "Your post was removed"  # the author's language
    assert "Reason: Pas de publicité" in dm.text and f"<#{INTROS}>" in dm.text
    async with config_services.db.transaction() as s:
        entry = await s.scalar(select(AuditEntry).where(AuditEntry.setting == "post.remove"))
    assert (entry.subject_member_id, entry.old_value, entry.new_value, entry.target) == (
        author.member_id,
        "intros #7",
        "Pas de publicité",
        "User author",
    )
    assert notifier.posts[-1][1] == MODLOG
    assert "Publication retirée" in notifier.posts[-1][2].text


@pytest.mark.parametrize(
    ("link", "error"),
    [
        ("not a link", InvalidInput),
        (_link(guild=GUILD_B), NotFound),  # a message of another server
        (_link(message="200000000000000099"), NotFound),  # not a post of Collectif
    ],
)
async def test_links_that_do_not_name_one_of_our_posts(config_services, mod, notifier, link, error):
    await _post(config_services, mod)
    before = await snapshot(config_services)
    with pytest.raises(error):
        await run(config_services, mod, remove_post_by_link, link, "spam")
    assert await snapshot(config_services) == before
    assert notifier.deleted == [] and notifier.dms == []


async def test_a_post_of_another_community_is_not_found(config_services, mod, mod_b, notifier):
    await _post(config_services, mod_b)
    with pytest.raises(NotFound):
        await run(config_services, mod, remove_post, INTROS, MESSAGE, "spam")
    assert await _posts(config_services) == [(mod_b.community_id, MESSAGE)]


async def test_a_reason_is_required(config_services, mod, notifier):
    await _post(config_services, mod)
    for reason in ("", "   ", "x" * 501):
        with pytest.raises(InvalidInput):
            await run(config_services, mod, remove_post, INTROS, MESSAGE, reason)
    assert len(await _posts(config_services)) == 1


async def test_two_moderators_removing_the_same_post(config_services, mod, notifier):
    other = await make_caller(config_services, "mod-2")
    await _post(config_services, mod)
    results = await asyncio.gather(
        run(config_services, mod, remove_post, INTROS, MESSAGE, "a"),
        run(config_services, other, remove_post, INTROS, MESSAGE, "b"),
        return_exceptions=True,
    )
    assert sum(isinstance(r, NotFound) for r in results) == 1
    assert len(notifier.dms) == 1


def test_message_links_of_each_platform():
    assert message_link("discord", f"<{_link()}>") == (GUILD_A, INTROS, MESSAGE)
    assert message_link("discord", "https://ptb.discord.com/channels/1/2/3") == ("1", "2", "3")
    assert message_link("slack", "https://acme.slack.com/archives/C024BE91L/p1355517523000008") == (
        None,
        "C024BE91L",
        "1355517523.000008",
    )
    assert message_link("slack", "https://acme.slack.com/archives/C1/p1355517523000008?thread_ts=1.2") == (
        None,
        "C1",
        "1355517523.000008",
    )
    assert message_link("slack", _link()) is None


async def test_a_deleted_member_name_leaves_the_history(config_services, mod, notifier):
    from cogs.config._audit import history
    from cogs.privacy._privacy import delete_member_data

    author = await make_caller(config_services, "author", moderator=False, locale="en")
    await _post(config_services, author)
    await run(config_services, mod, remove_post_by_link, _link(), "spam")
    before = await run(config_services, mod, history)
    assert any("User author" in field.value for field in before.fields)

    await delete_member_data(config_services, author, author.member_id)

    after = await run(config_services, mod, history)
    assert not any("User author" in field.value or "User author" in field.name for field in after.fields)
    async with config_services.db.transaction() as s:
        entry = await s.scalar(select(AuditEntry).where(AuditEntry.setting == "post.remove"))
    assert (entry.subject_member_id, entry.target, entry.new_value) == (None, "", "spam")


class FailingDeletes(RecordingNotifier):
    """The platform answers every deletion with a 5xx (an outage lasting longer than the retries)."""

    async def delete(self, community_external_id: str, ref: PostRef) -> bool:
        self.calls.append(("delete", ref.channel_id))
        raise RuntimeError("503 Service Unavailable")


async def test_a_post_the_platform_never_deleted_is_listed_again_and_the_moderators_told(
    config_services, mod, clock
):
    """The job retries the deletion with the jobs' backoff; once every attempt failed, the row comes back
    (removing it again works, a privacy deletion still finds it) and the moderation log says so."""
    notifier = FailingDeletes()
    config_services.notifiers["discord"] = notifier
    register_jobs(config_services)
    author = await make_caller(config_services, "author", moderator=False)
    await _post(config_services, author)
    await run(config_services, mod, set_setting, "channel.modlog", MODLOG)
    await run(config_services, mod, remove_post, INTROS, MESSAGE, "spam")
    assert await _posts(config_services) == []
    for _ in range(8):
        clock.advance(timedelta(hours=1))
        await config_services.scheduler.run_due()
    deletes = [call for call in notifier.calls if call[0] == "delete"]
    assert len(deletes) == 1 + config_services.scheduler.max_attempts  # at once, then the job's attempts
    assert await _posts(config_services) == [(mod.community_id, MESSAGE)]
    notice = notifier.posts[-1]
    assert notice.channel_id == MODLOG and notice.card.title == "Publication non retirée"
    assert f"<#{INTROS}>" in notice.card.text
    await run(config_services, mod, remove_post, INTROS, MESSAGE, "spam")  # not "unknown post"
