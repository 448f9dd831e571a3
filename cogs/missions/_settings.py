"""The settings missions declares (bot.settings_registry): /config, export/import and audit pick them up."""

from bot.settings_registry import Number, SettingSpec

ANSWER_DAYS = SettingSpec("missions.default_answer_days", Number(1, 90), default=14)
WARNING_DAYS = SettingSpec("missions.expiry_warning_days", Number(0, 14), default=2)
EXTEND_DAYS = SettingSpec("missions.extend_days", Number(1, 30), default=7)
SETTINGS = (ANSWER_DAYS, WARNING_DAYS, EXTEND_DAYS)
