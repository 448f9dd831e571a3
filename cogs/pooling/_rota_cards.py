"""The cards of the rota: /tasks with Volunteer / Stop, a holder's DM with Done / Can't, the moderators'."""

from __future__ import annotations

from bot.cards import Action, Card, Field, action_id, truncate, when
from bot.i18n import Catalog
from cogs.pooling._rota_store import FEATURE_ROTA, Tally, TaskRow
from cogs.pooling.models import DONE, MODERATORS, PENDING, RotaTask, RotaTurn

COLOR = 0x8E44AD
FIELD_MAX = 1024
LABEL_MAX = 75  # a button's label: Slack's most (Discord allows 80)
EMBED_BUDGET = 5400  # of Discord's 6,000 per embed: the title, the intro and the field names' margin


def cadence_text(catalog: Catalog, locale: str, task: RotaTask) -> str:
    day = catalog.t(locale, f"pooling.tasks.weekdays.{task.weekday}")
    return catalog.t(locale, f"pooling.tasks.cadences.{task.cadence}", day=day)


def _middle(text: str, limit: int) -> str:
    """`text` cut to `limit` in its middle: two names differing only at the end stay apart."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return f"{text[:head]}…{text[len(text) - (limit - 1 - head):]}"


def tasks_card(catalog: Catalog, locale: str, rows: list[TaskRow]) -> Card:
    """Every task: its cadence, who may take it, its next turn and holder; a Volunteer / Stop button each.

    Each task's field gets its share of the embed's 6,000 characters (20 tasks at their longest fit);
    the whole description is in the holder's DM.
    """
    t = catalog.t
    fields: list[Field] = []
    actions: list[Action] = []
    share = EMBED_BUDGET // max(1, len(rows))
    for row in rows:
        task = row.task
        lines = [cadence_text(catalog, locale, task)]
        if task.description:
            lines.append(truncate(task.description, 100))
        if row.trades:
            lines.append(t(locale, "pooling.tasks.card.trades", names=", ".join(row.trades)))
        if row.turn is not None:
            holder = row.holder.name if row.holder else t(locale, "pooling.tasks.card.nobody")
            due = when(row.turn.due_at, "full")
            lines.append(t(locale, "pooling.tasks.card.next", when=due, name=holder))
        lines.append(t(locale, "pooling.tasks.card.volunteers", count=row.volunteers))
        if row.mine:
            lines.append(t(locale, "pooling.tasks.card.you_volunteer"))
        name = truncate(task.name, 256)
        fields.append(Field(name, truncate("\n".join(lines), max(40, min(FIELD_MAX, share - len(name))))))
        verb, key, style = (("task_stop", "pooling.tasks.buttons.stop", "secondary") if row.mine
                            else ("task_join", "pooling.tasks.buttons.volunteer", "success"))
        room = LABEL_MAX - len(t(locale, key, name=""))
        actions.append(Action(action_id(FEATURE_ROTA, verb, task.id),
                              truncate(t(locale, key, name=_middle(task.name, room)), LABEL_MAX), style))
    return Card(
        title=t(locale, "pooling.tasks.card.title"),
        text=t(locale, "pooling.tasks.card.intro") if rows else t(locale, "pooling.tasks.card.empty"),
        fields=tuple(fields),
        actions=tuple(actions),
        color=COLOR,
    )


def turn_card(catalog: Catalog, locale: str, task: RotaTask, turn: RotaTurn, *, timezone: str,
              passed: bool = False) -> Card:
    """The holder's DM: the task, when it is due, Done / Can't this time.

    `timezone` (the community's) and `locale` also write the date of the notification text.
    """
    t = catalog.t
    zone = {"locale": locale, "timezone": timezone}
    text = t(locale, "pooling.tasks.dm.text", name=task.name, when=when(turn.due_at, "full", **zone),
             relative=when(turn.due_at, "relative", **zone))
    if passed:
        text = f"{t(locale, 'pooling.tasks.dm.passed')}\n{text}"
    if task.description:
        text = f"{text}\n\n{truncate(task.description, 1000)}"
    actions: tuple[Action, ...] = ()
    if turn.status == PENDING:
        actions = (
            Action(action_id(FEATURE_ROTA, "task_done", turn.id), t(locale, "pooling.tasks.buttons.done"),
                   "success"),
            Action(action_id(FEATURE_ROTA, "task_cant", turn.id), t(locale, "pooling.tasks.buttons.cant")),
        )
    return Card(title=t(locale, "pooling.tasks.dm.title", name=task.name), text=text, actions=actions,
                color=COLOR)


def moderators_card(catalog: Catalog, locale: str, task: RotaTask, turn: RotaTurn, reason: str,
                    declined: str = "", *, timezone: str, by_dm: bool = False) -> Card:
    """The moderators' log: nobody volunteers, or the turn came back after Can't (`by_dm`: a DM, and why).

    `timezone` (the community's) and `locale` also write the date of the notification text.
    """
    t = catalog.t
    text = t(locale, f"pooling.tasks.moderators.{reason}", name=task.name,
             when=when(turn.due_at, "full", locale=locale, timezone=timezone), declined=declined)
    if by_dm:
        text = f"{text}\n\n{t(locale, 'pooling.tasks.moderators.by_dm')}"
    return Card(
        title=t(locale, f"pooling.tasks.moderators.{reason}_title", name=task.name),
        text=text,
        color=COLOR,
    )


STATUS_MARK = {DONE: "✅", PENDING: "⏳", MODERATORS: "⚠️"}


def history_card(catalog: Catalog, locale: str,
                 tasks: list[tuple[RotaTask, list[Tally], list[tuple[RotaTurn, str | None]]]]) -> Card:
    """The moderators' short history: per task, who did it how often and when last, and the latest turns."""
    t = catalog.t
    fields: list[Field] = []
    for task, counted, recent in tasks:
        lines = [t(locale, "pooling.tasks.history.tally", name=c.name, count=c.done)
                 + (f" · {when(c.last_done, 'date')}" if c.last_done else "") for c in counted[:10]]
        if not lines:
            lines.append(t(locale, "pooling.tasks.history.none"))
        turns = [f"{STATUS_MARK.get(turn.status, '✖️')} {when(turn.due_at, 'date')} "
                 f"{name or t(locale, 'pooling.tasks.card.nobody')}" for turn, name in recent]
        if turns:
            lines.append(t(locale, "pooling.tasks.history.recent") + "\n" + "\n".join(turns))
        fields.append(Field(truncate(task.name, 256), truncate("\n".join(lines), FIELD_MAX)))
    return Card(
        title=t(locale, "pooling.tasks.history.title"),
        text="" if tasks else t(locale, "pooling.tasks.card.empty"),
        fields=tuple(fields),
        color=COLOR,
    )


def added_card(catalog: Catalog, locale: str, task: RotaTask, turn: RotaTurn, *, timezone: str,
               modlog: bool = True) -> Card:
    """The moderator's answer to /tasks add: the task, its first turn, and where reports go without a log.

    `timezone` (the community's) and `locale` also write the date of the message's plain text (Slack's).
    """
    t = catalog.t
    text = t(locale, "pooling.tasks.added", cadence=cadence_text(catalog, locale, task),
             when=when(turn.due_at, "full", locale=locale, timezone=timezone))
    if not modlog:
        text = f"{text}\n\n{t(locale, 'pooling.tasks.no_modlog')}"
    return Card(title=t(locale, "pooling.tasks.added_title", name=task.name), text=text, color=COLOR)
