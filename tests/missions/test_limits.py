"""Missions at the platforms' limits: as many candidates, missions and words as a big community brings.

The author picks the team from the candidates card: each candidate's line (trades, skills, availability,
note) is the only place they read who the candidates are and what they wrote.
"""

from __future__ import annotations

from bot.context import Caller
from bot.rendering.discord import render_card
from bot.rendering.slack import render_blocks
from bot.services import Services
from bot.usecase import run
from cogs.missions._publish import candidates_of, show_interest, submit_mission
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier
from tests.missions.conftest import channels, form


async def _mission_with_candidates(
    services: Services, alice: Caller, count: int, note: str
) -> tuple[int, list[Caller]]:
    trades = await channels(services, alice)
    done = await run(services, alice, submit_mission, form(trades[:1]), origin_channel_id="CORIGIN")
    people = [await make_caller(services, user=f"V{i}", name=f"Candidate {i:02}") for i in range(count)]
    for i, person in enumerate(people):
        await run(services, person, show_interest, done.mission_id, f"{note} (#{i:02})")
    return done.mission_id, people


async def test_every_candidate_of_every_page_is_readable_with_its_note(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    """25 candidates who each wrote a long note: before, the card's text was cut at 3,500 characters,
    so the author no longer read the candidates after the ~10th (nor their note). Each page now shows
    all of its candidates, the start of each note, and the page line."""
    note = "Disponible dès lundi, 8 ans de WordPress et WooCommerce, références sur demande. " * 6
    mission_id, people = await _mission_with_candidates(services, alice, 25, note[:480])
    seen: list[str] = []
    for page in range(4):
        card = await run(services, alice, candidates_of, mission_id, page, write=False)
        embed, _view = render_card(card)
        slack_text = "\n".join(b["text"]["text"] for b in render_blocks(card) if b.get("type") == "section")
        options = [o.label for o in card.selects[0].options]
        for shown in (embed.description or "", slack_text):
            assert f"{page + 1}/4" in shown
            for name in options:
                assert name in shown and "Disponible dès lundi" in shown.split(name, 1)[1]
        seen += options
    assert seen == [p.display_name for p in people]


async def test_the_mission_card_shows_the_whole_description_the_form_accepted(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    """The form accepts 2,000 characters of description (MAX_DESCRIPTION) but the card cuts it at 1,500:
    the last quarter the author wrote (often the deliverables or the deadline) is never shown to anyone
    (no other card or DM carries the description)."""
    from cogs.missions._cards import mission_card
    from cogs.missions._missions import load_view
    from cogs.missions._validation import MAX_DESCRIPTION
    from cogs.missions.models import Mission

    trades = await channels(services, alice)
    ending = "Livrables attendus : maquettes et recette le 15 janvier."
    description = ("Contexte du projet, besoins du client. " * 60)[: MAX_DESCRIPTION - len(ending)] + ending
    assert len(description) == MAX_DESCRIPTION
    done = await run(
        services,
        alice,
        submit_mission,
        form(trades[:1], description=description),
        origin_channel_id="CORIGIN",
    )
    async with services.db.transaction(write=False) as session:
        mission = await session.get(Mission, done.mission_id)
        assert mission is not None and mission.description == description  # saved whole
        view = await load_view(session, mission)
    card = mission_card(services.catalog, "fr", view)
    embed, _ = render_card(card)
    slack = "\n".join(
        b["text"]["text"] for b in render_blocks(card) if b.get("type") == "section" and "text" in b
    )
    assert ending in (embed.description or "") and ending in slack, (
        "the description's end is cut from the card"
    )


async def test_paging_through_missions_shows_every_mission(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    """/missions pages hold 10 missions but the card's text is cut at 3,500 characters: with long titles
    (100) and 5 trades of long names, the last missions of page 1 are cut, and Next starts at the 11th:
    those missions are never shown to anyone browsing the list."""
    from sqlalchemy import update

    from cogs.missions._publish import list_missions
    from storage.models import Trade

    trades = (await channels(services, alice))[:5]
    async with services.db.transaction() as session:
        for n, trade_id in enumerate(trades):
            await session.execute(
                update(Trade)
                .where(Trade.id == trade_id)
                .values(name=f"Métier au nom long et précis, numéro {n} ....."[:50])
            )
    ids = []
    for i in range(12):
        author = await make_caller(services, user=f"A{i}", name=f"Author {i}")
        title = f"Mission {i:02} " + "refonte complète du site et de l'identité visuelle " * 2
        done = await run(
            services, author, submit_mission, form(trades, title=title[:100]), origin_channel_id="CORIGIN"
        )
        ids.append(done.mission_id)
    reader = await make_caller(services, user="reader")
    pages = []
    for page in (0, 1):
        card = await run(services, reader, list_missions, page, write=False)
        embed, _ = render_card(card)
        pages.append(embed.description or "")
    seen = "\n".join(pages)
    missing = [m for m in ids if f"n°{m} " not in seen]
    assert missing == [], f"missions never shown while paging: {missing} (page 1 ends: {pages[0][-60:]!r})"
