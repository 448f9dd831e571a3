"""Pairing rounds: Donut-style chats between opted-in members across trades, on a schedule."""

from bot.features import CommandSpec, Feature, PrivacyHook
from cogs.pairing._group_cards import delete_member
from cogs.pairing._rounds import on_start
from cogs.pairing._settings import SETTINGS
from cogs.pairing._store import export_member

FEATURE = Feature(
    name="pairing",
    package=__name__,
    commands=(
        CommandSpec(
            "pairing",
            "pairing",
            slack_usage="[join | leave | snooze 1-8 | avoid @member | unavoid @member | history | stats]",
        ),
    ),
    privacy=PrivacyHook(
        tables=("pairing_members", "pairing_preferences", "pairing_avoids"),
        export=export_member,
        delete=delete_member,
    ),
    discord_extension="cogs.pairing._discord",
    slack_listeners="cogs.pairing._slack",
    models="cogs.pairing.models",
    settings=SETTINGS,
    discord_permissions=(
        ("create_private_threads", "each group's private conversation is a private thread of the pairing "
                                   "channel, the bot adding the group"),
        ("send_messages_in_threads", "the conversation starter and check-in in that thread"),
    ),
    on_start=on_start,  # the planner, round and check-in jobs
)
