from datetime import date, timedelta

import pytest

from bot.errors import InvalidInput
from cogs.intros._validation import IntroForm, parse_date, parse_rate, validate

TODAY = date(2026, 11, 26)
TRADES = [1, 2, 3, 4]
SECTORS = [10, 11]


def form(**changes: object) -> IntroForm:
    base = IntroForm(
        trade_ids=["1"],
        sector_ids=["10"],
        skills="SEO",
        city="Lyon",
        work_mode="remote",
        languages=["fr"],
        rate="400-600",
        availability="available",
        links="https://a.example",
        bio="Bonjour",
    )
    for name, value in changes.items():
        setattr(base, name, value)
    return base


def check(f: IntroForm) -> object:
    return validate(f, trade_ids=TRADES, sector_ids=SECTORS, today=TODAY, locale="fr")


def problems(f: IntroForm) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        check(f)
    return {name: key for name, (key, _) in caught.value.problems.items()}


def test_a_good_form_is_cleaned() -> None:
    data = check(
        form(
            skills="Référencement, seo, WordPress, wordpres",
            city="  Lyon   3e ",
            rate="400 - 600 €",
            bio="  Hello  ",
        )
    )
    assert [s.key for s in data.skills] == ["seo", "wordpress"]
    assert [s.label for s in data.skills] == ["Référencement", "WordPress"]
    assert data.city == "Lyon 3e"
    assert (data.rate_min, data.rate_max, data.currency) == (400, 600, "EUR")
    assert data.bio == "Hello"
    assert data.trade_ids == (1,)


@pytest.mark.parametrize(
    ("changes", "field", "key"),
    [
        ({"trade_ids": []}, "trades", "trades_count"),
        ({"trade_ids": ["1", "2", "3", "4"]}, "trades", "trades_count"),
        ({"trade_ids": ["99"]}, "trades", "trades_unknown"),
        ({"trade_ids": ["abc"]}, "trades", "trades_unknown"),
        ({"sector_ids": ["12"]}, "sectors", "sectors_unknown"),
        ({"skills": ", ".join(f"skill{i}" for i in range(16))}, "skills", "skills_count"),
        ({"skills": "x" * 51}, "skills", "skill_too_long"),
        ({"city": "x" * 101}, "city", "city_too_long"),
        ({"work_mode": "moon"}, "work_mode", "work_mode_invalid"),
        ({"languages": ["fr", "klingon"]}, "languages", "languages_unknown"),
        ({"rate": "600-400"}, "rate", "rate_order"),
        ({"rate": "0-400"}, "rate", "rate_positive"),
        ({"rate": "beaucoup"}, "rate", "rate_format"),
        ({"rate": "-400"}, "rate", "rate_format"),
        ({"rate": "400-600 EUROS"}, "rate", "rate_format"),
        ({"availability": "maybe"}, "availability", "availability_invalid"),
        ({"availability": "from_date", "available_from": ""}, "available_from", "date_missing"),
        ({"availability": "from_date", "available_from": "soon"}, "available_from", "date_format"),
        ({"availability": "from_date", "available_from": "2026-11-25"}, "available_from", "date_past"),
        ({"links": "https://a\nhttps://b\nhttps://c\nhttps://d"}, "links", "links_count"),
        ({"links": "javascript:alert(1)"}, "links", "link_scheme"),
        ({"links": "ftp://files.example"}, "links", "link_scheme"),
        ({"links": "www.example.com"}, "links", "link_scheme"),
        ({"links": "https://a.example/" + "x" * 500}, "links", "link_too_long"),
        ({"bio": "x" * 1001}, "bio", "bio_too_long"),
    ],
)
def test_each_bad_input_names_its_field(changes: dict[str, object], field: str, key: str) -> None:
    assert problems(form(**changes)) == {field: f"intros.problems.{key}"}


def test_every_problem_is_reported_at_once() -> None:
    found = problems(form(trade_ids=[], bio="x" * 1001, links="ftp://x", rate="9-1"))
    assert set(found) == {"trades", "bio", "links", "rate"}


def test_limits_are_inclusive() -> None:
    data = check(
        form(
            trade_ids=["1", "2", "3"],
            skills=", ".join(f"s{i}" for i in range(15)),
            bio="x" * 1000,
            city="x" * 100,
            links="https://a.example\nhttps://b.example\nhttps://c.example",
        )
    )
    assert len(data.skills) == 15
    assert len(data.links) == 3


def test_availability_from_today_or_later() -> None:
    assert check(form(availability="from_date", available_from="2026-11-26")).available_from == TODAY
    assert check(form(availability="from_date", available_from="15/01/2027")).available_from == date(
        2027, 1, 15
    )
    assert check(form(availability="busy", available_from="2020-01-01")).available_from is None


def test_rate_parsing() -> None:
    assert parse_rate("") == (None, None, "EUR", None)
    assert parse_rate("500") == (500, 500, "EUR", None)
    assert parse_rate("400 à 600 USD") == (400, 600, "USD", None)
    assert parse_rate("1 200-1 500 £") == (1200, 1500, "GBP", None)
    assert parse_rate("400-600 chf")[2] == "CHF"


def test_date_parsing() -> None:
    assert parse_date("2027-02-03", TODAY) == date(2027, 2, 3)
    assert parse_date("03/02/27", TODAY) == date(2027, 2, 3)
    assert parse_date("3.2.2027", TODAY) == date(2027, 2, 3)
    assert parse_date("03/02", TODAY) == date(2027, 2, 3)  # the next 3 February
    assert parse_date("30/12", TODAY) == date(2026, 12, 30)
    assert parse_date("31/02/2027", TODAY) is None
    assert parse_date("demain", TODAY) == TODAY + timedelta(days=1)
    assert parse_date("banane", TODAY) is None


@pytest.mark.parametrize("typed", ["500 TJM", "450 TTC", "600 day", "500 XXX", "500 FRF"])
def test_three_letters_that_are_no_currency_are_not_taken_for_one(typed: str) -> None:
    """"500 TJM" was saved in currency "TJM" ("500 XXX" read "500 ¤"): only a real currency is one;
    "TJM" (the field's own name) is read as the word it is."""
    try:
        data = validate(form(rate=typed), trade_ids=TRADES, sector_ids=SECTORS, today=TODAY, locale="fr")
    except InvalidInput as error:
        assert "rate" in error.problems  # noqa: PT017
        return
    assert (data.rate_min, data.currency) == (500, "EUR")


@pytest.mark.parametrize("typed", [
    "500 €/j", "500 €/jour", "450€ / jour", "TJM 500", "500 €/day", "TJM : 500 € / j", "500 € par jour",
])
def test_the_usual_ways_of_writing_a_daily_rate_are_read(typed: str) -> None:
    """The field says "TJM" and the card "/ jour", yet "500 €/j" was refused."""
    data = validate(form(rate=typed), trade_ids=TRADES, sector_ids=SECTORS, today=TODAY, locale="fr")
    assert (data.rate_min, data.currency) in {(500, "EUR"), (450, "EUR")}


def test_real_currencies_are_still_read() -> None:
    for typed, currency in (("500 CHF", "CHF"), ("45000 JPY", "JPY"), ("300 XOF", "XOF"), ("500 $", "USD")):
        data = validate(form(rate=typed), trade_ids=TRADES, sector_ids=SECTORS, today=TODAY, locale="fr")
        assert data.currency == currency


@pytest.mark.parametrize("typed", ["Data viz, Dataviz", "Front-end, Frontend", "Tik Tok, TikTok"])
def test_a_skill_typed_twice_with_or_without_a_space_or_hyphen_is_stored_once(typed: str) -> None:
    """"Data viz, Dataviz" in one form made two tags, both on the card."""
    data = validate(form(skills=typed), trade_ids=TRADES, sector_ids=SECTORS, today=TODAY, locale="fr")
    assert len(data.skills) == 1, data.skills


def test_c_sharp_is_kept_beside_c() -> None:
    data = validate(form(skills="C, C#, F#"), trade_ids=TRADES, sector_ids=SECTORS, today=TODAY, locale="fr")
    assert [s.key for s in data.skills] == ["c", "c#", "f#"]


def test_a_date_picked_with_available_means_available_from_it() -> None:
    """Slack's datepicker sits under the default "Disponible": the date picked was dropped."""
    data = validate(form(available_from="2027-01-15"), trade_ids=TRADES, sector_ids=SECTORS, today=TODAY,
                    locale="fr")
    assert (data.availability, data.available_from) == ("from_date", date(2027, 1, 15))
    data = validate(form(available_from=TODAY.isoformat()), trade_ids=TRADES, sector_ids=SECTORS,
                    today=TODAY, locale="fr")
    assert (data.availability, data.available_from) == ("available", None)  # reached: available now
