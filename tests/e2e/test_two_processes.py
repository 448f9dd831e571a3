"""Two real `collectif run` processes on one database, sharing the load (README: "Several processes").

Each runs one of two Discord shards (`discord.shard_ids`) and serves Slack in HTTP mode: each guild's
commands reach the process of its shard, each timed job runs once, and a Slack retry delivered to the
other process is de-duplicated by the database.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import insert, text

from storage.engine import Database
from storage.models import Job
from tests.databases import migrated_sqlite
from tests.e2e.test_ops_process import OPS_LINE, SLACK_LINE, get, platform_env, sample, start_bot, until
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.slack_api import FakeSlack, SlackSender

JOBS = 60


class RoundRobin:
    """One address in front of several Slack HTTP servers, each request to the next (a load balancer)."""

    def __init__(self, backends: list[str], session: aiohttp.ClientSession) -> None:
        self.backends = backends
        self.session = session
        self.served: list[str] = []  # the backend of each request, in order
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> RoundRobin:
        application = web.Application()
        application.router.add_post("/slack/events", self._forward)
        self._runner = web.AppRunner(application, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/slack/events"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        backend = self.backends[len(self.served) % len(self.backends)]
        self.served.append(backend)
        headers = {k: v for k, v in request.headers.items()
                   if k.lower().startswith(("x-slack", "content-type"))}
        async with self.session.post(backend, data=await request.read(), headers=headers) as answer:
            return web.Response(status=answer.status, body=await answer.read(),
                                content_type=answer.content_type)


def _on_shard(shard: int, count: int = 2) -> int:
    """A guild id that Discord routes to `shard` of `count` ((id >> 22) % count)."""
    return ((1_300_000_000_000 + shard) << 22) | 1234 if count == 2 else 0


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_migrated_url"))
    return await migrated_sqlite(tmp_path / "shared.db")


async def test_two_processes_split_the_shards_run_each_job_once_and_skip_slack_retries(
        tmp_path, database_url):
    discord = FakeDiscord(shard_count=2)
    guilds = [discord.add_guild(f"Collectif {n}", guild_id=_on_shard(n)) for n in (0, 1)]
    assert [(g.id >> 22) % 2 for g in guilds] == [0, 1]
    user = discord.add_user("Ana")
    await discord.start()
    slack = await FakeSlack().start()
    slack.add_user("U1", "Ana", locale="en-US")
    bots = []
    try:
        for shard in (0, 1):
            env = {**platform_env(discord, slack), "COLLECTIF_DATABASE__URL": database_url,
                   "COLLECTIF_DISCORD__SHARD_COUNT": "2", "COLLECTIF_DISCORD__SHARD_IDS": f"[{shard}]",
                   "COLLECTIF_OPS__HTTP_PORT": "0"}
            (tmp_path / str(shard)).mkdir()
            bots.append(await start_bot(tmp_path / str(shard), env))
        ops = [f"http://127.0.0.1:{await bot.wait_for(OPS_LINE)}" for bot in bots]
        events = [f"http://127.0.0.1:{await bot.wait_for(SLACK_LINE)}/slack/events" for bot in bots]

        async with aiohttp.ClientSession() as session:
            for n, base in enumerate(ops):
                async def healthy(base: str = base) -> Any:
                    status, body = await get(session, base + "/healthz")
                    return json.loads(body) if status == 200 else None

                health = await until(healthy, 90)
                assert health["checks"]["discord"]["shards"] == {str(n): True}  # its own shard only
                assert health["checks"]["discord"]["guilds"] == 1

            # Each guild's command is answered once, by the process running the guild's shard.
            for guild in guilds:
                answer = await discord.invoke_slash(guild, user, "help", timeout=15)
                assert answer.embeds, answer.callback

            async def discord_helps() -> Any:
                counts = []
                for base in ops:
                    _, metrics = await get(session, base + "/metrics")
                    counts.append(sample(metrics, "collectif_interactions_total", platform="discord",
                                         feature="help", command="help", outcome="ok"))
                return counts if counts == [1, 1] else None

            await until(discord_helps)

            # Timed jobs due now, scheduled by neither: the two schedulers race for them.
            db = Database.from_url(database_url)
            try:
                now = datetime.now(UTC)
                async with db.transaction() as s:
                    await s.execute(insert(Job), [
                        {"kind": "community.purge", "payload": {"paused_at": now.isoformat()}, "due_at": now,
                         "state": "pending", "attempts": 0, "dedupe_key": f"two-processes:{n}"}
                        for n in range(JOBS)])

                async def all_done() -> Any:
                    async with db.transaction(write=False) as s:
                        rows = (await s.execute(text(
                            "SELECT state, attempts, claimed_by FROM jobs WHERE dedupe_key LIKE "
                            "'two-processes:%'"))).all()
                    return rows if rows and all(row.state == "done" for row in rows) else None

                rows = await until(all_done, 30)
            finally:
                await db.dispose()
            assert len(rows) == JOBS and all(row.attempts == 1 for row in rows)  # each ran once
            ran = []
            for base in ops:
                _, metrics = await get(session, base + "/metrics")
                ran.append(sample(metrics, "collectif_jobs_run_total", kind="community.purge",
                                  outcome="done") or 0)
            assert sum(ran) == JOBS, ran

            # Slack, both processes behind one address: an event and Slack's retry of it reach one
            # process each, and only the first is handled.
            balancer = await RoundRobin(events, session).start()
            try:
                sender = SlackSender(balancer.url, slack, session)
                event = {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}
                first = await sender.event(event, event_id="Ev0TWO0PROC")
                retry = await sender.event(event, event_id="Ev0TWO0PROC", retry_num=1)
                assert first.status == retry.status == 200
                assert balancer.served == events  # one to each process
                await slack.wait_for_call("views.publish", within=10)
                await asyncio.sleep(1.0)  # time for a second (wrong) publish to arrive
                assert len(slack.calls_to("views.publish")) == 1
                # Commands through the same address: each process answers the one it gets.
                for _ in events:
                    answer, url = await sender.command("help", user_id="U1")
                    assert answer.status == 200
                    await slack.wait_for_post(url, within=10)
                assert balancer.served == events * 2
            finally:
                await balancer.stop()
    finally:
        codes = [await bot.stop() for bot in bots]
        await slack.stop()
        await discord.close()
    for bot, code in zip(bots, codes, strict=True):
        assert code == 0, bot.log
        assert "Traceback" not in bot.log, bot.log
