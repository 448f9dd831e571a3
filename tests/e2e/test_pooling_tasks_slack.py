"""The rota of shared admin tasks and payment tracking on Slack: real Bolt app, signed requests, fake Slack.

NOW (tests/conftest.py) is Thursday 2026-11-26 10:00 UTC, 11:00 in Paris.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select, update

from bot.usecase import run
from cogs.pooling import FEATURE
from cogs.pooling._form import PoolForm
from cogs.pooling._pools import create_pool
from cogs.pooling._settings import CHANNEL
from cogs.pooling.models import Pool, PoolMember, RotaTurn, RotaVolunteer
from storage.models import Community, FeatureSetting, Member
from storage.settings import get_settings
from tests.e2e.slack_harness import SlackHarness
from tests.fakes.slack_api import Posted, visible_text

MODLOG = "CMODLOG"
POOLS = "CPOOLS"
MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 09:00 in Paris
PEOPLE = {"UALEX": "alex", "UBEA": "bea"}


@pytest.fixture
async def s(slack: SlackHarness) -> SlackHarness:
    await FEATURE.on_start(slack.services)
    for user_id, name in PEOPLE.items():
        slack.fake.add_user(user_id, name, locale="fr-FR")
    return slack


async def community_id(s: SlackHarness) -> int:
    async with s.services.db.transaction() as session:
        found = await session.scalar(select(Community.id).where(Community.external_id == s.fake.team_id))
    assert found is not None
    return found


async def command(s: SlackHarness, text: str, user: str) -> Posted:
    done = s.completions.count
    _, url = await s.sender.command(text, user_id=user)
    await s.completions.wait(done + 1)
    return await s.fake.wait_for_post(url)


async def open_task_form(s: SlackHarness) -> dict[str, Any]:
    before = len(s.fake.calls_to("views.open"))
    answer, _ = await s.sender.command("taches ajouter", user_id=s.admin)
    assert answer.status == 200
    call = await s.fake.wait_for_call(
        "views.open", lambda c: s.fake.calls_to("views.open").index(c) >= before)
    return call.args["view"]


def task_state(name: str, cadence: str = "weekly", weekday: str = "mon") -> dict[str, Any]:
    return {
        "name": {"value": {"type": "plain_text_input", "value": name}},
        "description": {"value": {"type": "plain_text_input", "value": "Saisir les factures"}},
        "cadence": {"value": {"type": "static_select", "selected_option": {"value": cadence}}},
        "weekday": {"value": {"type": "static_select", "selected_option": {"value": weekday}}},
    }


async def submit_task(s: SlackHarness, name: str) -> Any:
    view = await open_task_form(s)
    assert view["callback_id"] == "pooling:task_form"
    done = s.completions.count
    answer = await s.sender.view_submission("pooling:task_form", task_state(name), user_id=s.admin,
                                            private_metadata=view["private_metadata"])
    await s.completions.wait(done + 1)
    return answer


async def send_action(s: SlackHarness, payload: dict[str, Any]) -> Posted:
    done = s.completions.count
    body = urlencode({"payload": json.dumps(payload)})
    answer = await s.sender.send(body, "application/x-www-form-urlencoded")
    assert answer.status == 200
    await s.completions.wait(done + 1)
    return await s.fake.wait_for_post(payload["response_url"])


async def click(s: SlackHarness, action_id: str, user: str, channel: str = "CGENERAL") -> Posted:
    return await send_action(s, s.sender.action_payload(action_id, user_id=user, channel_id=channel))


def channel_messages(s: SlackHarness, channel: str) -> list[dict[str, Any]]:
    return [m for (c, _ts), m in s.fake.messages.items() if c == channel]


def dms(s: SlackHarness, user: str) -> list[dict[str, Any]]:
    return channel_messages(s, "D" + user)


def action_ids(message: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in message.get("blocks", []) if b.get("type") == "actions"
            for e in b["elements"]]


async def turns(s: SlackHarness) -> list[RotaTurn]:
    async with s.services.db.transaction() as session:
        return list(await session.scalars(select(RotaTurn).order_by(RotaTurn.due_at)))


async def member_ids(s: SlackHarness) -> dict[str, int]:
    async with s.services.db.transaction() as session:
        return {u: i for i, u in await session.execute(select(Member.id, Member.platform_user_id))}


async def test_a_rota_on_slack_assigns_reminds_once_and_passes_on_cant(s: SlackHarness) -> None:
    refused = await command(s, "taches ajouter", s.member_fr)
    assert refused.text == s.t("fr", "errors.forbidden")
    async with s.services.db.transaction() as session:
        (await get_settings(session, await community_id(s))).modlog_channel_id = MODLOG

    bad = (await submit_task(s, "   ")).json()
    assert bad["response_action"] == "errors"
    assert bad["errors"]["name"] == s.t("fr", "pooling.tasks.problems.name_missing")
    assert await turns(s) == []
    answer = await submit_task(s, "Comptabilité")
    assert answer.status == 200
    [first] = await turns(s)
    assert (first.due_at, first.assignee_id) == (MONDAY, None)
    added = s.t("fr", "pooling.tasks.added_title", name="Comptabilité")
    told = [c for c in s.fake.calls_to("chat.postEphemeral")
            if added in json.dumps(c.args, ensure_ascii=False)]
    assert told

    listed = await command(s, "taches", "UALEX")
    assert s.t("fr", "pooling.tasks.card.title") in listed.text
    join = f"pooling:task_join:{first.task_id}"
    assert action_ids(listed.body) == [join]
    for user in ("UALEX", "UBEA"):
        assert (await click(s, join, user)).text == s.t("fr", "pooling.tasks.answered.volunteer")
    ids = await member_ids(s)
    async with s.services.db.transaction() as session:
        for user, seed in (("UALEX", 1), ("UBEA", 2)):
            await session.execute(update(RotaVolunteer).where(RotaVolunteer.member_id == ids[user])
                                  .values(seed=seed))
    [first] = await turns(s)
    assert first.assignee_id == ids["UALEX"]

    s.services.clock.set(first.remind_at)
    await s.services.scheduler.run_due()
    await s.services.scheduler.run_due()
    [dm] = dms(s, "UALEX")
    assert s.t("fr", "pooling.tasks.dm.title", name="Comptabilité") in visible_text(dm)
    assert action_ids(dm) == [f"pooling:task_done:{first.id}", f"pooling:task_cant:{first.id}"]
    forged = await click(s, f"pooling:task_done:{first.id}", "UBEA", channel="DUBEA")
    assert forged.text == s.t("fr", "pooling.tasks.errors.not_holder")
    done = await click(s, f"pooling:task_done:{first.id}", "UALEX", channel="DUALEX")
    assert done.text == s.t("fr", "pooling.tasks.answered.done")

    # Due: Bea never did it, her turn; she can't: it passes to Alex once; Alex can't: the moderators.
    s.services.clock.set(MONDAY)
    await s.services.scheduler.run_due()
    second = (await turns(s))[1]
    assert second.assignee_id == ids["UBEA"]
    s.services.clock.set(second.remind_at)
    await s.services.scheduler.run_due()
    assert len(dms(s, "UBEA")) == 1
    passed = await click(s, f"pooling:task_cant:{second.id}", "UBEA", channel="DUBEA")
    assert passed.text == s.t("fr", "pooling.tasks.answered.passed")
    assert len(dms(s, "UALEX")) == 2
    assert s.t("fr", "pooling.tasks.dm.passed") in visible_text(dms(s, "UALEX")[-1])
    last = await click(s, f"pooling:task_cant:{second.id}", "UALEX", channel="DUALEX")
    assert last.text == s.t("fr", "pooling.tasks.answered.moderators")
    await s.services.scheduler.run_due()
    [notice] = channel_messages(s, MODLOG)
    assert s.t("fr", "pooling.tasks.moderators.cant_title", name="Comptabilité") in visible_text(notice)
    assert "<@" not in json.dumps(notice)

    history = await command(s, "taches historique", s.admin)
    assert s.t("fr", "pooling.tasks.history.tally", name="alex", count=1) in history.text
    assert (await command(s, "taches historique", "UALEX")).text == s.t("fr", "errors.forbidden")

    assert (await command(s, "taches retirer Comptabilité", "UALEX")).text == s.t("fr", "errors.forbidden")
    removed = await command(s, "taches retirer comptabilite", s.admin)
    assert removed.text == s.t("fr", "pooling.tasks.removed", name="Comptabilité")
    s.services.clock.set(second.due_at)
    await s.services.scheduler.run_due()  # the task stopped: no next turn is planned
    assert "pending" not in [t.status for t in await turns(s)]
    assert s.t("fr", "pooling.tasks.card.empty") in (await command(s, "taches", "UALEX")).text


async def test_payments_on_slack_private_to_the_organizer_with_one_reminder(s: SlackHarness) -> None:
    organizer = await s.services.caller(_origin(s))
    async with s.services.db.transaction() as session:
        session.add(FeatureSetting(community_id=organizer.community_id, key=CHANNEL.key, value=POOLS))
    created = await run(s.services, organizer, create_pool, PoolForm(
        title="Licences Figma", what="Un an", link="https://figma.example", tiers="1-2: 15; 3+: 10",
        minimum="2", deadline="2026-12-04 18:00"))
    pid = created.pool_id
    for user in ("UALEX", "UBEA"):
        await click(s, f"pooling:join:{pid}", user, channel=POOLS)
    await click(s, f"pooling:close:{pid}", s.member_fr, channel=POOLS)
    summary = next(m for m in dms(s, s.member_fr)
                   if s.t("fr", "pooling.dm.summary_title", title="Licences Figma") in visible_text(m))
    assert action_ids(summary) == [f"pooling:payments:{pid}:0"]

    refused = await click(s, f"pooling:payments:{pid}:0", "UALEX", channel="DUALEX")
    assert refused.text == s.t("fr", "pooling.errors.not_organizer")
    listed = await click(s, f"pooling:payments:{pid}:0", s.member_fr, channel="D" + s.member_fr)
    assert listed.body["response_type"] == "ephemeral"
    assert "⏳ alex" in listed.text and "⏳ bea" in listed.text
    ids = await member_ids(s)
    payload = s.sender.action_payload(f"pooling:paid:{pid}:0", user_id=s.member_fr,
                                      channel_id="D" + s.member_fr)
    payload["actions"][0].update(type="multi_static_select", selected_options=[
        {"value": str(ids["UALEX"]), "text": {"type": "plain_text", "text": "alex"}}])
    ticked = await send_action(s, payload)
    assert ticked.body["replace_original"] is True
    assert "✅ alex" in ticked.text and "⏳ bea" in ticked.text
    async with s.services.db.transaction() as session:
        rows = await session.execute(select(PoolMember.member_id, PoolMember.paid_at))
        paid = {m: at is not None for m, at in rows}
    assert paid == {ids["UALEX"]: True, ids["UBEA"]: False}

    reminded = await click(s, f"pooling:remind:{pid}", s.member_fr, channel="D" + s.member_fr)
    assert reminded.text == s.t("fr", "pooling.payments.reminder_sent", count=1)
    unpaid = s.t("fr", "pooling.dm.unpaid_title", title="Licences Figma")
    assert sum(unpaid in visible_text(m) for m in dms(s, "UBEA")) == 1
    assert not any(unpaid in visible_text(m) for m in dms(s, "UALEX"))
    again = await click(s, f"pooling:remind:{pid}", s.member_fr, channel="D" + s.member_fr)
    assert again.text == s.t("fr", "pooling.errors.already_reminded")
    await s.services.scheduler.run_due()
    assert sum(unpaid in visible_text(m) for m in dms(s, "UBEA")) == 1
    async with s.services.db.transaction() as session:
        assert (await session.get(Pool, pid)).payment_reminder_at is not None  # type: ignore[union-attr]


def _origin(s: SlackHarness) -> Any:
    from tests.fakes.callers import origin

    return origin(s.member_fr, platform="slack", guild=s.fake.team_id, name="camille", locale="fr-FR")


async def happened_with(s: SlackHarness, users: tuple[str, ...]) -> int:
    """Camille's purchase (minimum 1) in POOLS, `users` in it, closed now: it happened."""
    organizer = await s.services.caller(_origin(s))
    async with s.services.db.transaction() as session:
        await session.merge(FeatureSetting(community_id=organizer.community_id, key=CHANNEL.key, value=POOLS))
    created = await run(s.services, organizer, create_pool, PoolForm(
        title="Licences Figma", what="Un an", link="https://figma.example", tiers="15",
        minimum="1", deadline="2026-12-04 18:00"))
    for user in users:
        await click(s, f"pooling:join:{created.pool_id}", user, channel=POOLS)
    await click(s, f"pooling:close:{created.pool_id}", s.member_fr, channel=POOLS)
    return created.pool_id


async def paid_flags(s: SlackHarness) -> dict[int, bool]:
    async with s.services.db.transaction() as session:
        return {m: at is not None for m, at in await session.execute(select(PoolMember.member_id,
                                                                            PoolMember.paid_at))}


def chose(s: SlackHarness, action_id: str, element: dict[str, Any], values: list[str]) -> dict[str, Any]:
    """What Slack sends when `values` are chosen in `element` (as rendered): a static_select sends
    `selected_option`, a multi_static_select `selected_options`."""
    payload = s.sender.action_payload(action_id, user_id=s.member_fr, channel_id="D" + s.member_fr)
    options = [o for o in element["options"] if o["value"] in values]
    if element["type"] == "static_select":
        payload["actions"][0].update(type="static_select", selected_option=options[0])
    else:
        payload["actions"][0].update(type=element["type"], selected_options=options)
    return payload


async def test_a_payment_list_of_one_participant_is_ticked_and_unticked_on_slack(s: SlackHarness) -> None:
    """One participant (or one left on the last page): what Slack sends for the element it was given
    is read, and the organizer can untick them again."""
    pid = await happened_with(s, ("UALEX",))
    listed = await click(s, f"pooling:payments:{pid}:0", s.member_fr, channel="D" + s.member_fr)
    [element] = [e for b in listed.body.get("blocks", []) if b.get("type") == "actions"
                 for e in b["elements"] if e["action_id"].startswith(f"pooling:paid:{pid}:0:")]
    assert element["type"] == "multi_static_select"  # a static_select could never be cleared
    alex = (await member_ids(s))["UALEX"]

    ticked = await send_action(s, chose(s, element["action_id"], element, [str(alex)]))
    assert "✅ alex" in ticked.text
    assert await paid_flags(s) == {alex: True}
    unticked = await send_action(s, chose(s, element["action_id"], element, []))
    assert "⏳ alex" in unticked.text
    assert await paid_flags(s) == {alex: False}


async def test_a_static_select_s_single_choice_is_read_like_a_multi_select_s(s: SlackHarness) -> None:
    """`selected_option` (static_select, radio buttons) and `selected_options` (multi selects,
    checkboxes) are read alike: a list once rendered as a static_select is still understood."""
    pid = await happened_with(s, ("UALEX", "UBEA"))
    ids = await member_ids(s)
    payload = s.sender.action_payload(f"pooling:paid:{pid}:0", user_id=s.member_fr,
                                      channel_id="D" + s.member_fr)
    payload["actions"][0].update(type="static_select", selected_option={
        "value": str(ids["UBEA"]), "text": {"type": "plain_text", "text": "bea"}})
    ticked = await send_action(s, payload)
    assert "⏳ alex" in ticked.text and "✅ bea" in ticked.text
    assert await paid_flags(s) == {ids["UALEX"]: False, ids["UBEA"]: True}


async def test_a_moderator_opens_the_payments_of_a_happened_purchase_from_its_card(s: SlackHarness) -> None:
    pid = await happened_with(s, ("UALEX",))
    [card] = [m for m in channel_messages(s, POOLS) if m.get("blocks")]
    assert action_ids(card) == [f"pooling:payments:{pid}:0"]
    refused = await click(s, f"pooling:payments:{pid}:0", "UALEX", channel=POOLS)
    assert refused.body["response_type"] == "ephemeral"
    assert refused.text == s.t("fr", "pooling.errors.not_organizer")
    listed = await click(s, f"pooling:payments:{pid}:0", s.admin, channel=POOLS)
    assert listed.body["response_type"] == "ephemeral"
    assert "⏳ alex" in listed.text
