"""`/collectif help` (`/collectif aide`) and the App Home's help section: the commands the caller may use.

The card is the same in both places, localized; the Home puts it after the other features' sections.
"""

from __future__ import annotations

from typing import Any

from bot.cards import Card
from bot.context import Caller
from bot.rendering.slack import render_blocks
from bot.slack_app.request import SlackRequest
from bot.slack_app.router import SlackRouter
from cogs.help._help import help_card

HOME_ORDER = 1000  # last: the features' own sections come first


def _card_for(request: SlackRequest, caller: Caller) -> Card:
    services = request.services
    return help_card(services.catalog, caller.locale, services.commands,
                     is_moderator=caller.is_moderator, invocation=request.invocation)


async def show_help(request: SlackRequest) -> None:
    await request.reply(_card_for(request, await request.ensure_caller()))


async def help_section(request: SlackRequest, caller: Caller) -> list[dict[str, Any]]:
    return render_blocks(_card_for(request, caller))


def register(router: SlackRouter) -> None:
    router.subcommand("help", show_help)
    router.home_section(HOME_ORDER, help_section)
