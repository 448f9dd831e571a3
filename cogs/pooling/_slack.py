"""Pooling on Slack: `/collectif pool` opens the form; the card's buttons are routed by action id.

Block ids are the validation's field names, so problems come back inline (`response_action: errors`);
the form is checked read-only before its ack, and saved after it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.rendering.slack import plain
from bot.slack_app.forms import VALUE, input_block, select, text_input
from bot.slack_app.request import SlackRequest
from bot.slack_app.router import SlackRouter
from bot.usecase import run
from bot.words import catalog_words, match_word
from cogs.pooling import _ids
from cogs.pooling._form import MAX_LINK, MAX_TIERS_TEXT, MAX_TITLE, MAX_WHAT, PoolForm
from cogs.pooling._payments import check_remind, mark_paid, remind_unpaid, show_payments
from cogs.pooling._pools import (
    cancel_pool,
    cancelled_key,
    check_answer,
    check_close,
    check_manage,
    check_pool,
    close_pool,
    create_pool,
    join_pool,
    leave_pool,
    where_options,
)
from cogs.pooling._rota import (
    add_task,
    cant,
    check_task,
    check_volunteer,
    history,
    list_tasks,
    mark_done,
    remove_task,
    stop,
    task_form_trades,
    volunteer,
)
from cogs.pooling._rota import check_answer as check_turn
from cogs.pooling._rota_form import MAX_DESCRIPTION, MAX_NAME, TaskForm
from cogs.pooling._rota_time import CADENCES, WEEKDAYS

CHANNEL_ID = re.compile(r"[CDG][A-Z0-9]{2,20}")
METADATA_MAX = 3000



def form_view(request: SlackRequest, where: list[tuple[str, str]]) -> dict[str, Any]:
    t = request.t
    places = [{"text": plain(label, 75), "value": value} for value, label in where[:100]]
    return {
        "type": "modal",
        "callback_id": "pooling:form",
        "title": plain(t("pooling.form.title"), 24),
        "submit": plain(t("pooling.form.submit"), 24),
        "close": plain(t("pooling.form.cancel"), 24),
        "private_metadata": json.dumps({"channel": request.channel_id}),
        "blocks": [
            input_block("title", t("pooling.form.title_label"), text_input(MAX_TITLE), optional=False),
            input_block(
                "what",
                t("pooling.form.what_label"),
                text_input(MAX_WHAT, multiline=True),
                optional=False,
            ),
            input_block(
                "link",
                t("pooling.form.link_label"),
                text_input(MAX_LINK, placeholder="https://"),
                optional=False,
            ),
            input_block("tiers", t("pooling.form.tiers_label"),
                   text_input(
                       MAX_TIERS_TEXT,
                       placeholder=t("pooling.form.tiers_placeholder")), optional=False,
                   ),
            input_block("minimum", t("pooling.form.minimum_label"), text_input(4), optional=False),
            input_block("maximum", t("pooling.form.maximum_label"), text_input(4), optional=True),
            input_block("deadline", t("pooling.form.deadline_label"),
                   text_input(40, placeholder=t("pooling.form.deadline_placeholder")), optional=False),
            input_block("where", t("pooling.form.where_label"),
                   {"type": "static_select", "options": places, "initial_option": places[0]}, optional=False),
        ],
    }


def form_from_state(values: dict[str, Any]) -> PoolForm:
    def element(block: str) -> dict[str, Any]:
        return dict((values.get(block) or {}).get(VALUE) or {})

    def text(block: str) -> str:
        return str(element(block).get("value") or "")

    return PoolForm(
        title=text("title"), what=text("what"), link=text("link"), tiers=text("tiers"),
        minimum=text("minimum"), maximum=text("maximum"), deadline=text("deadline"),
        where=str((element("where").get("selected_option") or {}).get("value") or ""),
    )


def read_channel(raw: str | None) -> str | None:
    """The channel the form was opened in, from private_metadata, trusting nothing."""
    try:
        data = json.loads((raw or "{}")[:METADATA_MAX])
    except ValueError:
        return None
    channel = data.get("channel") if isinstance(data, dict) else None
    return channel if isinstance(channel, str) and CHANNEL_ID.fullmatch(channel) else None


async def command(request: SlackRequest) -> None:
    caller = await request.ensure_caller()
    options = await run(request.services, caller, where_options, write=False)
    if not options:
        await request.reply(request.t("pooling.errors.no_channel"))
        return
    where = [(value, request.t("pooling.where.trade", name=name) if name else request.t("pooling.where.pool"))
             for value, name, _ in options]
    await request.open_modal(form_view(request, where))


async def submitted(request: SlackRequest) -> None:
    """Problems come back inline (before the ack); the pool is saved and posted after it."""
    services = request.services
    caller = await request.ensure_caller()
    view = request.body["view"]
    form = form_from_state(view["state"]["values"])
    await run(services, caller, check_pool, form, write=False)
    await request.ack()
    created = await run(services, caller, create_pool, form, submission=view.get("id"))
    key = ("pooling.created.posted_slack" if created.posted else
           "pooling.created.retrying" if created.retrying else "pooling.created.not_posted")
    await request.tell(request.t(key), read_channel(view.get("private_metadata")))


async def join_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    services, caller = request.services, await request.ensure_caller()
    pool_id = int(request.match["id"])
    await run(services, caller, check_answer, pool_id, write=False)
    joined = await run(services, caller, join_pool, pool_id)
    key = f"pooling.answered.{joined.status}" if joined.changed else "pooling.answered.unchanged"
    await request.reply(request.t(key, position=joined.position or 0))


async def leave_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    services, caller = request.services, await request.ensure_caller()
    pool_id = int(request.match["id"])
    await run(services, caller, check_answer, pool_id, write=False)
    left = await run(services, caller, leave_pool, pool_id)
    await request.reply(request.t(f"pooling.answered.{'left' if left.changed else 'not_in'}"))


async def close_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    services, caller = request.services, await request.ensure_caller()
    pool_id = int(request.match["id"])
    await run(services, caller, check_close, pool_id, write=False)
    await run(services, caller, close_pool, pool_id)
    await request.reply(request.t("pooling.closed.done"))


async def cancel_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    services, caller = request.services, await request.ensure_caller()
    pool_id = int(request.match["id"])
    await run(services, caller, check_manage, pool_id, write=False)
    pool = await run(services, caller, cancel_pool, pool_id)
    await request.reply(request.t(cancelled_key(pool, caller.member_id)))


async def payments_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    caller = await request.ensure_caller()
    card = await run(request.services, caller, show_payments, int(request.match["id"]),
                     int(request.match["page"]), write=False)
    await request.reply(card, replace=request.body.get("container", {}).get("is_ephemeral") is True)


async def paid_chosen(request: SlackRequest) -> None:
    assert request.match is not None
    caller = await request.ensure_caller()
    card = await run(request.services, caller, mark_paid, int(request.match["id"]),
                     int(request.match["page"]), request.action_values(), _ids.shown_range(request.match))
    await request.reply(card, replace=True)


async def remind_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    services, caller = request.services, await request.ensure_caller()
    pool_id = int(request.match["id"])
    await run(services, caller, check_remind, pool_id, write=False)
    count = await run(services, caller, remind_unpaid, pool_id)
    await request.reply(request.t("pooling.payments.reminder_sent", count=count))


# -- /collectif tasks: the rota of shared admin tasks ---------------------------------------------------

TASK_VERBS = ("list", "add", "remove", "history")


def task_form_view(request: SlackRequest, trades: list[tuple[int, str]]) -> dict[str, Any]:
    t = request.t
    blocks = [
        input_block("name", t("pooling.tasks.form.name_label"), text_input(MAX_NAME), optional=False),
        input_block("description", t("pooling.tasks.form.description_label"),
                    text_input(MAX_DESCRIPTION, multiline=True), optional=True),
        input_block("cadence", t("pooling.tasks.form.cadence_label"),
                    select("static_select", [(c, t(f"pooling.tasks.cadences_short.{c}")) for c in CADENCES],
                           ["weekly"]), optional=False),
        input_block("weekday", t("pooling.tasks.form.weekday_label"),
                    select("static_select", [(d, t(f"pooling.tasks.weekdays.{d}")) for d in WEEKDAYS],
                           ["mon"]),
                    optional=False),
    ]
    if trades:
        blocks.append(input_block("trades", t("pooling.tasks.form.trades_label"),
                                  select("multi_static_select", [(str(i), n) for i, n in trades]),
                                  optional=True))
    return {
        "type": "modal",
        "callback_id": "pooling:task_form",
        "title": plain(t("pooling.tasks.form.title"), 24),
        "submit": plain(t("pooling.tasks.form.submit"), 24),
        "close": plain(t("pooling.form.cancel"), 24),
        "private_metadata": json.dumps({"channel": request.channel_id}),
        "blocks": blocks,
    }


def task_form_from_state(values: dict[str, Any]) -> TaskForm:
    def element(block: str) -> dict[str, Any]:
        return dict((values.get(block) or {}).get(VALUE) or {})

    def chosen(block: str) -> str:
        return str((element(block).get("selected_option") or {}).get("value") or "")

    return TaskForm(
        name=str(element("name").get("value") or ""),
        description=str(element("description").get("value") or ""),
        cadence=chosen("cadence"), weekday=chosen("weekday"),
        trade_ids=[str(o.get("value") or "") for o in element("trades").get("selected_options") or []][:20],
    )


async def tasks_command(request: SlackRequest) -> None:
    caller = await request.ensure_caller()
    services = request.services
    words = request.args.split(maxsplit=1)
    names = catalog_words(services.catalog, {v: f"pooling.commands.{v}.name" for v in TASK_VERBS})
    verb = match_word(words[0], names) if words else "list"
    if verb is None:
        await request.reply(request.t("pooling.tasks.errors.usage"))
    elif verb == "add":
        trades = await run(services, caller, task_form_trades, write=False)
        await request.open_modal(task_form_view(request, trades))
    elif verb == "remove":
        name = words[1] if len(words) > 1 else ""
        removed = await run(services, caller, remove_task, name[:MAX_NAME * 2])
        await request.reply(request.t("pooling.tasks.removed", name=removed))
    elif verb == "history":
        await request.reply(await run(services, caller, history, write=False))
    else:
        await request.reply(await run(services, caller, list_tasks, write=False))


async def task_submitted(request: SlackRequest) -> None:
    services = request.services
    caller = await request.ensure_caller()
    view = request.body["view"]
    form = task_form_from_state(view["state"]["values"])
    await run(services, caller, check_task, form, write=False)
    await request.ack()
    card = await run(services, caller, add_task, form)
    await request.tell(card, read_channel(view.get("private_metadata")))


async def task_join_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    services, caller = request.services, await request.ensure_caller()
    task_id = int(request.match["id"])
    await run(services, caller, check_volunteer, task_id, write=False)
    changed = await run(services, caller, volunteer, task_id)
    await request.reply(request.t(f"pooling.tasks.answered.{'volunteer' if changed else 'already'}"))


async def task_stop_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    services, caller = request.services, await request.ensure_caller()
    changed = await run(services, caller, stop, int(request.match["id"]))
    await request.reply(request.t(f"pooling.tasks.answered.{'stopped' if changed else 'not_volunteer'}"))


async def task_done_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    services, caller = request.services, await request.ensure_caller()
    turn_id = int(request.match["id"])
    await run(services, caller, check_turn, turn_id, write=False)
    await run(services, caller, mark_done, turn_id)
    await request.reply(request.t("pooling.tasks.answered.done"))


async def task_cant_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    services, caller = request.services, await request.ensure_caller()
    turn_id = int(request.match["id"])
    await run(services, caller, check_turn, turn_id, write=False)
    answer = await run(services, caller, cant, turn_id)
    await request.reply(request.t(f"pooling.tasks.answered.{answer.outcome}"))


def register(router: SlackRouter) -> None:
    router.subcommand("pool", command)
    router.view(_ids.FORM, submitted)
    router.action(_ids.JOIN, join_clicked)
    router.action(_ids.LEAVE, leave_clicked)
    router.action(_ids.CLOSE, close_clicked)
    router.action(_ids.CANCEL, cancel_clicked)
    router.action(_ids.PAYMENTS, payments_clicked)
    router.action(_ids.PAID, paid_chosen)
    router.action(_ids.REMIND, remind_clicked)
    router.subcommand("tasks", tasks_command)
    router.view(_ids.TASK_FORM, task_submitted)
    router.action(_ids.TASK_JOIN, task_join_clicked)
    router.action(_ids.TASK_STOP, task_stop_clicked)
    router.action(_ids.TASK_DONE, task_done_clicked)
    router.action(_ids.TASK_CANT, task_cant_clicked)
