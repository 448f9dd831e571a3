"""Help: lists the commands the caller may use, in their language."""

from bot.features import CommandSpec, Feature
from cogs.help._help import help_card  # public: other features show help too (intros' App Home)

__all__ = ["FEATURE", "help_card"]

FEATURE = Feature(
    name="help",
    package=__name__,
    commands=(CommandSpec("help", "help"),),
    discord_extension="cogs.help._discord",
    slack_listeners="cogs.help._slack",
)
