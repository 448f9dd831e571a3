"""Collaborator matching: /match proposes a team covering a pack's or a list's trades, and invites it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.features import CommandSpec, Feature, PrivacyHook
from cogs.matching import _cleanup
from cogs.matching._invite import on_start as invitations_on_start
from cogs.matching._store import delete_member, export_member

if TYPE_CHECKING:
    from bot.services import Services


async def on_start(services: Services) -> None:
    await invitations_on_start(services)  # the invitations' jobs
    await _cleanup.on_start(services)  # proposals never invited, forgotten nightly


FEATURE = Feature(
    name="matching",
    package=__name__,
    commands=(CommandSpec("match", "matching", slack_usage="[pack:…] [trades:…] [skills:…]"),),
    privacy=PrivacyHook(tables=("match_proposals", "match_proposed_members", "match_invitations"),
                        export=export_member, delete=delete_member),
    discord_extension="cogs.matching._discord",
    slack_listeners="cogs.matching._slack",
    models="cogs.matching.models",
    discord_permissions=(
        ("create_private_threads", "an invited team's private conversation is a private thread, the bot "
                                   "adding the team"),
        ("send_messages_in_threads", "the team's profiles posted in that thread"),
    ),
    on_start=on_start,  # the invitations' jobs, the nightly forgetting of uninvited proposals
)
