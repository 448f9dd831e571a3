"""What a member typed in the intro form, and its validation into a clean profile (or InvalidInput)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.community_time import parse_date
from bot.errors import InvalidInput
from bot.text import web_link
from cogs.intros._skills import MAX_SKILL_LENGTH, compact_skill, normalize_skill, split_skills
from cogs.intros.models import AVAILABILITY, WORK_MODES

MIN_TRADES, MAX_TRADES = 1, 3
MAX_SKILLS = 15
MAX_CITY = 100
MAX_LINKS = 3
MAX_LINK = 500
MAX_BIO = 1000
MAX_LANGUAGES = 10
MAX_RATE = 100_000
DEFAULT_CURRENCY = "EUR"
# Offered in the forms; names come from CLDR (bot.formatting.language_name).
LANGUAGES = ("fr", "en", "es", "de", "it", "pt", "nl", "ar", "zh", "ja", "ru", "pl", "ro", "uk")
_CURRENCY_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP", "CHF": "CHF"}
MAX_RATE_TEXT = 40  # "100 000 - 100 000 EUR" is 21: bounded before parsing
# Digit groups may be split by one space ("1 200"): a group always starts with a digit, so the
# pattern is linear (`\d[\d\s]*\s*` backtracked cubically: 400 characters took 8 s).
_AMOUNT = r"\d+(?:[ \u00a0\u202f]\d+)*"
_RATE = re.compile(
    rf"(?P<min>{_AMOUNT})\s*(?:(?:-|–|—|à|to|/)\s*(?P<max>{_AMOUNT}))?\s*(?P<cur>[A-Za-z]{{3}}|€|\$|£)?"
)
# The field is labelled "TJM" (taux journalier moyen) and the card says "/ jour": "TJM 500",
# "500 TJM", "500 €/j", "450€ / jour", "500 €/day" are the usual ways of writing a daily rate. Each
# marker is anchored at one end and made of fixed words: linear.
_LEADING_TJM = re.compile(r"^tjm\b\s*:?\s*", re.IGNORECASE)
_TRAILING_TJM = re.compile(r"\s+tjm$", re.IGNORECASE)
_PER_DAY = re.compile(r"\s*(?:/|\bpar\b|\bper\b|\ba\b)\s*(?:jours?|jrs?|j|days?|d)\.?$", re.IGNORECASE)

Problems = dict[str, tuple[str, dict[str, Any]]]


@dataclass
class IntroForm:
    """The raw values of the intro form, as both platforms collect them (ids as strings)."""

    trade_ids: list[str] = field(default_factory=list)
    sector_ids: list[str] = field(default_factory=list)
    skills: str = ""  # comma or newline separated
    city: str = ""
    work_mode: str = "remote"
    languages: list[str] = field(default_factory=list)
    rate: str = ""  # "400-600", "500 EUR", "400 - 600 €"; empty: not said
    availability: str = "available"
    available_from: str = ""  # ISO date (select / datepicker) or typed date
    links: str = ""  # one per line
    bio: str = ""
    opt_matching: bool = True
    opt_pairing: bool = False
    opt_directory: bool = True
    opt_leaderboards: bool = True


@dataclass(frozen=True)
class Skill:
    key: str
    label: str


@dataclass(frozen=True)
class ProfileData:
    """A validated profile, ready to be stored."""

    trade_ids: tuple[int, ...]
    sector_ids: tuple[int, ...]
    skills: tuple[Skill, ...]
    city: str
    work_mode: str
    languages: tuple[str, ...]
    rate_min: int | None
    rate_max: int | None
    currency: str
    availability: str
    available_from: date | None
    links: tuple[str, ...]
    bio: str
    opt_matching: bool
    opt_pairing: bool
    opt_directory: bool
    opt_leaderboards: bool


def _problem(problems: Problems, name: str, key: str, **params: Any) -> None:
    problems.setdefault(name, (f"intros.problems.{key}", params))


def _ids(values: Iterable[str]) -> list[int] | None:
    out: list[int] = []
    for value in values:
        text = str(value).strip()
        if not re.fullmatch(r"[0-9]{1,9}", text):  # not isdigit(): "²" is a digit int() refuses
            return None
        if int(text) not in out:
            out.append(int(text))
    return out


def parse_rate(text: str) -> tuple[int | None, int | None, str, str | None]:
    """`(min, max, currency, problem)`: "400-600" -> (400, 600, "EUR", None); "" -> (None, None, "EUR", None).

    A single number is both ends; the currency is a 3-letter code or €, $, £ after the numbers. The
    words saying it is a daily rate ("TJM", "/j", "/ jour", "/day") are read as such and skipped. A
    currency code must be a real one (`is_currency`): the caller refuses anything else.
    """
    text = text.strip()
    if not text:
        return None, None, DEFAULT_CURRENCY, None
    if len(text) > MAX_RATE_TEXT:
        return None, None, DEFAULT_CURRENCY, "rate_format"
    match = _RATE.fullmatch(_daily_rate_words_removed(text))
    if not match:
        return None, None, DEFAULT_CURRENCY, "rate_format"
    low = int(re.sub(r"\s", "", match["min"]))
    high = int(re.sub(r"\s", "", match["max"])) if match["max"] else low
    currency = (match["cur"] or DEFAULT_CURRENCY).upper()
    currency = _CURRENCY_SYMBOLS.get(currency, currency)
    if low <= 0 or high <= 0 or high > MAX_RATE:
        return low, high, currency, "rate_positive"
    if low > high:
        return low, high, currency, "rate_order"
    return low, high, currency, None


def _daily_rate_words_removed(text: str) -> str:
    """`text` without a leading "TJM" and a trailing per-day marker ("/j", "/ jour", "/day") or "TJM"."""
    text = _LEADING_TJM.sub("", text, count=1)
    text = _PER_DAY.sub("", text, count=1)
    return _TRAILING_TJM.sub("", text, count=1).strip()


@functools.cache
def _currencies() -> frozenset[str]:
    """ISO 4217 codes in use somewhere today (CLDR through Babel), not merely three letters.

    Babel's full list also holds codes that are no money ("XXX", "XTS") and retired ones ("FRF"):
    the currencies legal tender in some territory are what a member is paid in.
    """
    from babel.core import get_global
    from babel.numbers import get_territory_currencies

    today = date.today()
    return frozenset(code for territory in get_global("territory_currencies")
                     for code in get_territory_currencies(territory, today, tender=True))


def is_currency(code: str) -> bool:
    """A currency a rate may be given in: "EUR", "CHF"; not "TJM", "TTC" nor "XXX"."""
    return code in _currencies()


def check_availability(
    availability: str, available_from: str | date | None, today: date, problems: Problems, locale: str = "fr"
) -> tuple[str, date | None]:
    """The availability to save and its date: `(availability, from_date or None)`.

    The date is typed as `bot.community_time.parse_date` reads it ("15/01/2027", "15 janvier",
    "à partir du 15 janvier", "dans 2 semaines"), `locale`'s reading tried first. A date still to
    come given with "available" means available from it: Discord offers the date option beside every
    status, Slack's datepicker sits under the default "Disponible", and "disponible à partir du
    15/01" says both; dropping the date would tell the member "Disponible" while they said when.
    """
    if availability not in AVAILABILITY:
        _problem(problems, "availability", "availability_invalid")
        return availability, None
    if availability == "busy":
        return availability, None
    given = available_from if isinstance(available_from, date) or (available_from or "").strip() else None
    if availability == "available":
        when = _typed_date(given, today, locale, problems) if given is not None else None
        return ("from_date", when) if when is not None and when > today else ("available", None)
    if given is None:
        _problem(problems, "available_from", "date_missing")
        return availability, None
    when = _typed_date(given, today, locale, problems)
    if when is not None and when < today:
        _problem(problems, "available_from", "date_past", today=today.isoformat())
        return availability, None
    return availability, when


def _typed_date(given: str | date, today: date, locale: str, problems: Problems) -> date | None:
    """The date picked or typed; None with a problem when it cannot be read."""
    if isinstance(given, date):
        return given
    parsed = parse_date(given, today, locale)
    if parsed is None:
        _problem(problems, "available_from", "date_format")
    return parsed


def validate(
    form: IntroForm,
    *,
    trade_ids: Sequence[int],
    sector_ids: Sequence[int],
    today: date,
    locale: str,
    known_skill_keys: Iterable[str] = (),
) -> ProfileData:
    """The clean profile, or InvalidInput naming every field to fix (field -> catalog key, values).

    `trade_ids` / `sector_ids` are the community's lists: anything else is refused (an id of another
    community looks exactly like an unknown one). `today` is in the community's time zone.
    """
    problems: Problems = {}
    trades = _ids(form.trade_ids)
    if trades is None or any(t not in trade_ids for t in trades):
        _problem(problems, "trades", "trades_unknown")
    elif not MIN_TRADES <= len(trades) <= MAX_TRADES:
        _problem(problems, "trades", "trades_count", min=MIN_TRADES, max=MAX_TRADES)
    sectors = _ids(form.sector_ids)
    if sectors is None or any(s not in sector_ids for s in sectors):
        _problem(problems, "sectors", "sectors_unknown")

    skills = _skills(form.skills, locale, known_skill_keys, problems)
    city = " ".join(form.city.split())
    if len(city) > MAX_CITY:
        _problem(problems, "city", "city_too_long", max=MAX_CITY)
    if form.work_mode not in WORK_MODES:
        _problem(problems, "work_mode", "work_mode_invalid")
    languages = list(dict.fromkeys(form.languages))
    if any(code not in LANGUAGES for code in languages):
        _problem(problems, "languages", "languages_unknown")
    elif len(languages) > MAX_LANGUAGES:
        _problem(problems, "languages", "languages_count", max=MAX_LANGUAGES)

    rate_min, rate_max, currency, rate_problem = parse_rate(form.rate)
    if rate_problem:
        _problem(problems, "rate", rate_problem, max=MAX_RATE)
    elif not is_currency(currency):
        _problem(problems, "rate", "currency_invalid")
    availability, available_from = check_availability(
        form.availability, form.available_from, today, problems, locale
    )
    links = _links(form.links, problems)
    bio = form.bio.strip()
    if len(bio) > MAX_BIO:
        _problem(problems, "bio", "bio_too_long", max=MAX_BIO, length=len(bio))

    if problems:
        raise InvalidInput(problems)
    assert trades is not None
    assert sectors is not None
    return ProfileData(
        trade_ids=tuple(trades),
        sector_ids=tuple(sectors),
        skills=tuple(skills),
        city=city,
        work_mode=form.work_mode,
        languages=tuple(languages),
        rate_min=rate_min,
        rate_max=rate_max,
        currency=currency,
        availability=availability,
        available_from=available_from,
        links=tuple(links),
        bio=bio,
        opt_matching=form.opt_matching,
        opt_pairing=form.opt_pairing,
        opt_directory=form.opt_directory,
        opt_leaderboards=form.opt_leaderboards,
    )


def _skills(text: str, locale: str, known: Iterable[str], problems: Problems) -> list[Skill]:
    known_keys = frozenset(known)
    skills: dict[str, Skill] = {}  # by compact key: "Data viz" and "Dataviz" are one tag
    for label in split_skills(text):
        if len(label) > MAX_SKILL_LENGTH:
            _problem(problems, "skills", "skill_too_long", max=MAX_SKILL_LENGTH, skill=label[:20] + "…")
            continue
        # Only the community's keys are near-miss targets: two tags one member typed side by
        # side ("illustration", "illustrations") are meant as typed. The form's earlier keys are
        # known only as spelt with or without spaces and hyphens (`compact_skill`).
        key = normalize_skill(label, locale, known_keys)
        if key and compact_skill(key) not in skills:
            skills[compact_skill(key)] = Skill(key, " ".join(label.split()))
    if len(skills) > MAX_SKILLS:
        _problem(problems, "skills", "skills_count", max=MAX_SKILLS, count=len(skills))
    return list(skills.values())


def _links(text: str, problems: Problems) -> list[str]:
    links = list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))
    if len(links) > MAX_LINKS:
        _problem(problems, "links", "links_count", max=MAX_LINKS)
    for link in links:
        if len(link) > MAX_LINK:
            _problem(problems, "links", "link_too_long", max=MAX_LINK)
        elif not web_link(link):
            _problem(problems, "links", "link_scheme", link=link[:60])
    return links
