"""The App Home end to end: intros' profile, a third feature's section, then help; a failing one left out."""

from __future__ import annotations

from typing import Any

import pytest

from bot.context import Caller
from bot.features import Feature
from bot.services import Services
from bot.slack_app.request import SlackRequest
from bot.slack_app.router import SlackRouter
from tests.e2e.slack_harness import SlackHarness
from tests.fakes.slack_api import visible_text

# A feature that exists only here: one section between intros (100) and help (1000), one that fails.
HOME_FEATURE = Feature(name="homeprobe", package="tests.e2e", slack_listeners=__name__)


async def agenda(request: SlackRequest, caller: Caller) -> list[dict[str, Any]]:
    return [{"type": "section", "text": {"type": "plain_text", "text": f"Agenda de {caller.display_name}"}}]


async def broken(request: SlackRequest, caller: Caller) -> list[dict[str, Any]]:
    raise RuntimeError("a feature's bug")


def register(router: SlackRouter) -> None:
    router.home_section(500, agenda)
    router.home_section(600, broken)


@pytest.fixture
def slack_services(slack_services: Services) -> Services:
    slack_services.features = [*slack_services.features, HOME_FEATURE]
    return slack_services


def parts(view: dict[str, Any]) -> list[str]:
    """The page as a reader scans it: each section's first line, dividers as `---`."""
    shown, block_texts = [], [visible_text({"blocks": [b]}).strip() for b in view["blocks"]]
    for block, text in zip(view["blocks"], block_texts, strict=True):
        if block["type"] == "divider":
            shown.append("---")
        elif not shown or shown[-1] == "---":
            shown.append(text.splitlines()[0])
    return shown


async def test_home_shows_each_feature_section_in_order_and_skips_a_failing_one(slack: SlackHarness) -> None:
    answer = await slack.sender.event({"type": "app_home_opened", "user": slack.member_fr, "tab": "home"})
    assert answer.status == 200
    call = await slack.fake.wait_for_call("views.publish")
    assert call.args["user_id"] == slack.member_fr
    assert parts(call.args["view"]) == [
        slack.t("fr", "intros.home.title"), "---", "Agenda de camille", "---", slack.t("fr", "help.title"),
    ]
    assert "intros:create" in str(call.args["view"])
    await slack.completions.wait(1)
    assert len(slack.fake.calls_to("views.publish")) == 1
