"""`/collectif help` (`/collectif aide`): the commands the caller may use, localized, as an ephemeral card.

The Home tab belongs to the intros feature (profile card, then this help card).
"""

from __future__ import annotations

from bot.slack_app.request import SlackRequest
from bot.slack_app.router import SlackRouter
from cogs.help._help import help_card


async def show_help(request: SlackRequest) -> None:
    caller = await request.ensure_caller()
    services = request.services
    await request.reply(help_card(services.catalog, caller.locale, services.commands,
                                  is_moderator=caller.is_moderator, invocation=request.invocation))


def register(router: SlackRouter) -> None:
    router.subcommand("help", show_help)
