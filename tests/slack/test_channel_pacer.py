"""The notifier's per-channel pacer, on an injected clock: no test waits on the real one."""

from __future__ import annotations

import asyncio
import contextlib
import itertools

from bot.slack_app.notifier import ChannelPacer


class FakeTime:
    """A monotonic clock that only moves when someone sleeps on it (or a post takes time)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def pacer(time: FakeTime, **kwargs: float) -> ChannelPacer:
    return ChannelPacer(1.0, clock=time.clock, sleep=time.sleep, **kwargs)  # type: ignore[arg-type]


async def test_posts_in_one_channel_start_a_second_after_the_previous_one_ended() -> None:
    time = FakeTime()
    paced = pacer(time)
    started: list[float] = []

    async def post() -> str:
        started.append(time.now)
        time.now += 0.25  # the call itself takes a while
        return "ok"

    results = await asyncio.gather(*(paced.run("CGENERAL", post) for _ in range(6)))
    assert results == ["ok"] * 6
    assert [round(b - a, 6) for a, b in itertools.pairwise(started)] == [1.25] * 5
    assert time.sleeps == [1.0] * 5  # each waited only what was left of the interval after the post


async def test_channels_do_not_wait_for_each_other() -> None:
    time = FakeTime()
    paced = pacer(time)
    seen: list[tuple[str, float]] = []

    async def post(channel: str) -> None:
        seen.append((channel, time.now))

    await asyncio.gather(*(paced.run(c, lambda c=c: post(c)) for c in ("C1", "C2", "C3")))
    assert seen == [("C1", 100.0), ("C2", 100.0), ("C3", 100.0)]
    assert time.sleeps == []


async def test_a_failed_post_still_counts_and_idle_channels_are_forgotten() -> None:
    time = FakeTime()
    paced = pacer(time, max_channels=2)

    async def fail() -> None:
        raise RuntimeError("refused")

    with contextlib.suppress(RuntimeError):
        await paced.run("C1", fail)
    time.now += 0.5
    await paced.run("C1", lambda: asyncio.sleep(0))
    assert time.sleeps == [0.5]

    time.now += 5
    await paced.run("C2", lambda: asyncio.sleep(0))
    await paced.run("C3", lambda: asyncio.sleep(0))  # full: C1 has been idle for long, it goes
    assert set(paced._channels) == {"C2", "C3"}
