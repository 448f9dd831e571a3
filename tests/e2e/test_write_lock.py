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
from datetime import timedelta

import pytest
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


@pytest.mark.parametrize("renamed", [False, True])
async def test_slack_form_is_acknowledged_before_the_save_waits(slack: SlackHarness, renamed: bool) -> None:
    """Renamed: a member whose Slack name changed (seen once users.info is asked again) is stored
    after the answer too (before: their caller was written first, and Slack got a 404)."""
    view = await open_form(slack, slack.member_fr)
    await configure(slack)
    values = state(await trade_ids(slack, "Développement", "Design graphique"))  # read before the lock
    if renamed:
        slack.fake.users[slack.member_fr].name = "camille-dispo-janvier"
        slack.services.clock.advance(timedelta(minutes=6))  # users.info is asked again: the new name
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


# -- every slash command: its first answer never waits on the write lock --------------------------

def _samples(h: DiscordHarness, channel: object) -> dict[str, dict[str, object]]:
    """Options that take each command to its write (or its answer); every command must be here."""
    return {
        "help": {}, "intro": {}, "profile": {}, "members": {"city": "Lyon"},
        "availability": {"status": "busy"},
        "privacy export": {}, "privacy delete": {},
        "config trade add": {"name": "Photographie"},
        "config trade rename": {"trade": "Design graphique", "new_name": "Graphisme"},
        "config trade remove": {"trade": "Traduction"},
        "config trade channel": {"trade": "Rédaction", "channel": channel},
        "config sector add": {"name": "Tourisme"},
        "config sector rename": {"sector": "Santé", "new_name": "Santé et soin"},
        "config sector remove": {"sector": "Industrie"},
        "config pack set": {"name": "Vitrine", "trades": "Rédaction, Développement"},
        "config pack remove": {"name": "Vitrine"},
        "config show": {}, "config history": {},
        "config channel": {"which": "afterworks", "channel": channel},
        "config setting": {"setting": "limit.missions_per_week", "new_value": "4"},
        "config language": {"language": "en"},
        "config timezone": {"timezone": "Europe/Brussels"},
        "config reminders": {"reminders": "2d, 3h"},
        "config limit": {"which": "feedback_per_week", "value": 5},
        "config moderator-role": {}, "config purge-delay": {"days": 20},
        "config export": {}, "config import": {},
        "config remove-post": {"link": "https://discord.com/channels/1/2/3", "reason": "hors sujet"},
        "mission": {}, "missions": {},
        "afterwork create": {"title": "Apéro", "when": "2026-12-10 19:00", "where": "Le Comptoir"},
        "afterwork poll": {"title": "Apéro", "slot1": "2026-12-10 19:00", "slot2": "2026-12-11 19:00",
                           "where": "Le Comptoir"},
        "afterwork dms": {"on": False}, "afterworks": {},
        "feedback": {"title": "Ma maquette", "kind": "design", "link": "https://example.com/maquette"},
        "kudos": {}, "match": {"trades": "Rédaction, Développement"},
        "pairing join": {}, "pairing leave": {}, "pairing snooze": {"rounds": 1},
        "pairing avoid": {"member": h.member}, "pairing unavoid": {"member": h.member},
        "pairing history": {}, "pairing stats": {},
        "tasks list": {}, "tasks history": {},
        "tasks add": {"name": "Veille", "cadence": "weekly", "weekday": "tue"},
        "tasks remove": {"name": "Comptabilité"},
        "pool": {"title": "Logiciel de compta", "what": "Une licence partagée", "link": "https://example.com",
                 "tiers": "3:20", "minimum": 3, "deadline": "2026-12-20"},
    }


async def test_no_slash_command_waits_on_the_write_lock_before_its_first_answer(
    discord_harness: DiscordHarness,
) -> None:
    """Each command, as a moderator, while another process holds the write lock: Discord gets an
    answer, a "thinking…" or a form within its 3 s. A new command must be added to `_samples`."""
    from discord import app_commands

    h = discord_harness
    channel = h.guild.channel("design")
    await h.fake.invoke_slash(h.guild, h.member, "help")  # both known: no first-contact write
    await h.fake.invoke_slash(h.guild, h.moderator, "tasks add", {"name": "Comptabilité", "cadence": "weekly",
                                                                  "weekday": "mon"})
    samples = _samples(h, channel)
    commands = sorted(c.qualified_name for c in h.bot.tree.walk_commands()
                      if isinstance(c, app_commands.Command))
    assert sorted(samples) == commands

    waited: list[str] = []
    for name in commands:
        # Taken for each command and let go after it: what a command defers waits for the lock
        # meanwhile, then writes, and a command that waited does not hold up the next one.
        with write_locked(h.services.settings.database.url):
            sent = await h.fake.invoke_slash(h.guild, h.moderator, name, samples[name], wait=False)
            try:
                await sent.wait_answer(2.5)  # the first answer; what a "thinking…" announces may wait
            except TimeoutError:
                waited.append(name)
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # the last writes end before the bot stops
    assert waited == [], f"waited on the lock before answering: {', '.join(waited)}"


async def test_no_autocomplete_waits_on_the_write_lock(discord_harness: DiscordHarness) -> None:
    """Suggestions cannot be deferred: every option with autocomplete answers within Discord's 3 s
    while another process holds the write lock, for a moderator who typed a letter."""
    from discord import app_commands

    h = discord_harness
    await h.fake.invoke_slash(h.guild, h.moderator, "help")  # known: no first-contact write
    options = sorted((c.qualified_name, p.name) for c in h.bot.tree.walk_commands()
                     if isinstance(c, app_commands.Command) for p in c.parameters if p.autocomplete)
    assert len(options) >= 8
    waited: list[str] = []
    for name, option in options:
        with write_locked(h.services.settings.database.url):
            try:
                await h.fake.autocomplete(h.guild, h.moderator, name, {option: "a"}, option, timeout=2.5)
            except TimeoutError:
                waited.append(f"{name} {option}")
        await asyncio.sleep(0.05)
    assert waited == [], f"waited on the lock: {', '.join(waited)}"


async def test_a_first_contact_behind_the_lock_is_told_to_retry_then_served(
    discord_harness: DiscordHarness,
) -> None:
    """A member's very first interaction stores them (a write): behind another process's write lock it
    is answered within Discord's 3 s that Collectif is busy (before: it waited on the lock and Discord
    dropped it, 10062), nothing is half-stored, and once the lock is gone the same command works."""
    from storage.models import Member

    h = discord_harness
    newcomer = h.fake.add_user("Nina", guild=h.guild)
    with write_locked(h.services.settings.database.url):
        started = time.perf_counter()
        sent = await h.fake.invoke_slash(h.guild, newcomer, "help", wait=False)
        answer = await sent.wait_answer(2.8)
        assert time.perf_counter() - started < 2.8
    assert answer.content == h.t("fr", "errors.busy")
    async with h.services.db.transaction(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(Member).where(
            Member.platform_user_id == str(newcomer.id))) == 0
    helped = await h.fake.invoke_slash(h.guild, newcomer, "help")
    assert helped.content != h.t("fr", "errors.busy")
    async with h.services.db.transaction(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(Member).where(
            Member.platform_user_id == str(newcomer.id))) == 1


async def test_a_member_with_a_new_name_is_answered_then_the_name_stored(
    discord_harness: DiscordHarness,
) -> None:
    """A new nickname (or client language) is stored after the answer: behind another process's
    write lock, a renamed member's /help is answered at once (before: the caller's update waited on
    the lock first, and Discord dropped the interaction)."""
    from storage.models import Member

    h = discord_harness
    await h.fake.invoke_slash(h.guild, h.member, "help")
    h.member.name = "Camille (dispo en janvier)"
    with write_locked(h.services.settings.database.url):
        sent = await h.fake.invoke_slash(h.guild, h.member, "help", wait=False)
        await sent.wait_answer(2.5)
    await h.services.settle()
    async with h.services.db.transaction(write=False) as session:
        names = list(await session.scalars(select(Member.display_name).where(
            Member.platform_user_id == str(h.member.id))))
    assert names == ["Camille (dispo en janvier)"]
