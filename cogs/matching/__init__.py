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
    on_start=on_start,  # the invitations' expiry job
)
