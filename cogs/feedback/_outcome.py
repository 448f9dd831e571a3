"""What the member is told after asking, in their language (shared by both bindings)."""

from __future__ import annotations

from bot.i18n import Catalog
from cogs.feedback._feedback import Asked


def where_label(catalog: Catalog, locale: str, trade_name: str | None) -> str:
    return trade_name or catalog.t(locale, "feedback.options.feedback_channel")


def asked_text(catalog: Catalog, locale: str, asked: Asked, *, mention_channel: bool) -> str:
    published = asked.published
    if published is not None and published.outage:
        return catalog.t(locale, "feedback.asked.outage")
    if published is None or not published.posted:
        return catalog.t(locale, "feedback.asked.not_posted")
    if mention_channel:
        text = catalog.t(locale, "feedback.asked.posted", channel=published.channel_id)
    else:
        text = catalog.t(locale, "feedback.asked.posted_plain")
    if not published.threaded:
        text += "\n" + catalog.t(locale, "feedback.asked.no_thread")
    return text
