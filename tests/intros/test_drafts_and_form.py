from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.i18n import Catalog
from cogs.intros._form import (
    availability_dates,
    availability_value,
    choices_for,
    opt_in_values,
    set_availability_value,
    set_opt_ins,
)
from cogs.intros._validation import IntroForm

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load([ROOT / "bot" / "locales", ROOT / "cogs" / "intros" / "locales"])


def test_availability_dates_are_future_mondays_and_firsts() -> None:
    today = date(2026, 11, 26)  # a Thursday
    dates = availability_dates(today)
    assert dates[0] == date(2026, 11, 30)
    assert date(2026, 12, 1) in dates
    assert date(2027, 3, 1) in dates
    assert all(d > today for d in dates)
    assert len(dates) <= 23  # with "available" and "busy": within Discord's 25 options
    assert date(2027, 6, 15) in availability_dates(today, "2027-06-15")
    assert date(2020, 1, 1) not in availability_dates(today, "2020-01-01")


def test_choice_values_round_trip() -> None:
    form = IntroForm()
    set_availability_value(form, "from:2027-01-04")
    assert (form.availability, form.available_from) == ("from_date", "2027-01-04")
    assert availability_value(form) == "from:2027-01-04"
    set_availability_value(form, "busy")
    assert (form.availability, form.available_from, availability_value(form)) == ("busy", "", "busy")
    assert opt_in_values(form) == ["matching", "directory", "leaderboards"]  # the defaults
    set_opt_ins(form, ["pairing"])
    assert (form.opt_matching, form.opt_pairing, form.opt_directory, form.opt_leaderboards) == (
        False, True, False, False
    )
    set_opt_ins(form, ["leaderboards", "directory"])
    assert opt_in_values(form) == ["directory", "leaderboards"]


@pytest.mark.parametrize(
    ("locale", "label"), [("fr", "M’afficher dans les classements"), ("en", "Show me on leaderboards")]
)
def test_the_form_offers_every_opt_in(catalog: Catalog, locale: str, label: str) -> None:
    choices = choices_for(catalog, locale, [], [], date(2026, 11, 30), IntroForm())
    assert [name for name, _ in choices.opt_ins] == ["matching", "pairing", "directory", "leaderboards"]
    assert choices.opt_ins[-1] == ("leaderboards", label)


async def test_a_passed_available_from_date_does_not_block_the_next_edit(
    services, clock: FrozenClock  # type: ignore[no-untyped-def]
) -> None:
    """The cards read a reached "available from" date as available; editing the profile later (to
    change the city) must not be refused for that date the member did not touch."""
    from cogs.intros._form import start_form
    from cogs.intros._profile import save_profile
    from tests.fakes.callers import make_caller
    from tests.intros.conftest import good_form

    alice = await make_caller(services, name="Alice")
    when = (clock.now() + timedelta(days=3)).date().isoformat()
    form = await good_form(services, alice, availability="from_date", available_from=when)
    async with services.db.transaction() as session:
        await save_profile(session, alice, form, services.clock)
    clock.advance(timedelta(days=10))

    async with services.db.transaction() as session:
        start = await start_form(session, alice, services.catalog, services.clock)
    assert start.form.availability == "available"
    start.form.city = "Brest"
    async with services.db.transaction() as session:
        saved = await save_profile(session, alice, start.form, services.clock)
    assert saved.view.city == "Brest"
