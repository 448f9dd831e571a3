"""Pooling: group purchases whose price per person drops as members join, with a minimum and a deadline."""

from bot.features import CommandSpec, Feature, PrivacyHook
from cogs.pooling._pools import delete_member, export_member, on_start
from cogs.pooling._settings import SETTINGS

FEATURE = Feature(
    name="pooling",
    package=__name__,
    commands=(CommandSpec("pool", "pooling"),),
    privacy=PrivacyHook(
        tables=("pools", "pool_members", "pool_deliveries"),
        export=export_member,
        delete=delete_member,
    ),
    discord_extension="cogs.pooling._discord",
    slack_listeners="cogs.pooling._slack",
    models="cogs.pooling.models",
    settings=SETTINGS,
    on_start=on_start,  # the deadline and sync jobs
)
