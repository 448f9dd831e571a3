"""`/collectif pairing join|leave|snooze N|avoid|unavoid @member|history|stats` and the buttons, on Slack."""

from __future__ import annotations

from bot.slack_app.request import SlackRequest
from bot.slack_app.router import SlackRouter
from bot.text import is_number
from bot.usecase import run
from bot.words import catalog_words, match_word
from cogs.pairing import _ids
from cogs.pairing._pairing import (
    SNOOZE_MAX,
    SNOOZE_MIN,
    answer_checkin,
    avoid,
    history,
    set_opt_in,
    snooze,
    stats,
    unavoid,
)

SUBCOMMANDS = ("join", "leave", "snooze", "avoid", "unavoid", "history", "stats")
MAX_MENTION = 150


def mentioned_user(word: str) -> str | None:
    """The user id of `<@U123|name>`, `<@U123>` or `U123`; plain parsing, no regular expression."""
    if len(word) > MAX_MENTION:
        return None
    if word.startswith("<@") and word.endswith(">"):
        word = word[2:-1].split("|", 1)[0]
    ok = (
        3 <= len(word) <= 21
        and word[0] in "UW"
        and all(c.isascii() and (c.isupper() or c.isdigit()) for c in word)
    )
    return word if ok else None


async def command(request: SlackRequest) -> None:
    caller = await request.ensure_caller()
    words = request.args.split()
    names = catalog_words(request.services.catalog, {s: f"pairing.commands.{s}.name" for s in SUBCOMMANDS})
    verb = match_word(words[0], names) if words else "history"
    services = request.services
    if verb is None:
        await request.reply(request.t("pairing.errors.usage"))
    elif verb in ("join", "leave"):
        await request.reply(await run(services, caller, set_opt_in, verb == "join"))
    elif verb == "snooze":
        text = words[1] if len(words) > 1 else ""
        if not (is_number(text) and len(text) <= 2):
            await request.reply(request.t("pairing.errors.snooze_range", low=SNOOZE_MIN, high=SNOOZE_MAX))
            return
        done = await run(services, caller, snooze, int(text))
        key = "pairing.snooze.done" if done else "pairing.snooze.woken"
        await request.reply(request.t(key, count=done, low=SNOOZE_MIN))
    elif verb in ("avoid", "unavoid"):
        user = mentioned_user(words[1]) if len(words) > 1 else None
        if user is None:
            await request.reply(request.t("pairing.errors.which_member"))
            return
        name = await run(services, caller, avoid if verb == "avoid" else unavoid, user)
        await request.reply(
            request.t(f"pairing.avoid.{'added' if verb == 'avoid' else 'removed'}", name=name)
        )
    elif verb == "stats":
        await request.reply(await run(services, caller, stats, write=False))
    else:
        await request.reply(await run(services, caller, history, write=False))


async def opt_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    caller = await request.ensure_caller()
    on = request.match["choice"] == "in"
    await request.reply(await run(request.services, caller, set_opt_in, on))


async def checkin_clicked(request: SlackRequest) -> None:
    assert request.match is not None
    caller = await request.ensure_caller()
    answer = await run(
        request.services, caller, answer_checkin, int(request.match["id"]), request.match["answer"]
    )
    await request.reply(request.t(f"pairing.checkin.thanks_{answer}"))


def register(router: SlackRouter) -> None:
    router.need_scope("mpim:write", "conversations.open with several members: a pairing group's DM")
    router.subcommand("pairing", command)
    router.action(_ids.OPT, opt_clicked)
    router.action(_ids.CHECKIN, checkin_clicked)
