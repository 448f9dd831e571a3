"""Introductions: member profiles, intro cards in the trade channels, availability."""

from bot.features import Feature

FEATURE = Feature(
    name="intros",
    package=__name__,
    models="cogs.intros.models",
)
