"""The same button clicked twice at once (a double click, two devices)."""

from __future__ import annotations

import asyncio

import pytest

from cogs.missions import FEATURE
from tests.e2e.conftest import DiscordHarness
from tests.e2e.test_missions_discord import configure, fill_form, missions


@pytest.fixture(autouse=True)
async def job_kinds(discord_harness: DiscordHarness) -> None:
    await FEATURE.on_start(discord_harness.services)


async def test_publish_clicked_twice_at_once_makes_one_mission(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    await h.fake.invoke_slash(h.guild, h.member, "help")
    await configure(h)
    form = await fill_form(h, h.member)
    first, second = await asyncio.gather(
        h.fake.click(form, "missions:form:publish", h.member),
        h.fake.click(form, "missions:form:publish", h.member),
    )
    await asyncio.sleep(0.3)
    assert len(await missions(h)) == 1, (first.all_texts(), second.all_texts())


async def test_privacy_delete_confirmed_twice_at_once_reports_no_error(
    discord_harness: DiscordHarness, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from tests.e2e.test_privacy_discord import introduce

    h = discord_harness
    member_id, _ = await introduce(h)
    asked = await h.fake.invoke_slash(h.guild, h.member, "privacy delete")
    caplog.set_level(logging.ERROR)
    first, second = await asyncio.gather(
        h.fake.click(asked.original, f"privacy:confirm:{member_id}", h.member),
        h.fake.click(asked.original, f"privacy:confirm:{member_id}", h.member),
    )
    await asyncio.sleep(0.5)
    texts = [m.get("content") or (m.get("embeds") or [{}])[0].get("title")
             for m in [*first.followups, *second.followups]]
    unexpected = h.t("fr", "errors.unexpected", error_id="X").split("X")[0]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors and not any(unexpected in (t or "") for t in texts), (texts, errors)


async def test_remind_unpaid_clicked_twice_at_once_sends_one_reminder(
    discord_harness: DiscordHarness,
) -> None:
    from sqlalchemy import select

    from cogs.pooling import FEATURE as POOLING
    from cogs.pooling.models import Pool
    from tests.e2e.test_pooling_discord import OPTIONS, cards, use_channel
    from tests.e2e.test_pooling_tasks_discord import answered, dms

    h = discord_harness
    await POOLING.on_start(h.services)
    channel = await use_channel(h)
    await h.fake.invoke_slash(h.guild, h.member, "pool", {**OPTIONS, "maximum": 5})
    async with h.services.db.transaction() as session:
        pid = await session.scalar(select(Pool.id))
    card = cards(h, channel)[0]
    alex, bea = (h.fake.add_user(n, guild=h.guild) for n in ("Alex", "Bea"))
    for user in (alex, bea):
        await h.fake.click(card, f"pooling:join:{pid}", user)
    await h.fake.click(card, f"pooling:close:{pid}", h.member)
    summary = next(m for m in dms(h, h.member) if m.get("components"))
    listed = await answered(await h.fake.click(summary, f"pooling:payments:{pid}:0", h.member))
    remind = f"pooling:remind:{pid}"
    await asyncio.gather(*(h.fake.click(listed.original, remind, h.member) for _ in range(2)))
    await asyncio.sleep(0.3)
    unpaid = h.t("fr", "pooling.dm.unpaid_title", title=OPTIONS["title"])
    assert [m["embeds"][0]["title"] for m in dms(h, bea)].count(unpaid) == 1


async def test_invite_this_team_clicked_twice_at_once_invites_once(discord_harness: DiscordHarness) -> None:
    from tests.e2e.test_matching_discord import seed

    h = discord_harness
    vic = await seed(h, "Vic", trades=("Développement",), skills=("Python",))
    answer = await h.fake.invoke_slash(h.guild, h.member, "match", {"trades": "Développement"})
    invite = next(c["custom_id"] for row in answer.original["components"] for c in row["components"])
    await asyncio.gather(*(h.fake.click(answer.original, invite, h.member) for _ in range(2)))
    await asyncio.sleep(0.3)
    assert len(h.fake.dm_messages(vic)) == 1
