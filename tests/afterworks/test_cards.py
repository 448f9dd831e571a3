"""The afterwork cards as a reader sees them: counts with plural forms, dates of notification texts."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from bot.features import load_features, locale_folders
from bot.i18n import Catalog
from bot.rendering.slack import render_message
from cogs.afterworks._cards import list_card, notice_card

STARTS = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)  # 19:00 in Paris


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(locale_folders(load_features()))


def apero(going: int = 1, capacity: int | None = None) -> SimpleNamespace:
    """The attributes the list and the notices read of an Afterwork."""
    return SimpleNamespace(kind="afterwork", title="Apéro", starts_at=STARTS, place="Le Bar", link="",
                           city="Lyon", going_count=going, capacity=capacity)


def test_the_reminder_notification_says_the_community_s_hour_once_in_the_reader_s_language(catalog):
    """The lock screen shows chat.postMessage's `text`: not "2026-12-04 18:00 UTC (2026-12-04 18:00 UTC)"."""
    card = notice_card(catalog, "fr", "reminder", apero(), timezone="Europe/Paris")  # type: ignore[arg-type]
    text = render_message(card)["text"]
    assert "UTC" not in text, text
    assert text.count("19:00") == 1 and "vendredi 4 décembre 2026" in text, text
    english = render_message(notice_card(catalog, "en", "reminder", apero(),  # type: ignore[arg-type]
                                         timezone="Europe/Paris"))["text"]
    assert "Friday, December 4, 2026" in english and "7:00\u202fPM" in english, english


@pytest.mark.parametrize(("going", "capacity", "fr", "en"), [
    (0, None, "— 0 participant·e", "— 0 going"),
    (1, None, "— 1 participant·e", "— 1 going"),
    (2, None, "— 2 participant·es", "— 2 going"),
    (1, 4, "— 1/4 participant·e", "— 1/4 going"),
])
def test_the_list_counts_participants_with_plural_forms(catalog, going, capacity, fr, en):
    for locale, count in (("fr", fr), ("en", en)):
        shown = list_card(catalog, locale, [apero(going, capacity)],  # type: ignore[list-item]
                          timezone="Europe/Paris")
        assert shown.text.endswith(count)


def test_the_list_s_plain_text_says_each_time_in_the_community_s_zone(catalog):
    """Slack's plain text of the message (notifications, screen readers): 19:00 in Paris, not 18:00 UTC."""
    card = list_card(catalog, "fr", [apero()], timezone="Europe/Paris")  # type: ignore[list-item]
    text = render_message(card)["text"]
    assert "UTC" not in text and "19:00" in text, text


def test_the_channel_reminder_and_the_names_left_out_agree_with_their_count(catalog):
    def reminder(going: int) -> str:
        card = notice_card(catalog, "fr", "channel_reminder", apero(going),  # type: ignore[arg-type]
                           timezone="Europe/Paris", going=going, count=going)
        return card.text

    assert ": 1 participant·e. " in reminder(1)
    assert ": 3 participant·es. " in reminder(3)
    assert catalog.t("fr", "afterworks.card.and_more", count=1) == "et 1 autre"
    assert catalog.t("fr", "afterworks.card.and_more", count=2) == "et 2 autres"
