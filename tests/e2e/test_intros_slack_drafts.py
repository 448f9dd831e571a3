"""The Slack intro form refused once closed keeps what the member typed for the next `/collectif intro`."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import delete

from bot.slack_app import router
from cogs.intros import _slack as intros_slack
from storage.models import Trade
from tests.e2e.slack_harness import SlackHarness
from tests.e2e.test_intros_slack import configure, open_form, profiles, state, trade_ids
from tests.fakes.slack_api import visible_text

TYPED = {
    "skills": "Figma, illustration",
    "city": "Angers",
    "rate": "500 €/j",
    "links": "https://camille.example/portfolio",
    "bio": "Graphiste depuis dix ans, j’aime les identités visuelles.",
}


def prefilled(view: dict[str, Any]) -> dict[str, str]:
    """The texts a form opens with, by block."""
    return {b["block_id"]: b["element"].get("initial_value", "") for b in view["blocks"]
            if b["block_id"] in TYPED}


async def told_about(slack: SlackHarness, text: str) -> Any:
    """The first note (ephemeral or DM) saying `text`, waited for up to 5 s."""
    for _ in range(100):
        for method in ("chat.postEphemeral", "chat.postMessage"):
            found = [c for c in slack.fake.calls_to(method) if text in visible_text(c.args)]
            if found:
                return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"nobody was told {text!r}")


@pytest.fixture
def trade_removed_meanwhile(monkeypatch: pytest.MonkeyPatch) -> None:
    """The trade chosen is removed by a moderator between the form's check and its save."""
    real = intros_slack.submit_intro

    async def removing(ctx: Any, form: Any, **kwargs: Any) -> Any:
        await ctx.session.execute(delete(Trade).where(Trade.community_id == ctx.community_id,
                                                      Trade.name == "Design graphique"))
        return await real(ctx, form, **kwargs)

    monkeypatch.setattr(intros_slack, "submit_intro", removing)


async def test_a_save_refused_after_the_form_closed_keeps_the_typed_text_for_the_next_form(
    slack: SlackHarness, trade_removed_meanwhile: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The form is closed before the save: its refusal came in a message, and the member had to type
    their skills, rate, links and bio all over again."""
    view = await open_form(slack, slack.member_fr)
    await configure(slack)
    trades = await trade_ids(slack, "Développement", "Design graphique")
    answer = await slack.sender.view_submission(
        "intros:form", state(trades, **TYPED), user_id=slack.member_fr,
        private_metadata=view["private_metadata"],
    )
    assert answer.status == 200 and answer.text == ""  # closed: the refusal comes in a message
    told = await slack.fake.wait_for_call("chat.postEphemeral")
    assert slack.t("fr", "intros.problems.trades_unknown") in told.args["text"]
    assert await profiles(slack) == []

    monkeypatch.undo()
    again = await open_form(slack, slack.member_fr)
    assert prefilled(again) == TYPED
    [chosen] = [b["element"] for b in again["blocks"] if b["block_id"] == "trades"]
    assert [o["value"] for o in chosen["initial_options"]] == trades
    assert slack.t("fr", "intros.form.kept", minutes=15) in told.args["text"]

    await slack.sender.view_submission(
        "intros:form", state(trades, **{**TYPED, "city": "Rennes"}), user_id=slack.member_fr,
        private_metadata=again["private_metadata"],
    )
    saved = slack.t("fr", "intros.saved.created")
    await slack.fake.wait_for_call("chat.postEphemeral", lambda c: saved in c.args["text"])
    [profile] = await profiles(slack)
    assert (profile.city, profile.bio) == ("Rennes", TYPED["bio"])

    # Saved: the draft is gone, the next form shows the profile.
    last = await open_form(slack, slack.member_fr)
    assert prefilled(last)["city"] == "Rennes"


@pytest.fixture
def slow_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """The form is closed after 0.1 s (for VIEW_ACK_BUDGET's 2 s); the check takes 0.3 s."""
    monkeypatch.setattr(router, "VIEW_ACK_BUDGET", 0.1)
    real = intros_slack.check_intro

    async def slow(*args: Any, **kwargs: Any) -> Any:  # a read-only check on a busy database
        await asyncio.sleep(0.3)
        return await real(*args, **kwargs)

    monkeypatch.setattr(intros_slack, "check_intro", slow)


async def test_problems_found_after_the_form_closed_keep_the_typed_text(
    slack: SlackHarness, slow_check: None
) -> None:
    view = await open_form(slack, slack.member_en)
    trades = await trade_ids(slack, "Développement")
    typed = {**TYPED, "rate": "600-400"}
    answer = await slack.sender.view_submission(
        "intros:form", state(trades, **typed), user_id=slack.member_en,
        private_metadata=view["private_metadata"],
    )
    assert answer.status == 200 and answer.text == ""
    problem = slack.t("en", "intros.problems.rate_order")
    told = await told_about(slack, problem)
    assert await profiles(slack) == []

    again = await open_form(slack, slack.member_en)
    assert prefilled(again) == typed
    assert slack.t("en", "intros.form.kept", minutes=15) in visible_text(told.args)


async def test_problems_shown_in_the_open_form_keep_no_draft(slack: SlackHarness) -> None:
    """The form stayed open with its errors: cancelled, the next one starts from the profile again."""
    view = await open_form(slack, slack.member_fr)
    trades = await trade_ids(slack, "Développement")
    answer = await slack.sender.view_submission(
        "intros:form", state(trades, **{**TYPED, "rate": "600-400"}), user_id=slack.member_fr,
        private_metadata=view["private_metadata"],
    )
    assert answer.json()["response_action"] == "errors"
    again = await open_form(slack, slack.member_fr)
    assert prefilled(again) == dict.fromkeys(TYPED, "")


async def test_deleting_ones_data_forgets_the_draft(slack: SlackHarness, trade_removed_meanwhile: None,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """/collectif confidentialite supprimer: the unsent bio and links go with the rest (on SQLite the
    member who comes back even gets the same id: the old draft would fill their first form)."""
    view = await open_form(slack, slack.member_fr)
    await configure(slack)
    trades = await trade_ids(slack, "Design graphique")
    await slack.sender.view_submission(
        "intros:form", state(trades, **TYPED), user_id=slack.member_fr,
        private_metadata=view["private_metadata"],
    )
    await slack.fake.wait_for_call("chat.postEphemeral")
    monkeypatch.undo()

    _, url = await slack.sender.command("confidentialite supprimer", user_id=slack.member_fr)
    asked = await slack.fake.wait_for_post(url)
    [yes] = [e["action_id"] for b in asked.body["blocks"] if b["type"] == "actions" for e in b["elements"]
             if e["action_id"].startswith("privacy:confirm:")]
    done_before = slack.completions.count
    await slack.sender.action(yes, user_id=slack.member_fr)
    await slack.completions.wait(done_before + 1)

    again = await open_form(slack, slack.member_fr)
    assert prefilled(again) == dict.fromkeys(TYPED, "")
