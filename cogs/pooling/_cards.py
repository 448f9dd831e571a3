"""The cards of pooling: the pool card with its buttons, and the DMs about a pool."""

from __future__ import annotations

import functools
from typing import Any

from babel import numbers as babel_numbers

from bot.cards import Action, Card, Field, Option, Select, action_id, truncate, when
from bot.formatting import format_money
from bot.i18n import Catalog
from cogs.pooling._form import Tiers, next_tier, price_at
from cogs.pooling._store import FEATURE, NAMES_SHOWN, Payer, Person, View
from cogs.pooling.models import CANCELLED, FAILED, HAPPENING, OPEN, Pool

COLOR = 0x27AE60
FIELD_MAX = 1024
BAR = 10
TITLE = {
    OPEN: "open_title", HAPPENING: "happening_title", FAILED: "failed_title", CANCELLED: "cancelled_title"
}


@functools.lru_cache(maxsize=4096)
def money(cents: int, currency: str, locale: str) -> str:
    """"15 €" / "€15" for whole amounts (bot.formatting), "12,50 €" / "€12.50" with cents.

    Kept (a pure function of its arguments): Babel's formatting costs more than the rest of a card.
    """
    if cents % 100 == 0:
        return format_money(cents // 100, currency, locale)
    language = locale if locale in ("fr", "en") else "en"
    return babel_numbers.format_currency(cents / 100, currency, locale=language)


def progress(count: int, minimum: int) -> str:
    filled = min(BAR, (count * BAR) // max(minimum, 1))
    return "▰" * filled + "▱" * (BAR - filled)


def tier_lines(catalog: Catalog, locale: str, tiers: Tiers, currency: str) -> str:
    t = catalog.t
    lines = []
    for index, (start, cents) in enumerate(tiers):
        price = money(cents, currency, locale)
        if index + 1 < len(tiers):
            end = tiers[index + 1][0] - 1
            key = "pooling.card.tier_one" if start == end else "pooling.card.tier_range"
            lines.append(t(locale, key, low=start, high=end, price=price))
        else:
            lines.append(t(locale, "pooling.card.tier_last", low=start, price=price))
    return "\n".join(lines)


def _names(catalog: Catalog, locale: str, found: list[Person], total: int) -> str:
    names = [p.name for p in found[:NAMES_SHOWN]]
    if total > len(names):
        names.append(catalog.t(locale, "pooling.card.and_more", count=total - len(names)))
    return ", ".join(names)


def pool_card(catalog: Catalog, locale: str, view: View) -> Card:
    """The card in the channel: who is in against the minimum, the price now and next, the deadline."""
    t = catalog.t
    pool, tiers = view.pool, view.tiers
    count = pool.final_count if pool.final_count is not None else pool.participant_count
    price = money(price_at(tiers, count), pool.currency, locale)
    joined = t(locale, "pooling.card.participants_of", count=count, minimum=pool.minimum)
    names = _names(catalog, locale, view.participants, view.participants_total)
    fields = [
        Field(joined, f"{progress(count, pool.minimum)}\n{truncate(names, FIELD_MAX - 20)}".strip()),
        Field(t(locale, "pooling.fields.price"), price, inline=True),
    ]
    following = next_tier(tiers, count)
    if pool.status == OPEN:
        if following is None:
            upcoming = t(locale, "pooling.card.best_price")
        else:
            upcoming = t(locale, "pooling.card.next_tier", price=money(following[1], pool.currency, locale),
                         low=following[0], count=following[0] - count)
        fields.append(Field(t(locale, "pooling.fields.next"), upcoming, inline=True))
    if pool.maximum is not None:
        fields.append(Field(t(locale, "pooling.fields.seats"),
                            t(locale, "pooling.card.seats", count=count, maximum=pool.maximum), inline=True))
    if view.waitlisted and pool.status == OPEN:
        fields.append(Field(t(locale, "pooling.fields.waitlist"),
                            t(locale, "pooling.card.waitlist", count=view.waitlisted), inline=True))
    fields += [
        Field(t(locale, "pooling.fields.tiers"), tier_lines(catalog, locale, tiers, pool.currency)),
        Field(t(locale, "pooling.fields.deadline"),
              f"{when(pool.deadline, 'full')} ({when(pool.deadline, 'relative')})"),
        Field(t(locale, "pooling.fields.link"), truncate(pool.link, FIELD_MAX)),
    ]
    if view.organizer is not None:
        fields.append(Field(t(locale, "pooling.fields.organizer"), view.organizer.name, inline=True))
    actions: tuple[Action, ...] = ()
    if pool.status == OPEN:
        actions = (
            Action(action_id(FEATURE, "join", pool.id), t(locale, "pooling.buttons.join"), "success"),
            Action(action_id(FEATURE, "leave", pool.id), t(locale, "pooling.buttons.leave")),
            Action(action_id(FEATURE, "close", pool.id), t(locale, "pooling.buttons.close"), "primary"),
            Action(action_id(FEATURE, "cancel", pool.id), t(locale, "pooling.buttons.cancel"), "danger"),
        )
    elif pool.status == HAPPENING:  # the organizer's and the moderators' way to the list (private answer)
        actions = (Action(action_id(FEATURE, "payments", pool.id, 0), t(locale, "pooling.buttons.payments")),)
    return Card(
        title=t(locale, f"pooling.card.{TITLE[pool.status]}", title=pool.title),
        text=truncate(pool.what, 3000),
        fields=tuple(fields),
        actions=actions,
        footer=t(locale, "pooling.card.payments"),
        color=COLOR,
        url=pool.link,
    )


def notice_card(catalog: Catalog, locale: str, key: str, pool: Pool, **params: Any) -> Card:
    """A DM about one pool: promoted, it happens, cancelled, the organizer's summary."""
    t = catalog.t
    count = pool.final_count if pool.final_count is not None else pool.participant_count
    price = money(price_at(tuple((int(a), int(b)) for a, b in pool.tiers), count), pool.currency, locale)
    values = {"title": pool.title, "price": price, "count": count, "minimum": pool.minimum,
              "link": pool.link, **params}
    return Card(
        title=t(locale, f"pooling.dm.{key}_title", **values),
        text=t(locale, f"pooling.dm.{key}", **values),
        color=COLOR,
    )


PAGE = 25  # participants per page of the payments card (a Discord select holds 25 options)


def payments_card(catalog: Catalog, locale: str, pool: Pool, rows: list[Payer], page: int,
                  *, timezone: str) -> Card:
    """The organizer's private payment list: who has paid, a select to tick them, the one reminder.

    `timezone` (the community's) and `locale` also write the reminder's date in the plain text (Slack's).
    """
    t = catalog.t
    count = pool.final_count if pool.final_count is not None else pool.participant_count
    price = money(price_at(tuple((int(a), int(b)) for a, b in pool.tiers), count), pool.currency, locale)
    paid = sum(1 for row in rows if row.paid)
    pages = max(1, -(-len(rows) // PAGE))
    page = min(max(page, 0), pages - 1)
    shown = rows[page * PAGE:(page + 1) * PAGE]
    lines = [f"{'✅' if row.paid else '⏳'} {row.who.name}" for row in shown]
    selects: tuple[Select, ...] = ()
    if shown:
        selects = (Select(
            action_id(FEATURE, "paid", pool.id, page, f"{shown[0].position}-{shown[-1].position}"),
            tuple(Option(str(row.who.member_id), truncate(row.who.name or "—", 100), default=row.paid)
                  for row in shown),
            placeholder=t(locale, "pooling.payments.placeholder"), min_values=0, max_values=len(shown),
        ),)
    actions: list[Action] = []
    if page > 0:
        actions.append(Action(action_id(FEATURE, "payments", pool.id, page - 1),
                              t(locale, "pooling.buttons.previous")))
    if page + 1 < pages:
        actions.append(Action(action_id(FEATURE, "payments", pool.id, page + 1),
                              t(locale, "pooling.buttons.next")))
    if pool.payment_reminder_at is None and paid < len(rows):
        actions.append(Action(action_id(FEATURE, "remind", pool.id), t(locale, "pooling.buttons.remind"),
                              "primary"))
    reminded = (t(locale, "pooling.payments.reminded",
                  at=when(pool.payment_reminder_at, "short", locale=locale, timezone=timezone))
                if pool.payment_reminder_at is not None else "")
    text = "\n".join(lines) or t(locale, "pooling.payments.nobody")
    return Card(
        title=t(locale, "pooling.payments.title", title=pool.title),
        text=truncate(f"{text}\n\n{reminded}".strip(), 3000),
        fields=(
            Field(t(locale, "pooling.payments.paid_field"),
                  t(locale, "pooling.payments.paid_count", count=paid, total=len(rows)), inline=True),
            Field(t(locale, "pooling.fields.price"), price, inline=True),
        ),
        footer=t(locale, "pooling.payments.footer", page=page + 1, pages=pages),
        selects=selects,
        actions=tuple(actions),
        color=COLOR,
    )
