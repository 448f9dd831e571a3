"""Privacy: a member exports (JSON) or deletes everything Collectif stores about them in a community."""

from bot.features import CommandSpec, Feature

FEATURE = Feature(
    name="privacy",
    package=__name__,
    commands=(CommandSpec("privacy", "privacy", slack_usage="export | delete"),),
    discord_extension="cogs.privacy._discord",
    slack_listeners="cogs.privacy._slack",
    discord_permissions=(("attach_files", "/privacy export answers with your data as a JSON file"),),
)
