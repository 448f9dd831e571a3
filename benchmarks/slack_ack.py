"""Slack ack latency: a bare Bolt app vs Collectif's, behind the same signed requests on 127.0.0.1.

Target (issue #7, item 13): Collectif's ack p99 <= 5 ms. Run: `.venv/bin/python -m benchmarks.slack_ack
[--runs 300]`. Measured: signed POST sent -> HTTP answer received, for `/collectif` (the help card,
through the real SlackRuntime in HTTP mode, its SQLite database and the fake Slack Web API). The
floors: a bare Bolt app whose listener only acks, with Bolt's default (`process_before_response=False`,
the ack polled every 10 ms) and with `process_before_response=True`.

The apps and the fake Slack run in a child process, the sender in this one: in one event loop the
sender could read an answer only after the work the ack let go on had yielded, which is not what
Slack sees. The three apps take turns, request by request, so that a busy machine weighs on all of
them alike, with a pause after each request for the work it started to end.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import multiprocessing
import statistics
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

import aiohttp
from aiohttp import web
from pydantic import SecretStr
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack, SlackSender

USERS = 20
PAUSE = 0.01  # seconds after each request: the help card is posted by then


def people(fake: FakeSlack) -> list[str]:
    return [fake.add_user(f"U{i:04d}", f"membre{i}", locale="fr-FR" if i % 2 else "en-US").id
            for i in range(USERS)]


async def bare_app(fake: FakeSlack, session: aiohttp.ClientSession, *,
                   process_before_response: bool) -> tuple[web.AppRunner, str]:
    app = AsyncApp(client=AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_base_url, session=session),
                   signing_secret=SIGNING_SECRET, process_before_response=process_before_response,
                   logger=logging.getLogger("bench.bare"))

    @app.command("/collectif")
    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    runner = web.AppRunner(app.web_app(path="/slack/events"), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"


async def serve(conn: Connection) -> None:
    """The child: the fake Slack, the two bare apps and Collectif, until the parent says stop."""
    from bot.config import Secrets, load_settings
    from bot.services import Services
    from bot.slack_app.runtime import SlackRuntime
    from storage.migrate import upgrade

    fake = await FakeSlack().start()
    people(fake)
    with tempfile.TemporaryDirectory() as tmp:
        settings, _ = load_settings(env={
            "COLLECTIF_DATABASE__URL": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
            "COLLECTIF_SLACK__MODE": "http",
            "COLLECTIF_SLACK__HTTP_HOST": "127.0.0.1",
            "COLLECTIF_SLACK__HTTP_PORT": "0",
            "COLLECTIF_SLACK__API_BASE_URL": fake.api_base_url,
        })
        services = Services.build(settings, Secrets(
            slack_bot_token=SecretStr(BOT_TOKEN), slack_app_token=SecretStr(APP_TOKEN),
            slack_signing_secret=SecretStr(SIGNING_SECRET)))
        await upgrade(services.db.engine)
        runtime = SlackRuntime(services)
        await runtime.start()
        async with aiohttp.ClientSession() as session:
            bare, bare_url = await bare_app(fake, session, process_before_response=False)
            fast, fast_url = await bare_app(fake, session, process_before_response=True)
            # As `collectif run` does once started (bot/runner.py): the start's objects out of the
            # collector's way. Without it, collections of this process (1-4 ms) fell inside acks.
            gc.collect()
            gc.freeze()
            conn.send({"fake_port": fake.port, "urls": {
                "bare Bolt (default)": bare_url,
                "bare Bolt (process_before_response)": fast_url,
                "Collectif": f"http://127.0.0.1:{runtime.port}/slack/events",
            }})
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # "stop"
            posted = len(fake.posted)
            await bare.cleanup()
            await fast.cleanup()
            await runtime.stop()
            await services.db.dispose()
            await fake.stop()
    conn.send(posted)


def child(conn: Connection) -> None:
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(conn))


def summary(times: list[float]) -> tuple[float, float, float]:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered), p99, ordered[-1]


async def measure(runs: int, fake_port: int, urls: dict[str, str]) -> dict[str, list[float]]:
    fake = FakeSlack()  # not started: it only builds payloads and response_urls for the child's fake
    fake.port = fake_port
    users = people(fake)
    times: dict[str, list[float]] = {name: [] for name in urls}
    async with aiohttp.ClientSession() as session:
        senders = {name: SlackSender(url, fake, session) for name, url in urls.items()}
        for i in range(-USERS * 2, runs):  # the first rounds warm up: members created, code paths hot
            for name, sender in senders.items():
                started = time.perf_counter()
                answer, _ = await sender.command("", user_id=users[i % USERS])
                elapsed = (time.perf_counter() - started) * 1000
                assert answer.status == 200, (name, answer.status, answer.text)
                if i >= 0:
                    times[name].append(elapsed)
                await asyncio.sleep(PAUSE)
    return times


def main(runs: int) -> None:
    parent, conn = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=child, args=(conn,), daemon=True)
    server.start()
    conn.close()  # the child's end: recv() below fails instead of hanging if the child dies
    ready = parent.recv()
    try:
        times = asyncio.run(measure(runs, ready["fake_port"], ready["urls"]))
    finally:
        parent.send("stop")
        posted = parent.recv()
        server.join(10)
    floor = statistics.median(times["bare Bolt (process_before_response)"])
    print(f"Slack ack latency over {runs} slash commands each (signed POST -> HTTP answer, 127.0.0.1; "
          f"Collectif posted {posted} help cards):")
    for name, measured in times.items():
        median, p99, worst = summary(measured)
        print(f"  {name:<38} median {median:6.2f} ms  p99 {p99:6.2f} ms  max {worst:6.2f} ms  "
              f"median / floor {median / floor:4.1f}x")
    _, p99, _ = summary(times["Collectif"])
    print(f"target: Collectif ack p99 <= 5 ms: {'met' if p99 <= 5 else 'NOT met'} ({p99:.2f} ms)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=300)
    logging.basicConfig(level=logging.WARNING)
    main(parser.parse_args().runs)
