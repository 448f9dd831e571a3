"""`/collectif mission|missions`, the mission modal, the note form and the buttons of mission cards on Slack.

One modal holds the whole form (block ids = the validation's field names, so InvalidInput comes back
inline through `response_action: errors`). The form is checked read-only, then acknowledged, then saved:
Slack never waits on a write lock.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.errors import InvalidInput, UserError
from bot.posting import SyncResult
from bot.rendering.slack import plain
from bot.slack_app.callers import shown_name
from bot.slack_app.forms import VALUE, input_block, parse_metadata, select, text_input
from bot.slack_app.request import SlackRequest, public_channel
from bot.slack_app.router import SlackRouter
from bot.usecase import run
from cogs.missions import _ids
from cogs.missions._cards import outcome_text, problem_lines
from cogs.missions._form import FormStart, expand_packs
from cogs.missions._publish import (
    ask_close,
    candidates_of,
    check_interest,
    check_mission,
    close_mission,
    confirm_team,
    edit_mission,
    extend_mission,
    find_missions,
    list_missions,
    open_form,
    select_team,
    show_interest,
    submit_mission,
    turn_missions_page,
    withdraw,
)
from cogs.missions._search import parse_list_args
from cogs.missions._suggest import decline_invitation, invite_suggested, suggest_team
from cogs.missions._validation import (
    MAX_BUDGET_TEXT,
    MAX_CITY,
    MAX_CLIENT,
    MAX_DESCRIPTION,
    MAX_DURATION,
    MAX_LINK,
    MAX_NOTE,
    MAX_SKILLS_TEXT,
    MAX_TITLE,
    MAX_TRADES,
    MissionForm,
)

log = logging.getLogger(__name__)
CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,20}")


def _date(value: str) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "datepicker"}
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        element["initial_date"] = value
    return element


def mission_view(start: FormStart, request: SlackRequest, *, metadata: dict[str, Any]) -> dict[str, Any]:
    """The whole mission form as one modal (pre-filled when editing)."""
    t, form, choices = request.t, start.form, start.choices
    blocks: list[dict[str, Any]] = [
        input_block(
            "trades",
            t("missions.form.trades_label"),
            select(
                "multi_static_select",
                choices.trades,
                form.trade_ids,
                max_selected_items=MAX_TRADES,
                placeholder=plain(t("missions.form.trades_placeholder"), 150),
            ),
            optional=True,
        ),
    ]
    if choices.packs:
        blocks.append(
            input_block(
                "pack",
                t("missions.form.pack_placeholder"),
                select("static_select", tuple((pid, name) for pid, name, _ in choices.packs), []),
                optional=True,
            )
        )
    blocks += [
        input_block(
            "title",
            t("missions.form.title_label"),
            text_input(MAX_TITLE, value=form.title),
            optional=False,
        ),
        input_block(
            "description",
            t("missions.form.description_label"),
            text_input(MAX_DESCRIPTION, multiline=True, value=form.description),
            optional=True,
        ),
        input_block(
            "skills",
            t("missions.form.skills_label"),
            text_input(MAX_SKILLS_TEXT, placeholder=t("missions.form.skills_placeholder"), value=form.skills),
            optional=True,
        ),
        input_block(
            "budget",
            t("missions.form.budget_label"),
            text_input(MAX_BUDGET_TEXT, placeholder=t("missions.form.budget_placeholder"), value=form.budget),
            optional=True,
        ),
        input_block("start_date", t("missions.form.start_date_label"), _date(form.start_date), optional=True),
        input_block(
            "duration",
            t("missions.form.duration_label"),
            text_input(
                MAX_DURATION,
                placeholder=t("missions.form.duration_placeholder"),
                value=form.duration,
            ),
            optional=True,
        ),
        input_block(
            "work_mode",
            t("missions.form.work_mode_label"),
            select("static_select", choices.work_modes, [form.work_mode]),
            optional=False,
        ),
        input_block(
            "city",
            t("missions.form.city_label"),
            text_input(MAX_CITY, value=form.city),
            optional=True,
        ),
        input_block(
            "sector",
            t("missions.form.sector_label"),
            select("static_select", choices.sectors, [form.sector_id]),
            optional=True,
        ),
        input_block("answer_by", t("missions.form.answer_by_label"), _date(form.answer_by), optional=True),
        input_block(
            "source",
            t("missions.form.source_label"),
            select("static_select", choices.sources, [form.source]),
            optional=False,
        ),
        {
            "type": "context",
            "elements": [{"type": "plain_text", "text": t("missions.form.platform_warning")[:2000]}],
        },
        input_block("fee", t("missions.form.fee_label"), text_input(4, value=form.fee), optional=True),
        input_block(
            "behalf",
            t("missions.form.behalf_label"),
            {"type": "users_select", **({"initial_user": form.behalf} if form.behalf else {})},
            optional=True,
        ),
        input_block(
            "link",
            t("missions.form.link_label"),
            text_input(MAX_LINK, placeholder=t("missions.form.link_placeholder"), value=form.link),
            optional=True,
        ),
        input_block(
            "client_name",
            t("missions.form.client_name_label"),
            text_input(
                MAX_CLIENT,
                placeholder=t("missions.form.client_name_placeholder"),
                value=form.client_name,
            ),
            optional=True,
        ),
    ]
    if not choices.sectors:
        blocks = [b for b in blocks if b.get("block_id") != "sector"]
    title = "missions.form.edit_title" if start.mission_id else "missions.form.title"
    return {
        "type": "modal",
        "callback_id": "missions:form",
        "title": plain(t(title), 24),
        "submit": plain(t("missions.form.submit"), 24),
        "close": plain(t("missions.form.cancel"), 24),
        "private_metadata": json.dumps({**metadata, "mission": start.mission_id}),
        "blocks": blocks,
    }


def form_from_state(values: dict[str, Any], packs: FormStart | None = None) -> MissionForm:
    def element(block: str) -> dict[str, Any]:
        return dict((values.get(block) or {}).get(VALUE) or {})

    def text(block: str) -> str:
        return str(element(block).get("value") or "")

    def one(block: str, default: str = "") -> str:
        return str((element(block).get("selected_option") or {}).get("value") or default)

    trades = [str(o["value"]) for o in element("trades").get("selected_options") or []]
    pack = one("pack")
    if pack and packs is not None:
        trades = expand_packs([*trades, f"pack:{pack}"], packs.choices)
    return MissionForm(
        trade_ids=trades,
        title=text("title"),
        description=text("description"),
        skills=text("skills"),
        budget=text("budget"),
        link=text("link"),
        start_date=str(element("start_date").get("selected_date") or ""),
        duration=text("duration"),
        work_mode=one("work_mode", "remote"),
        city=text("city"),
        sector_id=one("sector"),
        answer_by=str(element("answer_by").get("selected_date") or ""),
        source=one("source", "own"),
        fee=text("fee"),
        client_name=text("client_name"),
        behalf=str(element("behalf").get("selected_user") or ""),
    )


def read_metadata(raw: str | None) -> dict[str, Any]:
    """The form's private_metadata, trusting nothing (a forged mission id is checked like any other)."""
    data = parse_metadata(raw)
    channel, mission = data.get("channel"), data.get("mission")
    return {
        "channel": channel if isinstance(channel, str) and CHANNEL_ID.fullmatch(channel) else None,
        "mission": mission if isinstance(mission, int) and 0 < mission < 2**31 else None,
    }


async def _open(request: SlackRequest, start: FormStart) -> None:
    if not start.choices.trades:
        raise UserError("missions.form.no_trades")
    await request.open_modal(mission_view(start, request, metadata={"channel": request.channel_id}))


async def open_mission(request: SlackRequest) -> None:
    caller = await request.ensure_caller()
    await _open(request, await run(request.services, caller, open_form, write=False))


async def submitted(request: SlackRequest) -> None:
    services = request.services
    caller = await request.ensure_caller()
    view = request.body["view"]
    metadata = read_metadata(view.get("private_metadata"))
    start = await run(services, caller, open_form, write=False)
    form = form_from_state(view["state"]["values"], start)
    editing = metadata["mission"]
    try:
        checked = await run(services, caller, check_mission, form, editing, write=False)
    except UserError as error:
        if isinstance(error, InvalidInput):
            raise
        # A refusal that is not about one field (weekly limit, repost): shown over the trades.
        raise InvalidInput({"trades": (error.key, error.params)}) from error
    await request.ack()
    if form.behalf and form.behalf != caller.user_id:  # they may never have used Collectif: keep their name
        form.behalf_name = await shown_name(request.client, form.behalf)
    try:
        done = await run(
            services,
            caller,
            submit_mission,
            form,
            origin_channel_id=public_channel(metadata["channel"]),
            mission_id=editing,
            checked=checked,
        )
    except InvalidInput as error:
        await request.tell(
            "\n".join(problem_lines(services.catalog, caller.locale, error.problems)),
            metadata["channel"],
        )
        return
    except UserError as error:
        await request.tell(services.t(caller.locale, error.key, **error.params), metadata["channel"])
        return
    text = outcome_text(
        services.catalog,
        caller.locale,
        done.published,
        created=done.created,
        channel_names=await _channel_names(request, done.published),
        similar=done.similar,
    )
    await request.tell(text, metadata["channel"])


async def _channel_names(request: SlackRequest, result: SyncResult | None) -> dict[str, str]:
    """The names of the channels the author is told about (a note is plain text: an id reads as no link).

    Asked to Slack (conversations.info: the `channels:read` scope, `groups:read` for a private channel);
    one it will not name keeps its id.
    """
    names: dict[str, str] = {}
    for channel in (*result.failed, *result.retrying) if result is not None else ():
        try:
            info = (await request.client.conversations_info(channel=channel))["channel"]
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            log.info("missions: no name for channel %s: %r", channel, error)
            continue
        names[channel] = str(info.get("name") or channel)
    return names


def _id(request: SlackRequest) -> int:
    assert request.match is not None
    return int(request.match["id"])


async def interest_clicked(request: SlackRequest) -> None:
    caller = await request.ensure_caller()
    mission_id = _id(request)
    title = await run(request.services, caller, check_interest, mission_id, write=False)
    t = request.t
    await request.open_modal(
        {
            "type": "modal",
            "callback_id": f"missions:note:{mission_id}",
            "title": plain(t("missions.form.note_title"), 24),
            "submit": plain(t("missions.buttons.interest"), 24),
            "close": plain(t("missions.form.cancel"), 24),
            "private_metadata": json.dumps({"channel": request.channel_id}),
            "blocks": [
                {"type": "section", "text": plain(title, 3000)},
                input_block(
                    "note",
                    t("missions.form.note_label"),
                    text_input(MAX_NOTE, multiline=True, placeholder=t("missions.form.note_placeholder")),
                    optional=True,
                ),
            ],
        }
    )


async def note_submitted(request: SlackRequest) -> None:
    services = request.services
    caller = await request.ensure_caller()
    view = request.body["view"]
    note = str(((view["state"]["values"].get("note") or {}).get(VALUE) or {}).get("value") or "")
    mission_id = _id(request)
    await run(services, caller, check_interest, mission_id, write=False)
    await request.ack()
    channel = read_metadata(view.get("private_metadata"))["channel"]
    try:
        created = await run(services, caller, show_interest, mission_id, note)
    except UserError as error:
        await request.tell(services.t(caller.locale, error.key, **error.params), channel)
        return
    await request.tell(
        request.t("missions.interest.saved" if created else "missions.interest.already"),
        channel,
    )


async def withdraw_clicked(request: SlackRequest) -> None:
    caller = await request.ensure_caller()
    removed = await run(request.services, caller, withdraw, _id(request))
    await request.reply(
        request.t("missions.interest.withdrawn" if removed else "missions.interest.not_candidate")
    )


async def candidates_clicked(request: SlackRequest) -> None:
    caller = await request.ensure_caller()
    page = _ids.page_number(request.match)
    await request.reply(await run(request.services, caller, candidates_of, _id(request), page, write=False))


async def selected(request: SlackRequest) -> None:
    caller = await request.ensure_caller()
    page = await run(request.services, caller, select_team, _id(request), request.action_values(),
                     _ids.page_number(request.match), _ids.shown_range(request.match))
    card = await run(request.services, caller, candidates_of, _id(request), page, write=False)
    await request.reply(card, replace=True)


async def confirm_clicked(request: SlackRequest) -> None:
    caller = await request.ensure_caller()
    await request.reply(await run(request.services, caller, confirm_team, _id(request)))


async def edit_clicked(request: SlackRequest) -> None:
    caller = await request.ensure_caller()
    await _open(request, await run(request.services, caller, edit_mission, _id(request), write=False))


async def close_clicked(request: SlackRequest) -> None:
    caller = await request.ensure_caller()
    await request.reply(await run(request.services, caller, ask_close, _id(request), write=False))


async def close_as_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    caller = await request.ensure_caller()
    await request.reply(
        await run(request.services, caller, close_mission, _id(request), request.match["outcome"])
    )


async def extend_clicked(request: SlackRequest) -> None:
    caller = await request.ensure_caller()
    await request.reply(await run(request.services, caller, extend_mission, _id(request)))


async def suggest_clicked(request: SlackRequest) -> None:
    caller = await request.ensure_caller()
    await request.reply(await run(request.services, caller, suggest_team, _id(request), write=False))


async def invite_clicked(request: SlackRequest) -> None:
    caller = await request.ensure_caller()
    await request.reply(await run(request.services, caller, invite_suggested, _id(request)))


async def decline_clicked(request: SlackRequest) -> None:
    caller = await request.ensure_caller()
    await request.reply(await run(request.services, caller, decline_invitation, _id(request)))


async def list_command(request: SlackRequest) -> None:
    """`/collectif missions [mine|candidate] [trade] [skill:…] [city:…] [sector:…] [mode:…] [rate:…] …`."""
    caller = await request.ensure_caller()
    typed = parse_list_args(request.args)
    await request.reply(await run(request.services, caller, find_missions, typed, write=False))


async def list_clicked(request: SlackRequest) -> None:
    """Previous / Next of cards shown before stored searches (`missions:list:…`)."""
    assert request.match is not None
    caller = await request.ensure_caller()
    match = request.match
    card = await run(
        request.services,
        caller,
        list_missions,
        int(match["page"]),
        match["scope"],
        int(match["trade"]),
        write=False,
    )
    await request.reply(card, replace=True)


async def page_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    caller = await request.ensure_caller()
    card = await run(
        request.services,
        caller,
        turn_missions_page,
        request.match["token"],
        int(request.match["page"]),
        request.match["cursor"],
        write=False,
    )
    await request.reply(card, replace=True)


def register(router: SlackRouter) -> None:
    router.subcommand("mission", open_mission)
    router.subcommand("missions", list_command)
    router.view(_ids.FORM, submitted)
    router.view(_ids.NOTE, note_submitted)
    router.action(_ids.INTEREST, interest_clicked)
    router.action(_ids.WITHDRAW, withdraw_clicked)
    router.action(_ids.CANDIDATES, candidates_clicked)
    router.action(_ids.SELECT, selected)
    router.action(_ids.CONFIRM, confirm_clicked)
    router.action(_ids.EDIT, edit_clicked)
    router.action(_ids.CLOSE, close_clicked)
    router.action(_ids.CLOSE_AS, close_as_clicked)
    router.action(_ids.EXTEND, extend_clicked)
    router.action(_ids.SUGGEST, suggest_clicked)
    router.action(_ids.INVITE, invite_clicked)
    router.action(_ids.DECLINE, decline_clicked)
    router.action(_ids.LIST, list_clicked)
    router.action(_ids.PAGE, page_clicked)
    router.need_scope(
        "chat:write.public", "mission cards in the trade and missions channels without inviting the bot"
    )
    router.need_scope("im:write", "the author is told of candidates and expiry, the team of its confirmation")
    router.need_scope("channels:read", "the author is told by name which channel refused a mission's card")
    router.need_scope(
        "groups:read", "the author is told by name which private channel refused a mission's card"
    )
