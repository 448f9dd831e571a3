"""Install lifecycle events from Slack: an uninstalled app or revoked tokens pause the workspace.

Retries of these events are made harmless by the router's event_id ledger (bot/slack_app/ledger.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import lifecycle
from bot.slack_app.callers import team_of
from bot.slack_app.installations import INSTALLATIONS_KEY

if TYPE_CHECKING:
    from bot.slack_app.installations import Installations
    from bot.slack_app.request import SlackRequest
    from bot.slack_app.router import SlackRouter


async def on_removed(request: SlackRequest) -> None:
    """app_uninstalled / tokens_revoked: pause the workspace and schedule its purge (idempotent).

    Distributed (bot/slack_app/installations.py), the workspace's installation and tokens are deleted
    first: nothing is sent there any more, and installing again starts afresh.
    """
    event = request.body.get("event") or {}
    team = team_of(request.body, request.context)
    store: Installations | None = request.context.get(INSTALLATIONS_KEY)
    if store is not None and team and lifecycle.is_removal(event):
        await store.remove(team)
    await lifecycle.on_slack_event(request.services, team, event)


def register(router: SlackRouter) -> None:
    router.event("app_uninstalled", on_removed)
    router.event("tokens_revoked", on_removed)
