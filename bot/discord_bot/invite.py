"""The OAuth2 install URL with the bot + applications.commands scopes and the least permissions."""

from __future__ import annotations

import discord

SCOPES = ("bot", "applications.commands")


def required_permissions() -> discord.Permissions:
    """What the features need, and nothing more.

    - view channels, send messages, embed links: post cards in the trade / intro / missions channels;
    - attach files: `.ics` exports and data exports;
    - read message history: edit and reply to the bot's own earlier cards;
    - create public threads, send messages in threads: peer feedback discussions;
    - create private threads: a pairing round's private conversation per group (members added by the bot);
    - create events: the afterworks' native scheduled events. Discord lets the creator edit and
      delete its own events with it, so Manage Events (everyone's events) is not asked for.

    Not asked: Manage Messages (the bot only edits and deletes its own messages, which needs no
    permission), Mention Everyone, Administrator.
    """
    return discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        create_public_threads=True,
        create_private_threads=True,
        embed_links=True,
        attach_files=True,
        read_message_history=True,
        create_events=True,
    )


def invite_url(application_id: int) -> str:
    """The URL a server admin opens to add Collectif to a server."""
    return discord.utils.oauth_url(application_id, permissions=required_permissions(), scopes=SCOPES)

