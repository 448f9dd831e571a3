"""The settings pooling declares (bot.settings_registry).

Where pools are posted and in which currency; the rota's hour, and how many days before a turn its
holder is reminded.
"""

from __future__ import annotations

from bot.settings_registry import Channel, Choice, Number, SettingSpec

CURRENCIES = ("EUR", "CHF", "CAD", "USD", "GBP")
SECTION = "pooling.settings.section"
CHANNEL = SettingSpec("pooling.channel", Channel(), default=None, section=SECTION)
CURRENCY = SettingSpec(
    "pooling.currency", Choice(CURRENCIES, labels="pooling.currencies"), default="EUR", section=SECTION
)
TASKS_SECTION = "pooling.settings.tasks_section"
TASKS_HOUR = SettingSpec("pooling.tasks_hour", Number(0, 23), default=9, section=TASKS_SECTION)
TASKS_REMIND_DAYS = SettingSpec("pooling.tasks_remind_days", Number(1, 14), default=2, section=TASKS_SECTION)
SETTINGS = (CHANNEL, CURRENCY, TASKS_HOUR, TASKS_REMIND_DAYS)
