"""Collaborator matching: /match proposes a team covering a pack's or a list's trades, and invites it."""

from bot.features import CommandSpec, Feature, PrivacyHook
from cogs.matching._invite import on_start
from cogs.matching._store import delete_member, export_member

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
    on_start=on_start,  # the invitations' expiry job
)
