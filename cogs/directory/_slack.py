"""`/collectif members …` (`/collectif membres …`) on Slack: key:value filters, result blocks, paging."""

from __future__ import annotations

from bot.slack_app.request import SlackRequest
from bot.slack_app.router import SlackRouter
from bot.usecase import run
from cogs.directory import _ids
from cogs.directory._cards import results_card
from cogs.directory._filters import parse_args
from cogs.directory._search import find_members, turn_page


def unescape(text: str) -> str:
    """Slack sends & < > of a command's text as entities."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


async def members(request: SlackRequest) -> None:
    caller = await request.ensure_caller()
    services = request.services
    if unescape(request.args).strip() in ("?", "help", "aide"):
        await request.reply(request.t("directory.slack.usage"))
        return
    filters = parse_args(unescape(request.args))
    result, today = await run(services, caller, find_members, filters)
    await request.reply(results_card(services.catalog, caller.locale, result, today))


async def page(request: SlackRequest) -> None:
    """Previous / Next: the result message is replaced in place (through the click's response_url)."""
    assert request.match is not None
    caller = await request.ensure_caller()
    services = request.services
    result, today = await run(services, caller, turn_page, request.match["token"], int(request.match["page"]))
    await request.reply(results_card(services.catalog, caller.locale, result, today), replace=True)


def register(router: SlackRouter) -> None:
    router.subcommand("members", members)
    router.action(_ids.PAGE, page)
