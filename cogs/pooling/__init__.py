"""Pooling: group purchases (the price per person drops as members join) and the rota of admin tasks."""

from bot.features import CommandSpec, Feature, HeldIds, PrivacyHook
from cogs.pooling._privacy import TABLES, delete_member, export_member
from cogs.pooling._rota import settings_changed
from cogs.pooling._settings import SETTINGS
from cogs.pooling._start import on_start

FEATURE = Feature(
    name="pooling",
    package=__name__,
    commands=(
        CommandSpec("pool", "pooling"),
        CommandSpec("tasks", "pooling", slack_usage="[add | remove <name> | history]"),
    ),
    privacy=PrivacyHook(tables=TABLES, export=export_member, delete=delete_member),
    discord_extension="cogs.pooling._discord",
    slack_listeners="cogs.pooling._slack",
    models="cogs.pooling.models",
    held_ids=(HeldIds("rota_tasks", "trade_ids", "trades"),),  # the trades whose members may take a task
    settings=SETTINGS,
    on_settings_changed=settings_changed,  # a coming rota turn follows the time zone and the hour
    on_start=on_start,  # the deadline, sync, payment reminder and rota jobs
)
