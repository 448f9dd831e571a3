"""Pooling on Slack, through the real Bolt app and signed requests against the fake Slack.

NOW (tests/conftest.py) is Thursday 2026-11-26 10:00 UTC, 11:00 in Paris.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from bot.usecase import run
from cogs.pooling import FEATURE
from cogs.pooling._form import PoolForm
from cogs.pooling._pools import create_pool
from cogs.pooling._settings import CHANNEL
from cogs.pooling.models import Pool
from storage.models import Community, FeatureSetting
from tests.e2e.slack_harness import SlackHarness
from tests.fakes.callers import make_caller
from tests.fakes.slack_api import server_error, visible_text

POOLS = "CPOOLS"
TEXTS = {"title": "Licences Figma", "what": "Un an de Figma Pro", "link": "https://figma.example/team",
         "tiers": "1-2: 15; 3+: 10", "minimum": "2", "maximum": "3", "deadline": "2026-12-04 18:00"}
DEADLINE = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)
PEOPLE = {"UALEX": "alex", "UBEA": "bea", "UCHRIS": "chris", "UDAN": "dan"}


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


async def use_channel(s: SlackHarness) -> None:
    """Without a channel /collectif pool says so; then the pooling channel is set."""
    done = s.completions.count
    _, url = await s.sender.command("pool", user_id=s.member_fr)
    assert (await s.fake.wait_for_post(url)).text == s.t("fr", "pooling.errors.no_channel")
    await s.completions.wait(done + 1)
    async with s.services.db.transaction() as session:
        session.add(FeatureSetting(community_id=await community_id(s), key=CHANNEL.key, value=POOLS))


async def pools(s: SlackHarness) -> list[Pool]:
    async with s.services.db.transaction() as session:
        return list(await session.scalars(select(Pool).order_by(Pool.id)))


def state(**texts: str) -> dict[str, Any]:
    values: dict[str, Any] = {"where": {"value": {"type": "static_select",
                                                  "selected_option": {"value": "pool"}}}}
    for name, text in {**TEXTS, **texts}.items():
        values[name] = {"value": {"type": "plain_text_input", "value": text}}
    return values


async def open_form(s: SlackHarness, user: str) -> dict[str, Any]:
    before = len(s.fake.calls_to("views.open"))
    answer, _ = await s.sender.command("pool", user_id=user)
    assert answer.status == 200
    call = await s.fake.wait_for_call(
        "views.open", lambda c: s.fake.calls_to("views.open").index(c) >= before
    )
    return call.args["view"]


async def submit(s: SlackHarness, user: str, **texts: str) -> Any:
    form = await open_form(s, user)
    done = s.completions.count
    answer = await s.sender.view_submission("pooling:form", state(**texts), user_id=user,
                                            private_metadata=form["private_metadata"])
    await s.completions.wait(done + 1)
    return answer


def channel_messages(s: SlackHarness, channel: str) -> list[dict[str, Any]]:
    return [m for (c, _ts), m in s.fake.messages.items() if c == channel]


def card(s: SlackHarness) -> dict[str, Any]:
    [found] = channel_messages(s, POOLS)  # only the card is posted there, then edited in place
    return found


def dms(s: SlackHarness, user: str) -> list[str]:
    return [visible_text(m) for m in channel_messages(s, "D" + user)]


async def click(s: SlackHarness, action_id: str, user: str) -> str:
    done = s.completions.count
    payload = s.sender.action_payload(action_id, user_id=user, channel_id=POOLS)
    body = urlencode({"payload": json.dumps(payload)})
    answer = await s.sender.send(body, "application/x-www-form-urlencoded")
    assert answer.status == 200
    await s.completions.wait(done + 1)
    return (await s.fake.wait_for_post(payload["response_url"])).text


async def test_create_join_tier_full_waitlist_leave_and_the_deadline(s: SlackHarness) -> None:
    await use_channel(s)
    form = await open_form(s, s.member_fr)
    assert form["callback_id"] == "pooling:form"
    answer = await submit(s, s.member_fr)
    assert answer.status == 200 and answer.text == ""
    [pool] = await pools(s)
    pid = pool.id
    shown = visible_text(card(s))
    assert "🛒 Licences Figma" in shown
    assert f"<!date^{int(DEADLINE.timestamp())}^" in shown
    assert "15\xa0€" in shown
    assert s.t("fr", "pooling.card.payments") in shown
    [told] = s.fake.calls_to("chat.postEphemeral")  # where the form was opened
    posted = s.t("fr", "pooling.created.posted_slack")
    assert (told.args["channel"], told.args["text"]) == ("CGENERAL", posted)

    joined = s.t("fr", "pooling.answered.in")
    assert await click(s, f"pooling:join:{pid}", "UALEX") == joined
    assert await click(s, f"pooling:join:{pid}", "UBEA") == joined
    assert await click(s, f"pooling:join:{pid}", "UCHRIS") == joined
    shown = visible_text(card(s))
    assert s.t("fr", "pooling.card.best_price") in shown and "10\xa0€" in shown
    assert await click(s, f"pooling:join:{pid}", "UDAN") == s.t("fr", "pooling.answered.waitlist", position=1)

    assert await click(s, f"pooling:leave:{pid}", "UBEA") == s.t("fr", "pooling.answered.left")
    promoted = s.t("fr", "pooling.dm.promoted_title", title="Licences Figma")
    assert sum(promoted in text for text in dms(s, "UDAN")) == 1
    assert "alex, chris, dan" in visible_text(card(s))
    assert await click(s, f"pooling:cancel:{pid}", "UALEX") == s.t("fr", "pooling.errors.not_organizer")

    s.services.clock.set(DEADLINE)
    await s.services.scheduler.run_due()
    await s.services.scheduler.run_due()
    happening = s.t("fr", "pooling.dm.happening_title", title="Licences Figma")
    for user in ("UALEX", "UCHRIS", "UDAN"):
        assert sum(happening in text for text in dms(s, user)) == 1, user
    assert not any(happening in text for text in dms(s, "UBEA"))
    summary = s.t("fr", "pooling.dm.summary_title", title="Licences Figma")
    assert sum(summary in text for text in dms(s, s.member_fr)) == 1
    assert s.t("fr", "pooling.card.happening_title", title="Licences Figma") in visible_text(card(s))
    assert "pooling:join" not in json.dumps(card(s))


async def test_bad_input_comes_back_inline_and_saves_nothing(s: SlackHarness) -> None:
    await use_channel(s)
    cases = {
        "tiers": ({"tiers": "1-2: 10; 3+: 12"}, "pooling.problems.tiers_not_lower", {}),
        "link": ({"link": "javascript:alert(1)"}, "pooling.problems.link_scheme", {}),
        "deadline": ({"deadline": "2026-11-20 18:00"}, "pooling.problems.deadline_past", {}),
        "maximum": ({"minimum": "4", "maximum": "3"}, "pooling.problems.minimum_above_maximum",
                    {"minimum": 4}),
        "minimum": ({"minimum": "deux"}, "pooling.problems.minimum", {"max": 1000}),
    }
    for block, (texts, key, params) in cases.items():
        answer = await submit(s, s.member_fr, **texts)
        body = answer.json()
        assert body["response_action"] == "errors", block
        assert body["errors"][block] == s.t("fr", key, **params), block
    assert await pools(s) == []
    assert channel_messages(s, POOLS) == []


async def test_the_minimum_not_reached_and_another_community_s_pool(s: SlackHarness) -> None:
    await use_channel(s)
    await submit(s, s.member_fr, minimum="3", what="Venez <!channel> <@UALEX> @here")
    [pool] = await pools(s)
    assert "<!channel>" not in json.dumps(card(s)) and "<@UALEX>" not in json.dumps(card(s))
    await click(s, f"pooling:join:{pool.id}", "UALEX")
    assert await click(s, f"pooling:close:{pool.id}", s.member_fr) == s.t(
        "fr", "pooling.errors.minimum_not_reached", minimum=3)

    stranger = await make_caller(s.services, "UOTHER", platform="slack", guild="TOTHER",
                                 community_name="other", name="other", locale="fr-FR")
    async with s.services.db.transaction() as session:
        session.add(FeatureSetting(community_id=stranger.community_id, key=CHANNEL.key, value="COTHER"))
    theirs = (await run(s.services, stranger, create_pool, PoolForm(**TEXTS))).pool_id
    not_found = s.t("fr", "pooling.errors.not_found")
    for verb in ("join", "leave", "close", "cancel"):
        assert await click(s, f"pooling:{verb}:{theirs}", s.member_fr) == not_found, verb

    s.services.clock.set(DEADLINE)
    await s.services.scheduler.run_due()
    failed = s.t("fr", "pooling.dm.failed_title", title="Licences Figma")
    assert sum(failed in text for text in dms(s, "UALEX")) == 1
    assert sum(failed in text for text in dms(s, s.member_fr)) == 1
    assert s.t("fr", "pooling.card.failed_title", title="Licences Figma") in visible_text(card(s))


async def test_a_pool_card_edit_lost_to_an_outage_is_edited_later(s: SlackHarness) -> None:
    """Slack fails (500 after the client's two retries) on the card's edit after a Join.

    Alex is told "Je participe": the card must say so once Slack is back (the pool's card job edits it
    again), not count nobody until the pool's next change.
    """
    await use_channel(s)
    await submit(s, s.member_fr)
    [pool] = await pools(s)
    s.fake.fail_next("chat.update", *[server_error(500)] * 3)
    assert await click(s, f"pooling:join:{pool.id}", "UALEX") == s.t("fr", "pooling.answered.in")
    assert "alex" not in visible_text(card(s))

    for _ in range(3):
        s.services.clock.advance(timedelta(minutes=10))  # type: ignore[attr-defined]
        await s.services.scheduler.run_due()

    assert "alex" in visible_text(card(s))


async def test_the_same_form_submitted_twice_at_once_creates_one_pool(s: SlackHarness) -> None:
    """A double click on Submit (or Slack sending the submission again): one modal, its view id twice;
    before, two pools and two cards. The second is told the form was taken once."""
    import asyncio

    await use_channel(s)
    form = await open_form(s, s.member_fr)
    done = s.completions.count
    answers = await asyncio.gather(*(
        s.sender.view_submission("pooling:form", state(), user_id=s.member_fr,
                                 private_metadata=form["private_metadata"], view_id="VPOOLFORM1")
        for _ in range(2)))
    await s.completions.wait(done + 2)
    assert [a.status for a in answers] == [200, 200]
    assert len(await pools(s)) == 1
    assert len(channel_messages(s, POOLS)) == 1  # one card
    told = [c.args["text"] for c in s.fake.calls if c.method.startswith("chat.post")
            and c.args.get("channel") in ("CGENERAL", s.member_fr)]
    assert sorted(told) == sorted([s.t("fr", "pooling.created.posted_slack"),
                                   s.t("fr", "errors.already_submitted")])
