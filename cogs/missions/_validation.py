"""The mission form's raw values, and the checks that turn them into a mission or name every field to fix."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from bot.community_time import parse_date
from bot.errors import InvalidInput
from bot.text import web_link
from cogs.intros.profiles import MAX_SKILL_LENGTH, normalize_skill, split_skills
from cogs.missions.models import WORK_MODES
from storage.text import fold

MAX_TITLE = 100
MAX_DESCRIPTION = 2000
MAX_TRADES = 5
MAX_SKILLS = 10
MAX_SKILLS_TEXT = 600
MAX_BUDGET_TEXT = 40
MAX_BUDGET = 10_000_000
MAX_DURATION = 50
MAX_CITY = 100
MAX_LINK = 500
MAX_CLIENT = 100
MAX_NOTE = 500
MAX_FEE = 30
MAX_ANSWER_DAYS = 90
FEES = (0, 5, 10, 15, 20, 25, 30)  # the Discord select's choices; Slack types any 0..30
# Platforms offered as sources; "other" is a platform not listed.
PLATFORMS = ("Malt", "Codeur.com", "Crème de la Crème", "Upwork", "Fiverr", "LinkedIn", "Comet", "other")
PLATFORM_PREFIX = "platform:"
DEFAULT_CURRENCY = "EUR"
_CURRENCY_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP"}
# Linear patterns only (a digit group starts with a digit), and the text is bounded before matching.
_AMOUNT = r"\d+(?:[ \u00a0\u202f]\d+)*"
_BUDGET = re.compile(
    rf"(?P<min>{_AMOUNT})\s*(?:(?:-|–|—|à|to)\s*(?P<max>{_AMOUNT}))?\s*(?P<cur>[A-Za-z]{{3}}|€|\$|£)?"
)
_PER_DAY = re.compile(r"\s*(?:/|par|per)\s*(?:j|jour|d|day|jr)\.?$", re.IGNORECASE)
# A whole number typed or sent back by a platform: ASCII digits only (str.isdigit() also takes "²",
# which int() refuses, and int() reads other scripts' digits, which no id or percentage is written in).
_WHOLE = re.compile(r"[0-9]{1,18}")
_DISCUSS = {"a discuter", "to discuss", "tbd", "a definir", "discuss", "-"}

Problems = dict[str, tuple[str, dict[str, Any]]]


@dataclass
class MissionForm:
    """The raw values of the mission form, as both platforms collect them (ids as strings)."""

    trade_ids: list[str] = field(default_factory=list)
    title: str = ""
    description: str = ""
    skills: str = ""
    budget: str = ""
    link: str = ""
    start_date: str = ""
    duration: str = ""
    work_mode: str = "remote"
    city: str = ""
    sector_id: str = ""
    answer_by: str = ""
    source: str = "own"  # own | network | platform:<name>
    fee: str = ""
    client_name: str = ""
    behalf: str = ""  # the platform user id of the member who brought it, when not the author
    behalf_name: str = ""  # as the platform showed them when chosen ("": keep the stored name)


@dataclass(frozen=True)
class Budget:
    kind: str  # fixed | daily | discuss
    low: int | None = None
    high: int | None = None
    currency: str = DEFAULT_CURRENCY


@dataclass(frozen=True)
class CleanMission:
    trade_ids: list[int]
    title: str
    description: str
    skills: list[list[str]]
    budget: Budget
    link: str
    start_date: date | None
    duration: str
    work_mode: str
    city: str
    sector_id: int | None
    answer_by: date
    source: str
    platform_name: str
    fee: int | None
    client_name: str
    behalf: str
    behalf_name: str = ""


def _problem(problems: Problems, name: str, key: str, **params: Any) -> None:
    problems.setdefault(name, (f"missions.errors.{key}", params))


def parse_budget(text: str) -> tuple[Budget, str | None]:
    """`(budget, problem)`: "3 000 €" or "3000-5000 €" fixed, "400-600 €/j" daily, "" or "à discuter".

    A budget is daily only when "per day" is written ("/j", "/jour", "/day", "par jour", "per day"):
    a range alone is a project's budget range.
    """
    text = " ".join(text.split())
    if len(text) > MAX_BUDGET_TEXT:
        return Budget("discuss"), "budget_format"
    if not text or fold(text) in _DISCUSS:
        return Budget("discuss"), None
    daily = _PER_DAY.search(text)
    amounts = text[: daily.start()] if daily else text
    match = _BUDGET.fullmatch(amounts.strip())
    if not match:
        return Budget("discuss"), "budget_format"
    low = int(re.sub(r"\s", "", match["min"]))
    high = int(re.sub(r"\s", "", match["max"])) if match["max"] else low
    currency = (match["cur"] or DEFAULT_CURRENCY).upper()
    currency = _CURRENCY_SYMBOLS.get(currency, currency)
    kind = "daily" if daily else "fixed"  # "3000-5000 €" is a project's range: per day only when written
    budget = Budget(kind, low, high, currency)
    if low <= 0 or high > MAX_BUDGET:
        return budget, "budget_positive"
    if low > high:
        return budget, "budget_order"
    return budget, None


def title_key(title: str) -> str:
    """The folded words of a title, sorted: "Site vitrine — Boulangerie" reads as its repost."""
    words = re.findall(r"[a-z0-9]+", fold(title[:MAX_TITLE]))
    return " ".join(sorted(words))[:200]


def whole_number(text: str, digits: int = 18) -> int | None:
    """`text` as a whole number of at most `digits` ASCII digits; None for anything else."""
    return int(text) if len(text) <= digits and _WHOLE.fullmatch(text) else None


def _ids(values: Iterable[str]) -> list[int] | None:
    found: list[int] = []
    for value in values:
        number = whole_number(value)
        if number is None:
            return None
        found.append(number)
    return list(dict.fromkeys(found))


def _date(problems: Problems, name: str, text: str, today: date, locale: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    found = parse_date(text, today, locale)
    if found is None:
        _problem(problems, name, "date_format")
    return found


def _length(problems: Problems, name: str, text: str, limit: int) -> str:
    text = text.strip()
    if len(text) > limit:
        _problem(problems, name, "too_long", max=limit, length=len(text))
    return text


def validate(
    form: MissionForm,
    *,
    trades: Mapping[int, str],
    sectors: Iterable[int],
    today: date,
    locale: str,
    known_skills: Iterable[str] = (),
    default_answer_days: int = 14,
    kept_start: date | None = None,
) -> CleanMission:
    """The mission to save, or InvalidInput naming every field to fix (nothing is saved then).

    `kept_start`, the start date of the mission being edited, is accepted as it is once past: the
    edit form gives it back, and fixing a typo must not need a new start date.
    """
    problems: Problems = {}
    trade_ids = _ids(form.trade_ids)
    if trade_ids is None or any(t not in trades for t in trade_ids):
        _problem(problems, "trades", "unknown_trade")
        trade_ids = []
    elif not trade_ids:
        _problem(problems, "trades", "no_trade")
    elif len(trade_ids) > MAX_TRADES:
        _problem(problems, "trades", "too_many_trades", max=MAX_TRADES)
    title = _length(problems, "title", " ".join(form.title.split()), MAX_TITLE)
    if not title:
        _problem(problems, "title", "empty_title")
    description = _length(problems, "description", form.description, MAX_DESCRIPTION)
    skills: list[list[str]] = []
    if len(form.skills) > MAX_SKILLS_TEXT:
        _problem(problems, "skills", "too_long", max=MAX_SKILLS_TEXT, length=len(form.skills))
    else:
        seen: set[str] = set()
        known = list(known_skills)
        for label in split_skills(form.skills):
            if len(label) > MAX_SKILL_LENGTH:
                _problem(problems, "skills", "skill_too_long", max=MAX_SKILL_LENGTH)
                continue
            key = normalize_skill(label, locale, known)
            if key and key not in seen:
                seen.add(key)
                skills.append([key, label])
        if len(skills) > MAX_SKILLS:
            _problem(problems, "skills", "too_many_skills", max=MAX_SKILLS)
    budget, budget_problem = parse_budget(form.budget)
    if budget_problem:
        _problem(problems, "budget", budget_problem)
    link = form.link.strip()
    if len(link) > MAX_LINK or (link and not web_link(link)):
        _problem(problems, "link", "bad_link")
    start = _date(problems, "start_date", form.start_date, today, locale)
    if start is not None and start < today and start != kept_start:
        _problem(problems, "start_date", "start_past")
    duration = _length(problems, "duration", " ".join(form.duration.split()), MAX_DURATION)
    work_mode = form.work_mode if form.work_mode in WORK_MODES else "remote"
    city = _length(problems, "city", " ".join(form.city.split()), MAX_CITY)
    if work_mode != "remote" and not city:
        _problem(problems, "city", "city_needed")
    sector_id: int | None = None
    if form.sector_id:
        found = _ids([form.sector_id])
        if not found or found[0] not in set(sectors):
            _problem(problems, "sector", "unknown_sector")
        else:
            sector_id = found[0]
    answer_by = _date(problems, "answer_by", form.answer_by, today, locale)
    if answer_by is None and "answer_by" not in problems:
        answer_by = today + timedelta(days=default_answer_days)
    if answer_by is not None and answer_by < today:
        _problem(problems, "answer_by", "answer_past")
    elif answer_by is not None and answer_by > today + timedelta(days=MAX_ANSWER_DAYS):
        _problem(problems, "answer_by", "answer_too_far", max=MAX_ANSWER_DAYS)
    source, platform_name = "own", ""
    if form.source in ("own", "network"):
        source = form.source
    elif form.source.startswith(PLATFORM_PREFIX) and form.source[len(PLATFORM_PREFIX) :] in PLATFORMS:
        source = "platform"
        name = form.source[len(PLATFORM_PREFIX) :]
        platform_name = "" if name == "other" else name
    elif form.source:
        _problem(problems, "source", "unknown_source")
    fee: int | None = None
    fee_text = form.fee.strip().rstrip("%").strip()
    if fee_text:
        percent = whole_number(fee_text, 3)
        if percent is None or percent > MAX_FEE:
            _problem(problems, "fee", "fee_range", max=MAX_FEE)
        else:
            fee = percent or None
    client = _length(problems, "client_name", " ".join(form.client_name.split()), MAX_CLIENT)
    behalf = form.behalf.strip()
    if len(behalf) > 64:
        _problem(problems, "behalf", "unknown_member")
    if problems:
        raise InvalidInput(problems)
    assert answer_by is not None
    return CleanMission(
        trade_ids=trade_ids,
        title=title,
        description=description,
        skills=skills,
        budget=budget,
        link=link,
        start_date=start,
        duration=duration,
        work_mode=work_mode,
        city=city if work_mode != "remote" or city else "",
        sector_id=sector_id,
        answer_by=answer_by,
        source=source,
        platform_name=platform_name,
        fee=fee,
        client_name=client,
        behalf=behalf,
        behalf_name=" ".join(form.behalf_name.split())[:200] if behalf else "",
    )
