"""The App Home page the runtime builds from the sections features contribute (bot/slack_app/home.py)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from bot.context import Caller
from bot.rendering.slack import HOME_MAX_BLOCKS
from bot.services import Services
from bot.slack_app.home import Block, HomePage, refresh_home
from bot.slack_app.request import SlackRequest
from bot.slack_app.router import SlackRouter
from tests.fakes.slack_api import visible_text

CAMILLE = Caller(platform="slack", community_id=1, community_external_id="T1", community_locale="fr",
                 timezone="Europe/Paris", member_id=7, user_id="UCAMILLE", display_name="camille",
                 locale="fr", is_moderator=False)


class FakeClient:
    """Only what the Home calls: views.publish, recorded (or refused, like Slack may)."""

    def __init__(self, *, refuse: str = "") -> None:
        self.published: list[dict[str, Any]] = []
        self.refuse = refuse

    async def views_publish(self, *, user_id: str, view: dict[str, Any]) -> None:
        if self.refuse:
            raise SlackApiError(self.refuse, {"ok": False, "error": self.refuse})
        self.published.append({"user_id": user_id, "view": view})


def text_section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def section(*texts: str) -> Any:
    async def build(request: SlackRequest, caller: Caller) -> list[Block]:
        return [text_section(f"{text} ({caller.display_name})") for text in texts]

    return build


async def broken(request: SlackRequest, caller: Caller) -> list[Block]:
    raise RuntimeError("a feature's bug")


def request_for(services: Services, router: SlackRouter, client: FakeClient) -> SlackRequest:
    return SlackRequest(services, client, {}, {}, CAMILLE, home=router.home)  # type: ignore[arg-type]


def texts(view: dict[str, Any]) -> list[str]:
    return [visible_text({"blocks": [b]}).strip() for b in view["blocks"]]


async def test_sections_of_two_features_appear_in_their_order_between_dividers(services: Services) -> None:
    router, client = SlackRouter(), FakeClient()
    router.home_section(1000, section("Aide"))  # registered first, shown last
    router.home_section(100, section("Mon profil", "Mes disponibilités"))
    await refresh_home(request_for(services, router, client), CAMILLE)

    [call] = client.published
    assert call["user_id"] == "UCAMILLE" and call["view"]["type"] == "home"
    assert texts(call["view"]) == [
        "Mon profil (camille)", "Mes disponibilités (camille)", "", "Aide (camille)"]
    assert [b["type"] for b in call["view"]["blocks"]] == ["section", "section", "divider", "section"]


async def test_a_failing_section_is_left_out_and_the_home_still_published(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    router, client = SlackRouter(), FakeClient()
    router.home_section(100, section("Mon profil"))
    router.home_section(500, broken)
    router.home_section(1000, section("Aide"))
    await refresh_home(request_for(services, router, client), CAMILLE)

    [call] = client.published
    assert texts(call["view"]) == ["Mon profil (camille)", "", "Aide (camille)"]
    assert "Home section" in caplog.text and "a feature's bug" in caplog.text


async def test_a_huge_section_is_cut_within_the_home_limit_with_a_pointer_to_the_rest(
    services: Services,
) -> None:
    router, client = SlackRouter(), FakeClient()
    router.home_section(100, section("Mon profil"))
    router.home_section(200, section(*(f"Mission {n}" for n in range(500))), more="profile")
    router.home_section(1000, section("Aide"))
    await refresh_home(request_for(services, router, client), CAMILLE)

    [call] = client.published
    shown = texts(call["view"])
    assert len(call["view"]["blocks"]) == HOME_MAX_BLOCKS
    assert shown[:4] == ["Mon profil (camille)", "", "Mission 0 (camille)", "Mission 1 (camille)"]
    assert shown[-1] == services.t("fr", "slack.home_more", command="/collectif profil")
    assert shown[-1] == "La suite avec `/collectif profil`…"
    assert "Aide (camille)" not in shown  # no room left after the cut


async def test_a_section_after_an_exactly_full_page_still_says_there_is_more(services: Services) -> None:
    router, client = SlackRouter(), FakeClient()
    router.home_section(100, section(*(f"Ligne {n}" for n in range(HOME_MAX_BLOCKS))))
    router.home_section(1000, section("Aide"))
    await refresh_home(request_for(services, router, client), CAMILLE)

    view = client.published[0]["view"]
    assert len(view["blocks"]) == HOME_MAX_BLOCKS
    assert texts(view)[-1] == "La suite avec `/collectif`…"


async def test_the_runtime_listens_to_the_home_tab_and_to_data_deletion_once(services: Services) -> None:
    router, client = SlackRouter(), FakeClient()
    assert "app_home_opened" not in router.events  # no section: no Home tab in the manifest
    router.home_section(100, section("Mon profil"))
    router.home_section(1000, section("Aide"))
    assert router.events["app_home_opened"] == [router.home.opened]
    assert router.data_deleted == [router.home.data_deleted]

    request = request_for(services, router, client)
    request.body = {"event": {"type": "app_home_opened", "tab": "messages"}}
    await router.events["app_home_opened"][0](request)
    assert client.published == []  # the Messages tab is not the Home
    await router.member_data_deleted(request, CAMILLE.community_id, CAMILLE.member_id + 1)
    assert client.published == []  # someone else's data
    await router.member_data_deleted(request, CAMILLE.community_id, CAMILLE.member_id)
    request.body = {"event": {"type": "app_home_opened", "tab": "home"}}
    await router.events["app_home_opened"][0](request)
    home = ["Mon profil (camille)", "", "Aide (camille)"]
    assert [texts(c["view"]) for c in client.published] == [home, home]


async def test_a_refused_publish_does_not_fail_the_action(services: Services,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.slack_app.home")
    router = SlackRouter()
    router.home_section(100, section("Mon profil"))
    await refresh_home(request_for(services, router, FakeClient(refuse="not_enabled")), CAMILLE)
    assert "views.publish refused for UCAMILLE: not_enabled" in caplog.text


async def test_home_page_sorts_sections_and_keeps_ties_in_registration_order() -> None:
    page = HomePage()
    first, second, early = section("a"), section("b"), section("c")
    router = SlackRouter(home=page)
    router.home_section(5, first)
    router.home_section(5, second)
    router.home_section(1, early)
    assert [s.build for s in page.sections] == [early, first, second]
