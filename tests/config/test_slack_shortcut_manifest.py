"""The "Remove post" message shortcut is declared in the Slack manifest, in the community language."""

from __future__ import annotations

import pytest

from bot.config import load_settings
from bot.features import load_features
from bot.slack_app.manifest import SHORTCUT_DESCRIPTION_MAX, SHORTCUT_NAME_MAX, manifest
from bot.slack_app.router import SlackRouter


def _manifest(locale: str) -> dict:
    settings, _ = load_settings(
        env={"COLLECTIF_SLACK__MODE": "socket", "COLLECTIF_COMMUNITY__LOCALE": locale}
    )
    return manifest(settings, load_features())


@pytest.mark.parametrize(("locale", "name"), [("fr", "Retirer la publication"), ("en", "Remove post")])
def test_the_manifest_declares_the_message_shortcut(locale, name):
    shortcuts = _manifest(locale)["features"]["shortcuts"]
    [remove] = [s for s in shortcuts if s["callback_id"] == "config:remove_post"]
    assert (remove["name"], remove["type"]) == (name, "message")
    assert 0 < len(remove["name"]) <= SHORTCUT_NAME_MAX
    assert 0 < len(remove["description"]) <= SHORTCUT_DESCRIPTION_MAX
    assert _manifest(locale)["settings"]["interactivity"]["is_enabled"] is True


def test_a_shortcut_cannot_be_registered_twice():
    router = SlackRouter()

    async def handler(request):
        return None

    router.shortcut("x:y", "a", "b", handler)
    with pytest.raises(ValueError, match="x:y"):
        router.shortcut("x:y", "a", "b", handler)
