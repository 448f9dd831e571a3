"""`/collectif match …` on Slack through the real Bolt app and the fake Slack: proposal, DM answers, group."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from tests.directory.factory import add_profile
from tests.e2e.slack_harness import SlackHarness
from tests.fakes.callers import make_caller
from tests.fakes.slack_api import visible_text

pytest_plugins = ["tests.e2e.slack_harness"]


async def seed(slack: SlackHarness, user: str, name: str, **profile: Any) -> None:
    slack.fake.add_user(user, name)
    caller = await make_caller(slack.services, user, platform="slack", guild=slack.fake.team_id,
                               community_name="Collectif Test", name=name, locale="fr-FR",
                               community_locale="fr")
    async with slack.services.db.transaction() as session:
        await add_profile(session, caller, **profile)


def dms(slack: SlackHarness, user: str) -> list[dict[str, Any]]:
    """What the bot posted in its DM with `user`, oldest first."""
    return [m for (channel, _), m in slack.fake.messages.items() if channel == "D" + user]


def only(messages: list[dict[str, Any]]) -> dict[str, Any]:
    [message] = messages
    return message


async def click_in_dm(slack: SlackHarness, action_id: str, user: str) -> str:
    """A click on a button of the bot's DM with `user`, signed; what the user is then told."""
    payload = slack.sender.action_payload(action_id, user_id=user, channel_id="D" + user)
    body = urlencode({"payload": json.dumps(payload)})
    answer = await slack.sender.send(body, "application/x-www-form-urlencoded")
    assert answer.status == 200
    return (await slack.fake.wait_for_post(payload["response_url"])).text


def buttons(body: dict[str, Any]) -> dict[str, str]:
    return {e["text"]["text"]: e["action_id"] for block in body.get("blocks", [])
            if block["type"] == "actions" for e in block["elements"]}


async def test_match_in_french_then_invite_opens_a_group_dm(slack: SlackHarness) -> None:
    await seed(slack, "UW1", "Wanda", trades=("Rédaction web",), city="Lyon", work_mode="onsite")
    await seed(slack, "UV1", "Vic", trades=("Développement",), skills=("Python",))
    await seed(slack, "UV2", "Val", trades=("Développement",), city="Lille", work_mode="onsite")

    answer, url = await slack.sender.command("equipe métiers:Rédaction web, Développement ville:Lyon "
                                             "compétences:python mot:Client <!channel> : une boulangerie",
                                             user_id=slack.member_fr)
    assert answer.status == 200
    first = await slack.fake.wait_for_post(url)

    assert first.body["response_type"] == "ephemeral"
    assert "Rédaction web : Wanda" in first.text and "Développement : Vic" in first.text
    assert "Val" not in first.text  # on site only, in another city
    invite = buttons(first.body)[slack.t("fr", "matching.card.invite")]

    _, click_url = await slack.sender.action(invite, user_id=slack.member_fr)
    done = await slack.fake.wait_for_post(click_url)

    assert slack.t("fr", "matching.invite.sent", names="Wanda, Vic") in done.text
    wanda, vic = only(dms(slack, "UW1")), only(dms(slack, "UV1"))
    assert "vous invite dans une équipe : Rédaction web + Développement" in visible_text(vic)
    assert "une boulangerie" in visible_text(vic) and "<!channel>" not in str(vic)  # never pings
    accept = buttons(vic)[slack.t("fr", "matching.invitation.accept")]
    assert await click_in_dm(slack, accept, "UW1") == slack.t("fr", "matching.errors.not_invited")
    assert not [c for c, users in slack.fake.conversations.items() if len(users) == 3]

    # A click in the bot's DM carries the workspace (team_id): the usual caller resolution finds it.
    assert await click_in_dm(slack, accept, "UV1") == slack.t("fr", "matching.answered.accepted")
    assert await click_in_dm(slack, accept, "UV1") == slack.t("fr", "matching.answered.already_accepted")
    decline = buttons(wanda)[slack.t("fr", "matching.invitation.decline")]
    assert await click_in_dm(slack, decline, "UW1") == slack.t("fr", "matching.answered.declined")

    [group] = [c for c, users in slack.fake.conversations.items() if len(users) == 2 and c.startswith("G")]
    assert slack.fake.conversations[group] == sorted([slack.member_fr, "UV1"])
    told = dms(slack, slack.member_fr)
    assert "Vic a accepté (Développement)." in visible_text(told[0])
    assert "Plus d’alternative pour Rédaction web." in visible_text(told[1])
    assert slack.t("fr", "matching.invite.opened", names="Vic") in visible_text(told[-1])


async def test_bad_options_and_usage(slack: SlackHarness) -> None:
    _, url = await slack.sender.command("match colour:blue", user_id=slack.member_en)
    post = await slack.fake.wait_for_post(url)
    assert "colour" in post.text
    _, url = await slack.sender.command("match trades:Development by:2001-01-01 rate:lots",
                                        user_id=slack.member_en)
    post = await slack.fake.wait_for_post(url)
    assert "2001-01-01" in post.text and "lots" in post.text
    _, url = await slack.sender.command("match", user_id=slack.member_en)
    post = await slack.fake.wait_for_post(url)
    assert "/collectif match" in post.text
