"""Slack failing while /collectif resolves the caller (users.info): the command still answers, without
the profile's locale, and the failure is remembered for a while instead of repeated on every request."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.slack_harness import SlackHarness
from tests.fakes.slack_api import rate_limited, server_error


async def help_text(slack: SlackHarness, user_id: str) -> str:
    answer, url = await slack.sender.command("", user_id=user_id)
    assert answer.status == 200
    return (await slack.fake.wait_for_post(url)).text


async def test_an_outage_answering_text_then_a_rate_limit_only_cost_the_locale(slack: SlackHarness) -> None:
    fake = slack.fake
    fake.fail_next("users.info", server_error(500))  # text/plain body: not JSON at all

    text = await help_text(slack, slack.member_en)
    assert "Collectif — l’aide" in text  # the community's language: Jordan's locale is unknown
    assert "error" not in text.lower() and "erreur" not in text.lower()
    assert len(fake.calls_to("users.info")) == 1
    assert "Collectif — l’aide" in await help_text(slack, slack.member_en)
    assert len(fake.calls_to("users.info")) == 1  # the failure is cached: Slack is not asked again

    slack.services.clock.advance(timedelta(seconds=31))  # type: ignore[attr-defined]
    fake.fail_next("users.info", rate_limited(retry_after=120))
    assert "Collectif — l’aide" in await help_text(slack, slack.member_en)
    assert len(fake.calls_to("users.info")) == 2  # asked once, refused at once: no wait before the answer
    slack.services.clock.advance(timedelta(seconds=60))  # type: ignore[attr-defined]
    assert "Collectif — l’aide" in await help_text(slack, slack.member_en)
    assert len(fake.calls_to("users.info")) == 2  # Retry-After (120 s) is longer than the usual 30 s

    slack.services.clock.advance(timedelta(seconds=61))  # type: ignore[attr-defined]
    assert "Collectif — help" in await help_text(slack, slack.member_en)  # Slack is back: her language
    assert len(fake.calls_to("users.info")) == 3


async def test_a_dropped_connection_while_resolving_the_caller_is_no_error(slack: SlackHarness) -> None:
    slack.fake.dropped.add("users.info")
    assert "Collectif — l’aide" in await help_text(slack, slack.member_en)
