"""Slack's rate limits through the real Bolt app and notifier against the fake: a 429 is waited out
(Retry-After) and delivered once, a 5xx is retried, and posts keep one second apart per channel."""

from __future__ import annotations

import asyncio
import itertools
import time

from bot.cards import Card
from tests.e2e.slack_harness import SlackHarness
from tests.fakes.slack_api import rate_limited, server_error

TEAM = "T0COLLECT"


def notifier(slack: SlackHarness):  # type: ignore[no-untyped-def]
    return slack.services.notifiers["slack"]


def posts_to(slack: SlackHarness, channel: str) -> list[float]:
    """When the fake received each chat.postMessage to `channel` (429s included)."""
    return [c.at for c in slack.fake.calls_to("chat.postMessage") if c.args.get("channel") == channel]


async def test_a_rate_limited_card_is_posted_once_after_retry_after(slack: SlackHarness) -> None:
    slack.fake.fail_next("chat.postMessage", rate_limited(retry_after=1))
    ref = await notifier(slack).post(TEAM, "CINTROS", Card(title="Bienvenue"))
    assert ref is not None
    refused, delivered = posts_to(slack, "CINTROS")
    assert delivered - refused >= 1.0  # Retry-After: 1
    assert [m["text"] for (c, _), m in slack.fake.messages.items() if c == "CINTROS"] == ["Bienvenue"]


async def test_a_listener_client_waits_out_a_429_too(slack: SlackHarness) -> None:
    """Bolt builds a client per request from the app's: the retry handlers must come along."""
    slack.fake.fail_next("chat.postMessage", rate_limited(retry_after=1))
    event = {"type": "reaction_added", "user": slack.member_fr, "reaction": "eyes",
             "item": {"type": "message", "channel": "CREACT", "ts": "1764150000.000100"}}
    answer = await slack.sender.event(event)
    assert answer.status == 200
    await slack.fake.wait_for_call("chat.postMessage", lambda c: len(posts_to(slack, "CREACT")) == 2,
                                   within=5)
    refused, delivered = posts_to(slack, "CREACT")
    assert delivered - refused >= 1.0
    assert [m["text"] for (c, _), m in slack.fake.messages.items() if c == "CREACT"] == ["noted"]


async def test_an_outage_answering_text_is_retried(slack: SlackHarness) -> None:
    slack.fake.fail_next("chat.postMessage", server_error(503))
    ref = await notifier(slack).post(TEAM, "CDOWN", Card(title="Après la panne"))
    assert ref is not None
    assert len(posts_to(slack, "CDOWN")) == 2


async def test_posts_to_one_channel_keep_a_second_apart_others_are_not_held(slack: SlackHarness) -> None:
    cards = [Card(title=f"Carte {n}") for n in range(3)]
    started = time.monotonic()
    refs = await asyncio.gather(
        *(notifier(slack).post(TEAM, "CBUSY", card) for card in cards),
        notifier(slack).post(TEAM, "CQUIET", Card(title="Ailleurs")),
        notifier(slack).dm(TEAM, slack.member_fr, Card(title="En privé")),
    )
    assert all(ref is not None for ref in refs)
    busy = posts_to(slack, "CBUSY")
    assert len(busy) == 3
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(busy)), busy
    [quiet] = posts_to(slack, "CQUIET")
    [private] = posts_to(slack, f"D{slack.member_fr}")
    assert quiet - started < 0.5 and private - started < 0.5  # not queued behind CBUSY
