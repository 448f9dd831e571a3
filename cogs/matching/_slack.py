"""`/collectif match …` (`/collectif equipe …`) on Slack: key:value options, the proposal, Invite, answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.slack_app.request import SlackRequest
from bot.slack_app.router import SlackRouter
from bot.usecase import run
from cogs.matching import _ids
from cogs.matching._cards import answer_card, invited_text
from cogs.matching._invite import Invited, answer_invitation, invite_team
from cogs.matching._match import Answer, find_team, stored
from cogs.matching._request import parse_args


async def match(request: SlackRequest) -> None:
    caller = await request.ensure_caller()
    services = request.services
    text = request.args.strip()
    if text in ("", "?", "help", "aide"):
        await request.reply(request.t("matching.slack.usage"))
        return
    typed = parse_args(text)

    async def respond(answer: Answer) -> None:
        await request.reply(answer_card(services.catalog, caller.locale, answer))

    # Reads only: the proposal is stored (for Invite and rotation) after the answer went out.
    await run(services, caller, find_team, typed, write=False, respond=respond)


def _posted_at(body: dict[str, Any]) -> datetime | None:
    """When the clicked message was posted (its ts: epoch seconds), or None."""
    container = body.get("container")
    ts = container.get("message_ts") if isinstance(container, dict) else None
    try:
        return datetime.fromtimestamp(float(ts), UTC) if ts else None
    except (TypeError, ValueError, OverflowError):
        return None


async def invite(request: SlackRequest) -> None:
    """Invite this team: a group DM with the requester and the team, then the outcome to the requester."""
    assert request.match is not None
    caller = await request.ensure_caller()
    # Clicked before its proposal was stored (by this process or another): waits for it.
    await stored(request.services, caller.community_id, request.match["token"], _posted_at(request.body))
    invited: Invited = await run(request.services, caller, invite_team, request.match["token"],
                                 request.channel_id or "")
    await request.reply(invited_text(request.services.catalog, caller.locale, invited))


async def answer(request: SlackRequest) -> None:
    """Accept / Decline in the invitation's DM: Slack sends the workspace (team_id) with the click."""
    assert request.match is not None
    caller = await request.ensure_caller()
    text = await run(request.services, caller, answer_invitation, int(request.match["id"]),
                     request.match["choice"] == "accept")
    await request.reply(text)


def register(router: SlackRouter) -> None:
    router.subcommand("match", match)
    router.action(_ids.INVITE, invite)
    router.action(_ids.ANSWER, answer)
    router.need_scope("mpim:write", "conversations.open with several members: an invited team's group DM")
