"""Help: lists the commands the caller may use, in their language."""

from bot.features import CommandSpec, Feature

__all__ = ["FEATURE"]

FEATURE = Feature(
    name="help",
    package=__name__,
    commands=(CommandSpec("help", "help"),),
    discord_extension="cogs.help._discord",
    slack_listeners="cogs.help._slack",
)
