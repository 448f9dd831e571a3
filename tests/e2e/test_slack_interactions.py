"""Buttons, forms and errors through the real Bolt app: what the user sees in each case."""

from __future__ import annotations

import logging
import re
import time

import pytest

from tests.e2e.slack_harness import SlackHarness
from tests.fakes.slack_api import SlackSender


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
