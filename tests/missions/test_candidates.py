"""The author's view of candidates: the trades each counts for, their whole note, the pages' selects."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.cards import Select
from bot.context import Caller
from bot.services import Services
from bot.usecase import run
from cogs.intros._profile import save_profile
from cogs.intros._validation import IntroForm
from cogs.missions import _ids
from cogs.missions._missions import load_view
from cogs.missions._publish import candidates_of, select_team, show_interest, submit_mission, withdraw
from cogs.missions.models import Candidacy, Mission
from storage.models import Trade
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier
from tests.missions.conftest import channels, form


def shown_by(menu: Select) -> tuple[int, int] | None:
    """The candidacies a page's select showed, as its id carries them (what the bindings read)."""
    return _ids.shown_range(re.fullmatch(_ids.SELECT, menu.id))


async def post(services: Services, caller: Caller, trade_ids: list[int], **changes: str) -> int:
    typed = form(trade_ids, **changes)
    done = await run(services, caller, submit_mission, typed, origin_channel_id="CORIGIN")
    return done.mission_id


async def test_edited_trades_count_the_candidates_already_there(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller
) -> None:
    """Bob, a designer, applied to a writing mission (he counted for no trade). The author edits it to
    also need Design: he counts for Design (the counts were frozen when he applied: Design 0)."""
    trades = await channels(services, alice)
    writing, design = trades[0], trades[1]
    async with services.db.transaction() as session:
        await save_profile(session, bob, IntroForm(trade_ids=[str(design)]), services.clock)
    mission_id = await post(services, alice, [writing])
    await run(services, bob, show_interest, mission_id, "je fais le design")

    await run(services, alice, submit_mission, form([writing, design]), origin_channel_id="C",
              mission_id=mission_id)

    async with services.db.transaction(write=False) as session:
        names = {t.id: t.name for t in await session.scalars(select(Trade))}
        view = await load_view(session, await session.get_one(Mission, mission_id))
        [stored] = list(await session.scalars(select(Candidacy.trade_ids)))
    counts = dict(zip([name for _, name, _ in view.trades], view.counts, strict=True))
    assert counts == {names[writing]: 0, names[design]: 1}
    assert stored == [design]  # still a JSON list of trade ids (a trade merge rewrites it)
    card = next(c for c in notifier.messages.values() if f"n°{mission_id}" in (c.footer or ""))
    assert f"{names[design]} 1" in card.fields[0].value

    await run(services, alice, submit_mission, form([writing]), origin_channel_id="C", mission_id=mission_id)
    async with services.db.transaction(write=False) as session:
        assert list(await session.scalars(select(Candidacy.trade_ids))) == [[]]


NOTE = ("Bonjour ! 8 ans de WordPress, 40 sites vitrines livrés, dont trois boulangeries. "
        "Je peux commencer lundi et livrer en trois semaines. "
        "Mon TJM est de 450 €, négociable pour une mission longue. Références : boulangerie-martin.example, "
        "fournil-du-port.example ; portfolio sur bob.example. Dernière phrase importante : FIN.")


async def test_the_author_reads_the_whole_note_in_the_new_candidate_dm(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller
) -> None:
    """The note form takes 500 characters; the DM and the candidates view both cut it at 150: the rest
    (the rate, the references) was shown to nobody. The DM has it whole; the view's line stays short
    and says where the rest is."""
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:1])
    assert len(NOTE) <= 500
    await run(services, bob, show_interest, mission_id, NOTE)
    [dm] = [d for d in notifier.dms if d.user_id == alice.user_id]
    assert NOTE in dm.card.text
    listing = await run(services, alice, candidates_of, mission_id, write=False)
    assert "FIN." not in listing.text
    assert services.t("fr", "missions.candidates.note_in_dm") in listing.text


async def test_a_page_of_candidates_chosen_after_someone_withdrew_changes_only_what_was_shown(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    """17 candidates, 8 a page. Alice selected the 17th (page 3), opened page 2 and picked the 9th
    there; meanwhile the 1st withdrew. The page was recomputed from the list as it is now: the 9th had
    slid onto page 1 (her pick dropped) and the 17th onto page 2 (deselected, never shown there). The
    select carries the candidacies it showed."""
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:1])
    people = [await make_caller(services, user=f"V{i}", name=f"M{i:02}") for i in range(17)]
    for person in people:
        await run(services, person, show_interest, mission_id)
    third = await run(services, alice, candidates_of, mission_id, 2, write=False)
    await run(services, alice, select_team, mission_id, [str(people[16].member_id)], 2,
              shown=shown_by(third.selects[0]))
    page_two = await run(services, alice, candidates_of, mission_id, 1, write=False)
    [menu] = page_two.selects
    assert str(people[8].member_id) in [o.value for o in menu.options]
    await run(services, people[0], withdraw, mission_id)
    await run(services, alice, select_team, mission_id, [str(people[8].member_id)], 1, shown=shown_by(menu))
    async with services.db.transaction(write=False) as session:
        chosen = set(await session.scalars(select(Candidacy.member_id).where(Candidacy.selected)))
    assert chosen == {people[8].member_id, people[16].member_id}
