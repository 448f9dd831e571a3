"""The platforms never wait on a database write lock: answers come first, the writes after.

Another process holds SQLite's write lock for a few seconds (a long import, a backup, a second bot
process). Discord loses an interaction not answered within 3 s (10062) and Slack gives up on a form
after 3 s: searches answer from a read-only transaction, forms are checked read-only and answered
before the save waits.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, select

from cogs.directory.models import DirectoryQuery
from cogs.intros.models import Profile
from tests.directory.factory import add_profile
from tests.e2e.conftest import DiscordHarness
from tests.e2e.slack_harness import SlackHarness
from tests.e2e.test_intros_slack import configure, open_form, state, trade_ids
from tests.fakes.callers import make_caller

pytest_plugins = ["tests.e2e.slack_harness"]
LOCK_SECONDS = 4.0


@contextmanager
def write_locked(url: str) -> Iterator[None]:
    """Another connection holds the write lock (BEGIN IMMEDIATE) until the block ends."""
    other = sqlite3.connect(url.removeprefix("sqlite+aiosqlite:///"), timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


async def release_after(seconds: float, lock: contextmanager) -> None:  # type: ignore[type-arg]
    await asyncio.sleep(seconds)
    lock.__exit__(None, None, None)


async def test_discord_search_answers_while_another_process_writes(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    for i in range(6):
        member = await make_caller(h.services, str(500 + i), guild=str(h.guild.id), name=f"Membre {i}")
        async with h.services.db.transaction() as session:
            await add_profile(session, member, skills=("Figma",))
    await h.fake.invoke_slash(h.guild, h.member, "help")  # the member is known: no first-contact write

    lock = write_locked(h.services.settings.database.url)
    lock.__enter__()
    releasing = asyncio.create_task(release_after(LOCK_SECONDS, lock))
    began = time.perf_counter()
    answer = await h.fake.invoke_slash(h.guild, h.member, "members", {"skill": "figma"}, timeout=3.0)
    answered = time.perf_counter() - began

    assert answered < 1.0, f"answered after {answered:.2f} s behind a {LOCK_SECONDS} s write lock"
    assert answer.embeds and answer.ephemeral
    await releasing
    for _ in range(50):  # the paging token is stored once the lock is gone
        async with h.services.db.transaction() as session:
            if await session.scalar(select(func.count()).select_from(DirectoryQuery)):
                break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the search was never stored for paging")


async def test_slack_form_is_acknowledged_before_the_save_waits(slack: SlackHarness) -> None:
    view = await open_form(slack, slack.member_fr)
    await configure(slack)
    values = state(await trade_ids(slack, "Développement", "Design graphique"))  # read before the lock
    lock = write_locked(slack.services.settings.database.url)
    lock.__enter__()
    releasing = asyncio.create_task(release_after(LOCK_SECONDS, lock))
    began = time.perf_counter()
    answer = await slack.sender.view_submission("intros:form", values, user_id=slack.member_fr,
                                                private_metadata=view["private_metadata"])
    acked = time.perf_counter() - began

    assert answer.status == 200 and answer.text == ""  # the modal closes
    assert acked < 1.0, f"acknowledged after {acked:.2f} s behind a {LOCK_SECONDS} s write lock"
    await releasing
    note = await slack.fake.wait_for_call("chat.postEphemeral", within=10)  # then saved, and told
    assert slack.t("fr", "intros.saved.posted", count=3) in note.args["text"]
    async with slack.services.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Profile)) == 1


async def test_an_outcome_discord_no_longer_takes_reaches_the_member_by_dm(
    discord_harness: DiscordHarness, caplog
) -> None:
    """The follow-up token died (15 minutes on Discord) before the intro was saved and posted: the
    profile is saved all the same and the member is told by DM, with a warning in the logs."""
    from tests.e2e.test_intros_discord import configure_channels, profiles, run_intro

    h = discord_harness
    await configure_channels(h)
    h.fake.followup_deadline = 0.0
    submitted = await run_intro(h, h.member)
    for _ in range(50):
        if h.fake.dm_messages(h.member):
            break
        await asyncio.sleep(0.1)
    [dm] = h.fake.dm_messages(h.member)
    assert h.t("fr", "intros.saved.created") in dm["content"]
    assert dm["allowed_mentions"] == {"parse": []}
    assert submitted.followups == []
    assert len(await profiles(h)) == 1
    assert "expired" in caplog.text
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
