"""Install lifecycle events from Slack: an uninstalled app or revoked tokens pause the workspace.

Retries of these events are made harmless by the router's event_id ledger (bot/slack_app/ledger.py).
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

from bot import lifecycle
from bot.slack_app.callers import team_of
from bot.slack_app.installations import INSTALLATIONS_KEY

if TYPE_CHECKING:
    from bot.slack_app.installations import Installations
    from bot.slack_app.request import SlackRequest
    from bot.slack_app.router import SlackRouter

log = logging.getLogger(__name__)


async def on_removed(request: SlackRequest) -> None:
    """app_uninstalled / tokens_revoked: pause the workspace and schedule its purge (idempotent).

    Distributed (bot/slack_app/installations.py), the workspace's installation and tokens are deleted
    first: nothing is sent there any more, and installing again starts afresh. An event older than the
    stored installation (Slack retrying, minutes later, an uninstall whose first delivery was lost,
    after the admin installed the app again) changes nothing: the app is installed there now.
    """
    event = request.body.get("event") or {}
    team = team_of(request.body, request.context)
    store: Installations | None = request.context.get(INSTALLATIONS_KEY)
    if store is not None and team and lifecycle.is_removal(event):
        if await _installed_since(store, team, request.body.get("event_time")):
            log.info("Slack: %s of workspace %s is older than its installation: ignored",
                     event.get("type"), team)
            return
        await store.remove(team)
    await lifecycle.on_slack_event(request.services, team, event)


async def _installed_since(store: Installations, team: str, event_time: object) -> bool:
    """True when the workspace's stored installation is newer than the event (Slack's epoch seconds).

    `event_time` is in whole seconds: only an event from an earlier second than the installation is
    older, so that an uninstall right after an install is never ignored.
    """
    if not isinstance(event_time, int | float) or isinstance(event_time, bool):
        return False
    bot = await store.find_bot_by_team(team)
    return bot is not None and int(event_time) < math.floor(bot.installed_at)


def register(router: SlackRouter) -> None:
    router.event("app_uninstalled", on_removed)
    router.event("tokens_revoked", on_removed)
