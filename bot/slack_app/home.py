"""The Slack App Home: a page per member made of the sections features contribute, published by the runtime.

A feature contributes with `router.home_section(order, build)`: `build(request, caller)` is async
and returns that feature's Block Kit blocks for the caller (no dividers: the runtime puts one
between sections). Sections come in ascending `order` (ties keep the registration order).

The runtime publishes the page (views.publish) when the member opens the Home tab, after their data
was deleted (`router.on_member_data_deleted`), and whenever a feature changed what its section shows
and calls `await refresh_home(request, caller)`; no feature publishes the Home itself.

The page stays a valid view whatever the sections return: within Slack's 100 blocks, the section
that would overflow keeps what fits and ends with a localized "more in /collectif …" line, and the
sections after it are left out. A section whose build raises is logged and skipped; a refused
views.publish is logged: the Home is a convenience and never fails the action that refreshed it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot.rendering.slack import CONTEXT_MAX, HOME_MAX_BLOCKS, escaped_within, mrkdwn
from bot.slack_app.client import error_code

if TYPE_CHECKING:
    from bot.context import Caller
    from bot.slack_app.request import SlackRequest

log = logging.getLogger(__name__)

Block = dict[str, Any]
SectionBuilder = Callable[["SlackRequest", "Caller"], Awaitable[list[Block]]]
DIVIDER: Block = {"type": "divider"}


@dataclass(frozen=True)
class HomeSection:
    """A feature's part of the Home: where it goes, how it is built, which command shows the rest."""

    order: int
    build: SectionBuilder
    more: str | None = None  # a CommandSpec name for the "more in …" line; None: the bare command


@dataclass
class HomePage:
    """The registered sections; builds and publishes one member's Home."""

    sections: list[HomeSection] = field(default_factory=list)

    def add(self, section: HomeSection) -> None:
        self.sections.append(section)
        self.sections.sort(key=lambda s: s.order)  # stable: ties keep the registration order

    async def blocks(self, request: SlackRequest, caller: Caller) -> list[Block]:
        """Every section in order, separated by dividers, within HOME_MAX_BLOCKS."""
        page: list[Block] = []
        for section in self.sections:
            try:
                built = list(await section.build(request, caller))
            except Exception:
                log.exception("Home section %r failed for %s: left out", section.build, caller.user_id)
                continue
            if not built:
                continue
            part = [DIVIDER, *built] if page else built
            room = HOME_MAX_BLOCKS - len(page)
            if len(part) <= room:
                page.extend(part)
                continue
            more = _more_line(request, caller, section)
            if room > 0:
                page.extend([*part[: room - 1], more])
            else:  # the page is exactly full: its last block says there is more
                page[-1] = more
            break
        return page

    async def publish(self, request: SlackRequest, caller: Caller) -> None:
        blocks = await self.blocks(request, caller)
        try:
            await request.client.views_publish(user_id=caller.user_id,
                                               view={"type": "home", "blocks": blocks})
        except SlackApiError as exc:
            log.info("views.publish refused for %s: %s", caller.user_id, error_code(exc))

    async def opened(self, request: SlackRequest) -> None:
        """`app_home_opened`: draw the Home tab (the Messages tab opens the same event)."""
        if (request.body.get("event") or {}).get("tab", "home") != "home":
            return
        await self.publish(request, await request.ensure_caller())

    async def data_deleted(self, request: SlackRequest, community_id: int, member_id: int) -> None:
        """After `/collectif privacy delete`, the Home stops showing what was deleted."""
        caller = await request.ensure_caller()
        if (caller.community_id, caller.member_id) == (community_id, member_id):
            await self.publish(request, caller)


def _more_line(request: SlackRequest, caller: Caller, section: HomeSection) -> Block:
    spec = next((c for c in request.services.commands if c.name == section.more), None)
    command = request.invocation(spec, caller.locale) if spec else request.command
    text = request.services.t(caller.locale, "slack.home_more", command=command)
    return {"type": "context", "elements": [mrkdwn(escaped_within(text, CONTEXT_MAX))]}


async def refresh_home(request: SlackRequest, caller: Caller) -> None:
    """Republish the caller's Home now (after a feature changed what its section shows)."""
    if request.home is not None:
        await request.home.publish(request, caller)
