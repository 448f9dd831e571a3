"""The Slack app manifest follows the code: commands, events, scopes, Socket Mode or HTTP request URLs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, Settings, load_settings
from bot.features import CommandSpec, Feature, all_commands, load_features, locale_folders
from bot.i18n import Catalog
from bot.slack_app.manifest import manifest
from bot.slack_app.router import SlackRouter

EXTRA = Feature(
    name="extra",
    package="tests.slack",
    commands=(CommandSpec("help", "help", moderator_only=True, slack_usage="[topic]"),),
    slack_listeners=__name__,
)


def register(router: SlackRouter) -> None:
    router.need_scope("chat:write.public", "post in trade channels without being invited")
    router.event("member_joined_channel", lambda request: None)  # type: ignore[arg-type, return-value]


def settings_with(**env: str) -> Settings:
    loaded, _ = load_settings(env={f"COLLECTIF_{k.upper()}": v for k, v in env.items()})
    return loaded


def test_socket_mode_manifest_lists_every_command_event_and_scope() -> None:
    features = load_features()
    result = manifest(settings_with(slack__mode="socket"), features)
    json.dumps(result)  # printable as JSON
    assert result["display_information"]["name"] == "Collectif"
    assert len(result["display_information"]["description"]) <= 140
    assert result["features"]["bot_user"] == {"display_name": "Collectif", "always_online": True}
    [command] = result["features"]["slash_commands"]
    assert command["command"] == "/collectif"
    assert command["should_escape"] is True
    assert "url" not in command
    catalog = Catalog.load(locale_folders(features))
    for spec in all_commands(features):  # French names and arguments: the default community locale
        usage = catalog.t("fr", usage_key(spec)) if spec.slack_usage else ""
        assert f"{catalog.t('fr', spec.name_key)} {usage}".strip() in command["usage_hint"]
    assert command["usage_hint"].startswith("aide")
    settings = result["settings"]
    assert settings["socket_mode_enabled"] is True
    assert "request_url" not in settings["event_subscriptions"]
    assert "request_url" not in settings["interactivity"]
    assert settings["interactivity"]["is_enabled"] is True
    assert {"app_home_opened", "app_uninstalled", "tokens_revoked"} <= set(
        settings["event_subscriptions"]["bot_events"])
    assert result["features"]["app_home"]["home_tab_enabled"] is True
    scopes = result["oauth_config"]["scopes"]["bot"]
    assert scopes == sorted(set(scopes))
    assert {"chat:write", "commands", "im:write", "users:read"} <= set(scopes)


def test_http_mode_manifest_points_every_url_at_the_request_url() -> None:
    url = "https://bot.example.org/slack/events"
    result = manifest(settings_with(slack__mode="http", slack__request_url=url), load_features())
    assert result["settings"]["socket_mode_enabled"] is False
    assert result["features"]["slash_commands"][0]["url"] == url
    assert result["settings"]["interactivity"]["request_url"] == url
    assert result["settings"]["event_subscriptions"]["request_url"] == url


def test_http_mode_without_request_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"^slack\.request_url"):
        manifest(settings_with(slack__mode="http"), load_features())


def test_english_community_custom_command_and_feature_scopes() -> None:
    settings = settings_with(community__locale="en", slack__command="/coll")
    result = manifest(settings, [*load_features(), EXTRA])
    command = result["features"]["slash_commands"][0]
    assert command["command"] == "/coll"
    assert command["usage_hint"].startswith("help")
    assert "help [topic]" in command["usage_hint"]
    assert command["description"] == "Introductions, missions, peer feedback, afterworks"
    assert "chat:write.public" in result["oauth_config"]["scopes"]["bot"]
    assert "member_joined_channel" in result["settings"]["event_subscriptions"]["bot_events"]


def test_cli_prints_the_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("COLLECTIF_CONFIG", "COLLECTIF_SLACK__MODE", "COLLECTIF_SLACK__REQUEST_URL"):
        monkeypatch.delenv(name, raising=False)
    assert main(["slack", "manifest"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["settings"]["socket_mode_enabled"] is True


def usage_key(spec: CommandSpec) -> str:
    return f"{spec.feature}.commands.{spec.name}.slack_usage"


@pytest.mark.parametrize(("locale", "expected"), [
    ("fr", ["confidentialite exporter | supprimer", "membres [métier:…] [compétence:…] [ville:…]",
            "profil [@membre]", "disponibilite [disponible | occupé·e | JJ/MM/AAAA]",
            "config [afficher|historique|…]"]),
    ("en", ["privacy export | delete", "members [trade:…] [skill:…] [city:…]", "profile [@member]",
            "availability [available | busy | YYYY-MM-DD]", "config [show|history|…]"]),
])
def test_usage_hint_arguments_are_in_the_community_language(locale: str, expected: list[str]) -> None:
    features = load_features()
    catalog = Catalog.load(locale_folders(features))
    hint = manifest(settings_with(community__locale=locale), features)["features"]["slash_commands"][0][
        "usage_hint"]
    for part in expected:
        assert part in hint.split(" · "), (part, hint)
    for spec in all_commands(features):  # every command with arguments has them in both languages
        assert bool(spec.slack_usage) == catalog.has(usage_key(spec), locale), spec.name


def test_advertised_words_are_the_words_the_handlers_accept() -> None:
    from bot.words import match_word
    from cogs.directory._filters import ARG_KEYS
    from cogs.intros._slack import STATUS_WORDS
    from storage.text import fold

    catalog = Catalog.load(locale_folders(load_features()))
    for locale in ("fr", "en"):
        members = catalog.t(locale, "directory.commands.members.slack_usage")
        assert all(fold(key) in ARG_KEYS for key in re.findall(r"\[([^\]:]+):", members)), members
        availability = catalog.t(locale, "intros.commands.availability.slack_usage")
        words = [w.strip() for w in availability.strip("[]").split("|")][:2]
        assert all(match_word(w, STATUS_WORDS) for w in words), availability
        privacy = catalog.t(locale, "privacy.commands.privacy.slack_usage").split(" | ")
        names = [catalog.t(locale, f"privacy.commands.{verb}.name") for verb in ("export", "delete")]
        assert privacy == names
        config = catalog.t(locale, "config.commands.config.slack_usage").strip("[]").split("|")[:2]
        assert config == [catalog.t(locale, f"config.slack.words.{w}") for w in ("show", "history")]
