"""The cards of peer feedback, already translated; user text stays plain (the renderers escape it)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from bot.cards import Action, Card, Field, action_id, fields_for, truncate, when
from bot.formatting import format_date, format_month
from bot.i18n import Catalog
from cogs.feedback._kinds import checklist
from cogs.feedback._store import FEATURE, AnswerView, RequestView

FIELD_MAX = 1024
TOP_FIELDS = 25  # an embed's most fields
OPEN_COLOR, CLOSED_COLOR, ANSWER_COLOR = 0x2E86DE, 0x7F8C8D, 0x27AE60


def checklist_text(catalog: Catalog, locale: str, kind: str) -> str:
    return "\n".join(f"• {catalog.t(locale, f'feedback.items.{item}')}" for item in checklist(kind))


def request_card(catalog: Catalog, locale: str, view: RequestView) -> Card:
    """The card in the channel: what to look at, the checklist, and the buttons while it is open."""
    t = catalog.t
    fields = [
        Field(t(locale, "feedback.card.kind"), t(locale, f"feedback.kinds.{view.kind}"), inline=True),
        Field(t(locale, "feedback.card.by"), view.requester.name, inline=True),
    ]
    if view.due_on is not None:
        fields.append(Field(t(locale, "feedback.card.due"), format_date(view.due_on, locale), inline=True))
    attached = (t(locale, "feedback.card.file", name=view.file_name),) if view.file_name else ()
    shown = (*view.links, *attached)
    fields.extend(fields_for(t(locale, "feedback.card.links"), shown))  # what reviewers must open
    fields.append(Field(t(locale, "feedback.card.checklist"), checklist_text(catalog, locale, view.kind)))
    fields.append(
        Field(
            t(locale, "feedback.card.answers"),
            t(locale, "feedback.card.answer_count", count=view.answers),
            inline=True,
        )
    )
    actions: tuple[Action, ...] = ()
    if view.is_open:
        actions = (
            Action(action_id(FEATURE, "answer", view.id), t(locale, "feedback.buttons.answer"), "primary"),
        )
        if view.allow_anonymous:
            actions += (
                Action(
                    action_id(FEATURE, "answer", view.id, "anon"),
                    t(locale, "feedback.buttons.answer_anonymous"),
                ),
            )
        actions += (
            Action(action_id(FEATURE, "close", view.id), t(locale, "feedback.buttons.close"), "danger"),
        )
    footer = t(locale, "feedback.card.footer_open" if view.is_open else "feedback.card.footer_closed")
    return Card(
        title=truncate(t(locale, "feedback.card.title", title=view.title), 256),
        text=truncate(view.question, 4000),
        fields=tuple(fields),
        footer=footer,
        actions=actions,
        color=OPEN_COLOR if view.is_open else CLOSED_COLOR,
    )


def answer_card(
    catalog: Catalog,
    locale: str,
    request: RequestView,
    answer: AnswerView,
    *,
    threaded: bool = True,
    card_url: str | None = None,
) -> Card:
    """An answer in the thread, attributed or anonymous.

    When threads are refused it is posted in the channel as a reply to the card: its footer names the
    request and its title links to the card.
    """
    t = catalog.t
    if answer.author is None:
        who = t(locale, "feedback.answer.former_member")
    elif answer.anonymous:
        who = t(locale, "feedback.answer.anonymous_peer")
    else:
        who = answer.author.name
    fields = tuple(
        Field(
            t(locale, f"feedback.items.{item}"),
            "★" * answer.ratings[item] + "☆" * (5 - answer.ratings[item]),
            inline=True,
        )
        for item in checklist(request.kind)
        if item in answer.ratings
    )
    actions: tuple[Action, ...] = ()
    if answer.author is not None and not answer.helpful and request.is_open:
        actions = (
            Action(
                action_id(FEATURE, "helpful", answer.id), t(locale, "feedback.buttons.helpful"), "success"
            ),
        )
    if answer.anonymous and answer.author is not None:
        actions += (Action(action_id(FEATURE, "who", answer.id), t(locale, "feedback.buttons.who")),)
    footer = t(locale, "feedback.answer.helpful") if answer.helpful else ""
    if not threaded:
        footer = " · ".join(
            p for p in (t(locale, "feedback.answer.reply_to", title=request.title), footer) if p
        )
    return Card(
        title=truncate(t(locale, "feedback.answer.title", name=who), 256),
        text=truncate(answer.text or t(locale, "feedback.answer.removed"), 4000),
        fields=fields,
        footer=truncate(footer, 2048),
        actions=actions,
        url=None if threaded else card_url,
        color=ANSWER_COLOR,
    )


def nudge_card(catalog: Catalog, locale: str, view: RequestView, since: datetime, *, timezone: str) -> Card:
    """The reminder posted under an unanswered request.

    `timezone` (the community's) and `locale` also write the date of the notification text.
    """
    t = catalog.t
    actions = (
        Action(action_id(FEATURE, "answer", view.id), t(locale, "feedback.buttons.answer"), "primary"),
    )
    return Card(
        title=truncate(t(locale, "feedback.nudge.title", title=view.title), 256),
        text=t(
            locale,
            "feedback.nudge.text",
            kind=t(locale, f"feedback.kinds.{view.kind}"),
            since=when(since, "relative", locale=locale, timezone=timezone),
        ),
        actions=actions,
    )


def due_card(catalog: Catalog, locale: str, view: RequestView) -> Card:
    t = catalog.t
    return Card(
        title=truncate(t(locale, "feedback.due.title", title=view.title), 256),
        text=t(locale, "feedback.due.text", count=view.answers),
        actions=(
            Action(action_id(FEATURE, "close", view.id), t(locale, "feedback.buttons.close"), "danger"),
        ),
    )


def thanks_card(catalog: Catalog, locale: str, view: RequestView) -> Card:
    """The closing note: reviewers thanked by name; the others (anonymous, or since deleted) counted."""
    t = catalog.t
    names, anonymous = ", ".join(view.reviewers), view.anonymous_answers + view.former_answers
    if view.reviewers and anonymous:
        text = t(locale, "feedback.closed.thanks_both", names=names, count=anonymous)
    elif view.reviewers:
        text = t(locale, "feedback.closed.thanks_named", names=names, count=len(view.reviewers))
    elif anonymous:
        text = t(locale, "feedback.closed.thanks_anonymous", count=anonymous)
    else:
        text = t(locale, "feedback.closed.no_answer")
    return Card(title=truncate(t(locale, "feedback.closed.title", title=view.title), 256), text=text)


def answered_dm(catalog: Catalog, locale: str, view: RequestView, who: str, link: str | None) -> Card:
    t = catalog.t
    return Card(
        title=truncate(t(locale, "feedback.answered.title", title=view.title), 256),
        text=t(locale, "feedback.answered.text", name=who),
        url=link,
        actions=(
            Action(action_id(FEATURE, "link", view.id), t(locale, "feedback.buttons.see"), "link", url=link),
        )
        if link
        else (),
    )


def kudos_card(
    catalog: Catalog,
    locale: str,
    name: str,
    total: int,
    by_kind: Counter[str],
    by_month: list[tuple[date, int]],
) -> Card:
    t = catalog.t
    fields = []
    if by_kind:
        fields.append(
            Field(
                t(locale, "feedback.kudos.by_kind"),
                "\n".join(t(locale, "feedback.kudos.kind_line", count=n,
                            kind=t(locale, f"feedback.kinds.{kind}"))
                          for kind, n in by_kind.most_common()),
            )
        )
    if by_month:
        fields.append(
            Field(
                t(locale, "feedback.kudos.by_month"),
                "\n".join(t(locale, "feedback.kudos.month_line", month=format_month(month, locale), count=n)
                          for month, n in by_month),
            )
        )
    return Card(
        title=truncate(t(locale, "feedback.kudos.title", name=name), 256),
        text=t(locale, "feedback.kudos.total", count=total),
        fields=tuple(fields),
    )


def top_card(catalog: Catalog, locale: str, month: date, rows: list[tuple[str | None, str, int]]) -> Card:
    t = catalog.t
    grouped: dict[str, list[str]] = {}
    no_trade = t(locale, "feedback.top.no_trade")
    for trade, name, n in rows:
        grouped.setdefault(trade or no_trade, []).append(t(locale, "feedback.top.line", name=name, count=n))
    # A field per trade; past 24, the other trades share the last field, each line naming its trade.
    groups = list(grouped.items())
    fields = [Field(trade, truncate("\n".join(lines), FIELD_MAX)) for trade, lines in groups[:TOP_FIELDS - 1]]
    if len(groups) == TOP_FIELDS:
        fields.append(Field(groups[-1][0], truncate("\n".join(groups[-1][1]), FIELD_MAX)))
    elif len(groups) > TOP_FIELDS:
        others = [f"{trade} — {line}" for trade, lines in groups[TOP_FIELDS - 1:] for line in lines]
        fields.extend(fields_for(t(locale, "feedback.top.others"), others)[:1])
    return Card(
        title=t(locale, "feedback.top.title", month=format_month(month, locale)),
        text="" if rows else t(locale, "feedback.top.empty"),
        fields=tuple(fields),
    )
