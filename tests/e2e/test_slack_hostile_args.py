"""every /collectif subcommand with hostile arguments answers a localized message, pings nobody."""

from __future__ import annotations

import time

import pytest

from tests.e2e.slack_harness import SlackHarness

pytest_plugins = ["tests.e2e.slack_harness"]

LONG = "é" * 10_000
ODD = {
    "long": LONG,
    "spaces": "     ",
    "markup": "<!channel> <!here|here> <@UJORDAN|jordan> <#CGENERAL|general> <!subteam^S1|@mods>",
    "unicode": "🧑‍💻 ｗｉｄｅ 𝔣𝔯𝔞𝔨𝔱𝔲𝔯 \u200b\u202e droite",
    "entities": "&lt;!channel&gt; &amp; &gt;&gt;",
    "colons": ":::: a:b: c::d ::",
}
SUBCOMMANDS = [
    "profile", "availability", "members", "afterwork dms", "afterworks", "missions", "kudos", "match",
    "pairing", "pairing snooze", "pairing avoid", "pairing unavoid", "tasks", "tasks remove", "privacy",
    "config", "config set", "config channel", "config trade add", "config trade rename",
    "config sector add", "config pack set", "config remove-post", "config language", "config timezone",
    "config reminders", "config limit missions", "config moderators", "config usergroup",
    "config purge-delay",
]


@pytest.mark.parametrize("kind", list(ODD))
async def test_hostile_arguments_get_a_clear_answer(slack: SlackHarness, kind: str) -> None:
    bad: list[str] = []
    for sub in SUBCOMMANDS:
        started = time.monotonic()
        answer, url = await slack.sender.command(f"{sub} {ODD[kind]}", user_id=slack.admin)
        assert answer.status == 200
        try:
            post = await slack.fake.wait_for_post(url, within=5)
        except TimeoutError:
            views = slack.fake.calls_to("views.open")
            bad.append(f"{sub}: no answer") if not views else None
            continue
        took = time.monotonic() - started
        text = post.text
        if ("erreur" in text.lower() and "(erreur" in text.lower()) or "something went wrong" in text.lower():
            bad.append(f"{sub}: {text[:150]}")
        for ping in ("<!channel", "<!here", "<@UJORDAN", "<!subteam"):
            if ping in text:
                bad.append(f"{sub}: pings {ping}: {text[:200]}")
        if took > 3:
            bad.append(f"{sub}: took {took:.1f}s")
    assert bad == []
