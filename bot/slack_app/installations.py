"""Slack distribution: Bolt's OAuth install flow and one bot token per workspace, kept in our database.

Enabled in HTTP mode when SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set (and SLACK_BOT_TOKEN is not):
`/slack/install` sends an admin to Slack's consent screen, `/slack/oauth_redirect` exchanges the code
(`oauth.v2.access`) and stores the workspace's installation with slack_sdk's AsyncSQLAlchemy stores on
our own engine (tables in storage/models.py, migration 0002). Bolt then authorizes every request with
the token of the workspace it comes from; the notifier asks `TeamClients` for that workspace's client.

Tokens are never logged by this module. They are stored in clear in the database (README: "Slack for
many workspaces" says to protect it like the .env file).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import (
    AsyncSQLAlchemyInstallationStore,
    SQLAlchemyInstallationStore,
)
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import and_, desc

from bot import lifecycle
from bot.slack_app.client import build_client, retry_handlers
from bot.slack_app.install_pages import callback_options
from storage.engine import WRITE_OPTION

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services import Services

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 600  # an install started and not finished within 10 minutes must start again
ROTATE_MINUTES_BEFORE = 120  # refresh a rotating token this long before it expires (Bolt's default)
INSTALLATIONS_KEY = "collectif_installations"  # where the store waits in Bolt's context
QUIET = logging.getLogger("bot.slack_app.installations.web")
QUIET.setLevel(logging.INFO)  # see oauth_for: never the DEBUG lines that show response bodies


class Installations(AsyncSQLAlchemyInstallationStore):
    """slack_sdk's store on our engine; reads take no SQLite write lock; an install restores the community.

    A workspace installing again (or for the first time after an uninstall) gets its paused community
    back at once, without waiting for its first slash command.
    """

    def __init__(self, services: Services, client_id: str) -> None:
        super().__init__(client_id=client_id, engine=services.db.engine,
                         logger=logging.getLogger("bot.slack_app.installations.store"))
        self._services = services
        reading = services.db.engine.execution_options(**{WRITE_OPTION: False})
        self._reader = AsyncSQLAlchemyInstallationStore(client_id=client_id, engine=reading,
                                                        logger=self.logger)

    async def async_save(self, installation: Installation) -> None:
        await super().async_save(installation)
        team = installation.team_id or installation.enterprise_id
        log.info("Slack: installed in workspace %s (%s)", team, installation.team_name)
        if team:
            await lifecycle.reactivate(self._services, "slack", team)

    async def async_find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                             is_enterprise_install: bool | None = False) -> Bot | None:
        return await self._reader.async_find_bot(enterprise_id=enterprise_id, team_id=team_id,
                                                 is_enterprise_install=is_enterprise_install)

    async def async_find_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                      user_id: str | None = None,
                                      is_enterprise_install: bool | None = False) -> Installation | None:
        return await self._reader.async_find_installation(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id,
            is_enterprise_install=is_enterprise_install)

    async def find_bot_by_team(self, team_id: str) -> Bot | None:
        """The latest bot token of workspace `team_id`, whether or not it belongs to an Enterprise Grid.

        A plain install in a workspace of a Grid organization is stored with the organization's
        enterprise_id; slack_sdk's `async_find_bot(enterprise_id=None, …)` looks for `enterprise_id IS
        NULL` and would not find it. A team id names one workspace whatever its organization, and an
        org-wide install (not supported) is stored without one, so the team id alone is enough here.
        """
        c = self.bots.c
        query = (
            self.bots.select()
            .where(and_(c.client_id == self.client_id, c.team_id == team_id, c.bot_token.is_not(None)))
            .order_by(desc(c.installed_at))
            .limit(1)
        )
        async with self._reader.engine.connect() as connection:
            row = (await connection.execute(query)).mappings().first()
        return SQLAlchemyInstallationStore.build_bot_entity(row) if row is not None else None

    async def remove(self, team_id: str) -> None:
        """The workspace uninstalled the app or revoked its bot token: forget every token of it.

        By team id alone, so that a workspace of an Enterprise Grid organization (stored with the
        organization's enterprise_id) is forgotten too. Both tables in one transaction, so that no
        token of the workspace survives a failure between.
        """
        async with self.engine.begin() as connection:
            for table in (self.bots, self.installations):
                await connection.execute(table.delete().where(
                    table.c.client_id == self.client_id, table.c.team_id == team_id))
        log.info("Slack: installation of workspace %s deleted", team_id)


class TeamClients:
    """The Web API client of one workspace, with its own bot token (refreshed when it rotates)."""

    def __init__(self, services: Services, store: Installations, base: AsyncWebClient,
                 client_secret: str) -> None:
        self.services = services
        self.store = store
        self.base = base
        self._rotator = AsyncTokenRotator(client_id=store.client_id, client_secret=client_secret, client=base)
        # `base` is the quiet client (oauth_for): a rotation's answer carries the new tokens.
        self._forgetting = asyncio.Lock()  # one refused token forgotten at a time: each once

    async def token(self, team_id: str) -> str | None:
        bot = await self.store.find_bot_by_team(team_id)
        if bot is None:
            return None
        if bot.bot_refresh_token:
            refreshed = await self._rotator.perform_bot_token_rotation(
                bot=bot, minutes_before_expiration=ROTATE_MINUTES_BEFORE)
            if refreshed is not None:
                await self.store.async_save_bot(refreshed)
                bot = refreshed
        return bot.bot_token

    async def client(self, team_id: str) -> AsyncWebClient | None:
        """None when the workspace has no installation (never installed, or uninstalled)."""
        token = await self.token(team_id)
        if token is None:
            log.info("Slack: no installation for workspace %s", team_id)
            return None
        return build_client(token, self.base.base_url, self.base.session)

    async def refused(self, team_id: str, token: str | None, error: str) -> None:
        """Slack refused the workspace's token: do what its `app_uninstalled` event does (events.py).

        Slack gives up on an event after three retries within the hour, so an uninstall while Collectif
        was down is never told: the refusal (`invalid_auth`, `token_revoked`…) is then the only sign.
        The installation is deleted and the community paused once; a token that is no longer the one
        stored (rotated, or the app installed again since) changes nothing.
        """
        async with self._forgetting:
            bot = await self.store.find_bot_by_team(team_id)
            if bot is None or token is None or bot.bot_token != token:
                return
            log.warning("Slack refused the token of workspace %s (%s): the app was uninstalled or its "
                        "token revoked; installation deleted, community paused", team_id, error)
            await self.store.remove(team_id)
        await lifecycle.deactivate(self.services, "slack", team_id)


def redirect_url(settings: Settings) -> str | None:
    """Where Slack sends an admin back after the install: the events URL's origin + REDIRECT_PATH."""
    request_url = settings.slack.request_url
    if request_url is None:
        return None
    parts = urlsplit(str(request_url))
    return urlunsplit((parts.scheme, parts.netloc, REDIRECT_PATH, "", ""))


def oauth_settings(services: Services, store: Installations, scopes: list[str]) -> AsyncOAuthSettings:
    """Bolt's OAuth settings: our paths, the manifest's bot scopes, our database for state and tokens."""
    secrets = services.secrets
    assert secrets.slack_client_id is not None
    assert secrets.slack_client_secret is not None
    redirect_uri = redirect_url(services.settings)
    return AsyncOAuthSettings(
        client_id=secrets.slack_client_id.get_secret_value(),
        client_secret=secrets.slack_client_secret.get_secret_value(),
        scopes=scopes,
        redirect_uri=redirect_uri,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        install_page_rendering_enabled=False,  # /slack/install goes straight to Slack's consent screen
        callback_options=callback_options(services, INSTALL_PATH),  # Cancel, expired link…: said plainly
        installation_store=store,
        # Collectif uses no user token: Bolt, like TeamClients, reads the latest bot row, so that a
        # token refreshed by either is the one both use next.
        installation_store_bot_only=True,
        state_store=AsyncSQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS,
                                                   engine=services.db.engine),
        state_expiration_seconds=STATE_SECONDS,
        token_rotation_expiration_minutes=ROTATE_MINUTES_BEFORE,
    )


def oauth_for(services: Services, client: AsyncWebClient,
              scopes: list[str]) -> tuple[AsyncOAuthFlow, TeamClients]:
    """Bolt's OAuth flow and the per-workspace clients, every call going to `client`'s base URL.

    `scopes` are the bot scopes the app asks for (bot.slack_app.app.scope_reasons).

    The calls that answer with tokens (oauth.v2.access: install and rotation) go through a client whose
    logger never logs at DEBUG: slack_sdk logs every response body there, tokens included.
    """
    secrets = services.secrets
    assert secrets.slack_client_id is not None
    assert secrets.slack_client_secret is not None
    client_id = secrets.slack_client_id.get_secret_value()
    client_secret = secrets.slack_client_secret.get_secret_value()
    quiet = AsyncWebClient(base_url=client.base_url, session=client.session, logger=QUIET,
                           retry_handlers=retry_handlers())
    store = Installations(services, client_id)
    settings = oauth_settings(services, store, scopes)
    # Bolt's authorize refreshes rotating tokens with a client of its own on slack.com: use ours.
    settings.authorize.token_rotator = AsyncTokenRotator(  # type: ignore[attr-defined]
        client_id=client_id, client_secret=client_secret, client=quiet)
    flow = AsyncOAuthFlow(client=quiet, logger=logging.getLogger("bot.slack_app.oauth"), settings=settings)
    return flow, TeamClients(services, store, quiet, client_secret)
