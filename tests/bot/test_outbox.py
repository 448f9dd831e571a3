"""The outbox (bot/outbox.py): a DM the platform failed to take is sent again later, once, never lost."""

from __future__ import annotations

import json

from sqlalchemy import update

from bot import outbox
from bot.cards import Action, Attachment, Card, Field, Option, Select, card_from_data, card_to_data
from bot.clock import FrozenClock
from bot.services import Services
from bot.usecase import run
from cogs.privacy._privacy import delete_member_data, export_member_data
from storage.models import Community
from tests.bot.outbox_support import community_of, kept, retry_for
from tests.fakes.callers import make_caller
from tests.fakes.notifier import FlakyNotifier

CARD = Card(
    title="Apéro annulé",
    text="Le **jeudi** <@everyone>",
    fields=(Field("Où", "La Cantine", inline=True),),
    footer="Collectif",
    actions=(Action("afterwork:rsvp:4:going", "J'y vais", style="success"),),
    url="https://example.org/a",
    color=0x3366FF,
    selects=(Select("missions:pick:1", (Option("7", "Alice", "SEO", default=True), Option("8", "Bob")),
                    placeholder="Qui ?", min_values=0, max_values=2),),
    attachments=(Attachment("apero.ics", b"BEGIN:VCALENDAR\r\n\x00\xff", "text/calendar"),),
)


def test_a_card_survives_the_round_trip_through_a_job_payload() -> None:
    stored = json.loads(json.dumps(card_to_data(CARD)))  # a JSON column, on both databases
    assert card_from_data(stored) == CARD


async def test_a_dm_refused_by_a_5xx_is_sent_once_when_the_platform_is_back(
    services: Services, flaky: FlakyNotifier, clock: FrozenClock
) -> None:
    bob = await make_caller(services, "U2", name="Bob")
    flaky.failing_dms.add("U2")
    community = await community_of(services, bob.community_id)
    told = await outbox.send_dm(services, community, bob.member_id, "U2", CARD, about=())
    assert told and flaky.dms == []  # kept: the caller counts it as told
    await services.scheduler.run_due()  # due in a minute, not now
    assert flaky.dms == []
    flaky.failing_dms.clear()
    await retry_for(services, clock)
    assert [(d.user_id, d.card) for d in flaky.dms] == [("U2", CARD)]
    [job] = await kept(services)
    assert job.state == "done" and "card" not in job.payload  # the row no longer keeps what it said


async def test_a_platform_failing_for_hours_gives_up_after_the_configured_attempts(
    services: Services, flaky: FlakyNotifier, clock: FrozenClock
) -> None:
    bob = await make_caller(services, "U2", name="Bob")
    flaky.failing_dms.add("U2")
    await outbox.send_dm(services, await community_of(services, bob.community_id), bob.member_id, "U2", CARD,
                         about=())
    await retry_for(services, clock, hours=6)
    tries = [c for c in flaky.calls if c == ("dm", "U2")]
    [job] = await kept(services)
    assert job.state == "failed" and len(tries) == 1 + services.scheduler.max_attempts


async def test_closed_dms_are_not_kept(services: Services, flaky: FlakyNotifier) -> None:
    bob = await make_caller(services, "U2", name="Bob")
    flaky.closed_dms.add("U2")
    community = await community_of(services, bob.community_id)
    told = await outbox.send_dm(services, community, bob.member_id, "U2", CARD, about=())
    assert told is False and await kept(services) == []


async def test_a_kept_dm_is_in_the_members_export_and_goes_with_their_data(
    services: Services, flaky: FlakyNotifier, clock: FrozenClock
) -> None:
    bob = await make_caller(services, "U2", name="Bob")
    alice = await make_caller(services, "U1", name="Alice")
    community = await community_of(services, bob.community_id)
    flaky.failing_dms.update({"U1", "U2"})
    await outbox.send_dm(services, community, bob.member_id, "U2", CARD, about=())
    await outbox.send_dm(services, community, alice.member_id, "U1", Card(title="Pour Alice"), about=())
    exported = await run(services, bob, export_member_data)
    assert [m["title"] for m in exported.data["outbox"]] == ["Apéro annulé"]  # Bob's only
    await delete_member_data(services, bob, bob.member_id)
    flaky.failing_dms.clear()
    await retry_for(services, clock)
    assert [d.user_id for d in flaky.dms] == ["U1"]  # Bob's was deleted, never sent
    assert [j.payload["member_id"] for j in await kept(services)] == [alice.member_id]


async def test_a_kept_dm_is_not_sent_once_the_community_removed_the_bot(
    services: Services, flaky: FlakyNotifier, clock: FrozenClock
) -> None:
    bob = await make_caller(services, "U2", name="Bob")
    flaky.failing_dms.add("U2")
    await outbox.send_dm(services, await community_of(services, bob.community_id), bob.member_id, "U2", CARD,
                         about=())
    async with services.db.transaction() as session:
        await session.execute(update(Community).values(active=False))
    flaky.failing_dms.clear()
    await retry_for(services, clock)
    assert flaky.dms == []


async def test_a_kept_dm_reads_in_the_export_as_the_member_would_have_read_it(
    services: Services, flaky: FlakyNotifier
) -> None:
    """A kept card holds the markers of its dates and command names: the export shows them in words."""
    from datetime import UTC, datetime

    from bot.cards import when
    from bot.i18n import command_marker

    bob = await make_caller(services, "U2", name="Bob")
    community = await community_of(services, bob.community_id)
    flaky.failing_dms.add("U2")
    at = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
    card = Card(title=f"Rappel {when(at, 'date')}",
                text=f"Choisissez un salon avec {command_marker('config salon')} modération, "
                     f"avant le {when(at, 'full', locale='fr', timezone='Europe/Paris')}.")
    await outbox.send_dm(services, community, bob.member_id, "U2", card, about=())
    [exported] = (await run(services, bob, export_member_data)).data["outbox"]
    shown = exported["title"] + exported["text"]
    assert not any(marker in shown for marker in "\ue000\ue001\ue002\ue003"), shown
    assert "/config salon modération" in shown and "19:00" in shown and "2026-12-04" in shown
