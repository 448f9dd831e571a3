"""The Slack app manifest, generated from the command list and the listeners the code registers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.cards import truncate
from bot.config import ConfigError, Settings
from bot.features import CommandSpec, Feature, all_commands, locale_folders
from bot.i18n import Catalog
from bot.slack_app.app import BASE_SCOPES, build_router
from bot.slack_app.installations import redirect_url

APP_NAME = "Collectif"
USAGE_HINT_MAX = 1000
DESCRIPTION_MAX = 140
SHORTCUT_NAME_MAX = 24
SHORTCUT_DESCRIPTION_MAX = 150


def usage_hint(catalog: Catalog, locale: str, features: Iterable[Feature]) -> str:
    """`aide · config [afficher|historique|…] · …`: each command and arguments, in the community language.

    The arguments come from the catalog key `<feature>.commands.<name>.slack_usage` when there is one
    (it must list words the handler accepts), else from the CommandSpec's English `slack_usage`.
    """
    parts = [f"{catalog.t(locale, c.name_key)} {command_usage(catalog, locale, c)}".strip()
             for c in all_commands(features)]
    return truncate(" · ".join(parts), USAGE_HINT_MAX)


def command_usage(catalog: Catalog, locale: str, command: CommandSpec) -> str:
    key = f"{command.feature}.commands.{command.name}.slack_usage"
    return catalog.t(locale, key) if catalog.has(key, locale) else command.slack_usage


def manifest(settings: Settings, features: Iterable[Feature], locale: str | None = None) -> dict[str, Any]:
    """The manifest to paste into https://api.slack.com/apps (Create app > From a manifest).

    Its texts are in `locale` (default: community.locale); its scopes and events are those the
    installed features registered (`scope_reasons` says why each is asked for).
    """
    features = list(features)
    catalog = Catalog.load(locale_folders(features))
    router = build_router(settings, features)
    locale = locale or settings.community.locale
    http = settings.slack.mode == "http"
    request_url = str(settings.slack.request_url) if settings.slack.request_url else None
    if http and request_url is None:
        raise ConfigError("slack.request_url: required in HTTP mode (e.g. https://bot.example.org/slack/events)")
    where = {"request_url": request_url} if http else {}
    command = {
        "command": settings.slack.command,
        "description": truncate(catalog.t(locale, "slack.command_description"), 2000),
        "usage_hint": usage_hint(catalog, locale, features),
        # Mentions then arrive as <@U123|name>: a member is named by id, not by an ambiguous name.
        "should_escape": True,
        **({"url": request_url} if http else {}),
    }
    shortcuts = [
        {
            "name": truncate(catalog.t(locale, s.name_key), SHORTCUT_NAME_MAX),
            "type": s.kind,
            "callback_id": s.callback_id,
            "description": truncate(catalog.t(locale, s.description_key), SHORTCUT_DESCRIPTION_MAX),
        }
        for s in router.shortcuts
    ]
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": APP_NAME,
            "description": truncate(catalog.t(locale, "slack.app_description"), DESCRIPTION_MAX),
            "background_color": "#264653",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": "app_home_opened" in router.events,
                "messages_tab_enabled": True,  # reminders and exports arrive as DMs
                "messages_tab_read_only_enabled": True,  # Collectif does not read DMs
            },
            "bot_user": {"display_name": APP_NAME, "always_online": True},
            "slash_commands": [command],
            **({"shortcuts": shortcuts} if shortcuts else {}),
        },
        # HTTP mode: the redirect URL of the install flow, used when distributing to many workspaces
        # (SLACK_CLIENT_ID / SLACK_CLIENT_SECRET; bot/slack_app/installations.py), harmless otherwise.
        "oauth_config": {**({"redirect_urls": [redirect_url(settings)]} if http else {}),
                         "scopes": {"bot": sorted({*BASE_SCOPES, *router.scopes})}},
        "settings": {
            "event_subscriptions": {**where, "bot_events": sorted(router.events)},
            "interactivity": {"is_enabled": True, **where},
            "org_deploy_enabled": False,
            "socket_mode_enabled": not http,
            "token_rotation_enabled": False,
        },
    }
