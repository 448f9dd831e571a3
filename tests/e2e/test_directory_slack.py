"""`/collectif members …` on Slack through the real Bolt app and the fake Slack: filters and paging."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from cogs.directory._filters import Filters
from cogs.directory._search import search_members
from tests.directory.factory import T0, add_profile
from tests.e2e.slack_harness import SlackHarness
from tests.fakes.callers import make_caller

pytest_plugins = ["tests.e2e.slack_harness"]


async def seed(slack: SlackHarness, count: int, team: str | None = None, **profile: Any) -> list[str]:
    names = []
    for i in range(count):
        name = f"Membre {i:02d}"
        caller = await make_caller(slack.services, f"UM{i:04d}", platform="slack",
                                   guild=team or slack.fake.team_id, community_name="Collectif Test",
                                   name=name, locale="fr-FR", community_locale="fr")
        async with slack.services.db.transaction() as session:
            await add_profile(session, caller, updated_at=T0 + timedelta(hours=i), **profile)
        names.insert(0, name)
    return names


def buttons(body: dict[str, Any]) -> dict[str, str]:
    return {e["text"]["text"]: e["action_id"] for block in body.get("blocks", [])
            if block["type"] == "actions" for e in block["elements"]}


def shown(text: str, names: list[str]) -> list[str]:
    return [n for n in names if n in text]


async def test_search_with_french_keys_and_paging(slack: SlackHarness) -> None:
    expected = await seed(slack, 7, skills=("Figma",), city="Lyon", trades=("Design graphique",))
    await seed(slack, 3, team="TOTHER", skills=("Figma",), city="Lyon")

    answer, url = await slack.sender.command("membres compétence:figma ville:LYON métier:Design graphique",
                                             user_id=slack.member_fr)
    assert answer.status == 200
    first = await slack.fake.wait_for_post(url)

    assert first.body["response_type"] == "ephemeral"
    assert slack.t("fr", "directory.card.count", count=7) in first.text
    assert shown(first.text, expected) == expected[:5]
    next_id = buttons(first.body)[slack.t("fr", "common.next")]
    assert next_id.startswith("directory:page:2:")

    _, click_url = await slack.sender.action(next_id, user_id=slack.member_fr)
    second = await slack.fake.wait_for_post(click_url)

    assert second.body["replace_original"] is True, second.text
    assert shown(second.text, expected) == expected[5:]
    assert slack.t("fr", "common.page", page=2, pages=2) in second.text
    assert list(buttons(second.body)) == [slack.t("fr", "common.previous")]


async def test_bad_filters_are_explained(slack: SlackHarness) -> None:
    _, url = await slack.sender.command("members colour:blue", user_id=slack.member_en)
    post = await slack.fake.wait_for_post(url)
    assert slack.t("en", "directory.errors.unknown_filter", value="colour") in post.text
    _, url = await slack.sender.command("members trade:Plumbing", user_id=slack.member_en)
    post = await slack.fake.wait_for_post(url)
    assert "Plumbing" in post.text


async def test_a_search_token_of_another_workspace_is_not_found(slack: SlackHarness) -> None:
    await seed(slack, 3, team="TOTHER", skills=("Figma",))
    theirs = await make_caller(slack.services, "UM0000", platform="slack", guild="TOTHER",
                               community_name="Autre", name="Membre 00", locale="fr-FR",
                               community_locale="fr")
    async with slack.services.db.transaction() as session:
        found = await search_members(session, theirs, Filters(skills=("figma",)), page_size=1,
                                     today=date(2026, 11, 26))
    assert found.has_next

    _, url = await slack.sender.action(f"directory:page:2:{found.token}", user_id=slack.member_fr)
    post = await slack.fake.wait_for_post(url)

    assert post.text == slack.t("fr", "directory.errors.search_expired")
    assert post.body["replace_original"] is False
