"""Discord answers 5xx on the follow-up webhook (an outage), after the change was saved."""

from __future__ import annotations

import asyncio
import types
from collections.abc import Callable
from typing import Any

import discord.webhook.async_ as webhook_module
import pytest

from tests.e2e.conftest import DiscordHarness
from tests.e2e.test_pooling_discord import OPTIONS, pools, use_channel
from tests.fakes.discord_payloads import DiscordError


class _FastAsyncio(types.SimpleNamespace):
    """discord.py's webhook adapter waits 1, 3, 5, 7 s between 5xx retries: not in a test."""

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    @staticmethod
    async def sleep(delay: float, result: Any = None) -> Any:
        return await asyncio.sleep(min(delay, 0.01), result)


def fail_route(h: DiscordHarness, method: str, needle: str, status: int = 503, *, times: int | None = None,
               when: Callable[[Any, dict[str, str]], bool] | None = None) -> list[Any]:
    """Make the fake answer `status` to the `method` requests whose route pattern contains `needle`.

    Every one, or only the first `times`; with `when(request, route groups)`, only those it accepts.
    Returns the requests that failed.
    """
    hits: list[Any] = []

    def failing(handler: Any) -> Any:
        async def answer(r: Any, **groups: str) -> tuple[int, Any]:
            if (times is None or len(hits) < times) and (when is None or when(r, groups)):
                hits.append(r)
                raise DiscordError(status, 0, "Service Unavailable")
            return await handler(r, **groups)
        return answer

    h.fake._routes = [
        (m, p, failing(handler)) if m == method and needle in p.pattern else (m, p, handler)
        for m, p, handler in h.fake._routes
    ]
    return hits


async def test_a_saved_pool_is_told_to_its_organizer_when_the_follow_up_fails(
    discord_harness: DiscordHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = discord_harness
    from cogs.pooling import FEATURE as POOLING

    await POOLING.on_start(h.services)
    channel = await use_channel(h)
    monkeypatch.setattr(webhook_module, "asyncio", _FastAsyncio())
    hits = fail_route(h, "POST", "/webhooks/")  # follow-ups: 503 however often retried
    answer = await h.fake.invoke_slash(h.guild, h.member, "pool", OPTIONS, timeout=1)
    assert answer.response_type == 5  # "thinking…"
    for _ in range(40):
        await asyncio.sleep(0.05)
    assert hits, "the follow-up was never tried"
    assert len(await pools(h)) == 1  # saved and posted
    told = h.t("fr", "pooling.created.posted", channel=channel)
    dms = [m.get("content") for m in h.fake.dm_messages(h.member)]
    assert told in dms, f"the organizer never learns the pool was saved (DMs: {dms})"


async def test_an_afterwork_card_discord_failed_to_post_is_posted_later(
    discord_harness: DiscordHarness,
) -> None:
    """README: intro, mission and pool cards the platform failed to post are posted by a job later;
    a feedback request whose card failed is not saved. An afterwork must not be left without a card."""
    from datetime import timedelta

    from cogs.afterworks import FEATURE as AFTERWORKS
    from tests.e2e.test_afterworks_discord import afterworks, cards, create
    from tests.e2e.test_afterworks_discord import use_channel as use_afterworks_channel

    h = discord_harness
    await AFTERWORKS.on_start(h.services)
    await h.fake.invoke_slash(h.guild, h.member, "help")
    channel = await use_afterworks_channel(h)
    original = list(h.fake._routes)
    fail_route(h, "POST", r"/channels/(?P<cid>\d+)/messages")  # Discord 503s on posting, for a while
    _, confirm = await create(h, h.member)
    h.fake._routes = original  # the outage is over
    saved = await afterworks(h)
    for _ in range(3):
        h.services.clock.advance(timedelta(minutes=5))
        await h.services.scheduler.run_due()
    assert not saved or cards(h, channel), (
        f"an afterwork saved without its card, never posted after the outage; told: {confirm.all_texts()}")
