"""What an invitation shows: the invitee's DM with Accept / Decline, the requester's news of the answers."""

from __future__ import annotations

from datetime import datetime

from bot.cards import Action, Card, Field, action_id, truncate, when
from bot.i18n import Catalog
from cogs.matching._request import Resolved
from cogs.matching._space import request_summary, request_title

FEATURE = "matching"
FIELD_MAX = 1000


def answer_action_id(invitation_id: int, choice: str) -> str:
    return action_id(FEATURE, "answer", invitation_id, choice)


def invitation_card(catalog: Catalog, locale: str, resolved: Resolved, requester: str, trade: str,
                    invitation_id: int, expires: datetime, *, timezone: str) -> Card:
    """Sent to an invited member, in their language: what the team is for, their slot, the two buttons.

    `timezone` (the community's) and `locale` also write the date of the notification text.
    """
    t = catalog.t
    title = request_title(catalog, locale, resolved)
    lines = [t(locale, "matching.invitation.text", requester=requester, title=title, trade=trade)]
    summary = request_summary(catalog, locale, resolved)
    if summary:
        lines.append(summary)
    if resolved.note:
        lines.append(t(locale, "matching.invitation.note", requester=requester, note=resolved.note))
    lines.append(t(locale, "matching.invitation.until",
                   date=when(expires, "date", locale=locale, timezone=timezone)))
    return Card(
        title=truncate(t(locale, "matching.invitation.title", requester=requester, title=title), 250),
        text="\n".join(lines),
        footer=t(locale, "matching.invitation.footer"),
        actions=(
            Action(answer_action_id(invitation_id, "accept"), t(locale, "matching.invitation.accept"),
                   style="success"),
            Action(answer_action_id(invitation_id, "decline"), t(locale, "matching.invitation.decline"),
                   style="danger"),
        ),
    )


def answers_card(catalog: Catalog, locale: str, resolved: Resolved, news: list[str],
                 slots: list[tuple[str, list[tuple[str, str]]]]) -> Card:
    """Sent to the requester at each answer: what happened, then each slot's invitations and their state.

    `slots`: (trade name, [(member name, status)]) in slot order.
    """
    t = catalog.t
    fields = tuple(
        Field(name=trade, value=truncate("\n".join(
            t(locale, "matching.answers.line", name=name, status=t(locale, f"matching.status.{status}"))
            for name, status in rows) or t(locale, "matching.answers.empty"), FIELD_MAX))
        for trade, rows in slots
    )
    return Card(
        title=truncate(t(locale, "matching.answers.title", title=request_title(catalog, locale, resolved)),
                       250),
        text="\n".join(news),
        fields=fields,
    )
