"""`/collectif members …` (`/collectif membres …`) on Slack: key:value filters, result blocks, paging."""

from __future__ import annotations

from datetime import date

from bot.slack_app.request import SlackRequest
from bot.slack_app.router import SlackRouter
from bot.usecase import run
from cogs.directory import _ids
from cogs.directory._cards import results_card
from cogs.directory._filters import parse_args
from cogs.directory._search import SearchPage, find_members, turn_page


async def members(request: SlackRequest) -> None:
    caller = await request.ensure_caller()
    services = request.services
    if request.args.strip() in ("?", "help", "aide"):
        await request.reply(request.t("directory.slack.usage"))
        return
    filters = parse_args(request.args)

    async def respond(found: tuple[SearchPage, date]) -> None:
        await request.reply(results_card(services.catalog, caller.locale, *found))

    # Reads only: the answer goes out before the search is stored for paging.
    await run(services, caller, find_members, filters, write=False, respond=respond)


async def page(request: SlackRequest) -> None:
    """Previous / Next: the result message is replaced in place (through the click's response_url)."""
    assert request.match is not None
    caller = await request.ensure_caller()
    services = request.services

    async def respond(found: tuple[SearchPage, date]) -> None:
        await request.reply(results_card(services.catalog, caller.locale, *found), replace=True)

    token, page_number = request.match["token"], int(request.match["page"])
    await run(services, caller, turn_page, token, page_number, write=False, respond=respond)


def register(router: SlackRouter) -> None:
    router.subcommand("members", members)
    router.action(_ids.PAGE, page)
