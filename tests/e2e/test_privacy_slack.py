"""`/collectif confidentialite exporter|supprimer` on Slack through the real Bolt app and the fake Slack."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from bot.cards import Card
from bot.posting import PostOwner, post_card
from cogs.intros.models import Profile
from storage.models import Member
from tests.directory.factory import add_profile
from tests.e2e.slack_harness import SlackHarness
from tests.fakes.callers import make_caller
from tests.fakes.slack_api import visible_text

pytest_plugins = ["tests.e2e.slack_harness"]


async def introduce(slack: SlackHarness) -> tuple[int, str]:
    caller = await make_caller(slack.services, slack.member_fr, platform="slack", guild=slack.fake.team_id,
                               community_name="Collectif Test", name="camille", locale="fr-FR",
                               community_locale="fr")
    async with slack.services.db.transaction() as session:
        profile = await add_profile(session, caller, skills=("Figma",), bio="<!channel> bonjour")
    owner = PostOwner(caller.community_id, "intros", profile.id, caller.member_id)
    ref = await post_card(slack.services, owner, "CINTRO", Card(title="Camille"))
    assert ref is not None
    return caller.member_id, ref.message_id


async def export(slack: SlackHarness) -> dict[str, Any]:
    before = len(slack.fake.calls_to("files.completeUploadExternal"))
    answer, url = await slack.sender.command("confidentialite exporter", user_id=slack.member_fr)
    assert answer.status == 200
    reply = await slack.fake.wait_for_post(url)
    assert reply.text == slack.t("fr", "privacy.export.dm_sent")
    call = await slack.fake.wait_for_call(
        "files.completeUploadExternal",
        lambda c: slack.fake.calls_to("files.completeUploadExternal").index(c) >= before)
    assert call.args["channel_id"] == f"D{slack.member_fr}"
    [uploaded] = call.args["files"]
    return json.loads(slack.fake.uploads[uploaded["id"]])


def buttons(body: dict[str, Any]) -> dict[str, str]:
    return {e["text"]["text"]: e["action_id"] for block in body.get("blocks", [])
            if block["type"] == "actions" for e in block["elements"]}


async def test_export_then_delete_then_export(slack: SlackHarness) -> None:
    member_id, ts = await introduce(slack)

    data = await export(slack)
    assert data["member"]["user_id"] == slack.member_fr
    assert data["features"]["intros"]["profile"]["bio"] == "<!channel> bonjour"
    assert [p["message_id"] for p in data["posts"]] == [ts]

    _, url = await slack.sender.command("confidentialite supprimer", user_id=slack.member_fr)
    asked = await slack.fake.wait_for_post(url)
    yes = buttons(asked.body)[slack.t("fr", "privacy.delete.yes")]
    assert yes == f"privacy:confirm:{member_id}"

    done_before = slack.completions.count
    _, click_url = await slack.sender.action(yes, user_id=slack.member_fr)
    await slack.completions.wait(done_before + 1)

    posts = [p for p in slack.fake.posted if p.url == click_url]
    assert [p.body["replace_original"] for p in posts] == [True, True]
    assert slack.t("fr", "privacy.delete.done_title") in posts[-1].text
    assert ("CINTRO", ts) not in slack.fake.messages
    async with slack.services.db.transaction() as session:
        assert await session.get(Member, member_id) is None
        assert await session.scalar(select(func.count()).select_from(Profile)) == 0

    after = await export(slack)
    assert after["features"]["intros"] == {}
    assert after["posts"] == []


async def test_someone_else_cannot_confirm(slack: SlackHarness) -> None:
    member_id, ts = await introduce(slack)
    _, url = await slack.sender.action(f"privacy:confirm:{member_id}", user_id=slack.member_en)
    post = await slack.fake.wait_for_post(url)
    assert post.text == slack.t("en", "privacy.errors.gone")
    assert ("CINTRO", ts) in slack.fake.messages
    async with slack.services.db.transaction() as session:
        assert await session.get(Member, member_id) is not None


async def test_delete_republishes_the_home_tab_without_the_profile(slack: SlackHarness) -> None:
    member_id, _ = await introduce(slack)
    await slack.sender.event({"type": "app_home_opened", "user": slack.member_fr, "tab": "home"})
    shown = await slack.fake.wait_for_call("views.publish", lambda c: "intros:edit:" in str(c.args["view"]))
    assert "Figma" in visible_text(shown.args["view"])
    published_before = len(slack.fake.calls_to("views.publish"))

    await slack.sender.action(f"privacy:confirm:{member_id}", user_id=slack.member_fr)
    await slack.fake.wait_for_call(
        "views.publish", lambda c: slack.fake.calls_to("views.publish").index(c) >= published_before)

    [republished] = slack.fake.calls_to("views.publish")[published_before:]
    assert republished.args["user_id"] == slack.member_fr
    home = republished.args["view"]
    assert "intros:edit:" not in str(home) and "Figma" not in visible_text(home)
    assert slack.t("fr", "intros.home.no_profile") in visible_text(home)
    assert slack.t("fr", "help.title") in visible_text(home)  # the other sections stay


async def test_the_usage_names_the_command_in_the_members_words(slack: SlackHarness) -> None:
    """The usage said "/collectif privacy export | delete" to a French member, whose words (in the
    manifest's hint and the README) are "confidentialite exporter | supprimer" (a docs review)."""
    answer, url = await slack.sender.command("confidentialite", user_id=slack.member_fr)
    assert answer.status == 200
    assert (await slack.fake.wait_for_post(url)).text == (
        "Utilisation : /collectif confidentialite exporter | supprimer")
    _, url = await slack.sender.command("privacy", user_id=slack.member_en)
    assert (await slack.fake.wait_for_post(url)).text == "Usage: /collectif privacy export | delete"
