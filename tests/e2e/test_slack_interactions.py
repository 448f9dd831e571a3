"""Buttons, forms and errors through the real Bolt app: what the user sees in each case."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.slack_app import router
from bot.slack_app.request import SlackRequest
from cogs.afterworks import FEATURE as AFTERWORKS
from cogs.afterworks import _slack as afterworks_slack
from cogs.afterworks.models import Afterwork
from tests.e2e import slack_harness
from tests.e2e.slack_harness import SlackHarness
from tests.e2e.test_afterworks_slack import open_form, state
from tests.fakes.slack_api import HttpFailure, SlackSender


async def test_unexpected_error_gives_an_apology_with_an_error_id(slack: SlackHarness,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.slack_app"):
        answer, url = await slack.sender.command("boum", user_id=slack.member_fr)
        assert answer.status == 200
        assert answer.text == ""  # acknowledged at once; the apology follows
        post = await slack.fake.wait_for_post(url)
    assert post.body["response_type"] == "ephemeral"
    found = re.search(r"erreur ([0-9a-f]{8})", post.text)
    assert found, post.text
    assert post.text.startswith("Désolé, une erreur est survenue de notre côté")
    logged = [r for r in caplog.records if found[1] in r.getMessage()]
    assert len(logged) == 1
    assert logged[0].exc_info is not None
    assert "kaboom" in str(logged[0].exc_info[1])
    assert "/collectif boum" in logged[0].getMessage()
    assert "UCAMILLE" in logged[0].getMessage()


async def test_a_user_error_is_a_localized_ephemeral_message(slack: SlackHarness) -> None:
    _, url = await slack.sender.command("missing", user_id=slack.member_en)
    post = await slack.fake.wait_for_post(url)
    assert post.text == "Not found in this community."
    assert post.body["response_type"] == "ephemeral"
    assert post.body["replace_original"] is False


async def test_a_button_opens_its_form_with_the_id_it_carries(slack: SlackHarness) -> None:
    answer, _ = await slack.sender.action("e2e:open:42", user_id=slack.member_fr)
    assert answer.status == 200
    call = await slack.fake.wait_for_call("views.open")
    assert call.args["trigger_id"].endswith(".trigger")
    assert call.args["view"]["callback_id"] == "e2e:form"
    assert call.args["view"]["private_metadata"] == "42"


async def test_an_unknown_or_link_button_is_acknowledged(slack: SlackHarness) -> None:
    answer, _ = await slack.sender.action("help:site:1", user_id=slack.member_fr)
    assert answer.status == 200
    await slack.completions.wait(1)
    assert slack.fake.posted == []


async def test_a_form_with_a_wrong_field_shows_the_error_on_that_field(slack: SlackHarness) -> None:
    values = {"title_block": {"title": {"type": "plain_text_input", "value": "  "}}}
    answer = await slack.sender.view_submission("e2e:form", values, user_id=slack.member_fr)
    assert answer.status == 200
    assert answer.json() == {"response_action": "errors",
                             "errors": {"title_block": "Le titre est obligatoire."}}
    assert slack.fake.calls_to("chat.postMessage") == []

    values["title_block"]["title"]["value"] = "Afterwork <!channel>"
    answer = await slack.sender.view_submission("e2e:form", values, user_id=slack.member_en)
    assert answer.status == 200
    assert answer.text == ""
    call = await slack.fake.wait_for_call("chat.postMessage")
    assert call.args["text"] == "Afterwork <!channel>"  # the test feature posts raw; cards escape


async def test_an_unexpected_error_in_a_form_replaces_it_with_the_apology(slack: SlackHarness) -> None:
    slack.fake.errors["chat.postMessage"] = "fatal_error"
    values = {"title_block": {"title": {"type": "plain_text_input", "value": "ok"}}}
    answer = await slack.sender.view_submission("e2e:form", values, user_id=slack.member_en)
    body = answer.json()
    assert body["response_action"] == "update"
    assert body["view"]["title"]["text"] == "Oops"
    assert re.search(r"error [0-9a-f]{8}", body["view"]["blocks"][0]["text"]["text"])


async def test_an_error_outside_the_router_reaches_the_central_handler(slack: SlackHarness) -> None:
    """A listener registered on the Bolt app directly, failing before its ack: answered, apologized."""
    app = slack.runtime.app
    assert app is not None

    async def fails(ack: object) -> None:
        raise RuntimeError("before ack")

    app.command("/other")(fails)
    sender = SlackSender(slack.sender.url, slack.fake, slack.sender.session, command="/other")
    answer, url = await sender.command("", user_id=slack.member_en)
    assert answer.status == 200  # not a 500: Slack would show its own error to the user
    post = await slack.fake.wait_for_post(url)
    assert re.search(r"^Sorry, something went wrong on our side \(error [0-9a-f]{8}\)", post.text)


async def test_a_slow_form_is_closed_before_slack_gives_up_and_its_work_goes_on(slack: SlackHarness) -> None:
    """A save stuck behind a write lock for longer than Slack waits (3 s): the form closes within
    the budget, the work still happens, and a problem found late is told in a message."""
    values = {"title_block": {"title": {"type": "plain_text_input", "value": "slow afterwork"}}}
    began = time.perf_counter()
    answer = await slack.sender.view_submission("e2e:form", values, user_id=slack.member_fr)
    assert answer.status == 200 and answer.text == ""  # closed
    assert time.perf_counter() - began < 2.8
    call = await slack.fake.wait_for_call("chat.postMessage")
    assert call.args["text"] == "slow afterwork"  # the work finished after the answer

    values["title_block"]["title"]["value"] = "slow but empty"
    answer = await slack.sender.view_submission("e2e:form", values, user_id=slack.member_fr)
    assert answer.status == 200 and answer.text == ""
    told = await slack.fake.wait_for_call(  # a DM: a form has no channel to answer in
        "chat.postMessage", lambda c: "Le titre est obligatoire." in str(c.args), within=5)
    assert told.args["channel"] == slack.member_fr


# -- a form whose checks outlast the ack budget, then answer in the form ------------------------------


@pytest.fixture
def slow_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The form is closed after 0.1 s (for VIEW_ACK_BUDGET's 2 s), and checks take 0.3 s (for 3 s)."""
    monkeypatch.setattr(router, "VIEW_ACK_BUDGET", 0.1)
    real_run = afterworks_slack.run

    async def slow_run(*args: Any, **kwargs: Any) -> Any:  # a read-only check on a busy database
        await asyncio.sleep(0.3)
        return await real_run(*args, **kwargs)

    monkeypatch.setattr(afterworks_slack, "run", slow_run)


async def afterwork_count(slack: SlackHarness) -> int:
    async with slack.services.db.transaction(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(Afterwork)) or 0)


async def submit_afterwork(slack: SlackHarness, user: str) -> Any:
    await AFTERWORKS.on_start(slack.services)
    form = await open_form(slack, user)
    await slack.completions.wait(1)
    return await slack.sender.view_submission("afterworks:form", state(), user_id=user,
                                              private_metadata=form["private_metadata"])


async def test_a_confirmation_returned_after_the_form_closed_opens_as_a_new_form(
    slow_checks: None, slack: SlackHarness,
) -> None:
    # Afterworks' form answers with `response_action: update` (the summary to confirm): too late for
    # the form's own answer, it is opened with the submission's trigger_id (still valid for 3 s).
    opened_before = len(slack.fake.calls_to("views.open"))
    answer = await submit_afterwork(slack, slack.member_fr)
    assert answer.status == 200 and answer.text == ""  # closed before the checks ended
    await slack.completions.wait(2)
    opened = slack.fake.calls_to("views.open")[opened_before + 1:]
    assert [c.args["view"]["callback_id"] for c in opened] == ["afterworks:confirm_view"]
    assert opened[0].error is None and opened[0].args["trigger_id"]
    assert await afterwork_count(slack) == 0  # only checked: nothing saved before the confirmation

    confirm = opened[0].args["view"]
    posted = await slack.sender.view_submission("afterworks:confirm_view", {}, user_id=slack.member_fr,
                                                private_metadata=confirm["private_metadata"])
    assert posted.status == 200
    await slack.completions.wait(3)
    assert await afterwork_count(slack) == 1


async def test_a_confirmation_that_cannot_be_opened_any_more_is_told_and_nothing_saved(
    slow_checks: None, slack: SlackHarness,
) -> None:
    # The checks outlasted the trigger_id too: the member is told, in their language, to start again.
    expired = HttpFailure(200, json.dumps({"ok": False, "error": "expired_trigger_id"}))
    await AFTERWORKS.on_start(slack.services)
    form = await open_form(slack, slack.member_en)
    await slack.completions.wait(1)
    slack.fake.fail_next("views.open", expired)
    answer = await slack.sender.view_submission("afterworks:form", state(), user_id=slack.member_en,
                                                private_metadata=form["private_metadata"])
    assert answer.status == 200 and answer.text == ""
    await slack.completions.wait(2)
    told = [c for c in slack.fake.calls_to("chat.postMessage") if c.args.get("channel") == slack.member_en]
    assert [c.args["text"] for c in told] == [slack.t("en", "slack.form_closed")]
    assert await afterwork_count(slack) == 0


@pytest.fixture
def late_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    """The e2e form answers `response_action: errors` itself, after the (shrunk) budget."""
    monkeypatch.setattr(router, "VIEW_ACK_BUDGET", 0.1)
    submit_form = slack_harness.submit_form

    async def late(request: SlackRequest) -> dict[str, Any] | None:
        title = request.body["view"]["state"]["values"]["title_block"]["title"]["value"]
        if title != "late":
            return await submit_form(request)
        await asyncio.sleep(0.3)
        return {"response_action": "errors", "errors": {"title_block": "Le titre <b> est pris."}}

    monkeypatch.setattr(slack_harness, "submit_form", late)


@pytest.fixture
def late_slack(late_problems: None, slack: SlackHarness) -> SlackHarness:
    return slack  # `late_problems` comes first: the app registers the late handler


async def test_problems_returned_after_the_form_closed_are_told_in_a_message(
    late_slack: SlackHarness,
) -> None:
    slack = late_slack
    values = {"title_block": {"title": {"type": "plain_text_input", "value": "late"}}}
    answer = await slack.sender.view_submission("e2e:form", values, user_id=slack.member_fr)
    assert answer.status == 200 and answer.text == ""
    await slack.completions.wait(1)
    told = await slack.fake.wait_for_call("chat.postMessage",
                                          lambda c: c.args.get("channel") == slack.member_fr)
    expected = slack.t("fr", "slack.form_closed_problems", problems="• Le titre <b> est pris.")
    assert told.args["text"] == expected.replace("<", "&lt;").replace(">", "&gt;")  # shown as typed
    assert [c for c in slack.fake.calls_to("chat.postMessage") if c.args.get("channel") == "CGENERAL"] == []
