import subprocess
import sys
from datetime import UTC, date, datetime

import pytest

from bot.community_time import community_today, parse_date, parse_datetime
from bot.words import match_word
from storage.text import fold

NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)  # a Wednesday
TODAY = date(2026, 11, 18)


def test_today_is_the_community_day() -> None:
    late = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert community_today(late, "Europe/Paris") == date(2026, 12, 1)
    assert community_today(late, "America/New_York") == date(2026, 11, 30)


@pytest.mark.parametrize(("text", "expected"), [
    ("2027-01-15", date(2027, 1, 15)), ("15/01/2027", date(2027, 1, 15)), ("15/01", date(2027, 1, 15)),
    ("15 janvier", date(2027, 1, 15)), ("next monday", date(2026, 11, 23)),
    ("lundi prochain", date(2026, 11, 23)), ("dans 2 semaines", date(2026, 12, 2)),
    ("31/02/2027", None), ("banane", None), ("2", None), ("1" * 41, None),
    ("²", None), ("1²", None), ("٣", None), ("１２", None),  # digits of other scripts: no date either
])
def test_dates_in_both_languages(text: str, expected: date | None) -> None:
    assert parse_date(text, TODAY, "fr") == expected
    assert parse_date(text, TODAY, "en") == expected


def test_date_and_time_are_aware_utc() -> None:
    assert parse_datetime("jeudi 19h", "Europe/Paris", NOW) == datetime(2026, 11, 19, 18, tzinfo=UTC)
    assert parse_datetime("2026-12-04 19:00", "Europe/Paris", NOW) == datetime(2026, 12, 4, 18, tzinfo=UTC)
    assert parse_datetime("tomorrow 7pm", "Europe/Paris", NOW, "en") == datetime(2026, 11, 19, 18, tzinfo=UTC)
    assert parse_datetime("jeudi", "Europe/Paris", NOW) is None  # an event needs its hour


THURSDAY_MORNING = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # 11:00 in Paris


@pytest.mark.parametrize(("text", "expected"), [
    ("tonight 7pm", datetime(2026, 11, 26, 18, 0, tzinfo=UTC)),
    ("ce soir 19h", datetime(2026, 11, 26, 18, 0, tzinfo=UTC)),
    ("Ce soir à 20h30", datetime(2026, 11, 26, 19, 30, tzinfo=UTC)),
    ("cet après-midi 15h", datetime(2026, 11, 26, 14, 0, tzinfo=UTC)),
    ("ce midi", datetime(2026, 11, 26, 11, 0, tzinfo=UTC)),
    ("ce midi 12h30", datetime(2026, 11, 26, 11, 30, tzinfo=UTC)),
    ("demain soir 19h", datetime(2026, 11, 27, 18, 0, tzinfo=UTC)),
    ("demain matin 9h", datetime(2026, 11, 27, 8, 0, tzinfo=UTC)),
    ("vendredi soir 19h", datetime(2026, 11, 27, 18, 0, tzinfo=UTC)),
    ("demain soir", None),  # no hour: an event needs one
    ("demain à 19 heures", datetime(2026, 11, 27, 18, 0, tzinfo=UTC)),
    ("demain 19 heures", datetime(2026, 11, 27, 18, 0, tzinfo=UTC)),
    ("ce soir à 19 heures", datetime(2026, 11, 26, 18, 0, tzinfo=UTC)),
    ("Demain à 19 Heures 30", datetime(2026, 11, 27, 18, 30, tzinfo=UTC)),
    ("vendredi 1 heure", datetime(2026, 11, 27, 0, 0, tzinfo=UTC)),
])
def test_times_said_as_in_speech(text: str, expected: datetime | None) -> None:
    """French parts of the day: "ce soir 19h" is today at 19:00 ("tonight 7pm" already was). "19 heures"
    is a time of day: "demain à 19 heures" was read as tomorrow plus 19 hours (Saturday, 06:00)."""
    assert parse_datetime(text, "Europe/Paris", THURSDAY_MORNING) == expected


@pytest.mark.parametrize(("text", "locale", "expected"), [
    ("dans 2h", "fr", datetime(2026, 11, 26, 12, 0, tzinfo=UTC)),
    ("in 2h", "en", datetime(2026, 11, 26, 12, 0, tzinfo=UTC)),
    ("dans 1h30", "fr", datetime(2026, 11, 26, 11, 30, tzinfo=UTC)),
    ("Dans 1 h 30", "fr", datetime(2026, 11, 26, 11, 30, tzinfo=UTC)),
    ("dans 2 heures", "fr", datetime(2026, 11, 26, 12, 0, tzinfo=UTC)),
    ("il y a 2h", "fr", datetime(2026, 11, 26, 8, 0, tzinfo=UTC)),  # the past: the caller refuses it
    ("dans 3 jours à 19h", "fr", datetime(2026, 11, 29, 18, 0, tzinfo=UTC)),  # "dans" says the day
])
def test_an_hour_after_dans_is_a_duration(text: str, locale: str, expected: datetime) -> None:
    """« dans 2h » at 11:00 was read « dans 2:00 »: tomorrow at 02:00 instead of 13:00 today."""
    assert parse_datetime(text, "Europe/Paris", THURSDAY_MORNING, locale) == expected


def test_daylight_saving_follows_rfc_5545() -> None:
    paris = "Europe/Paris"
    # 28 March 2027, 02:30 does not exist in Paris: read with the winter offset, i.e. 03:30 summer time.
    assert parse_datetime("2027-03-28 02:30", paris, NOW) == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    # 25 October 2026, 02:30 happens twice: the first one, still summer time.
    assert parse_datetime("2026-10-25 02:30", paris, NOW) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_dateparser_is_imported_only_when_a_natural_date_is_read() -> None:
    code = ("import sys; from datetime import date; from bot.community_time import parse_date;"
            "parse_date('15/01', date(2026, 1, 1)); print('dateparser' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_fold_spells_ligatures_out() -> None:
    assert fold("  Œuvre  d’ART ") == fold("oeuvre d’art") == "oeuvre d’art"
    assert fold("Ærø Łódź") == "aero lodz"
    assert fold("Москва") == "москва"  # other scripts kept as typed


def test_match_word_reads_both_languages_folded() -> None:
    choices = {"busy": ("occupé·e", "indisponible"), "available": ("disponible",)}
    assert match_word("Occupée", choices) == "busy"
    assert match_word("BUSY", choices) == "busy"
    assert match_word("dispo", choices) is None
    assert match_word("x" * 101, choices) is None


@pytest.mark.parametrize("text", [
    "à partir du 15 janvier", "A partir du 15/01/2027", "dès le 15/01", "à partir de 2027-01-15",
    "from January 15", "from 2027-01-15", "starting from 15/01/2027",
])
def test_a_start_date_said_with_from_is_read(text: str) -> None:
    """« à partir du 15 janvier » was refused while "from January 15" was read (dateparser's English)."""
    assert parse_date(text, TODAY, "fr") == date(2027, 1, 15)
    assert parse_date(text, TODAY, "en") == date(2027, 1, 15)


def test_from_words_are_only_skipped_as_whole_words() -> None:
    assert parse_date("lendemain", TODAY, "fr") is None
    assert parse_date("à partir du", TODAY, "fr") is None
    assert parse_date("dès le 2", TODAY, "fr") is None  # a bare number stays no date
