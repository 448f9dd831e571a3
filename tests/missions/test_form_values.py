"""What the mission form reads and gives back: budgets, the referral fee, who brought the mission."""

from __future__ import annotations

from datetime import date

import pytest

from bot.context import Caller
from bot.errors import InvalidInput
from bot.services import Services
from bot.usecase import run
from cogs.missions._missions import load_view
from cogs.missions._publish import edit_mission, submit_mission
from cogs.missions._validation import Budget, parse_budget, validate
from cogs.missions.models import Mission
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier
from tests.missions.conftest import channels, form


async def post(services: Services, caller: Caller, trade_ids: list[int], **changes: str) -> int:
    typed = form(trade_ids, **changes)
    done = await run(services, caller, submit_mission, typed, origin_channel_id="CORIGIN")
    return done.mission_id


def card_of(notifier: RecordingNotifier, mission_id: int):  # type: ignore[no-untyped-def]
    return next(c for c in notifier.messages.values() if f"n°{mission_id}" in (c.footer or ""))


@pytest.mark.parametrize(("text", "budget"), [
    ("3000-5000 €", Budget("fixed", 3000, 5000, "EUR")),
    ("3000 à 5000 EUR", Budget("fixed", 3000, 5000, "EUR")),
    ("400-600 €/j", Budget("daily", 400, 600, "EUR")),
    ("400-600 € / jour", Budget("daily", 400, 600, "EUR")),
    ("400 to 600 $ per day", Budget("daily", 400, 600, "USD")),
    ("500 €/day", Budget("daily", 500, 500, "EUR")),
    ("450 € par jour", Budget("daily", 450, 450, "EUR")),
])
def test_a_range_is_a_daily_rate_only_when_per_day_is_written(text: str, budget: Budget) -> None:
    """"3000-5000 €" is a project's budget range: it was read (and shown, and filtered) as a daily rate."""
    assert parse_budget(text) == (budget, None)


@pytest.mark.parametrize("budget", ["3000-5000 €", "400-600 €/j", "450 €/j", "3000 €", "à discuter"])
async def test_the_edit_form_gives_the_budget_back_as_it_reads_it(
    services: Services, notifier: RecordingNotifier, alice: Caller, budget: str
) -> None:
    """The edit form's pre-filled budget, saved untouched, is the same budget (a daily range lost its
    "/j" and would have become a project range)."""
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:1], budget=budget)
    start = await run(services, alice, edit_mission, mission_id, write=False)
    assert parse_budget(start.form.budget) == parse_budget(budget)


async def test_a_project_range_is_shown_as_a_range_not_per_day(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:1], budget="3000-5000 €")
    budget = next(f.value for f in card_of(notifier, mission_id).fields
                  if f.name == services.t("fr", "missions.card.budget"))
    assert "jour" not in budget and "3" in budget and "5" in budget


@pytest.mark.parametrize("fee", ["²", "١٠", "1²"])
def test_a_fee_of_other_digits_is_refused_not_a_crash(fee: str) -> None:
    """Slack's fee is a free text box; "²" is a key of French keyboards. str.isdigit() accepted it and
    int() then raised: the member got the generic error instead of "0 to 30 %"."""
    with pytest.raises(InvalidInput) as refused:
        validate(form([1], fee=fee), trades={1: "Dev"}, sectors=[], today=date(2026, 11, 26), locale="fr")
    assert set(refused.value.problems) == {"fee"}


def test_trade_and_sector_ids_of_other_digits_are_refused_not_a_crash() -> None:
    typed = form([1], sector_id="١")
    typed.trade_ids = ["²"]
    with pytest.raises(InvalidInput) as refused:
        validate(typed, trades={1: "Dev"}, sectors=[1], today=date(2026, 11, 26), locale="fr")
    assert {"trades", "sector"} <= set(refused.value.problems)


async def test_a_moderator_editing_a_mission_they_brought_keeps_who_brought_it(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    """Alice shares a mission brought by Dominique, a moderator, who fixes a typo through Edit: the
    pre-filled "brought by: Dominique" was read as "brought by the one saving" and dropped."""
    trades = await channels(services, alice)
    moderator = await make_caller(services, user="MOD", name="Dominique", moderator=True)
    mission_id = await post(services, alice, trades[:1], behalf="MOD", behalf_name="Dominique")
    start = await run(services, moderator, edit_mission, mission_id, write=False)
    assert start.form.behalf == "MOD"
    start.form.title = "Site vitrine pour une boulangerie bio"
    await run(services, moderator, submit_mission, start.form, mission_id=mission_id, origin_channel_id="C")

    async with services.db.transaction(write=False) as session:
        view = await load_view(session, await session.get_one(Mission, mission_id))
    assert view.brought_by_name == "Dominique"
    assert "Dominique" in str(card_of(notifier, mission_id).fields)


async def test_the_author_naming_themselves_as_who_brought_it_is_no_one_else(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:1], behalf=alice.user_id, behalf_name="Alice")
    async with services.db.transaction(write=False) as session:
        assert (await session.get_one(Mission, mission_id)).brought_by_member_id is None
