"""`/collectif feedback`, `/collectif kudos [@member | top]`, the forms and the card buttons on Slack.

Forms are checked read-only first (InvalidInput comes back under its field: block ids are the
validation's field names), then acknowledged, then saved and posted. The request card's thread is
the message's reply thread.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from bot.rendering.slack import plain
from bot.slack_app.forms import VALUE, input_block, options, text_input
from bot.slack_app.request import SlackRequest
from bot.slack_app.router import SlackRouter
from bot.usecase import run
from bot.words import match_word
from cogs.feedback import _ids
from cogs.feedback._feedback import (
    answer_form,
    ask,
    check_answer,
    check_request,
    close_request,
    kudos_of,
    kudos_top,
    mark_helpful,
    submit_answer,
    where_options,
    who_wrote,
)
from cogs.feedback._kinds import KINDS, RATING_MAX, RATING_MIN, checklist
from cogs.feedback._outcome import asked_text, where_label
from cogs.feedback._validation import (
    MAX_ANSWER,
    MAX_LINKS_TEXT,
    MAX_QUESTION,
    MAX_TITLE,
    AnswerForm,
    RequestForm,
)

log = logging.getLogger(__name__)
CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,20}")
# A mention, or a bare user id as Slack writes them (U or W and at least 8 more: "UFO" is a word).
MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,20})(?:\|[^>]{0,100})?>$|^([UW][A-Z0-9]{8,20})$")
TOP_WORDS = {"top": ("classement", "leaderboard")}








def request_view(request: SlackRequest, where: list[tuple[str, str]]) -> dict[str, Any]:
    t = request.t
    kinds = options([(k, t(f"feedback.kinds.{k}")) for k in KINDS])
    places = options(where)
    blocks = [
        input_block("title", t("feedback.form.title_label"), text_input(MAX_TITLE), optional=False),
        input_block(
            "links",
            t("feedback.form.links_label"),
            text_input(MAX_LINKS_TEXT, multiline=True, placeholder=t("feedback.form.links_placeholder")),
            optional=False,
        ),
        input_block(
            "kind",
            t("feedback.form.kind_label"),
            {"type": "static_select", "options": kinds},
            optional=False,
        ),
        input_block(
            "question", t("feedback.form.question_label"), text_input(MAX_QUESTION, multiline=True),
            optional=True,
        ),
        input_block(
            "where",
            t("feedback.form.where_label"),
            {"type": "static_select", "options": places, "initial_option": places[0]},
            optional=False,
        ),
        input_block("due", t("feedback.form.due_label"), {"type": "datepicker"}, optional=True),
        input_block(
            "anonymous",
            t("feedback.form.anonymous_label"),
            {"type": "checkboxes", "options": options([("yes", t("feedback.form.anonymous_option"))])},
            optional=True,
        ),
    ]
    return {
        "type": "modal",
        "callback_id": "feedback:ask",
        "title": plain(t("feedback.form.title"), 24),
        "submit": plain(t("feedback.form.submit"), 24),
        "close": plain(t("feedback.form.cancel"), 24),
        "private_metadata": json.dumps({"channel": request.channel_id}),
        "blocks": blocks,
    }


def _element(values: dict[str, Any], block: str) -> dict[str, Any]:
    return dict((values.get(block) or {}).get(VALUE) or {})


def request_form(values: dict[str, Any]) -> RequestForm:
    def text(block: str) -> str:
        return str(_element(values, block).get("value") or "")

    def one(block: str) -> str:
        return str((_element(values, block).get("selected_option") or {}).get("value") or "")

    return RequestForm(
        title=text("title"),
        links=text("links"),
        kind=one("kind"),
        question=text("question"),
        where=one("where"),
        due=str(_element(values, "due").get("selected_date") or ""),
        anonymous=bool(_element(values, "anonymous").get("selected_options")),
    )


def answer_view(
    request: SlackRequest, request_id: int, anonymous: bool, kind: str, title: str
) -> dict[str, Any]:
    t = request.t
    stars = options([(str(n), "★" * n) for n in range(RATING_MIN, RATING_MAX + 1)])
    items = checklist(kind)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "plain_text", "text": title[:150]}},
        input_block(
            "text",
            t("feedback.form.answer_label"),
            text_input(MAX_ANSWER, multiline=True, placeholder=t("feedback.form.answer_placeholder")),
            optional=False,
        ),
        *(
            input_block(
                f"rating_{item}",
                t("feedback.form.rating_label", item=t(f"feedback.items.{item}")),
                {"type": "static_select", "options": stars},
                optional=True,
            )
            for item in items
        ),
    ]
    return {
        "type": "modal",
        "callback_id": f"feedback:reply:{request_id}" + (":anon" if anonymous else ""),
        "title": plain(t("feedback.form.answer_title"), 24),
        "submit": plain(t("feedback.form.answer_submit"), 24),
        "close": plain(t("feedback.form.cancel"), 24),
        "blocks": blocks,
    }


def answer_from(values: dict[str, Any]) -> AnswerForm:
    ratings = {
        block.removeprefix("rating_"): str(
            (_element(values, block).get("selected_option") or {}).get("value") or ""
        )
        for block in values
        if block.startswith("rating_")
    }
    return AnswerForm(text=str(_element(values, "text").get("value") or ""), ratings=ratings)


async def open_request(request: SlackRequest) -> None:
    caller = await request.ensure_caller()
    options = await run(request.services, caller, where_options, write=False)
    where = [
        (value, where_label(request.services.catalog, caller.locale, name)) for value, name, _ in options
    ]
    if not where:
        await request.reply(request.t("feedback.errors.no_destination"))
        return
    await request.open_modal(request_view(request, where))


async def request_submitted(request: SlackRequest) -> None:
    services = request.services
    caller = await request.ensure_caller()
    view = request.body["view"]
    form = request_form(view["state"]["values"])
    await run(services, caller, check_request, form, write=False)
    await request.ack()
    asked = await run(services, caller, ask, form, submission=view.get("id"))
    await request.tell(
        asked_text(services.catalog, caller.locale, asked, mention_channel=False),
        _channel(view.get("private_metadata")),
    )


def _channel(raw: str | None) -> str | None:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return None
    channel = data.get("channel") if isinstance(data, dict) else None
    return channel if isinstance(channel, str) and CHANNEL_ID.fullmatch(channel) else None


async def answer_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    caller = await request.ensure_caller()
    anonymous = bool(request.match["anon"])
    view = await run(request.services, caller, answer_form, int(request.match["id"]), anonymous, write=False)
    await request.open_modal(answer_view(request, view.id, anonymous, view.kind, view.title))


async def answer_submitted(request: SlackRequest) -> None:
    assert request.match is not None
    services = request.services
    caller = await request.ensure_caller()
    request_id, anonymous = int(request.match["id"]), bool(request.match["anon"])
    form = answer_from(request.body["view"]["state"]["values"])
    await run(services, caller, check_answer, request_id, anonymous, form, write=False)
    await request.ack()
    answered = await run(services, caller, submit_answer, request_id, anonymous, form,
                         submission=request.body["view"].get("id"))
    if not answered.later.value:
        await request.tell(request.t("feedback.answered.sent_not_posted"), None)


async def helpful_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    caller = await request.ensure_caller()
    name = await run(request.services, caller, mark_helpful, int(request.match["id"]))
    await request.reply(request.t("feedback.helpful.done", name=name))


async def close_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    caller = await request.ensure_caller()
    title = await run(request.services, caller, close_request, int(request.match["id"]))
    await request.reply(request.t("feedback.closed.done", title=title))


async def who_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    caller = await request.ensure_caller()
    await request.reply(await run(request.services, caller, who_wrote, int(request.match["id"]), write=False))


async def show_kudos(request: SlackRequest) -> None:
    """`/collectif kudos` (one's own), `kudos @member`, `kudos top`."""
    caller = await request.ensure_caller()
    word = request.args.strip().split()[0] if request.args.strip() else ""
    if word and match_word(word, TOP_WORDS):
        await request.reply(await run(request.services, caller, kudos_top, write=False))
        return
    who = None
    if word:
        found = MENTION.match(word[:150])
        if found is None:  # neither a member nor a word known here: not taken for a member without kudos
            await request.reply(request.t("feedback.slack.kudos_usage"))
            return
        who = found[1] or found[2]
    await request.reply(await run(request.services, caller, kudos_of, who, write=False))


def register(router: SlackRouter) -> None:
    router.subcommand("feedback", open_request)
    router.subcommand("kudos", show_kudos)
    router.view(_ids.ASK_FORM, request_submitted)
    router.view(_ids.REPLY, answer_submitted)
    router.action(_ids.ANSWER, answer_clicked)
    router.action(_ids.HELPFUL, helpful_clicked)
    router.action(_ids.CLOSE, close_clicked)
    router.action(_ids.WHO, who_clicked)
