"""The Slack Notifier: post, edit, remove cards and DM members, user text escaped by the renderer."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.cards import Card
from bot.notifier import Attachment, PostRef
from bot.rendering.slack import render_message

log = logging.getLogger(__name__)
# Errors meaning "this message or channel is not there for us": answered with None / False.
_GONE = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "message_not_found",
    "cant_update_message",
    "cant_delete_message",
    "restricted_action",
    "user_not_found",
    "cannot_dm_bot",
    "messages_tab_disabled",
}


class SlackNotifier:
    """Implements bot.notifier.Notifier with the bot token's client (one workspace per token)."""

    platform = "slack"

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    def _gone(self, exc: SlackApiError, what: str) -> None:
        error = exc.response.get("error")
        if error not in _GONE:
            raise exc
        log.info("Slack %s: %s", what, error)

    async def post(self, community_external_id: str, channel_id: str, card: Card) -> PostRef | None:
        try:
            response = await self.client.chat_postMessage(channel=channel_id, **render_message(card))
        except SlackApiError as exc:
            self._gone(exc, f"cannot post in {channel_id}")
            return None
        return PostRef(str(response["channel"]), str(response["ts"]))

    async def edit(self, community_external_id: str, ref: PostRef, card: Card) -> bool:
        try:
            await self.client.chat_update(channel=ref.channel_id, ts=ref.message_id, **render_message(card))
        except SlackApiError as exc:
            self._gone(exc, f"cannot edit {ref}")
            return False
        return True

    async def delete(self, community_external_id: str, ref: PostRef) -> bool:
        try:
            await self.client.chat_delete(channel=ref.channel_id, ts=ref.message_id)
        except SlackApiError as exc:
            self._gone(exc, f"cannot delete {ref}")
            return False
        return True

    async def dm(
        self, community_external_id: str, user_id: str, card: Card, attachment: Attachment | None = None
    ) -> PostRef | None:
        try:
            opened = await self.client.conversations_open(users=user_id)
            channel = str(opened["channel"]["id"])
            response = await self.client.chat_postMessage(channel=channel, **render_message(card))
            if attachment is not None:
                await self.client.files_upload_v2(
                    channel=channel,
                    content=attachment.content,
                    filename=attachment.filename,
                )
        except SlackApiError as exc:
            self._gone(exc, f"cannot DM {user_id}")
            return None
        return PostRef(channel, str(response["ts"]))
