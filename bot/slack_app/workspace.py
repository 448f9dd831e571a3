"""Single-token mode: serve only the workspace SLACK_BOT_TOKEN belongs to ("one token means one workspace").

The same Slack app (same signing secret) may be installed in other workspaces too (Install to
Workspace on another team, a sibling workspace of an Enterprise Grid organization): their requests are
signed right but carry their own team id. Bolt's single-team authorization checks the token (auth.test)
but not that the request comes from the token's team, so without this check another workspace would
get a community of its own, served with this workspace's token. A sibling workspace of the same Grid
organization is refused as well: the token is one workspace's, not the organization's.

The check runs before Bolt's authorization, so a refused request costs no Web API call at all.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from slack_bolt.response import BoltResponse

from bot.config import SUPPORTED_LOCALES
from bot.slack_app.callers import team_of

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)
NO_TEAM_NEEDED = ("url_verification", "ssl_check")  # Slack's own checks: answered by Bolt
MAX_TOLD = 1_000  # workspaces whose first refusal was logged (later ones only at DEBUG)


class OneWorkspace:
    """Bolt's `before_authorize` middleware refusing requests from any team but the token's."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.team_id: str | None = None  # auth.test at start (bot.slack_app.runtime); None: not checked
        self.enterprise_id: str | None = None
        self._told: set[str] = set()

    def learn(self, auth: Mapping[str, Any]) -> None:
        """The token's workspace, from the auth.test answer the runtime checks the token with."""
        self.team_id = str(auth.get("team_id") or "") or None
        self.enterprise_id = str(auth.get("enterprise_id") or "") or None

    async def middleware(self, body: dict[str, Any], context: dict[str, Any],
                         next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        team = team_of(body, context)
        if self.team_id is None or team == self.team_id or body.get("type") in NO_TEAM_NEEDED:
            await next()
            return None
        self._log(team, body, context)
        if "command" in body:  # the one kind of request whose answer the member sees
            return BoltResponse(status=200, body={"response_type": "ephemeral", "text": self.refusal()})
        return BoltResponse(status=200, body="")  # events, clicks: acknowledged and ignored

    def refusal(self) -> str:
        """"Not installed in this workspace", in every language (the member's is unknown), default first."""
        default = self.services.settings.community.locale
        locales = dict.fromkeys([default, *SUPPORTED_LOCALES])
        return "\n".join(dict.fromkeys(self.services.t(loc, "slack.not_installed_here") for loc in locales))

    def _log(self, team: str, body: dict[str, Any], context: dict[str, Any]) -> None:
        enterprise = context.get("enterprise_id") or body.get("enterprise_id")
        sibling = bool(enterprise) and enterprise == self.enterprise_id
        level = logging.DEBUG if team in self._told else logging.WARNING
        if len(self._told) < MAX_TOLD:
            self._told.add(team)
        log.log(level, "Slack: request from workspace %s refused: SLACK_BOT_TOKEN is for workspace %s only%s "
                "(one token means one workspace; README: \"Slack for many workspaces\")", team or "?",
                self.team_id, f", not for its Enterprise Grid organization {enterprise}" if sibling else "")
