"""The settings pairing declares (bot.settings_registry); the pairing channel itself is config's."""

from __future__ import annotations

from bot.settings_registry import Choice, Flag, Number, SettingSpec, Text
from cogs.pairing._schedule import CADENCES, WEEKDAYS

SECTION = "pairing.settings.section"
ENABLED = SettingSpec("pairing.enabled", Flag(), default=False, section=SECTION)
CADENCE = SettingSpec(
    "pairing.cadence", Choice(CADENCES, labels="pairing.cadences"), default="biweekly", section=SECTION
)
DAY = SettingSpec("pairing.day", Choice(WEEKDAYS, labels="pairing.weekdays"), default="mon", section=SECTION)
HOUR = SettingSpec("pairing.hour", Number(0, 23), default=10, section=SECTION)
GROUP_SIZE = SettingSpec("pairing.group_size", Number(2, 3), default=2, section=SECTION)
CROSS_TRADE = SettingSpec("pairing.cross_trade", Flag(), default=True, section=SECTION)
INTRO_MESSAGE = SettingSpec("pairing.intro_message", Text(300), default="", section=SECTION)

SETTINGS = (ENABLED, CADENCE, DAY, HOUR, GROUP_SIZE, CROSS_TRADE, INTRO_MESSAGE)
