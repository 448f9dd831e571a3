"""The real `collectif run` process against both fakes: it starts both platforms and stops cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.fakes.discord_api import FakeDiscord
from tests.fakes.slack_api import BOT_TOKEN, SIGNING_SECRET, FakeSlack

ROOT = Path(__file__).resolve().parents[2]


async def _read_until(
    stream: asyncio.StreamReader, needles: set[str], seen: list[str], within: float
) -> None:
    missing = set(needles)

    async def read() -> None:
        while missing:
            line = (await stream.readline()).decode()
            if not line:
                raise AssertionError("process ended early:\n" + "".join(seen))
            seen.append(line)
            missing.difference_update({n for n in missing if n in line})

    await asyncio.wait_for(read(), within)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_run_starts_both_platforms_and_stops_cleanly(tmp_path, sig):
    discord = FakeDiscord()
    await discord.start()
    slack = await FakeSlack().start()
    try:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT),
            "DISCORD_TOKEN": discord.token,
            "COLLECTIF_DISCORD__API_BASE_URL": discord.api_base,
            "COLLECTIF_DISCORD__GUILD_READY_TIMEOUT": "0.05",
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "COLLECTIF_SLACK__MODE": "http",
            "COLLECTIF_SLACK__HTTP_HOST": "127.0.0.1",
            "COLLECTIF_SLACK__HTTP_PORT": "0",
            "COLLECTIF_SLACK__API_BASE_URL": slack.api_base_url,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        seen: list[str] = []
        try:
            await _read_until(process.stderr, {"discord ready", "slack ready"}, seen, within=60)
        except BaseException:
            process.kill()
            raise
        assert (tmp_path / "collectif.db").exists()
        process.send_signal(sig)
        _, rest = await asyncio.wait_for(process.communicate(), 30)
        output = "".join(seen) + rest.decode()
        assert process.returncode == 0, output
        assert "Traceback" not in output
        assert "stopping" in output
        assert discord.token not in output
    finally:
        await slack.stop()
        await discord.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_stop_while_discord_does_not_answer_at_start_ends_the_process_at_once(tmp_path, sig):
    """Start-up (migrations, log in, up to 120 s for READY, Slack's auth.test) used to run to its end
    before a SIGTERM was looked at: `systemctl stop` / `docker stop` waited for the supervisor's kill."""
    connected = asyncio.Event()
    held: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # accepts, never answers: a black-holed proxy, a Discord outage
        connected.set()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
           "COLLECTIF_DISCORD__API_BASE_URL": f"http://127.0.0.1:{port}/api/v10",
           "DISCORD_TOKEN": "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.not-a-real-secret"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        await asyncio.wait_for(connected.wait(), 30)  # migrated, logging in to Discord
        process.send_signal(sig)
        _, err = await asyncio.wait_for(process.communicate(), 5)
        stderr = err.decode()
        assert process.returncode == 0, stderr  # README "Exit codes": 0 = stopped on request
        assert "stopped while starting" in stderr
        assert "Traceback" not in stderr and "Unclosed" not in stderr, stderr
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        for writer in held:
            writer.close()
        server.close()
