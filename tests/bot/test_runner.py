"""`collectif run` without a platform: fake runtimes show what starts, what stops, and the exit code."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from dataclasses import dataclass, field

import pytest
from pydantic import SecretStr

from bot import runner
from bot.clock import FrozenClock
from bot.config import Secrets, Settings
from bot.features import Feature
from bot.services import PlatformRuntime, Services

DISCORD = Secrets(discord_token=SecretStr("token"))


@dataclass
class FakeRuntime:
    """A platform whose connection is a future: `end()` makes it end on its own, like a revoked token."""

    name: str = "fake"
    fail_start: bool = False
    events: list[str] = field(default_factory=list)
    connection: asyncio.Future[None] | None = None
    collector_on: list[bool] = field(default_factory=list)  # gc.isenabled() as it started

    async def start(self) -> None:
        self.collector_on.append(gc.isenabled())
        if self.fail_start:
            raise ConnectionError(f"{self.name} refused")
        self.connection = asyncio.get_running_loop().create_future()
        self.events.append("start")

    async def stop(self) -> None:
        self.events.append("stop")
        if self.connection is not None and not self.connection.done():
            self.connection.set_result(None)

    async def wait(self) -> None:
        assert self.connection is not None
        await self.connection

    def end(self, error: Exception) -> None:
        assert self.connection is not None
        self.connection.set_exception(error)


@dataclass
class Launch:
    """The fake runtimes `run` gets instead of real platforms, and the Services it built."""

    runtimes: list[FakeRuntime] = field(default_factory=list)
    services: list[Services] = field(default_factory=list)


@pytest.fixture
def launch(monkeypatch: pytest.MonkeyPatch) -> Launch:
    launch = Launch()

    def build_runtimes(services: Services, names: list[str]) -> list[PlatformRuntime]:
        launch.services.append(services)
        return list(launch.runtimes)

    monkeypatch.setattr(runner, "build_runtimes", build_runtimes)
    return launch


def _no_signal_handler_left() -> bool:
    loop = asyncio.get_running_loop()
    return not any(loop.remove_signal_handler(sig) for sig in (signal.SIGINT, signal.SIGTERM))


async def _started(launch: Launch, settings: Settings, clock: FrozenClock,
                   stop: asyncio.Event) -> asyncio.Task[int]:
    """`run` in a task, once every runtime started (migrations take a moment)."""
    task = asyncio.create_task(runner.run(settings, DISCORD, clock=clock, stop=stop))
    for _ in range(500):
        await asyncio.sleep(0.01)
        if "start" in launch.runtimes[-1].events:
            return task
    raise AssertionError("the runtimes never started")


async def test_a_requested_stop_exits_0_and_leaves_nothing_behind(settings, clock, launch) -> None:
    launch.runtimes.extend([FakeRuntime("first"), FakeRuntime("second")])
    stop = asyncio.Event()
    task = await _started(launch, settings, clock, stop)

    stop.set()
    assert await task == 0
    assert [r.events for r in launch.runtimes] == [["start", "stop"], ["start", "stop"]]
    # The runner never cancelled a connection: the runtime's own stop() closed it.
    assert all(r.connection is not None and not r.connection.cancelled() for r in launch.runtimes)
    [services] = launch.services
    assert not services.scheduler.running
    assert _no_signal_handler_left()


async def test_a_connection_that_ends_on_its_own_stops_the_process_with_1(settings, clock, launch, caplog):
    launch.runtimes.extend([FakeRuntime("discord"), FakeRuntime("slack")])
    task = await _started(launch, settings, clock, asyncio.Event())

    with caplog.at_level(logging.ERROR, logger="bot.runner"):
        launch.runtimes[0].end(ConnectionError("4004 authentication failed"))
        assert await asyncio.wait_for(task, 5) == 1
    assert "discord connection ended; stopping" in caplog.text
    assert [r.events for r in launch.runtimes] == [["start", "stop"], ["start", "stop"]]
    assert _no_signal_handler_left()


async def test_without_credentials_nothing_starts(settings, clock, launch) -> None:
    assert await runner.run(settings, Secrets(), clock=clock) == 2
    assert launch.services == []


async def test_a_platform_failing_to_start_stops_those_started(settings, clock, launch) -> None:
    launch.runtimes.extend([FakeRuntime("first"), FakeRuntime("second", fail_start=True)])
    with pytest.raises(ConnectionError, match="second refused"):
        await runner.run(settings, DISCORD, clock=clock)
    assert launch.runtimes[0].events == ["start", "stop"]
    assert not launch.services[0].scheduler.running
    assert _no_signal_handler_left()


async def test_a_failing_start_hook_closes_the_database(services: Services, monkeypatch) -> None:
    async def boom(_services: Services) -> None:
        raise RuntimeError("hook failed")

    disposed: list[bool] = []
    dispose = services.db.dispose

    async def recording_dispose() -> None:
        disposed.append(True)
        await dispose()

    monkeypatch.setattr(services.db, "dispose", recording_dispose)
    services.features = [*services.features, Feature(name="boom", package="cogs.help", on_start=boom)]
    started = FakeRuntime()
    monkeypatch.setattr(runner, "build_runtimes", lambda _services, _names: [started])

    with pytest.raises(RuntimeError, match="hook failed"):
        await runner.start(services, ["fake"])
    assert disposed == [True]
    assert started.events == []


async def test_the_scheduler_starts_after_the_platforms(settings, clock, launch) -> None:
    """Its first sweep runs at once, and due jobs need the platforms' notifiers."""
    seen: list[bool] = []

    class Watching(FakeRuntime):
        async def start(self) -> None:
            seen.append(launch.services[0].scheduler.running)
            await super().start()

    launch.runtimes.append(Watching("watching"))
    stop = asyncio.Event()
    task = await _started(launch, settings, clock, stop)
    for _ in range(500):
        if launch.services[0].scheduler.running:
            break
        await asyncio.sleep(0.01)
    assert launch.services[0].scheduler.running
    stop.set()
    assert await task == 0
    assert seen == [False]


async def test_while_running_the_start_up_objects_are_frozen_and_given_back_at_stop(
        settings, clock, launch) -> None:
    # A full collection walking every start-up object stalls every interaction for ~100 ms.
    assert gc.get_freeze_count() == 0
    launch.runtimes.append(FakeRuntime("discord"))
    stop = asyncio.Event()
    task = await _started(launch, settings, clock, stop)
    for _ in range(500):
        if gc.get_freeze_count():
            break
        await asyncio.sleep(0.01)
    frozen = gc.get_freeze_count()
    serving = gc.isenabled()
    stop.set()
    assert await task == 0
    assert frozen > 10_000  # the modules and caches the start built
    assert gc.get_freeze_count() == 0
    # Off while starting (full collections walked the growing heap again and again), on to serve.
    assert launch.runtimes[0].collector_on == [False]
    assert serving and gc.isenabled()


async def test_a_long_start_gets_the_collector_back_before_it_ends(settings, clock, launch,
                                                                    monkeypatch) -> None:
    # Interactions are answered while a start waits (shards, a retried gateway): their garbage
    # cycles are collected after START_PAUSE_SECONDS even though the start has not ended.
    monkeypatch.setattr(runner, "START_PAUSE_SECONDS", 1.0)  # longer than the migrations before

    @dataclass
    class SlowRuntime(FakeRuntime):
        async def start(self) -> None:
            self.collector_on.append(gc.isenabled())
            for _ in range(500):  # a start that waits, up to 5 s
                if gc.isenabled():
                    break
                await asyncio.sleep(0.01)
            await super().start()

    launch.runtimes.append(SlowRuntime("discord"))
    stop = asyncio.Event()
    task = await _started(launch, settings, clock, stop)
    stop.set()
    assert await task == 0
    assert launch.runtimes[0].collector_on == [False, True]
    assert gc.isenabled()


async def test_a_failed_start_turns_the_collector_back_on(settings, clock, launch) -> None:
    launch.runtimes.append(FakeRuntime("discord", fail_start=True))
    with pytest.raises(ConnectionError, match="discord refused"):
        await runner.run(settings, DISCORD, clock=clock)
    assert launch.runtimes[0].collector_on == [False]
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0  # nothing frozen for a start that did not happen


async def test_warm_ups_run_once_connected_after_the_scheduler(services: Services, monkeypatch) -> None:
    # The date reader's warm-up (220-245 ms) once ran before the platforms and delayed READY.
    started = FakeRuntime()
    seen: list[tuple[list[str], bool]] = []

    def warm_up(warmed: Services) -> None:
        seen.append((list(started.events), warmed.scheduler.running))

    services.features = [*services.features, Feature(name="warm", package="cogs.help", warm_up=warm_up)]
    monkeypatch.setattr(runner, "build_runtimes", lambda _services, _names: [started])
    runtimes = await runner.start(services, ["fake"])
    try:
        assert seen == [(["start"], True)]
    finally:
        await runner.shutdown(services, runtimes)


async def test_a_failing_warm_up_is_logged_and_the_bot_runs(services: Services, monkeypatch, caplog) -> None:
    def broken(_services: Services) -> None:
        raise LookupError("no language data")

    services.features = [*services.features, Feature(name="warm", package="cogs.help", warm_up=broken)]
    started = FakeRuntime()
    monkeypatch.setattr(runner, "build_runtimes", lambda _services, _names: [started])
    with caplog.at_level(logging.ERROR, logger="bot.runner"):
        runtimes = await runner.start(services, ["fake"])
    try:
        assert started.events == ["start"] and services.scheduler.running
        assert "warming up warm failed" in caplog.text
    finally:
        await runner.shutdown(services, runtimes)


def test_the_afterworks_date_reader_is_warmed_once_connected_not_at_its_start_hook() -> None:
    from cogs.afterworks import FEATURE
    from cogs.afterworks._publish import warm_date_reader

    assert FEATURE.warm_up is warm_date_reader


@dataclass
class HangingRuntime(FakeRuntime):
    """A platform that never finishes starting (a Discord that never sends READY)."""

    started: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: bool = False

    async def start(self) -> None:
        self.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise


async def test_a_stop_while_starting_gives_the_start_up_and_exits_0(settings, clock, launch) -> None:
    ready, hanging = FakeRuntime("ready"), HangingRuntime("hanging")
    launch.runtimes.extend([ready, hanging])
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(settings, DISCORD, clock=clock, stop=stop))
    await asyncio.wait_for(hanging.started.wait(), 10)

    stop.set()  # SIGTERM while the second platform still starts
    assert await asyncio.wait_for(task, 5) == 0
    assert hanging.cancelled
    assert ready.events == ["start", "stop"]  # what had started is stopped
    [services] = launch.services
    assert services.db.engine.pool.checkedout() == 0
    assert not services.scheduler.running
    assert gc.isenabled() and gc.get_freeze_count() == 0  # nothing frozen for a start given up
    assert _no_signal_handler_left()
