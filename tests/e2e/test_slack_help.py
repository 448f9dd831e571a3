"""/collectif through the real Bolt app over HTTP: help in fr and en, aide, moderators, unknown words."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.models import Community, Member
from tests.e2e.slack_harness import SlackHarness
from tests.fakes.slack_api import TEAM_DOMAIN, TEAM_ID, visible_text


async def help_text(slack: SlackHarness, text: str, user_id: str) -> str:
    answer, url = await slack.sender.command(text, user_id=user_id)
    assert answer.status == 200
    post = await slack.fake.wait_for_post(url)
    assert post.body["response_type"] == "ephemeral"
    return post.text


async def test_no_argument_shows_help_in_french(slack: SlackHarness) -> None:
    text = await help_text(slack, "", slack.member_fr)
    assert "Collectif — l’aide" in text
    assert "`/collectif aide` — Affiche les commandes disponibles" in text
    assert "`/collectif boum` — Échoue exprès" in text
    assert "Pour les modérateurs" not in text
    assert "purger" not in text


async def test_no_argument_shows_help_in_english(slack: SlackHarness) -> None:
    text = await help_text(slack, "", slack.member_en)
    assert "Collectif — help" in text
    assert "`/collectif help` — Shows the available commands" in text
    assert "For moderators" not in text
    assert "purge" not in text


async def test_help_and_aide_in_any_case_show_help(slack: SlackHarness) -> None:
    for word in ("aide", "HELP", "Aide  extra words"):
        text = await help_text(slack, word, slack.member_en)
        assert "Collectif — help" in text  # the French name works; the answer follows the user's locale


async def test_moderator_commands_only_for_workspace_admins(slack: SlackHarness) -> None:
    text = await help_text(slack, "aide", slack.admin)
    assert "Pour les modérateurs" in text
    assert "`/collectif purger` — Purge de test réservée aux modérateurs" in text

    _, url = await slack.sender.command("purger", user_id=slack.admin)
    assert (await slack.fake.wait_for_post(url)).text == "Purge faite."
    _, url = await slack.sender.command("purge", user_id=slack.member_fr)
    assert (await slack.fake.wait_for_post(url)).text == "Seuls les modérateurs peuvent faire cela."


async def test_unknown_subcommand_says_so_and_shows_help(slack: SlackHarness) -> None:
    text = await help_text(slack, "frobnicate <!channel>", slack.member_fr)
    assert "Commande inconnue « frobnicate »" in text
    assert "Collectif — l’aide" in text


async def test_every_command_is_reachable(slack: SlackHarness) -> None:
    """Each CommandSpec, by its name and its French name, reaches a handler or says it is not on Slack yet."""
    unknown = slack.t("fr", "slack.unknown_command", name="x").split("«")[0]
    for command in slack.services.commands:
        for name in {command.name, slack.t("fr", command.name_key)}:
            done = slack.completions.count
            answer, url = await slack.sender.command(name, user_id=slack.admin)
            assert answer.status == 200
            await slack.completions.wait(done + 1)  # some open a form instead of answering
            assert not [p for p in slack.fake.posted if p.url == url and unknown in p.text], name


async def test_first_contact_creates_community_and_member_and_caches_users_info(slack: SlackHarness) -> None:
    await help_text(slack, "", slack.member_fr)
    await help_text(slack, "aide", slack.member_fr)
    async with slack.services.db.transaction() as session:
        community = await session.scalar(select(Community).where(Community.external_id == TEAM_ID))
        assert community is not None
        assert (community.platform, community.name, community.locale, community.active) == (
            "slack", TEAM_DOMAIN, "fr", True)
        member = await session.scalar(select(Member).where(Member.community_id == community.id))
        assert member is not None
        assert (member.platform_user_id, member.display_name) == (slack.member_fr, "camille")
    users_info = slack.fake.calls_to("users.info")
    assert len(users_info) == 1
    assert users_info[0].args["include_locale"] in ("1", "true", True)

    slack.services.clock.advance(timedelta(minutes=6))  # type: ignore[attr-defined]
    await help_text(slack, "", slack.member_fr)
    assert len(slack.fake.calls_to("users.info")) == 2


async def test_home_tab_shows_help_in_the_user_language(slack: SlackHarness) -> None:
    answer = await slack.sender.event({"type": "app_home_opened", "user": slack.member_en, "channel": "DX",
                                       "tab": "home"})
    assert answer.status == 200
    call = await slack.fake.wait_for_call("views.publish")
    assert call.args["user_id"] == slack.member_en
    headers = [b["text"]["text"] for b in call.args["view"]["blocks"] if b["type"] == "header"]
    assert "Collectif — help" in headers
    await slack.completions.wait(1)
    assert len(slack.fake.calls_to("views.publish")) == 1


async def test_the_home_shows_each_help_heading_once(slack: SlackHarness) -> None:
    """The command list is longer than a Discord field (1,024 characters): it goes on in fields with no
    heading, so Slack's Home shows "Pour tout le monde" once, not again in the middle of the list."""
    await slack.sender.event({"type": "app_home_opened", "user": slack.admin, "tab": "home"})
    call = await slack.fake.wait_for_call("views.publish")
    await slack.completions.wait(1)
    shown = visible_text(call.args["view"])
    for key in ("help.members_heading", "help.moderators_heading"):
        heading = slack.services.t("fr", key)
        assert shown.count(heading) == 1, f"{heading!r} shown {shown.count(heading)} times on the Home"
