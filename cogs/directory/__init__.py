"""Directory: /members searches the listed profiles by trade, skill, sector, city and availability."""

from bot.features import CommandSpec, Feature
from cogs.directory._cleanup import on_start

FEATURE = Feature(
    name="directory",
    package=__name__,
    commands=(CommandSpec("members", "directory", slack_usage="[trade:…] [skill:…] [city:…]"),),
    discord_extension="cogs.directory._discord",
    slack_listeners="cogs.directory._slack",
    models="cogs.directory.models",
    on_start=on_start,
)
