"""Afterworks on Slack: `/collectif afterwork` (form, then what it understood), `/collectif afterworks`.

The card's buttons are routed by action id; block ids are the validation's field names, so problems
come back inline (`response_action: errors`).
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from bot.cards import Attachment
from bot.errors import InvalidInput
from bot.rendering.slack import SECTION_MAX, escaped_within, mrkdwn, plain
from bot.slack_app.forms import METADATA_MAX, VALUE, input_block, parse_metadata, select, text_input
from bot.slack_app.request import SlackRequest, public_channel
from bot.slack_app.router import SlackRouter
from bot.text import refuse_control_characters
from bot.usecase import run
from bot.words import catalog_words, match_word
from cogs.afterworks import _ids
from cogs.afterworks._cards import duration_text, form_of, problem_lines
from cogs.afterworks._form import CUTOFFS, DURATIONS, MAX_DESCRIPTION, NONE, AfterworkForm
from cogs.afterworks._polls import SLOTS, PollForm, check_poll, check_vote, create_poll, pick, vote
from cogs.afterworks._publish import (
    answer_afterwork,
    calendar_of,
    cancel_afterwork,
    check_answer,
    check_form,
    create_afterwork,
    edit_afterwork,
    edit_form,
    end_series,
    set_reminder_dms,
    upcoming,
)
from cogs.afterworks.models import KINDS, RULES

CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,20}")
SWITCH = {"on": ("oui", "yes", "actifs", "activer"), "off": ("non", "no", "desactiver", "aucun")}
TEXT_FIELDS = ("title", "when", "where", "city", "capacity", "description")
VERBS = ("create", "poll", "dms")  # `/collectif afterwork <verb>`, named by afterworks.commands.<verb>








def form_view(
    request: SlackRequest,
    form: AfterworkForm,
    *,
    callback_id: str,
    metadata: dict[str, Any],
    title_key: str = "afterworks.form.title",
    creating: bool = True,
) -> dict[str, Any]:
    t = request.t
    series = [  # creation only: an edit changes one date, not the series
        input_block(
            "recurrence",
            t("afterworks.fields.recurrence"),
            select("static_select", [(r, t(f"afterworks.repeats.{r}")) for r in (NONE, *RULES)],
                   [form.recurrence or NONE]),
            optional=True,
        ),
        input_block(
            "until",
            t("afterworks.fields.until"),
            text_input(40, placeholder=t("afterworks.options.until_description"), value=form.until),
            optional=True,
        ),
    ] if creating else []
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(t(title_key), 24),
        "submit": plain(t("afterworks.form.submit"), 24),
        "close": plain(t("afterworks.form.cancel"), 24),
        "private_metadata": json.dumps(metadata),
        "blocks": [
            input_block(
                "title",
                t("afterworks.fields.title"),
                text_input(100, value=form.title),
                optional=False,
            ),
            input_block(
                "when",
                t("afterworks.fields.when"),
                text_input(40, placeholder=t("afterworks.options.when_description"), value=form.when),
                optional=False,
            ),
            input_block(
                "duration",
                t("afterworks.fields.duration"),
                select("static_select", [(str(m), duration_text(m)) for m in DURATIONS], [form.duration]),
                optional=False,
            ),
            input_block(
                "kind",
                t("afterworks.fields.kind"),
                select("static_select", [(k, t(f"afterworks.kinds.{k}")) for k in KINDS], [form.kind]),
                optional=False,
            ),
            input_block(
                "where",
                t("afterworks.fields.where"),
                text_input(500, placeholder=t("afterworks.form.where_placeholder"), value=form.where),
                optional=False,
            ),
            input_block("city", t("afterworks.fields.city"), text_input(100, value=form.city), optional=True),
            input_block(
                "capacity",
                t("afterworks.fields.capacity"),
                text_input(4, placeholder=t("afterworks.options.capacity_description"), value=form.capacity),
                optional=True,
            ),
            input_block(
                "description",
                t("afterworks.fields.description"),
                text_input(MAX_DESCRIPTION, multiline=True, value=form.description),
                optional=True,
            ),
            input_block(
                "cutoff",
                t("afterworks.fields.cutoff"),
                select(
                    "static_select",
                    [(str(m), t(f"afterworks.cutoffs.{m}")) for m in (0, *CUTOFFS)],
                    [form.cutoff or "0"],
                ),
                optional=True,
            ),
            *series,
        ],
    }


def form_from_state(values: dict[str, Any]) -> AfterworkForm:
    def element(block: str) -> dict[str, Any]:
        return dict((values.get(block) or {}).get(VALUE) or {})

    def text(block: str) -> str:
        return str(element(block).get("value") or "")

    def one(block: str, default: str) -> str:
        return str((element(block).get("selected_option") or {}).get("value") or default)

    return AfterworkForm(
        title=text("title"),
        when=text("when"),
        duration=one("duration", "120"),
        kind=one("kind", "afterwork"),
        where=text("where"),
        city=text("city"),
        capacity=text("capacity"),
        description=text("description"),
        cutoff=one("cutoff", ""),
        recurrence=one("recurrence", NONE),
        until=text("until"),
    )


def read_metadata(raw: str | None) -> dict[str, Any]:
    """The form's private_metadata, trusting nothing: a channel id and the form's texts, bounded."""
    data = parse_metadata(raw)
    channel = data.get("channel")
    form = data.get("form") if isinstance(data.get("form"), dict) else {}
    fields = {f.name for f in dataclasses.fields(AfterworkForm)}
    return {
        "channel": channel if isinstance(channel, str) and CHANNEL_ID.fullmatch(channel) else None,
        "form": {k: v for k, v in form.items() if k in fields and isinstance(v, str)},
    }


async def command(request: SlackRequest) -> None:
    """`/collectif afterwork` opens the form, `afterwork poll` the date poll's, `afterwork dms on|off`.

    The words of either language (`create` too); another word is answered with the usage, not the form.
    """
    caller = await request.ensure_caller()
    words = request.args.split()
    names = catalog_words(request.services.catalog, {v: f"afterworks.commands.{v}.name" for v in VERBS})
    names["dms"] = (*names["dms"], "mp")
    verb = match_word(words[0], names) if words else "create"
    if verb is None:
        await request.reply(request.t("afterworks.slack.usage"))
        return
    if verb == "dms":
        on = match_word(words[1], SWITCH) if len(words) > 1 else None
        if on is None:
            await request.reply(request.t("afterworks.dms.usage"))
            return
        await run(request.services, caller, set_reminder_dms, on == "on")
        await request.reply(request.t(f"afterworks.dms.{on}"))
        return
    if verb == "poll":
        await request.open_modal(poll_view(request, {"channel": request.channel_id}))
        return
    await request.open_modal(
        form_view(request, AfterworkForm(), callback_id=_ids.FORM, metadata={"channel": request.channel_id})
    )


def poll_view(request: SlackRequest, metadata: dict[str, Any]) -> dict[str, Any]:
    """The date poll's form: the afterwork's fields, with up to 5 times instead of one."""
    t = request.t
    slots = [
        input_block(
            name,
            t(f"afterworks.fields.{name}"),
            text_input(40, placeholder=t("afterworks.options.slot_description")),
            optional=name not in ("slot1", "slot2"),
        )
        for name in SLOTS
    ]
    base = form_view(request, AfterworkForm(), callback_id=_ids.POLL_FORM, metadata=metadata,
                     title_key="afterworks.form.poll_title", creating=False)
    blocks = [b for b in base["blocks"] if b["block_id"] not in ("when", "cutoff")]
    base["blocks"] = [blocks[0], *slots, *blocks[1:]]
    return base


async def poll_submitted(request: SlackRequest) -> None:
    """The poll read (problems inline on their slot); saved and posted once the modal closed."""
    services = request.services
    caller = await request.ensure_caller()
    view = request.body["view"]
    values = view["state"]["values"]
    read = form_from_state(values)
    texts = {name: str(((values.get(name) or {}).get(VALUE) or {}).get("value") or "") for name in SLOTS}
    form = PollForm(
        title=read.title, duration=read.duration, kind=read.kind, where=read.where, city=read.city,
        capacity=read.capacity, description=read.description, **texts,
    )
    await run(services, caller, check_poll, form, write=False)
    await request.ack()
    channel = read_metadata(view.get("private_metadata"))["channel"]
    created = await run(services, caller, create_poll, form, origin_channel_id=public_channel(channel),
                        submission=view.get("id"))
    done = request.t("afterworks.poll.posted_slack" if created.posted
                     else "afterworks.poll.retrying" if created.retrying else "afterworks.poll.not_posted")
    await request.tell(f"{created.understood}\n{done}")


async def vote_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    caller = await request.ensure_caller()
    slot_id = int(request.match["id"])
    await run(request.services, caller, check_vote, slot_id, write=False)
    ticked = await run(request.services, caller, vote, slot_id)
    key = "afterworks.poll.ticked" if ticked.can else "afterworks.poll.unticked"
    await request.reply(request.t(key, n=ticked.position))


async def pick_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    caller = await request.ensure_caller()
    slot_id = int(request.match["id"])
    await run(request.services, caller, check_vote, slot_id, write=False)
    picked = await run(request.services, caller, pick, slot_id)
    await request.reply(request.t("afterworks.poll.picked", n=picked.position))


async def list_command(request: SlackRequest) -> None:
    caller = await request.ensure_caller()
    card = await run(request.services, caller, upcoming, request.args.strip()[:100], write=False)
    await request.reply(card)


async def submitted(request: SlackRequest) -> dict[str, Any]:
    """The form read (problems inline); the modal turns into what was understood, to confirm."""
    caller = await request.ensure_caller()
    view = request.body["view"]
    form = form_from_state(view["state"]["values"])
    checked = await run(request.services, caller, check_form, form, write=False)
    metadata = read_metadata(view.get("private_metadata"))
    confirm = {
        "type": "modal",
        "callback_id": _ids.CONFIRM_VIEW,
        "title": plain(request.t("afterworks.form.title"), 24),
        "submit": plain(request.t("afterworks.buttons.confirm"), 24),
        "close": plain(request.t("afterworks.form.cancel"), 24),
        "private_metadata": carried(metadata["channel"], form),
        # The title and place as typed: escaped, so that they cannot ping or link.
        "blocks": [{"type": "section", "text": mrkdwn(escaped_within(checked.understood, SECTION_MAX))}],
    }
    return {"response_action": "update", "view": confirm}


def carried(channel: str | None, form: AfterworkForm) -> str:
    """The form in the confirmation's private_metadata, compact, accents kept as typed.

    Escaped to ASCII, a long French description overflowed Slack's 3,000 characters. Only a description
    full of characters JSON must escape can still overflow: it is refused with the length that fits.
    """
    text = json.dumps({"channel": channel, "form": dataclasses.asdict(form)}, ensure_ascii=False,
                      separators=(",", ":"))
    if len(text) > METADATA_MAX:
        fits = max(0, len(form.description) - (len(text) - METADATA_MAX))
        raise InvalidInput(
            {"description": ("afterworks.problems.too_long", {"max": fits, "length": len(form.description)})}
        )
    return text


async def confirmed(request: SlackRequest) -> None:
    services = request.services
    caller = await request.ensure_caller()
    view = request.body["view"]
    metadata = read_metadata(view.get("private_metadata"))
    refuse_control_characters(metadata["form"])
    form = AfterworkForm(**metadata["form"])
    await request.ack()
    try:
        created = await run(services, caller, create_afterwork, form,
                            origin_channel_id=public_channel(metadata["channel"]), submission=view.get("id"))
    except InvalidInput as error:  # the time passed while the organizer read the summary
        lines = problem_lines(services.catalog, caller.locale, error.problems)
        await request.tell("\n".join([request.t("afterworks.problems.heading"), *lines]))
        return
    key = ("afterworks.created.posted_slack" if created.posted else
           "afterworks.created.retrying" if created.retrying else "afterworks.created.not_posted")
    await request.tell(request.t(key))


async def rsvp_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    services = request.services
    caller = await request.ensure_caller()
    afterwork_id, choice = int(request.match["id"]), request.match["answer"]
    await run(services, caller, check_answer, afterwork_id, write=False)
    answered = await run(services, caller, answer_afterwork, afterwork_id, choice)
    key = f"afterworks.answered.{answered.status}" if answered.changed else "afterworks.answered.unchanged"
    await request.reply(request.t(key, position=answered.position or 0))


async def calendar_clicked(request: SlackRequest) -> None:
    """The .ics goes by DM (the app's Messages tab), where Slack shows it as a file to download."""
    assert request.match is not None
    services = request.services
    caller = await request.ensure_caller()
    file: Attachment = await run(services, caller, calendar_of, int(request.match["id"]), write=False)
    notifier = services.notifiers.get("slack")
    if notifier is not None:
        from bot.cards import Card

        await notifier.dm(
            caller_team(request),
            caller.user_id,
            Card(title=file.filename, text=request.t("afterworks.calendar.here")),
            file,
        )
    await request.reply(request.t("afterworks.calendar.sent"))


def caller_team(request: SlackRequest) -> str:
    from bot.slack_app.callers import team_of

    return team_of(request.body, request.context)


async def edit_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    caller = await request.ensure_caller()
    afterwork = await run(request.services, caller, edit_form, int(request.match["id"]), write=False)
    await request.open_modal(
        form_view(
            request,
            form_of(afterwork, caller.timezone),
            callback_id=f"afterworks:edit_form:{afterwork.id}",
            metadata={},
            title_key="afterworks.form.edit_title",
            creating=False,
        )
    )


async def edit_submitted(request: SlackRequest) -> None:
    assert request.match is not None
    services = request.services
    caller = await request.ensure_caller()
    afterwork_id = int(request.match["id"])
    form = form_from_state(request.body["view"]["state"]["values"])
    await run(services, caller, edit_form, afterwork_id, write=False)
    # Read-only, then the modal closes: Slack gives up on a form after 3 s, and the save may wait on
    # another process's write lock. A refusal found only by the save (seats taken meanwhile) is told.
    await run(services, caller, check_form, form, afterwork_id, write=False)
    await request.ack()
    try:
        await run(services, caller, edit_afterwork, afterwork_id, form)
    except InvalidInput as error:
        await request.tell(services.catalog.problems_text(caller.locale, error.problems, "afterworks"))
        return
    await request.tell(request.t("afterworks.edited.done"))


async def cancel_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    services = request.services
    caller = await request.ensure_caller()
    afterwork_id = int(request.match["id"])
    await run(services, caller, edit_form, afterwork_id, write=False)
    cancelled = await run(services, caller, cancel_afterwork, afterwork_id)
    key = "afterworks.cancelled.occurrence" if cancelled.series_id else "afterworks.cancelled.done"
    await request.reply(request.t(key))


async def end_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    caller = await request.ensure_caller()
    ended = await run(request.services, caller, end_series, int(request.match["id"]))
    await request.reply(request.t(f"afterworks.ended.{'done' if ended.changed else 'already'}"))


def register(router: SlackRouter) -> None:
    router.subcommand("afterwork", command)
    router.subcommand("afterworks", list_command)
    router.view(_ids.FORM, submitted)
    router.view(_ids.CONFIRM_VIEW, confirmed)
    router.view(_ids.EDIT_FORM, edit_submitted)
    router.action(_ids.RSVP, rsvp_clicked)
    router.action(_ids.CALENDAR, calendar_clicked)
    router.action(_ids.EDIT, edit_clicked)
    router.action(_ids.CANCEL, cancel_clicked)
    router.action(_ids.END_SERIES, end_clicked)
    router.view(_ids.POLL_FORM, poll_submitted)
    router.action(_ids.VOTE, vote_clicked)
    router.action(_ids.PICK, pick_clicked)
    router.need_scope("files:write", "files.uploadV2: Add to calendar's .ics file, in the member's DM")
