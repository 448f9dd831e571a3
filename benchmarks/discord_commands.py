"""Every Discord command of Collectif beside a stock discord.py bot, through the same fake Discord.

Run: `.venv/bin/python -m benchmarks.discord_commands [--runs 150] [--profiles 10000]`.
Targets (issue 7): each command's median <= 2x the floor's and p99 <= 10 ms; `/members` median <= 2 ms.

The time is what Discord sees: INTERACTION_CREATE sent on the gateway -> first interaction callback
received (a message, a "thinking..." defer, or autocomplete choices). For a command that defers,
the time to its answer (the first follow-up) is printed too.

Each bot runs in its own process, as it would in production, while this process runs the fakes
(the same FakeDiscord, one instance per bot, on 127.0.0.1) and sends the interactions:
- Collectif is `collectif run` (the console script) with `DISCORD_TOKEN`,
  `COLLECTIF_DISCORD__API_BASE_URL` and a temporary SQLite database seeded with `--profiles`
  profiles in the guild (benchmarks.directory's seed), the callers among them; the /config
  commands run in a second guild (a setting change forgets the resolved callers of its community:
  in the members' guild every round would start with cold callers);
- the floor is a stock `AutoShardedBot` with one slash command answering a text (`--floor` runs it);
- when `/profile` or `/members` skill is timed, a third bot, the stack's floor (`--stack-floor`),
  answers its own with the same libraries used as documented and untuned: stock discord.py,
  SQLAlchemy's asyncio ORM on its stock aiosqlite dialect, reading the same database (`/profile`: the
  member's profile and lists in two statements, an embed of the same fields, three buttons;
  `/members`: the count, a page of 5 by last update and their skills, an embed and two buttons).
  The trivial floor says what discord.py costs; this one what the libraries cost for the command's
  work, before Collectif's own.
Interactions alternate between the bots, one in flight at a time, with a short pause after
each for the work an answer lets go on (storing a search for paging, the modlog post), so that
a busy machine weighs on both alike. Ratios are medians over the floor's median of the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PAUSE = 0.01  # seconds after each answer: what the answer let go on is over by then
USERS = 20
GUILD_ID = 900_000_000_000_000_001  # the 10,000 profiles
CONFIG_GUILD_ID = 900_000_000_000_000_002  # /config: a setting change forgets its community's callers
MEDIAN_RATIO, P99_MS, MEMBERS_MEDIAN_MS = 2.0, 10.0, 2.0  # issue 7


# -- the floor: a stock discord.py bot, in its own process ----------------------------------------

def run_floor(api_base: str, token: str) -> None:
    import discord
    from discord.ext import commands

    discord.http.Route.BASE = api_base

    class Floor(commands.AutoShardedBot):
        async def setup_hook(self) -> None:
            await self.tree.sync()

    bot = Floor(command_prefix="!", intents=discord.Intents.default(), guild_ready_timeout=0.05,
                chunk_guilds_at_startup=False)

    @bot.event
    async def on_ready() -> None:
        print("floor ready", flush=True)  # benchmarks.memory waits for this line

    @bot.tree.command(name="ping", description="answers a text")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong", ephemeral=True)

    bot.run(token, log_handler=None)


def run_stack_floor(api_base: str, token: str, database_url: str) -> None:
    """The stack's floor for `/profile` and `/members`: stock discord.py, SQLAlchemy's asyncio ORM, aiosqlite.

    What a developer would write with the same libraries and no tuning: SQLAlchemy's documented
    session pattern on its stock aiosqlite dialect, reading Collectif's tables. `/profile`: the
    member's profile, then its skills and trades (two statements), an embed of the same fields and
    the owner's three buttons. `/members skill`: the community, the count of listed profiles with the
    skill, a page of 5 (latest updated first) with their names, then their skills (four statements),
    an embed and two paging buttons. It shows how much of each command's time the libraries take by
    themselves.
    """
    import discord
    from discord.ext import commands
    from sqlalchemy import func, select
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from cogs.intros.models import Profile, ProfileSkill, ProfileTrade
    from storage.models import Community, Member, Trade

    discord.http.Route.BASE = api_base
    sessions = async_sessionmaker(create_async_engine(database_url), expire_on_commit=False)

    class StackFloor(commands.AutoShardedBot):
        async def setup_hook(self) -> None:
            await self.tree.sync()

    bot = StackFloor(command_prefix="!", intents=discord.Intents.default(), guild_ready_timeout=0.05,
                     chunk_guilds_at_startup=False)

    @bot.tree.command(name="profile", description="shows your profile")
    async def profile(interaction: discord.Interaction) -> None:
        async with sessions() as session, session.begin():
            name, card = (await session.execute(
                select(Member.display_name, Profile)
                .join(Profile, Profile.member_id == Member.id)
                .join(Community, Community.id == Member.community_id)
                .where(Community.platform == "discord", Community.external_id == str(interaction.guild_id),
                       Member.platform_user_id == str(interaction.user.id))
            )).one()
            lists = (await session.execute(
                select(ProfileSkill.label, ProfileSkill.id).where(ProfileSkill.profile_id == card.id)
                .union_all(select(Trade.name, Trade.id).join(ProfileTrade, ProfileTrade.trade_id == Trade.id)
                           .where(ProfileTrade.profile_id == card.id))
            )).all()
        embed = discord.Embed(title=name, description=card.bio, color=0x5865F2)
        for title, value in (("Skills", ", ".join(label for label, _ in lists)), ("City", card.city),
                             ("Mode", card.work_mode), ("Availability", card.availability),
                             ("Rate", f"{card.rate_min}-{card.rate_max} {card.currency}"),
                             ("Languages", ", ".join(card.languages or ())),
                             ("Opt-ins", f"matching {card.opt_matching}, directory {card.opt_directory}")):
            embed.add_field(name=title, value=value or "-")
        embed.set_footer(text=f"updated {card.updated_at:%Y-%m-%d}")
        view = discord.ui.View()
        for label in ("Edit", "Available", "Busy"):
            view.add_item(discord.ui.Button(label=label, custom_id=f"{label}:{card.id}"))
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True)

    @bot.tree.command(name="members", description="finds members by skill")
    async def members(interaction: discord.Interaction, skill: str) -> None:
        key = skill.strip().casefold()
        async with sessions() as session, session.begin():
            community = await session.scalar(select(Community.id).where(
                Community.platform == "discord", Community.external_id == str(interaction.guild_id)))
            matched = (select(ProfileSkill.profile_id)
                       .where(ProfileSkill.community_id == community, ProfileSkill.key == key))
            listed = (Profile.community_id == community, Profile.opt_directory.is_(True),
                      Profile.id.in_(matched))
            total = await session.scalar(select(func.count()).select_from(Profile).where(*listed))
            page = (await session.execute(
                select(Profile, Member.display_name).join(Member, Member.id == Profile.member_id)
                .where(*listed).order_by(Profile.updated_at.desc(), Profile.id).limit(5)
            )).all()
            ids = [card.id for card, _ in page]
            labels: dict[int, list[str]] = {i: [] for i in ids}
            skills = (select(ProfileSkill.profile_id, ProfileSkill.label)
                      .where(ProfileSkill.profile_id.in_(ids)))
            for profile_id, label in await session.execute(skills):
                labels[profile_id].append(label)
        embed = discord.Embed(title=f"{total} members: {skill}", color=0x5865F2)
        for card, name in page:
            embed.add_field(name=name, value=f"{', '.join(labels[card.id][:6])}\n{card.city or '-'} · "
                                             f"{card.work_mode} · {card.availability}", inline=False)
        view = discord.ui.View()
        for label in ("Previous", "Next"):
            view.add_item(discord.ui.Button(label=label, custom_id=f"{label}:{key}"))
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True)

    bot.run(token, log_handler=None)


# -- Collectif's database: 10,000 profiles in the benchmark guild, the callers among them ----------

async def seed_database(path: Path, profiles: int, callers: list[int]) -> None:
    from sqlalchemy import update

    from benchmarks.directory import seed
    from storage.engine import Database
    from storage.migrate import upgrade
    from storage.models import Community, Member

    db = Database.from_url(f"sqlite+aiosqlite:///{path}")
    await upgrade(db.engine)
    started = time.perf_counter()
    caller, _, _ = await seed(db, profiles, random.Random(42))
    async with db.transaction() as session:  # the seeded community is the fake's guild
        await session.execute(update(Community).where(Community.id == caller.community_id)  # type: ignore[attr-defined]
                              .values(external_id=str(GUILD_ID), name="Les Freelances"))
        for i, user_id in enumerate(callers):  # the callers own seeded profiles
            await session.execute(update(Member).where(Member.platform_user_id == f"U{i}")
                                  .values(platform_user_id=str(user_id)))
    await db.dispose()
    print(f"seeded {profiles} profiles in {time.perf_counter() - started:.1f} s", flush=True)


# -- the commands --------------------------------------------------------------------------------

@dataclass
class Command:
    label: str
    name: str  # as registered, "config show" for a subcommand
    options: Callable[[int], dict[str, Any]] = lambda i: {}
    moderator: bool = False
    autocomplete: str | None = None  # the focused option, for an autocomplete interaction
    first: list[float] = field(default_factory=list)  # ms to the first callback
    answer: list[float] = field(default_factory=list)  # ms to the answer, when deferred
    deferred: int = 0
    missing: int = 0  # no callback at all


# The commands the stack floor also answers (`run_stack_floor`), by label.
STACKED = ("/profile", "/members skill")
SKILLS = ["SEO", "Figma", "WordPress", "React", "Python", "Copywriting", "Branding", "Notion"]


def commands_to_time() -> list[Command]:
    return [
        Command("/help", "help"),
        Command("/members skill", "members", lambda i: {"skill": SKILLS[i % len(SKILLS)]}),
        Command("/members city", "members", lambda i: {"city": ("Paris", "Lyon", "Nantes")[i % 3]}),
        Command("/members autocomplete", "members", lambda i: {"skill": ("s", "fi", "wo", "")[i % 4]},
                autocomplete="skill"),
        Command("/profile", "profile"),
        Command("/availability", "availability",
                lambda i: {"status": ("available", "busy")[i % 2]}),
        Command("/intro (first page)", "intro"),
        Command("/privacy export", "privacy export"),
        Command("/privacy delete (asks)", "privacy delete"),
        Command("/config show", "config show", moderator=True),
        Command("/config history", "config history", moderator=True),
        Command("/config setting", "config setting", moderator=True,
                options=lambda i: {"setting": "limit.missions_per_week", "new_value": str(2 + i % 3)}),
    ]


# -- driving both bots ---------------------------------------------------------------------------

@dataclass
class World:
    fake: Any
    guild: Any  # the members' guild
    members: list[Any]
    config_guild: Any  # the moderator's guild
    moderator: Any


async def start_fake(users: int) -> World:
    from tests.fakes.discord_api import FakeDiscord

    fake = FakeDiscord()
    fake.interaction_deadline = 30.0  # a stalled machine should show as a slow figure, not a failure
    await fake.start()
    guild = fake.add_guild("Les Freelances", guild_id=GUILD_ID)
    members = [fake.add_user(f"Membre {i}", guild=guild, locale="fr" if i % 2 else "en-US")
               for i in range(users)]
    config_guild = fake.add_guild("L'Atelier", guild_id=CONFIG_GUILD_ID)
    moderator = fake.add_user("Modo", guild=config_guild, moderator=True)
    return World(fake, guild, members, config_guild, moderator)


async def wait_ready(fake: Any, process: subprocess.Popen[bytes], name: str, log: Path) -> None:
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with {process.returncode}:\n{tail(log)}")
        if fake.gateway.shards and fake.commands.get(None):
            return
        await asyncio.sleep(0.05)
    raise SystemExit(f"{name} not ready after 120 s:\n{tail(log)}")


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""


def trim(fake: Any) -> None:
    """Keep the fake's records short: its follow-up lookup scans every interaction it knows."""
    if len(fake.interactions) > 64:
        for key in list(fake.interactions)[:-32]:
            del fake.interactions[key]
    if len(fake.requests) > 256:
        del fake.requests[:-64]
    if len(fake.messages) > 256:
        for key in list(fake.messages)[:-64]:
            del fake.messages[key]


async def send(fake: Any, guild: Any, user: Any, command: Command, i: int
               ) -> tuple[float | None, float | None]:
    """(ms to the first callback, ms to the answer when deferred) of one interaction."""
    from tests.fakes.discord_interactions import DEFERRED_MESSAGE

    options = command.options(i)
    try:
        if command.autocomplete:
            done = await fake.autocomplete(guild, user, command.name, options, command.autocomplete,
                                           timeout=30)
        else:
            done = await fake.invoke_slash(guild, user, command.name, options, timeout=30)
    except TimeoutError:
        return None, None
    returned = time.perf_counter()
    first = (done.answered_at - done.sent_at) * 1000
    deferred = done.callbacks and done.response_type == DEFERRED_MESSAGE
    return first, ((returned - done.sent_at) * 1000 if deferred and done.followups else None)


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("nan")


def quiet_harness() -> None:
    """Keep this measuring process's own garbage collections out of the figures.

    A benchmark that times a bot through a fake served by this process measures this process's pauses
    too: after seeding, its full collections took 75-85 ms (the fake and the seed's leftovers), which
    showed up as the bot's slowest interactions. Collected once and frozen, they take well under a
    millisecond. The bot does the same after its start
    (bot/runner.py: collector_paused_while_starting).
    """
    gc.collect()
    gc.freeze()


def child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COLLECTIF_", "DISCORD_", "SLACK_"))}
    env.update(extra)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    return env


def spawn(command: list[str], cwd: Path, log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A child process in `cwd` (no config.toml or .env there), its output into `log`."""
    return subprocess.Popen(command, cwd=cwd, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            env=child_env(env))


def collectif_command() -> list[str]:
    script = Path(sys.executable).with_name("collectif")
    return [str(script), "run"] if script.exists() else [sys.executable, "-m", "bot", "run"]


async def main(runs: int, profiles: int, only: str | None = None) -> int:
    commands = [c for c in commands_to_time() if only is None or c.label.startswith(only)]
    bot, stock = await start_fake(USERS), await start_fake(USERS)
    stack = await start_fake(USERS) if any(c.label in STACKED for c in commands) else None
    processes: list[subprocess.Popen[bytes]] = []
    tmp = Path(tempfile.mkdtemp(prefix="collectif-bench-"))
    try:
        db_path = tmp / "bench.db"
        callers = [u.id for u in bot.members] + ([u.id for u in stack.members] if stack else [])
        await seed_database(db_path, profiles, callers)
        bot_log, floor_log = tmp / "collectif.log", tmp / "floor.log"
        processes.append(spawn(collectif_command(), tmp, bot_log, {
            "DISCORD_TOKEN": bot.fake.token,
            "COLLECTIF_DATABASE__URL": f"sqlite+aiosqlite:///{db_path}",
            "COLLECTIF_DISCORD__API_BASE_URL": bot.fake.api_base,
            "COLLECTIF_DISCORD__GUILD_READY_TIMEOUT": "0.05",
            "COLLECTIF_LOGGING__LEVEL": "WARNING",
        }))
        processes.append(spawn([sys.executable, "-m", "benchmarks.discord_commands", "--floor",
                                stock.fake.api_base, stock.fake.token], tmp, floor_log, {}))
        await wait_ready(bot.fake, processes[0], "collectif run", bot_log)
        await wait_ready(stock.fake, processes[1], "the stock discord.py bot", floor_log)
        if stack is not None:
            stack_log = tmp / "stack-floor.log"
            processes.append(spawn([sys.executable, "-m", "benchmarks.discord_commands", "--stack-floor",
                                    stack.fake.api_base, stack.fake.token, f"sqlite+aiosqlite:///{db_path}"],
                                   tmp, stack_log, {}))
            await wait_ready(stack.fake, processes[2], "the stack floor", stack_log)
        quiet_harness()
        print(f"bots ready; {runs} runs of each command, alternating with the floor "
              f"(load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs)", flush=True)
        floor: list[float] = []
        floor_command = Command("floor", "ping")
        stacked = {c.label: Command(f"stack floor {c.label}", c.name, c.options)
                   for c in commands if c.label in STACKED}
        for i in range(-5, runs):  # 5 warm-up rounds: first contacts, caches, code paths
            for command in commands:
                if command.moderator:
                    first, answer = await send(bot.fake, bot.config_guild, bot.moderator, command, i)
                else:
                    first, answer = await send(bot.fake, bot.guild, bot.members[i % USERS], command, i)
                await asyncio.sleep(PAUSE)
                ping, _ = await send(stock.fake, stock.guild, stock.members[i % USERS], floor_command, i)
                await asyncio.sleep(PAUSE)
                trim(bot.fake)
                trim(stock.fake)
                if stack is not None and command.label in stacked:
                    twin = stacked[command.label]
                    shown, _ = await send(stack.fake, stack.guild, stack.members[i % USERS], twin, i)
                    await asyncio.sleep(PAUSE)
                    trim(stack.fake)
                    if i >= 0 and shown is not None:
                        twin.first.append(shown)
                if i < 0:
                    continue
                if first is None:
                    command.missing += 1
                else:
                    command.first.append(first)
                if answer is not None:
                    command.deferred += 1
                    command.answer.append(answer)
                if ping is not None:
                    floor.append(ping)
        return report(commands, floor, runs, stacked)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        await bot.fake.close()
        await stock.fake.close()
        if stack is not None:
            await stack.fake.close()
        warnings = [line for line in tail(tmp / "collectif.log").splitlines()
                    if "ERROR" in line or "Traceback" in line]
        if warnings:
            print(f"collectif logged {len(warnings)} error line(s), first: {warnings[0][:300]}")
        shutil.rmtree(tmp, ignore_errors=True)


def report(commands: list[Command], floor: list[float], runs: int, stacked: dict[str, Command]) -> int:
    floor_median = statistics.median(floor)
    print(f"floor (stock discord.py, one trivial command): median {floor_median:.2f} ms, "
          f"p99 {p99(floor):.2f} ms over {len(floor)} interactions")
    print(f"{'command':<26} {'median':>7} {'p99':>7} {'x floor':>8}  verdict   "
          "(deferred: answer median / p99)")
    ok = True
    for command in commands:
        if not command.first:
            print(f"{command.label:<26} no answer in {runs} runs")
            ok = False
            continue
        median, worst = statistics.median(command.first), p99(command.first)
        ratio = median / floor_median
        met = ratio <= MEDIAN_RATIO and worst <= P99_MS and command.missing == 0
        if command.name == "members" and not command.autocomplete:
            met &= median <= MEMBERS_MEDIAN_MS
        ok &= met
        extra = ""
        if command.answer:
            extra = f"   answer {statistics.median(command.answer):6.2f} / {p99(command.answer):6.2f} ms"
        if command.missing:
            extra += f"   {command.missing} unanswered"
        verdict = "ok" if met else "MISSED"
        print(f"{command.label:<26} {median:7.2f} {worst:7.2f} {ratio:7.2f}x  {verdict:<8}{extra}")
    if stacked:
        print("stack floor: the same work with stock discord.py, SQLAlchemy's asyncio ORM and aiosqlite")
    for command in commands:
        twin = stacked.get(command.label)
        if twin is None or not twin.first or not command.first:
            continue
        stack_median = statistics.median(twin.first)
        ratio = statistics.median(command.first) / stack_median
        print(f"  {command.label:<24} median {stack_median:7.2f} ms ({stack_median / floor_median:.2f}x the "
              f"floor), p99 {p99(twin.first):.2f} ms; Collectif {ratio:.2f}x it")
    print(f"targets: median <= {MEDIAN_RATIO:.0f}x the floor, p99 <= {P99_MS:.0f} ms, /members median <= "
          f"{MEMBERS_MEDIAN_MS:.0f} ms -> {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=150)
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--only", metavar="LABEL", help="time only the commands whose label starts so "
                        "(e.g. '/members'), to profile one")
    parser.add_argument("--floor", nargs=2, metavar=("API_BASE", "TOKEN"), help=argparse.SUPPRESS)
    parser.add_argument("--stack-floor", nargs=3, metavar=("API_BASE", "TOKEN", "URL"),
                        help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if arguments.floor:
        with contextlib.suppress(KeyboardInterrupt):
            run_floor(*arguments.floor)
        raise SystemExit(0)
    if arguments.stack_floor:
        with contextlib.suppress(KeyboardInterrupt):
            run_stack_floor(*arguments.stack_floor)
        raise SystemExit(0)
    raise SystemExit(asyncio.run(main(arguments.runs, arguments.profiles, arguments.only)))
