"""A real `collectif run` process serving /healthz and /metrics, against the fake Discord and Slack."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.fakes.discord_api import FakeDiscord
from tests.fakes.slack_api import BOT_TOKEN, SIGNING_SECRET, FakeSlack, SlackSender, rate_limited

ROOT = Path(__file__).resolve().parents[2]
OPS_LINE = re.compile(r"health and metrics: serving /healthz and /metrics on [0-9.]+:(\d+)")
SLACK_LINE = re.compile(r"Slack: HTTP mode, serving /slack/events on [0-9.]+:(\d+)")


@dataclass
class Bot:
    """A `collectif run` child process and what its log said."""

    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    def found(self, pattern: re.Pattern[str]) -> str | None:
        for line in self.lines:
            if (match := pattern.search(line)) is not None:
                return match.group(1)
        return None

    async def wait_for(self, pattern: re.Pattern[str] | str, within: float = 60) -> str:
        compiled = re.compile(re.escape(pattern)) if isinstance(pattern, str) else pattern

        async def poll() -> str:
            while True:
                for line in self.lines:
                    if (match := compiled.search(line)) is not None:
                        return match.group(1) if match.groups() else match.group(0)
                if self.process.returncode is not None:
                    raise AssertionError("process ended early:\n" + self.log)
                await asyncio.sleep(0.05)

        try:
            return await asyncio.wait_for(poll(), within)
        except TimeoutError:
            raise AssertionError(f"{compiled.pattern!r} not logged:\n{self.log}") from None

    @property
    def log(self) -> str:
        return "".join(self.lines)

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self.reader is not None:
            await self.reader
        return self.process.returncode or 0


async def start_bot(cwd: Path, env: dict[str, str]) -> Bot:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=cwd,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), **env},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    bot = Bot(process)

    async def read() -> None:
        assert process.stderr is not None
        while line := await process.stderr.readline():
            bot.lines.append(line.decode(errors="replace"))

    bot.reader = asyncio.create_task(read())
    return bot


def platform_env(discord: FakeDiscord, slack: FakeSlack) -> dict[str, str]:
    return {
        "DISCORD_TOKEN": discord.token,
        "COLLECTIF_DISCORD__API_BASE_URL": discord.api_base,
        "COLLECTIF_DISCORD__GUILD_READY_TIMEOUT": "0.05",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "COLLECTIF_SLACK__MODE": "http",
        "COLLECTIF_SLACK__HTTP_HOST": "127.0.0.1",
        "COLLECTIF_SLACK__HTTP_PORT": "0",
        "COLLECTIF_SLACK__API_BASE_URL": slack.api_base_url,
        "COLLECTIF_SCHEDULER__SWEEP_SECONDS": "0.5",
    }


async def get(session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with session.get(url) as response:
        return response.status, await response.text()


async def until(check: Any, within: float = 15.0) -> Any:
    """Poll `check()` (async, returns a truthy value when done) until it is truthy."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not reached within {within} s: last value {value!r}")
        await asyncio.sleep(0.1)


def sample(metrics: str, name: str, **labels: str) -> float | None:
    """The value of one sample of the Prometheus text, by name and exact label set."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    line = f"{name}{{{wanted}}} " if labels else f"{name} "
    for row in metrics.splitlines():
        if row.startswith(line):
            return float(row[len(line):])
    return None


def well_formed(metrics: str) -> None:
    """Every line is a comment or `name{labels} value`, each sample after its family's TYPE line."""
    typed: set[str] = set()
    sample_line = re.compile(r'^([a-z_]+)(\{[a-z_]+="[^"\\]*"(,[a-z_]+="[^"\\]*")*\})? (-?[0-9.e+]+|\+Inf)$')
    for row in metrics.splitlines():
        if row.startswith("# TYPE "):
            typed.add(row.split()[2])
        elif row.startswith("# HELP "):
            continue
        else:
            match = sample_line.match(row)
            assert match, f"not a Prometheus sample: {row!r}"
            family = re.sub(r"_(bucket|sum|count)$", "", match.group(1))
            assert match.group(1) in typed or family in typed, f"sample before its TYPE: {row!r}"


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeDiscord, FakeSlack]]:
    discord = FakeDiscord()
    discord.add_guild("Les Freelances")
    await discord.start()
    slack = await FakeSlack().start()
    slack.add_user("U1", "Ana", locale="fr-FR")
    try:
        yield discord, slack
    finally:
        await slack.stop()
        await discord.close()


async def test_health_and_metrics_on_their_own_port(tmp_path, fakes):
    discord, slack = fakes
    env = {**platform_env(discord, slack), "COLLECTIF_OPS__HTTP_PORT": "0"}
    bot = await start_bot(tmp_path, env)
    try:
        port = await bot.wait_for(OPS_LINE)
        slack_port = await bot.wait_for(SLACK_LINE)
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            async def healthy() -> Any:
                status, body = await get(session, base + "/healthz")
                return (status, body) if status == 200 else None

            _, body = await until(healthy, 60)
            health = __import__("json").loads(body)
            assert health["status"] == "ok"
            assert set(health["checks"]) == {"database", "discord", "slack", "scheduler"}
            assert health["checks"]["discord"]["shards"] == {"0": True}
            # A job due at start (a sweep, a retry) may wait a moment for its turn: well within the bound.
            assert health["checks"]["scheduler"]["lag_seconds"] < 10
            assert (await get(session, base + "/livez"))[0] == 200
            # Not on the public Slack server when they have their own port.
            assert (await get(session, f"http://127.0.0.1:{slack_port}/metrics"))[0] == 404

            # A Slack command while users.info is rate limited: counted, and the 429 too.
            slack.fail_next("users.info", rate_limited(0))
            sender = SlackSender(f"http://127.0.0.1:{slack_port}/slack/events", slack, session)
            answer, _ = await sender.command("help", user_id="U1")
            assert answer.status == 200

            async def counted() -> Any:
                _, text = await get(session, base + "/metrics")
                found = sample(text, "collectif_interactions_total", platform="slack", feature="help",
                               command="help", outcome="ok")
                return text if found == 1 else None

            await until(counted)
            # A scrape reads the gauges first and renders the counters last: the one that first
            # counts the command may have read the gauges before the command's first contact
            # committed (seen under CPU load). A scrape started after it reads them after the commit.
            _, metrics = await get(session, base + "/metrics")
            well_formed(metrics)
            assert sample(metrics, "collectif_platform_rate_limited_total", platform="slack") == 1
            assert sample(metrics, "collectif_platform_api_responses_total", platform="slack",
                          status="429") == 1
            assert (sample(metrics, "collectif_platform_api_responses_total", platform="discord",
                           status="2xx") or 0) >= 2  # login, gateway, command check
            assert sample(metrics, "collectif_interaction_seconds_count", platform="slack",
                          feature="help") == 1
            why = f"{metrics}\n--- bot log ---\n{bot.log}"
            assert sample(metrics, "collectif_communities", platform="discord", state="active") == 1, why
            assert sample(metrics, "collectif_communities", platform="slack", state="active") == 1, why
            assert sample(metrics, "collectif_platform_connected", platform="discord") == 1
            assert sample(metrics, "collectif_scheduler_running") == 1
            assert sample(metrics, "collectif_jobs", state="failed") == 0
            assert (sample(metrics, "collectif_process_resident_memory_bytes") or 0) > 10_000_000

            # Discord goes away: the shard is disconnected, /healthz says so with 503. Held down: the
            # first reconnection comes after a random 0-2 s, sometimes before a poll could see it.
            discord.gateway.hold_reconnections()
            await discord.gateway.close()

            async def unhealthy() -> Any:
                status, text = await get(session, base + "/healthz")
                return (status, text) if status == 503 else None

            _, text = await until(unhealthy, 30)
            checks = __import__("json").loads(text)["checks"]
            assert checks["discord"]["ok"] is False and "disconnected" in checks["discord"]["error"]
            assert checks["database"]["ok"] and checks["slack"]["ok"]
    finally:
        code = await bot.stop()
    assert code == 0, bot.log
    assert "Traceback" not in bot.log


async def test_health_on_the_slack_server_without_an_ops_port_and_the_cli_asks_it(tmp_path, fakes):
    discord, slack = fakes
    bot = await start_bot(tmp_path, platform_env(discord, slack))
    try:
        slack_port = await bot.wait_for(SLACK_LINE)
        await bot.wait_for("discord ready")
        base = f"http://127.0.0.1:{slack_port}"
        async with aiohttp.ClientSession() as session:
            async def healthy() -> Any:
                return (await get(session, base + "/healthz"))[0] == 200

            await until(healthy, 60)
            status, metrics = await get(session, base + "/metrics")
            assert status == 200 and "collectif_build_info" in metrics
        assert not OPS_LINE.search(bot.log)
        # `collectif health` asks the endpoint when ops.http_port names it.
        cli = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "health", cwd=tmp_path,
            env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT),
                 "COLLECTIF_OPS__HTTP_PORT": slack_port},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await cli.communicate()
        assert cli.returncode == 0, err.decode()
        assert out.decode().startswith("healthy: database, discord, slack, scheduler")
    finally:
        code = await bot.stop()
    assert code == 0, bot.log
    # Nothing answers any more: unhealthy, exit 1, and it says why.
    cli = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "health", cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT),
             "COLLECTIF_OPS__HTTP_PORT": slack_port},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await cli.communicate()
    assert cli.returncode == 1
    assert "is the bot running?" in err.decode()
