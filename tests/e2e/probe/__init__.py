"""A feature that exists only in tests: commands that fail on purpose, a moderator command, a button,
and settings it declares (as missions, feedback and pairing will) for /config to pick up."""

from bot.features import CommandSpec, Feature
from bot.settings_registry import Choice, Duration, Flag, Number, SettingSpec

# What a feature writes to have settings: /config (both platforms), show, export/import, history.
NUDGE_DELAY = SettingSpec("probe.nudge_delay", Duration(0, 7 * 1440), default=48 * 60)
CADENCE = SettingSpec(
    "probe.cadence", Choice(("weekly", "biweekly", "monthly"), labels="probe.cadence"), default="weekly"
)
GROUP_SIZE = SettingSpec("probe.group_size", Number(2, 3), default=2)
ENABLED = SettingSpec("probe.enabled", Flag(), default=False)

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
    settings=(ENABLED, CADENCE, GROUP_SIZE, NUDGE_DELAY),
)
