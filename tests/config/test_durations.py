"""Reminder offsets as people type them, in French and English, and back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.features import load_features, locale_folders
from bot.i18n import Catalog
from cogs.config._durations import (
    MAX_MINUTES,
    MIN_MINUTES,
    OffsetError,
    compact,
    format_offsets,
    parse_offsets,
)

CATALOG = Catalog.load(locale_folders(load_features()))


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("24h, 1h", [1440, 60]),
        ("24 h, 1 h", [1440, 60]),
        ("1h, 24h", [1440, 60]),
        ("30m", [30]),
        ("30 min", [30]),
        ("2d", [2880]),
        ("2 jours", [2880]),
        ("1 j", [1440]),
        ("1h30", [90]),
        ("1 h 30", [90]),
        ("1h30m", [90]),
        ("1 semaine", [10080]),
        ("2 heures et 15 minutes", [120, 15]),
        ("1h; 1h, 60m", [60]),
        ("14d", [MAX_MINUTES]),
        ("5 min", [MIN_MINUTES]),
    ],
)
def test_parse(text, minutes):
    assert parse_offsets(text) == minutes


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "config.errors.offsets_empty"),
        (" , ", "config.errors.offsets_empty"),
        ("4m", "config.errors.offset_range"),
        ("14d 1m", "config.errors.offset_range"),
        ("3 fortnights", "config.errors.offset_unit"),
        ("10", "config.errors.offset_no_unit"),
        ("1d30", "config.errors.offset_no_unit"),
        ("h", "config.errors.offset_unreadable"),
        ("1h, 2h, 3h, 4h, 5h, 6h", "config.errors.offsets_count"),
    ],
)
def test_refused(text, key):
    with pytest.raises(OffsetError) as caught:
        parse_offsets(text)
    assert caught.value.key == key


def test_format_in_each_language():
    assert format_offsets(CATALOG, "fr", [2880, 1440, 90, 30]) == "2 j, 24 h, 1 h 30, 30 min"
    assert format_offsets(CATALOG, "en", [2880, 1440, 90, 30]) == "2d, 24h, 1h30, 30 min"


offsets = st.lists(st.integers(MIN_MINUTES, MAX_MINUTES), min_size=1, max_size=5, unique=True)


@given(offsets)
def test_every_format_reads_back(values):
    expected = sorted(values, reverse=True)
    assert parse_offsets(", ".join(compact(v) for v in values)) == expected
    for locale in ("fr", "en"):
        assert parse_offsets(format_offsets(CATALOG, locale, values)) == expected
