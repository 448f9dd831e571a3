"""`/collectif intro|profile|availability`, the intro modal and the profile section of the App Home on Slack.

One modal holds the whole form (block ids = the validation's field names, so InvalidInput comes
back inline through `response_action: errors`). Buttons: `intros:edit:<profile>`,
`intros:avail:<profile>:<status>`, `intros:create`, matched by action-id regexes. A submission
refused once Slack closed the form is kept as a draft (`request.drafts`, 15 minutes): the next form
opens with it, as Discord's does, instead of the member typing it all again.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import date, timedelta
from typing import Any

from bot.cards import Action, Card, action_id
from bot.community_time import community_today, parse_date
from bot.context import Caller
from bot.drafts import DRAFT_TTL
from bot.errors import InvalidInput, NotFound, UserError
from bot.rendering.slack import plain, render_blocks
from bot.slack_app.forms import VALUE, input_block, parse_metadata, select, text_input
from bot.slack_app.home import refresh_home
from bot.slack_app.request import SlackRequest, public_channel
from bot.slack_app.router import SlackRouter
from bot.usecase import run
from bot.words import match_word
from cogs.intros import _ids
from cogs.intros._cards import availability_text, outcome_text, problem_lines, problems_text, profile_card
from cogs.intros._form import FormStart, opt_in_values, set_opt_ins
from cogs.intros._profile import FEATURE, ProfileView
from cogs.intros._publish import (
    check_intro,
    edit_profile,
    open_form,
    profile_of,
    submit_intro,
    update_availability,
)
from cogs.intros._validation import MAX_BIO, MAX_CITY, MAX_TRADES, IntroForm

log = logging.getLogger(__name__)
HOME_ORDER = 100  # the App Home opens on one's own profile
FORM = _ids.FORM
DRAFT = "intro"  # this form's name in the runtime's draft store
CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,20}")
# A mention, or a bare user id as Slack writes them (U or W and at least 8 more: "UFO" is a word).
MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]{8,20})$")
# What `/collectif availability …` accepts besides a date (folded, both languages), as the form,
# the cards and the help name the statuses ("Available now", "Occupé·e"); a spelling is 1 or 2 words.
STATUS_WORDS = {
    "available": ("disponible", "dispo", "now", "maintenant", "available now", "disponible maintenant"),
    "busy": ("occupé", "occupé·e", "indisponible", "indispo", "unavailable", "not available",
             "pas disponible", "pas dispo"),
}
MAX_STATUS_WORDS = 2










def intro_view(start: FormStart, request: SlackRequest, *, metadata: dict[str, Any]) -> dict[str, Any]:
    """The whole intro form as one modal, pre-filled with the saved profile.

    The date of an "available from" status pre-fills the datepicker and is kept in the metadata
    (`prefilled`): a datepicker cannot be emptied, so Slack sends that date back even when the member
    switched to "available now" (`form_from_state`).
    """
    t, form, choices = request.t, start.form, start.choices
    status_choices = tuple(
        (value, t(f"intros.options.status_{value}")) for value in ("available", "from_date", "busy")
    )
    date_picker: dict[str, Any] = {"type": "datepicker"}
    if form.available_from:
        date_picker["initial_date"] = form.available_from
        if form.availability == "from_date":
            metadata = {**metadata, "prefilled": form.available_from}
    blocks = [
        input_block(
            "trades",
            t("intros.fields.trades"),
            select(
                "multi_static_select",
                choices.trades,
                form.trade_ids,
                max_selected_items=MAX_TRADES,
                placeholder=plain(t("intros.form.trades_placeholder"), 150),
            ),
            optional=False,
        ),
        input_block(
            "skills",
            t("intros.form.skills_label"),
            text_input(800, placeholder=t("intros.form.skills_placeholder"), value=form.skills),
            optional=True,
        ),
        input_block(
            "sectors",
            t("intros.fields.sectors"),
            select(
                "multi_static_select",
                choices.sectors,
                form.sector_ids,
                placeholder=plain(t("intros.form.sectors_placeholder"), 150),
            ),
            optional=True,
        ),
        input_block(
            "city",
            t("intros.form.city_label"),
            text_input(MAX_CITY, value=form.city),
            optional=True,
        ),
        input_block(
            "work_mode",
            t("intros.fields.work_mode"),
            select("static_select", choices.work_modes, [form.work_mode]),
            optional=False,
        ),
        input_block(
            "languages",
            t("intros.fields.languages"),
            select("multi_static_select", choices.languages, form.languages),
            optional=True,
        ),
        input_block(
            "rate",
            t("intros.form.rate_label"),
            text_input(40, placeholder=t("intros.form.rate_placeholder"), value=form.rate),
            optional=True,
        ),
        input_block(
            "availability",
            t("intros.fields.availability"),
            select("static_select", status_choices, [form.availability]),
            optional=False,
        ),
        input_block("available_from", t("intros.form.available_from_label"), date_picker, optional=True),
        input_block(
            "links",
            t("intros.form.links_label"),
            text_input(
                1600,
                multiline=True,
                placeholder=t("intros.form.links_placeholder"),
                value=form.links,
            ),
            optional=True,
        ),
        input_block(
            "bio",
            t("intros.form.bio_label"),
            text_input(MAX_BIO, multiline=True, placeholder=t("intros.form.bio_placeholder"), value=form.bio),
            optional=True,
        ),
        input_block(
            "opt_ins", t("intros.fields.opt_ins"), select("checkboxes", choices.opt_ins, opt_in_values(form)),
            optional=True,
        ),
    ]
    if not choices.sectors:  # Slack refuses a select without options
        blocks = [b for b in blocks if b["block_id"] != "sectors"]
    return {
        "type": "modal",
        "callback_id": FORM,
        "title": plain(t("intros.form.title"), 24),
        "submit": plain(t("intros.form.submit"), 24),
        "close": plain(t("intros.form.cancel"), 24),
        "private_metadata": json.dumps(metadata),
        "blocks": blocks,
    }


def form_from_state(values: dict[str, Any], prefilled: str = "") -> IntroForm:
    """The IntroForm of a view_submission's state (missing blocks read as empty).

    A date picked under "available" means available from it (`check_availability`), but not the
    `prefilled` date of the "available from" status the form opened with: left as it was while the
    member chose "available", it is the datepicker's leftover (it cannot be emptied), not a choice.
    """

    def element(block: str) -> dict[str, Any]:
        return dict((values.get(block) or {}).get(VALUE) or {})

    def text(block: str) -> str:
        return str(element(block).get("value") or "")

    def many(block: str) -> list[str]:
        return [str(o["value"]) for o in element(block).get("selected_options") or []]

    def one(block: str, default: str) -> str:
        return str((element(block).get("selected_option") or {}).get("value") or default)

    form = IntroForm(
        trade_ids=many("trades"),
        sector_ids=many("sectors"),
        skills=text("skills"),
        city=text("city"),
        work_mode=one("work_mode", "remote"),
        languages=many("languages"),
        rate=text("rate"),
        availability=one("availability", "available"),
        available_from=str(element("available_from").get("selected_date") or ""),
        links=text("links"),
        bio=text("bio"),
    )
    set_opt_ins(form, many("opt_ins"))
    if form.availability == "available" and prefilled and form.available_from == prefilled:
        form.available_from = ""
    return form


def _draft(request: SlackRequest, caller: Caller) -> IntroForm | None:
    if request.drafts is None:
        return None
    return request.drafts.get(DRAFT, caller.community_id, caller.member_id, IntroForm)


def _keep(request: SlackRequest, caller: Caller, form: IntroForm) -> None:
    if request.drafts is not None:
        request.drafts.put(DRAFT, caller.community_id, caller.member_id, form)


async def _open_form(request: SlackRequest, *, home: bool = False) -> None:
    """The form, pre-filled with the draft of a refused submission, else with the saved profile."""
    caller = await request.ensure_caller()
    services = request.services
    start = await run(services, caller, open_form, _draft(request, caller), write=False)
    if not start.choices.trades:
        raise UserError("intros.form.no_trades")
    await request.open_modal(
        intro_view(start, request, metadata={"channel": request.channel_id, "home": home})
    )


async def open_intro(request: SlackRequest) -> None:
    await _open_form(request)


async def submitted(request: SlackRequest) -> None:
    """Check (InvalidInput -> inline errors), close the modal, then save, post the cards and say where.

    Slack gives up on a form after 3 s: it is answered after a read-only check, before the save
    waits on any write lock. Should the save still fail (a trade removed meanwhile), or the check
    outlast the router's budget (the form is closed then), the member is told what to fix and what
    they typed is kept for the next form (`_refused_once_closed`).
    """
    services = request.services
    caller = await request.ensure_caller()
    view = request.body["view"]
    metadata = read_metadata(view.get("private_metadata"))
    form = form_from_state(view["state"]["values"], metadata["prefilled"])
    try:
        await run(services, caller, check_intro, form, write=False)
    except InvalidInput as error:
        if not request.acked:
            raise  # the form is still open: the problems are shown in it, under their fields
        await _refused_once_closed(request, caller, form, error, metadata.get("channel"))
        return
    await request.ack()
    try:
        done = await run(services, caller, submit_intro, form,
                          origin_channel_id=public_channel(metadata.get("channel")))
    except InvalidInput as error:
        await _refused_once_closed(request, caller, form, error, metadata.get("channel"))
        return
    if request.drafts is not None:
        request.drafts.drop(DRAFT, caller.community_id, caller.member_id)
    published = done.published
    text = outcome_text(
        services.catalog,
        caller.locale,
        published.result if published else None,
        created=done.created,
        next_post=published.next_post if published else None,
    )
    await request.tell(text, metadata.get("channel"))
    await refresh_home(request, caller)


async def _refused_once_closed(request: SlackRequest, caller: Caller, form: IntroForm, error: InvalidInput,
                               channel: str | None) -> None:
    """The problems in a message (the form is gone), and the answers kept for the next form."""
    _keep(request, caller, form)
    lines = [problems_text(request.services.catalog, caller.locale, error.problems)]
    if request.drafts is not None:
        lines.append(request.t("intros.form.kept", minutes=DRAFT_TTL // timedelta(minutes=1)))
    await request.tell("\n\n".join(lines), channel)


def read_metadata(raw: str | None) -> dict[str, Any]:
    """The form's private_metadata, trusting nothing.

    A channel only if it looks like a channel id; the pre-filled date only if it is an ISO date.
    """
    data = parse_metadata(raw)
    channel = data.get("channel")
    return {
        "channel": channel if isinstance(channel, str) and CHANNEL_ID.fullmatch(channel) else None,
        "home": data.get("home") is True,
        "prefilled": _iso_date(data.get("prefilled")),
    }


def _iso_date(value: Any) -> str:
    """`value` when it is a date as a datepicker sends it ("2027-01-15"), else ""."""
    if not isinstance(value, str) or len(value) != 10:
        return ""
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return ""


async def show_profile(request: SlackRequest) -> None:
    services = request.services
    caller = await request.ensure_caller()
    who = None
    if request.args:
        found = MENTION.match(request.args.strip().split()[0])
        if found is None:  # not a member's mention: not taken for a member without a profile
            await request.reply(request.t("intros.slack.profile_usage"))
            return
        who = found[1] or found[2]
    view = await run(services, caller, profile_of, who, write=False)
    today = community_today(services.clock.now(), caller.timezone)
    own = view.member_id == caller.member_id
    await request.reply(
        profile_card(services.catalog, caller.locale, view, today, own=own, timezone=caller.timezone)
    )


async def set_availability_command(request: SlackRequest) -> None:
    """`/collectif availability available|busy|<date>`; without a word, one's card and its buttons.

    What follows the status word is its date: "disponible à partir du 15/01/2027" is available from
    then (`check_availability`), not available now with the date dropped. Text that is neither a
    status nor a date is answered with the usage, not with a date format to follow.
    """
    typed = " ".join(request.args.split())
    if not typed:
        await show_profile(request)
        return
    status, rest = read_status(typed)
    if status is not None:
        await _update(request, status, rest or None)
        return
    caller = await request.ensure_caller()
    today = community_today(request.services.clock.now(), caller.timezone)
    if not any("0" <= c <= "9" for c in typed) and parse_date(typed, today, caller.locale) is None:
        # Neither a status nor a date ("vacances"): "write the date as YYYY-MM-DD" would mislead.
        await request.reply(request.t("intros.availability.usage"))
        return
    await _update(request, "from_date", typed)


def read_status(typed: str) -> tuple[str | None, str]:
    """`(status, what follows it)` of the command's text, or `(None, typed)` when it names no status.

    The longest spelling wins: "not available" is busy, "available now" available.
    """
    words = typed.split()
    for count in range(min(len(words), MAX_STATUS_WORDS), 0, -1):
        status = match_word(" ".join(words[:count]), STATUS_WORDS)
        if status is not None:
            return status, " ".join(words[count:])
    return None, typed


async def availability_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    await _update(request, request.match["status"], None, profile_id=int(request.match["id"]))


async def _update(
    request: SlackRequest, status: str, when: str | None, *, profile_id: int | None = None
) -> None:
    services = request.services
    caller = await request.ensure_caller()
    try:
        view = await run(services, caller, update_availability, status, when, profile_id=profile_id)
    except InvalidInput as error:  # a command has no form to show errors in: list them
        await request.reply("\n".join(problem_lines(services.catalog, caller.locale, error.problems)))
        return
    shown = availability_text(
        services.catalog, caller.locale, view, community_today(services.clock.now(), caller.timezone)
    )
    await request.reply(request.t("intros.availability.updated", status=shown))
    await refresh_home(request, caller)


async def edit_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    caller = await request.ensure_caller()
    await run(request.services, caller, edit_profile, int(request.match["id"]), write=False)
    await _open_form(request, home=_from_home(request))


async def create_clicked(request: SlackRequest) -> None:
    await _open_form(request, home=_from_home(request))


def _from_home(request: SlackRequest) -> bool:
    return (request.body.get("view") or {}).get("type") == "home"


async def profile_section(request: SlackRequest, caller: Caller) -> list[dict[str, Any]]:
    """Intros' part of the App Home: one's profile card with Edit / availability buttons, or an invitation."""
    services = request.services
    t = services.catalog.t
    locale = caller.locale
    profile: ProfileView | None
    try:
        profile = await run(services, caller, profile_of, write=False)
    except NotFound:
        profile = None
    if profile is None:
        card = Card(
            title=t(locale, "intros.home.title"),
            text=t(locale, "intros.home.no_profile"),
            actions=(Action(action_id(FEATURE, "create"), t(locale, "intros.home.create"), "primary"),),
        )
    else:
        today = community_today(services.clock.now(), caller.timezone)
        card = profile_card(services.catalog, locale, profile, today, own=True, timezone=caller.timezone)
    return render_blocks(card)


def register(router: SlackRouter) -> None:
    router.subcommand("intro", open_intro)
    router.subcommand("profile", show_profile)
    router.subcommand("availability", set_availability_command)
    router.view(FORM, submitted)
    router.action(_ids.EDIT, edit_clicked)
    router.action(_ids.AVAILABILITY, availability_clicked)
    router.action(_ids.CREATE, create_clicked)
    router.home_section(HOME_ORDER, profile_section, more="profile")
    router.need_scope(
        "chat:write.public", "intro cards in the intro and trade channels without inviting the bot"
    )
