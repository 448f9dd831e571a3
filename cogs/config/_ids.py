"""The interaction ids of config, written once for both platforms."""

SETTINGS = r"config:settings"  # the Slack settings form
IMPORT = r"config:import"  # the form holding a TOML file's text
REMOVE_SHORTCUT = r"config:remove_post"  # Slack's message shortcut
# The reason asked before removing a post: a Discord channel and message id, or a Slack channel and ts.
REMOVE_POST = r"config:removepost:(?P<channel>[A-Z0-9]{1,30}):(?P<message>[0-9]{1,20}(?:\.[0-9]{1,10})?)"
