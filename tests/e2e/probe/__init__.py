"""A feature that exists only in tests: commands that fail on purpose, a moderator command, a button."""

from bot.features import CommandSpec, Feature

FEATURE = Feature(
    name="probe",
    package=__name__,
    commands=(
        CommandSpec("probe_boom", "probe"),
        CommandSpec("probe_oops", "probe"),
        CommandSpec("probe_late", "probe"),
        CommandSpec("probe_card", "probe"),
        CommandSpec("probe_form", "probe"),
        CommandSpec("probe_admin", "probe", moderator_only=True),
    ),
    discord_extension="tests.e2e.probe._discord",
)
