"""What the intro form offers (choices, pre-filled values), the same for Discord and Slack."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from sqlalchemy import Integer, bindparam, literal_column, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.community_time import community_today
from bot.context import Caller
from bot.errors import NotFound
from bot.formatting import format_date, language_name
from bot.i18n import Catalog
from cogs.intros._profile import ProfileView, form_from_view, get_profile
from cogs.intros._validation import LANGUAGES, IntroForm, parse_date
from cogs.intros.models import WORK_MODES
from storage.models import Sector, Trade

Choice = tuple[str, str]  # (value, label)
OPT_INS = ("matching", "pairing", "directory", "leaderboards")
FROM_PREFIX = "from:"


@dataclass(frozen=True)
class FormChoices:
    trades: tuple[Choice, ...]
    sectors: tuple[Choice, ...]
    work_modes: tuple[Choice, ...]
    languages: tuple[Choice, ...]
    availability: tuple[Choice, ...]  # "available", "busy", "from:YYYY-MM-DD"
    opt_ins: tuple[Choice, ...]


@dataclass(frozen=True)
class FormStart:
    choices: FormChoices
    form: IntroForm
    profile: ProfileView | None


def availability_value(form: IntroForm) -> str:
    """The availability as one choice value: "available", "busy" or "from:YYYY-MM-DD"."""
    if form.availability == "from_date" and form.available_from:
        return FROM_PREFIX + form.available_from
    return form.availability


def set_availability_value(form: IntroForm, value: str) -> None:
    if value.startswith(FROM_PREFIX):
        form.availability, form.available_from = "from_date", value[len(FROM_PREFIX) :]
    else:
        form.availability, form.available_from = value, ""


def availability_dates(today: date, current: str = "") -> list[date]:
    """Dates offered in a select: the next 8 Mondays and the 1st of the next 4 months (+ the saved one)."""
    monday = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    offered = {monday + timedelta(weeks=i) for i in range(8)}
    first = today.replace(day=1)
    for _ in range(4):
        first = (first + timedelta(days=32)).replace(day=1)
        offered.add(first)
    saved = parse_date(current, today) if current else None
    if saved is not None and saved >= today:
        offered.add(saved)
    return sorted(offered)


def choices_for(
    catalog: Catalog,
    locale: str,
    trade_rows: list[Choice],
    sector_rows: list[Choice],
    today: date,
    form: IntroForm,
) -> FormChoices:
    fixed = _fixed_choices(catalog, locale, today, form.available_from)
    return FormChoices(trades=tuple(trade_rows), sectors=tuple(sector_rows), **fixed)


@lru_cache(maxsize=64)
def _fixed_choices(catalog: Catalog, locale: str, today: date, available_from: str
                   ) -> dict[str, tuple[Choice, ...]]:
    """The choices that depend only on the language and the day, built once per language and day.

    Babel spells out the dates and the language names: that cost fell on every form opening.
    """
    t = catalog.t
    availability = [
        ("available", t(locale, "intros.availability.available")),
        *(
            (
                FROM_PREFIX + d.isoformat(),
                t(locale, "intros.availability.from_date", date=format_date(d, locale)),
            )
            for d in availability_dates(today, available_from)
        ),
        ("busy", t(locale, "intros.availability.busy")),
    ]
    return {
        "work_modes": tuple((m, t(locale, f"intros.work_mode.{m}")) for m in WORK_MODES),
        "languages": tuple((code, language_name(code, locale)) for code in LANGUAGES),
        "availability": tuple(availability),
        "opt_ins": tuple((name, t(locale, f"intros.opt_ins.{name}")) for name in OPT_INS),
    }


# The community's trades then sectors, each in their order, as (kind, id, name) rows: one statement.
_TRADES_AND_SECTORS = union_all(
    select(literal_column("0", Integer).label("kind"), Trade.id, Trade.name, Trade.position)
    .where(Trade.community_id == bindparam("cid")),
    select(literal_column("1", Integer).label("kind"), Sector.id, Sector.name, Sector.position)
    .where(Sector.community_id == bindparam("cid")),
).order_by(literal_column("kind"), literal_column("position"), literal_column("id"))


async def trade_and_sector_choices(session: AsyncSession, community_id: int
                                   ) -> tuple[list[Choice], list[Choice]]:
    rows = (await session.execute(_TRADES_AND_SECTORS, {"cid": community_id})).all()
    return ([(str(r.id), r.name) for r in rows if r.kind == 0],
            [(str(r.id), r.name) for r in rows if r.kind == 1])


async def start_form(
    session: AsyncSession, caller: Caller, catalog: Catalog, clock: Clock, draft: IntroForm | None = None
) -> FormStart:
    """The choices and the values to show: the draft, else the saved profile, else defaults."""
    profile: ProfileView | None
    try:
        profile = await get_profile(session, caller.community_id, caller.member_id)
    except NotFound:
        profile = None
    today = community_today(clock.now(), caller.timezone)
    form = draft or (form_from_view(profile) if profile else IntroForm())
    reached = profile is not None and (profile.available_from is None or profile.available_from < today)
    if draft is None and profile is not None and profile.availability == "from_date" and reached:
        # The date was reached: the cards already say "available", and validation would refuse
        # a past date the member did not choose today.
        form.availability, form.available_from = "available", ""
    trade_rows, sector_rows = await trade_and_sector_choices(session, caller.community_id)
    return FormStart(choices_for(catalog, caller.locale, trade_rows, sector_rows, today, form), form, profile)


def opt_in_values(form: IntroForm) -> list[str]:
    return [name for name in OPT_INS if getattr(form, f"opt_{name}")]


def set_opt_ins(form: IntroForm, values: list[str]) -> None:
    for name in OPT_INS:
        setattr(form, f"opt_{name}", name in values)
