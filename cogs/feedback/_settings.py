"""The settings peer feedback declares (bot.settings_registry); the channel and weekly limit are config's."""

from __future__ import annotations

from bot.settings_registry import Duration, SettingSpec

DEFAULT_NUDGE_MINUTES = 48 * 60
# How long a request may wait without an answer before the bot reminds its channel once; 0 = never.
NUDGE_DELAY = SettingSpec("feedback.nudge_delay", Duration(0, 14 * 24 * 60), default=DEFAULT_NUDGE_MINUTES)
