"""The settings pooling declares (bot.settings_registry): where pools are posted, in which currency."""

from __future__ import annotations

from bot.settings_registry import Channel, Choice, SettingSpec

CURRENCIES = ("EUR", "CHF", "CAD", "USD", "GBP")
SECTION = "pooling.settings.section"
CHANNEL = SettingSpec("pooling.channel", Channel(), default=None, section=SECTION)
CURRENCY = SettingSpec(
    "pooling.currency", Choice(CURRENCIES, labels="pooling.currencies"), default="EUR", section=SECTION
)
SETTINGS = (CHANNEL, CURRENCY)
