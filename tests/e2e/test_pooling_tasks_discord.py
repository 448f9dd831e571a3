"""The rota of shared admin tasks and payment tracking on Discord: the real bot against the fake Discord.

NOW (tests/conftest.py) is Thursday 2026-11-26 10:00 UTC, 11:00 in Paris.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from cogs.pooling import FEATURE
from cogs.pooling._settings import CHANNEL
from cogs.pooling.models import Pool, PoolMember, RotaTurn, RotaVolunteer
from storage.models import Community, FeatureSetting
from storage.settings import get_settings
from tests.e2e.conftest import DiscordHarness
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import FakeUser

TASK = {"name": "Comptabilité", "cadence": "weekly", "weekday": "mon", "description": "Saisir les factures"}
MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 09:00 in Paris
FORBIDDEN = "errors.forbidden"


@pytest.fixture
async def h(discord_harness: DiscordHarness) -> DiscordHarness:
    await FEATURE.on_start(discord_harness.services)
    return discord_harness


async def community_id(h: DiscordHarness) -> int:
    async with h.services.db.transaction() as session:
        found = await session.scalar(select(Community.id).where(Community.external_id == str(h.guild.id)))
    assert found is not None
    return found


async def use_modlog(h: DiscordHarness) -> int:
    await h.fake.invoke_slash(h.guild, h.member, "help")
    channel = h.guild.channel("général").id
    async with h.services.db.transaction() as session:
        (await get_settings(session, await community_id(h))).modlog_channel_id = str(channel)
    return channel


async def turns(h: DiscordHarness) -> list[RotaTurn]:
    async with h.services.db.transaction() as session:
        return list(await session.scalars(select(RotaTurn).order_by(RotaTurn.due_at)))


async def answered(interaction: FakeInteraction) -> FakeInteraction:
    if interaction.response_type == 5 and not interaction.followups:
        await interaction.wait_followups(1)
    return interaction


def text_of(interaction: FakeInteraction) -> str:
    """What the member sees: the answer's text and its card."""
    return interaction.content + "".join(str(e) for e in interaction.embeds)


def buttons(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components") or [] for c in row["components"]]


def dms(h: DiscordHarness, user: FakeUser) -> list[dict[str, Any]]:
    return [m for m in h.fake.dm_messages(user) if m.get("embeds")]


async def test_a_rota_assigns_fairly_reminds_once_and_passes_on_cant(h: DiscordHarness) -> None:
    modlog = await use_modlog(h)
    refused = await answered(await h.fake.invoke_slash(h.guild, h.member, "tasks add", TASK))
    assert text_of(refused) == h.t("fr", FORBIDDEN)
    assert await turns(h) == []
    added = await answered(await h.fake.invoke_slash(h.guild, h.moderator, "tasks add", TASK))
    assert added.ephemeral
    assert h.t("fr", "pooling.tasks.added_title", name="Comptabilité") in text_of(added)
    again = await answered(await h.fake.invoke_slash(h.guild, h.moderator, "tasks add",
                                                     {**TASK, "name": "comptabilite"}))
    assert h.t("fr", "pooling.tasks.errors.exists", name="comptabilite") in text_of(again)
    unknown = await answered(await h.fake.invoke_slash(h.guild, h.moderator, "tasks add",
                                                       {**TASK, "name": "Devis", "trades": "Plomberie"}))
    assert h.t("fr", "pooling.tasks.problems.trade_unknown", name="Plomberie") in text_of(unknown)
    [first] = await turns(h)
    assert (first.due_at, first.assignee_id) == (MONDAY, None)

    alex, bea, chris = (h.fake.add_user(n, guild=h.guild) for n in ("Alex", "Bea", "Chris"))
    listed = await answered(await h.fake.invoke_slash(h.guild, alex, "tasks list"))
    assert listed.ephemeral
    join = f"pooling:task_join:{first.task_id}"
    assert buttons(listed.original) == [join]
    for user in (alex, bea, chris):
        answer = await answered(await h.fake.click(listed.original, join, user))
        assert text_of(answer) == h.t("fr", "pooling.tasks.answered.volunteer")
    twice = await answered(await h.fake.click(listed.original, join, bea))
    assert text_of(twice) == h.t("fr", "pooling.tasks.answered.already")
    [first] = await turns(h)
    holder_ids = await _member_ids(h)
    assert first.assignee_id == holder_ids["Alex"]
    await _set_seeds(h, {holder_ids["Bea"]: 1, holder_ids["Chris"]: 2, holder_ids["Alex"]: 3})
    shown = await answered(await h.fake.invoke_slash(h.guild, bea, "tasks list"))
    assert "Alex" in str(shown.original["embeds"][0])

    # Two days before, 09:00 in Paris: Alex's DM with Done / Can't, once.
    h.services.clock.set(first.remind_at)
    await h.services.scheduler.run_due()
    await h.services.scheduler.run_due()
    [dm] = dms(h, alex)
    assert dm["embeds"][0]["title"] == h.t("fr", "pooling.tasks.dm.title", name="Comptabilité")
    assert buttons(dm) == [f"pooling:task_done:{first.id}", f"pooling:task_cant:{first.id}"]
    assert dm["allowed_mentions"] == {"parse": []}
    forged = await answered(await h.fake.click(dm, f"pooling:task_done:{first.id}", bea))
    assert text_of(forged) == h.t("fr", "pooling.tasks.errors.not_holder")
    done = await answered(await h.fake.click(dm, f"pooling:task_done:{first.id}", alex))
    assert text_of(done) == h.t("fr", "pooling.tasks.answered.done")

    # Due: the next turn to who did it least recently (Bea and Chris never did; Bea's seed is lower).
    h.services.clock.set(MONDAY)
    await h.services.scheduler.run_due()
    second = (await turns(h))[1]
    assert second.assignee_id == holder_ids["Bea"]
    h.services.clock.set(second.remind_at)
    await h.services.scheduler.run_due()
    [bea_dm] = dms(h, bea)
    cant = await answered(await h.fake.click(bea_dm, f"pooling:task_cant:{second.id}", bea))
    assert text_of(cant) == h.t("fr", "pooling.tasks.answered.passed")
    [chris_dm] = dms(h, chris)
    assert h.t("fr", "pooling.tasks.dm.passed") in chris_dm["embeds"][0]["description"]
    cant = await answered(await h.fake.click(chris_dm, f"pooling:task_cant:{second.id}", chris))
    assert text_of(cant) == h.t("fr", "pooling.tasks.answered.moderators")
    told = [m for m in h.fake.channel_messages(modlog) if m.get("embeds")]
    assert [m["embeds"][0]["title"] for m in told] == [
        h.t("fr", "pooling.tasks.moderators.cant_title", name="Comptabilité")]

    # A restart, the due jobs again: nothing sent twice.
    await h.restart()
    await FEATURE.on_start(h.services)
    await h.services.scheduler.run_due()
    assert (len(dms(h, alex)), len(dms(h, bea)), len(dms(h, chris))) == (1, 1, 1)
    assert len([m for m in h.fake.channel_messages(modlog) if m.get("embeds")]) == 1

    history = await answered(await h.fake.invoke_slash(h.guild, h.moderator, "tasks history"))
    tally = h.t("fr", "pooling.tasks.history.tally", name="Alex", count=1)
    assert tally in str(history.original["embeds"][0])
    refused = await answered(await h.fake.invoke_slash(h.guild, alex, "tasks history"))
    assert text_of(refused) == h.t("fr", FORBIDDEN)

    refused = await answered(await h.fake.invoke_slash(h.guild, alex, "tasks remove",
                                                       {"name": "Comptabilité"}))
    assert text_of(refused) == h.t("fr", FORBIDDEN)
    removed = await answered(await h.fake.invoke_slash(h.guild, h.moderator, "tasks remove",
                                                       {"name": "comptabilité"}))
    assert text_of(removed) == h.t("fr", "pooling.tasks.removed", name="Comptabilité")
    h.services.clock.set(second.due_at)
    await h.services.scheduler.run_due()  # the task stopped: no next turn is planned
    assert "pending" not in [t.status for t in await turns(h)]


async def _member_ids(h: DiscordHarness) -> dict[str, int]:
    from storage.models import Member

    async with h.services.db.transaction() as session:
        return {n: i for i, n in await session.execute(select(Member.id, Member.display_name))}


async def _set_seeds(h: DiscordHarness, seeds: dict[int, int]) -> None:
    async with h.services.db.transaction() as session:
        for member_id, seed in seeds.items():
            await session.execute(update(RotaVolunteer).where(RotaVolunteer.member_id == member_id)
                                  .values(seed=seed))


async def test_the_organizer_ticks_payments_privately_and_reminds_once(h: DiscordHarness) -> None:
    await h.fake.invoke_slash(h.guild, h.member, "help")
    channel = h.guild.channel("design").id
    async with h.services.db.transaction() as session:
        session.add(FeatureSetting(community_id=await community_id(h), key=CHANNEL.key, value=str(channel)))
    await h.fake.invoke_slash(h.guild, h.member, "pool", {
        "title": "Licences Figma", "what": "Un an", "link": "https://figma.example",
        "tiers": "1-2: 15; 3+: 10", "minimum": 2, "deadline": "2026-12-04 18:00"})
    async with h.services.db.transaction() as session:
        pid = (await session.scalar(select(Pool.id)))
    card = next(m for m in h.fake.channel_messages(channel) if m.get("embeds"))
    alex, bea = (h.fake.add_user(n, guild=h.guild) for n in ("Alex", "Bea"))
    for user in (alex, bea):
        await h.fake.click(card, f"pooling:join:{pid}", user)
    await h.fake.click(card, f"pooling:close:{pid}", h.member)
    [summary] = [m for m in dms(h, h.member)
                 if m["embeds"][0]["title"] == h.t("fr", "pooling.dm.summary_title", title="Licences Figma")]
    assert buttons(summary) == [f"pooling:payments:{pid}:0"]

    refused = await answered(await h.fake.click(summary, f"pooling:payments:{pid}:0", alex))
    assert text_of(refused) == h.t("fr", "pooling.errors.not_organizer")
    listed = await answered(await h.fake.click(summary, f"pooling:payments:{pid}:0", h.member))
    assert listed.ephemeral
    assert "⏳ Alex" in str(listed.original["embeds"][0])
    ids = await _member_ids(h)
    [paid_id] = [c["custom_id"] for row in listed.original["components"] for c in row["components"]
                 if c["custom_id"].startswith(f"pooling:paid:{pid}:0:")]
    chosen = await h.fake.choose(listed.original, paid_id, [str(ids["Alex"])], h.member)
    assert chosen.response_type == 6  # deferred update: the list is edited in place
    request = await h.fake.wait_for_request(
        lambda r: r.method == "PATCH" and r.path.endswith(f"/messages/{listed.original['id']}"))
    assert "✅ Alex" in str(request.body) and "⏳ Bea" in str(request.body)
    async with h.services.db.transaction() as session:
        rows = await session.execute(select(PoolMember.member_id, PoolMember.paid_at))
        paid = {m: at is not None for m, at in rows}
    assert paid == {ids["Alex"]: True, ids["Bea"]: False}

    reminded = await answered(await h.fake.click(listed.original, f"pooling:remind:{pid}", h.member))
    assert text_of(reminded) == h.t("fr", "pooling.payments.reminder_sent", count=1)
    unpaid = h.t("fr", "pooling.dm.unpaid_title", title="Licences Figma")
    assert [m["embeds"][0]["title"] for m in dms(h, bea)].count(unpaid) == 1
    assert unpaid not in [m["embeds"][0]["title"] for m in dms(h, alex)]
    twice = await answered(await h.fake.click(listed.original, f"pooling:remind:{pid}", h.member))
    assert text_of(twice) == h.t("fr", "pooling.errors.already_reminded")
    await h.services.scheduler.run_due()
    assert [m["embeds"][0]["title"] for m in dms(h, bea)].count(unpaid) == 1
