"""Missions in a member's /privacy export: their own in full, the ones they only brought without secrets."""

from __future__ import annotations

import json

from bot.context import Caller
from bot.services import Services
from bot.usecase import run
from cogs.missions._missions import export_member
from cogs.missions._publish import submit_mission
from cogs.privacy._privacy import export_member_data
from tests.fakes.notifier import RecordingNotifier
from tests.missions.conftest import channels, form


async def test_the_export_of_who_brought_a_mission_does_not_hold_its_confidential_client(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller
) -> None:
    """README: a confidential client name "that only you and the final team see". Bob is only named as
    who brought Alice's mission: his export listed the whole mission with Alice's client. It lists its
    number, its title and his part; Alice's lists all of it."""
    trades = await channels(services, alice)
    done = await run(services, alice, submit_mission,
                     form(trades[:1], behalf=bob.user_id, behalf_name="Bob"), origin_channel_id="CORIGIN")
    async with services.db.transaction(write=False) as session:
        brought = await export_member(session, alice.community_id, bob.member_id)
        authored = await export_member(session, alice.community_id, alice.member_id)
    assert brought["missions"] == [
        {"id": done.mission_id, "title": "Site vitrine pour une boulangerie", "role": "brought_by"}
    ]
    [own] = authored["missions"]
    assert own["role"] == "author" and own["client_name"] == "Boulangerie Dupain"


async def test_brought_by_members_export_does_not_reveal_the_authors_confidential_client(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller
) -> None:
    """The same through /privacy export, the file the member downloads."""
    trades = await channels(services, alice)
    typed = form(trades[:1], behalf=bob.user_id, client_name="Boulangerie Dupain")
    await run(services, alice, submit_mission, typed, origin_channel_id="CORIGIN")
    exported = (await run(services, bob, export_member_data, write=False)).content.decode()
    assert "Boulangerie Dupain" not in exported, json.loads(exported)["features"]["missions"]["missions"]
    assert "Site vitrine pour une boulangerie" in exported


async def test_the_team_dm_of_a_former_members_mission_reads_as_such(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller
) -> None:
    """Alice deletes her data while Bob is a candidate; a moderator staffs her kept mission. Bob's DM
    read "— a confirmé l'équipe : …, Les détails confidentiels sont ci-dessous" (a bare dash, and the
    client's name went with her data)."""
    from cogs.missions._publish import confirm_team, register_jobs, select_team, show_interest
    from cogs.privacy._privacy import delete_member_data
    from tests.fakes.callers import make_caller

    register_jobs(services)
    trades = await channels(services, alice)
    done = await run(services, alice, submit_mission, form(trades[:1]), origin_channel_id="CORIGIN")
    await run(services, bob, show_interest, done.mission_id)
    await delete_member_data(services, alice, alice.member_id)
    await services.scheduler.run_due()
    mod = await make_caller(services, user="MOD", name="Modo", moderator=True)
    await run(services, mod, select_team, done.mission_id, [str(bob.member_id)])
    await run(services, mod, confirm_team, done.mission_id)
    await services.scheduler.run_due()

    [dm] = [d for d in notifier.dms if d.user_id == bob.user_id and "confirm" in d.card.text]
    former = services.t("fr", "missions.card.former_member")
    assert dm.card.text.startswith(former[:1].upper() + former[1:]), dm.card.text
    assert "confidentiels" not in dm.card.text
