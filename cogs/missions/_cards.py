"""The cards of missions (neutral bot.cards.Card), already translated; user text stays plain text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from bot.cards import Action, Card, Field, Option, Select, action_id, truncate
from bot.formatting import format_date, format_money
from bot.i18n import Catalog
from bot.posting import SyncResult
from cogs.matching.teams import Fit, Team
from cogs.missions._missions import CandidateView, ListedMission, MissionView
from cogs.missions._validation import MAX_DESCRIPTION, MAX_NOTE

FEATURE = "missions"
COLORS = {"open": 0x2E86DE, "forming": 0xF39C12, "staffed": 0x27AE60, "closed": 0x7F8C8D, "expired": 0x7F8C8D}
FIELD_MAX = 1024
DESCRIPTION_MAX = MAX_DESCRIPTION  # the whole of what the form accepts
LIST_LINE_MAX = 330  # /missions: 10 lines and the filters within the card's 3,500 characters
# Candidates per page: each with the start of its note (NOTE_SHOWN) within the card's text, a select
# each page. The whole note (MAX_NOTE) is in the author's "new candidate" DM.
CANDIDATES_PAGE = 8
NOTE_SHOWN = 150


def trade_counts(view: MissionView | ListedMission) -> str:
    """Candidates per trade ("Rédaction 2 · Design 1 · SEO 0"): the gap in the team at a glance."""
    return " · ".join(f"{name} {count}" for (_, name, _), count in zip(view.trades, view.counts, strict=True))


def budget_text(catalog: Catalog, locale: str, view: MissionView) -> str:
    t = catalog.t
    if view.budget_kind == "discuss" or view.budget_min is None:
        return t(locale, "missions.budget.discuss")
    low = format_money(view.budget_min, view.currency, locale)
    high = view.budget_max or view.budget_min
    amount = low if view.budget_min == high else f"{low} – {format_money(high, view.currency, locale)}"
    return t(locale, f"missions.budget.{view.budget_kind}", amount=amount)  # fixed | daily


def source_text(catalog: Catalog, locale: str, view: MissionView) -> str:
    if view.source == "platform":
        name = view.platform_name or catalog.t(locale, "missions.source.other_platform")
        return catalog.t(locale, "missions.source.platform", name=name)
    return catalog.t(locale, f"missions.source.{view.source}")


def status_text(catalog: Catalog, locale: str, view: MissionView | ListedMission) -> str:
    if view.status == "closed" and view.outcome:
        return catalog.t(locale, f"missions.outcome.{view.outcome}")
    return catalog.t(locale, f"missions.status.{view.status}")


def mission_card(catalog: Catalog, locale: str, view: MissionView, *, confidential: bool = False) -> Card:
    """The card posted in every channel; closed and expired ones show the outcome and no buttons."""
    t = catalog.t
    fields = [Field(t(locale, "missions.card.trades"), truncate(trade_counts(view), FIELD_MAX))]
    fields.append(Field(t(locale, "missions.card.budget"), budget_text(catalog, locale, view), inline=True))
    when = []
    if view.start_date:
        when.append(t(locale, "missions.card.starts", date=format_date(view.start_date, locale)))
    if view.duration:
        when.append(view.duration)
    if when:
        fields.append(
            Field(t(locale, "missions.card.when"), truncate(" · ".join(when), FIELD_MAX), inline=True)
        )
    place = t(locale, f"missions.work_mode.{view.work_mode}")
    if view.city:
        place = f"{place} · {view.city}"
    fields.append(Field(t(locale, "missions.card.where"), truncate(place, FIELD_MAX), inline=True))
    if view.sector:
        fields.append(Field(t(locale, "missions.card.sector"), view.sector, inline=True))
    if view.skills:
        fields.append(
            Field(
                t(locale, "missions.card.skills"),
                truncate(", ".join(label for _, label in view.skills), FIELD_MAX),
            )
        )
    fields.append(
        Field(t(locale, "missions.card.answer_by"), format_date(view.answer_by, locale), inline=True)
    )
    fields.append(Field(t(locale, "missions.card.source"), source_text(catalog, locale, view), inline=True))
    author = view.author_name or t(locale, "missions.card.former_member")
    shared = t(locale, "missions.card.shared_by", name=author)
    if view.brought_by_name:
        shared = t(locale, "missions.card.brought_by", name=view.brought_by_name, author=author)
    fields.append(Field(t(locale, "missions.card.people"), truncate(shared, FIELD_MAX), inline=True))
    if view.referral_fee:
        fields.append(Field(t(locale, "missions.card.fee"), f"{view.referral_fee} %", inline=True))
    if confidential and view.client_name:
        fields.append(Field(t(locale, "missions.card.client"), view.client_name, inline=True))
    actions: tuple[Action, ...] = ()
    if view.live:
        actions = (
            Action(
                action_id(FEATURE, "interest", view.id), t(locale, "missions.buttons.interest"), "primary"
            ),
            Action(action_id(FEATURE, "withdraw", view.id), t(locale, "missions.buttons.withdraw")),
            Action(action_id(FEATURE, "candidates", view.id), t(locale, "missions.buttons.candidates")),
            Action(action_id(FEATURE, "edit", view.id), t(locale, "missions.buttons.edit")),
            Action(action_id(FEATURE, "close", view.id), t(locale, "missions.buttons.close"), "danger"),
        )
    elif view.status == "staffed":
        actions = (
            Action(action_id(FEATURE, "close", view.id), t(locale, "missions.buttons.close"), "danger"),
        )
    return Card(
        title=truncate(t(locale, "missions.card.title", title=view.title), 256),
        text=truncate(view.description, DESCRIPTION_MAX),
        fields=tuple(fields),
        footer=t(locale, "missions.card.footer", status=status_text(catalog, locale, view), id=view.id),
        actions=actions,
        url=view.link or None,
        color=COLORS.get(view.status),
    )


def _candidate_line(catalog: Catalog, locale: str, view: MissionView, candidate: CandidateView, *,
                    note_max: int = NOTE_SHOWN, departed: bool = False) -> str:
    """A candidate: trades, matching skills, availability, selected, then their note up to `note_max`.

    A note cut short says where the whole of it is (the author's DM of the candidacy).
    """
    t = catalog.t
    names = {trade_id: name for trade_id, name, _ in view.trades}
    trades = ", ".join(names[t_id] for t_id in candidate.trade_ids if t_id in names) or t(
        locale, "missions.candidates.no_trade"
    )
    parts = [f"• {candidate.display_name} — {trades}"]
    profile = candidate.profile
    if profile is not None:
        wanted = {key for key, _ in view.skills}
        matched = [label for key, label in profile.skills if key in wanted]
        if matched:
            parts.append(t(locale, "missions.candidates.skills", skills=", ".join(matched)))
        parts.append(t(locale, f"missions.candidates.availability.{profile.availability}"))
    if candidate.selected:
        parts.append(t(locale, "missions.candidates.selected"))
    if departed:
        parts.append(t(locale, "missions.candidates.departed"))
    line = " · ".join(parts)
    if candidate.note:
        line += "\n  " + t(locale, "missions.candidates.note", note=truncate(candidate.note, note_max))
        if len(candidate.note) > note_max:
            line += " " + t(locale, "missions.candidates.note_in_dm")
    return line


def _range(shown: list[CandidateView]) -> str:
    """The candidacies a page shows, as its select's id carries them: "first-last" (applying order)."""
    return f"{shown[0].candidacy_id}-{shown[-1].candidacy_id}"


def candidate_pages(view: MissionView) -> int:
    return max(1, -(-len(view.candidates) // CANDIDATES_PAGE))


def page_of_candidates(view: MissionView, page: int) -> tuple[int, list[CandidateView]]:
    """The page (clamped) and its candidates: CANDIDATES_PAGE each, in the view's order."""
    page = min(max(page, 0), candidate_pages(view) - 1)
    return page, list(view.candidates[page * CANDIDATES_PAGE:(page + 1) * CANDIDATES_PAGE])


def candidates_card(
    catalog: Catalog, locale: str, view: MissionView, page: int = 0, departed: frozenset[int] = frozenset()
) -> Card:
    """For the author only: each candidate, a select of collaborators and Confirm team.

    Past CANDIDATES_PAGE candidates they come in pages (each line with its note must fit the card,
    and a Discord select holds 25 at most), each with its own select that changes the selection of
    the candidates that page shows only (its id carries them), and Previous / Next. `departed`:
    the members who left the community, marked as such.
    """
    t = catalog.t
    suggest = (
        (Action(action_id(FEATURE, "suggest", view.id), t(locale, "missions.buttons.suggest")),)
        if view.live
        else ()
    )
    if not view.candidates:
        return Card(
            title=t(locale, "missions.candidates.title", title=view.title),
            text=t(locale, "missions.candidates.none"),
            actions=suggest,
        )
    page, shown = page_of_candidates(view, page)
    lines = [_candidate_line(catalog, locale, view, c, departed=c.member_id in departed) for c in shown]
    pages = candidate_pages(view)
    if pages > 1:
        lines.append(t(locale, "missions.list.page", page=f"{page + 1}/{pages}"))
    selects: tuple[Select, ...] = ()
    actions: tuple[Action, ...] = ()
    paging = (
        *((Action(action_id(FEATURE, "candidates", view.id, page - 1), t(locale, "missions.list.previous")),)
          if page > 0 else ()),
        *((Action(action_id(FEATURE, "candidates", view.id, page + 1), t(locale, "missions.list.next")),)
          if page + 1 < pages else ()),
    )
    if view.live:
        options = tuple(
            Option(str(c.member_id), truncate(c.display_name or c.user_id, 100), default=c.selected)
            for c in shown
        )
        selects = (
            Select(
                action_id(FEATURE, "select", view.id, page, _range(shown)),
                options,
                placeholder=t(locale, "missions.candidates.placeholder"),
                min_values=0,
                max_values=len(options),
            ),
        )
        if any(c.selected for c in view.candidates):
            actions = (
                Action(
                    action_id(FEATURE, "confirm", view.id), t(locale, "missions.buttons.confirm"), "success"
                ),
            )
    return Card(
        title=truncate(t(locale, "missions.candidates.title", title=view.title), 256),
        text=truncate(f"{trade_counts(view)}\n\n" + "\n".join(lines), 3500),
        selects=selects,
        actions=(*actions, *paging, *suggest),
    )


def _why(catalog: Catalog, locale: str, view: MissionView, fit: Fit) -> list[str]:
    """Each term of matching's score that counted, in words."""
    t = catalog.t
    labels = dict(view.skills)
    lines = []
    if fit.skills:
        lines.append(
            t(locale, "missions.suggest.why.skills", value=", ".join(labels.get(k, k) for k in fit.skills))
        )
    if fit.available_now:
        lines.append(t(locale, "missions.suggest.why.available_now"))
    elif fit.available_from is not None:
        lines.append(
            t(locale, "missions.suggest.why.available_from", date=format_date(fit.available_from, locale))
        )
    if fit.city:
        lines.append(t(locale, "missions.suggest.why.city", value=view.city))
    elif fit.remote:
        lines.append(t(locale, "missions.suggest.why.remote"))
    if fit.sector:
        lines.append(t(locale, "missions.suggest.why.sector", value=view.sector))
    if fit.rate:
        lines.append(t(locale, "missions.suggest.why.rate"))
    if fit.kudos:
        lines.append(t(locale, "missions.suggest.why.kudos", count=fit.kudos))
    return lines


def suggestion_card(
    catalog: Catalog,
    locale: str,
    view: MissionView,
    team: Team,
    names: Mapping[int, str],
    invited: set[int],
    today: date,
) -> Card:
    """For the author: one proposed member per trade with the why, the next ones, and **Invite them**."""
    t = catalog.t
    trade_names = {trade_id: name for trade_id, name, _ in view.trades}

    def name(member_id: int) -> str:
        shown = names.get(member_id) or t(locale, "missions.card.former_member")
        return t(locale, "missions.suggest.invited_mark", name=shown) if member_id in invited else shown

    fields = []
    for slot in team.slots:
        if slot.chosen is not None:
            why = _why(catalog, locale, view, slot.chosen)
            value = name(slot.chosen.member_id) + (f" — {' · '.join(why)}" if why else "")
            if slot.alternatives:
                others = ", ".join(name(f.member_id) for f in slot.alternatives)
                value += "\n" + t(locale, "missions.suggest.alternatives", names=others)
        else:
            value = t(locale, "missions.suggest.nobody_for_trade")
            closest = [
                t(
                    locale,
                    "missions.suggest.closest",
                    name=name(f.member_id),
                    why=", ".join(_blocker(catalog, locale, f, b.value) for b in f.blockers),
                )
                for f in slot.closest
            ]
            if closest:
                value += "\n" + "\n".join(closest)
        fields.append(Field(truncate(trade_names.get(slot.trade_id, "?"), 256), truncate(value, FIELD_MAX)))
    waiting = [
        s.chosen.member_id for s in team.slots if s.chosen is not None and s.chosen.member_id not in invited
    ]
    actions = (
        (Action(action_id(FEATURE, "invite", view.id), t(locale, "missions.buttons.invite"), "primary"),)
        if waiting
        else ()
    )
    return Card(
        title=truncate(t(locale, "missions.suggest.title", title=view.title), 256),
        text=t(locale, "missions.suggest.text" if team.members else "missions.suggest.empty"),
        fields=tuple(fields),
        actions=actions,
    )


def _blocker(catalog: Catalog, locale: str, fit: Fit, blocker: str) -> str:
    if blocker == "later" and fit.available_from is not None:
        return catalog.t(
            locale, "missions.suggest.blocker.later", date=format_date(fit.available_from, locale)
        )
    return catalog.t(locale, f"missions.suggest.blocker.{blocker}")


def invitation_dm(catalog: Catalog, locale: str, view: MissionView, trade: str) -> Card:
    """To a member proposed by **Suggest a team**: the mission (no confidential field) and I'm interested."""
    t = catalog.t
    card = mission_card(catalog, locale, view)
    author = view.author_name or t(locale, "missions.card.former_member")
    return Card(
        title=truncate(t(locale, "missions.dm.invited", title=view.title), 256),
        text=truncate(t(locale, "missions.dm.invited_text", author=author, trade=trade), 2000),
        fields=card.fields,
        url=card.url,
        actions=(
            Action(
                action_id(FEATURE, "interest", view.id), t(locale, "missions.buttons.interest"), "primary"
            ),
            Action(action_id(FEATURE, "decline", view.id), t(locale, "missions.buttons.decline")),
        ),
    )


def declined_dm(catalog: Catalog, locale: str, mission_id: int, title: str, name: str) -> Card:
    """To the author: an invited member declined; Suggest a team proposes someone else."""
    t = catalog.t
    return Card(
        title=truncate(t(locale, "missions.dm.declined", name=name, title=title), 256),
        text=t(locale, "missions.dm.declined_text"),
        actions=(Action(action_id(FEATURE, "suggest", mission_id), t(locale, "missions.buttons.suggest")),),
    )


def close_card(catalog: Catalog, locale: str, view: MissionView) -> Card:
    t = catalog.t
    return Card(
        title=truncate(t(locale, "missions.close.title", title=view.title), 256),
        text=t(locale, "missions.close.text"),
        actions=tuple(
            Action(
                action_id(FEATURE, "closeas", view.id, outcome),
                t(locale, f"missions.outcome.{outcome}"),
                "danger" if outcome == "cancelled" else "secondary",
            )
            for outcome in ("won", "lost", "cancelled")
        ),
    )


def candidacy_dm(catalog: Catalog, locale: str, view: MissionView, candidate: CandidateView) -> Card:
    """To the author: a new candidate, with their profile summary and their whole note."""
    t = catalog.t
    return Card(
        title=truncate(
            t(locale, "missions.dm.new_candidate", name=candidate.display_name, title=view.title), 256
        ),
        text=_candidate_line(catalog, locale, view, candidate, note_max=MAX_NOTE),
        actions=(
            Action(action_id(FEATURE, "candidates", view.id), t(locale, "missions.buttons.candidates")),
        ),
    )


def selected_dm(catalog: Catalog, locale: str, view: MissionView) -> Card:
    """To each selected member: the team is confirmed, with the confidential details."""
    card = mission_card(catalog, locale, view, confidential=True)
    t = catalog.t
    team = ", ".join(c.display_name for c in view.candidates if c.selected)
    # The author who deleted their data is "a former member"; their client's name went with it.
    author = view.author_name or t(locale, "missions.card.former_member")
    key = "missions.dm.selected_text" if view.client_name else "missions.dm.selected_text_public"
    text = t(locale, key, author=author, team=team)
    return Card(
        title=truncate(t(locale, "missions.dm.selected", title=view.title), 256),
        text=text[:1].upper() + text[1:],
        fields=card.fields,
        url=card.url,
    )


def unreached_dm(catalog: Catalog, locale: str, mission_id: int, title: str, names: Sequence[str], *,
                 invited: bool) -> Card:
    """To the author: these members did not get the team's details (`invited`: the invitation).

    Their DMs are closed, or they left the community: the author contacts them another way, or (an
    invitation) lets **Suggest a team** propose someone else.
    """
    t = catalog.t
    what = "invitation" if invited else "team"
    actions = (
        (Action(action_id(FEATURE, "suggest", mission_id), t(locale, "missions.buttons.suggest")),)
        if invited else ()
    )
    return Card(
        title=truncate(t(locale, f"missions.dm.unreached_{what}", title=title), 256),
        text=truncate(t(locale, f"missions.dm.unreached_{what}_text", names=", ".join(names),
                        count=len(names)), 2000),
        actions=actions,
    )


def not_selected_dm(catalog: Catalog, locale: str, view: MissionView) -> Card:
    t = catalog.t
    return Card(
        title=truncate(t(locale, "missions.dm.not_selected", title=view.title), 256),
        text=t(locale, "missions.dm.not_selected_text"),
    )


def warning_dm(catalog: Catalog, locale: str, view: MissionView, days: int) -> Card:
    t = catalog.t
    return Card(
        title=truncate(t(locale, "missions.dm.warning", title=view.title), 256),
        text=t(locale, "missions.dm.warning_text", date=format_date(view.answer_by, locale), count=days),
        actions=(
            Action(action_id(FEATURE, "extend", view.id), t(locale, "missions.buttons.extend"), "primary"),
            Action(action_id(FEATURE, "close", view.id), t(locale, "missions.buttons.close"), "danger"),
        ),
    )


def expired_dm(catalog: Catalog, locale: str, view: MissionView) -> Card:
    t = catalog.t
    return Card(
        title=truncate(t(locale, "missions.dm.expired", title=view.title), 256),
        text=t(locale, "missions.dm.expired_text"),
    )


def _shown_filter(catalog: Catalog, locale: str, name: str, value: str) -> str:
    t = catalog.t
    if name == "mode":
        value = t(locale, f"missions.work_mode.{value}")
    elif name == "status":
        value = t(locale, f"missions.status.{value}")
    elif name == "start":
        value = format_date(date.fromisoformat(value), locale)
    return t(locale, f"missions.list.filter.{name}", value=value)


def list_card(
    catalog: Catalog,
    locale: str,
    missions: Sequence[ListedMission],
    *,
    page: int,
    token: str | None,
    previous: str | None = None,
    following: str | None = None,
    scope: str = "all",
    shown: Sequence[tuple[str, str]] = (),
) -> Card:
    """/missions: one line per mission, the filters searched, Previous / Next carrying the stored search.

    `previous` / `following`: where those pages start (`_search.Cursor.text()`), None when there is none.
    """
    t = catalog.t
    searched = [t(locale, f"missions.list.scope.{scope}")] if scope != "all" else []
    searched += [_shown_filter(catalog, locale, name, value) for name, value in shown]
    heading = t(locale, "missions.list.filters", filters=" · ".join(searched)) if searched else ""
    actions = []
    if token is not None and previous is not None:
        actions.append(Action(action_id(FEATURE, "page", max(page - 1, 0), token, previous),
                              t(locale, "missions.list.previous")))
    if token is not None and following is not None:
        actions.append(Action(action_id(FEATURE, "page", page + 1, token, following),
                              t(locale, "missions.list.next")))
    if not missions:  # none at all, or none left after the page read (closed meanwhile): Previous stays
        return Card(
            title=t(locale, "missions.list.title"),
            text="\n".join(p for p in (heading, t(locale, "missions.list.none")) if p),
            actions=tuple(actions),
        )
    lines = [
        t(
            locale,
            "missions.list.line",
            id=v.id,
            title=v.title,
            trades=trade_counts(v),
            date=format_date(v.answer_by, locale),
            status=status_text(catalog, locale, v),
        )[:LIST_LINE_MAX]  # bounded: a page's ten lines always fit, none is cut off between two pages
        for v in missions
    ]
    return Card(
        title=t(locale, "missions.list.title"),
        text=truncate("\n".join(p for p in (heading, *lines) if p), 3500),
        footer=t(locale, "missions.list.page", page=page + 1),
        actions=tuple(actions),
    )


def problem_lines(
    catalog: Catalog, locale: str, problems: Mapping[str, tuple[str, dict[str, Any]]]
) -> list[str]:
    return catalog.problem_lines(locale, problems, "missions")


def problems_text(catalog: Catalog, locale: str, problems: Mapping[str, tuple[str, dict[str, Any]]]) -> str:
    return catalog.problems_text(locale, problems, "missions")


def outcome_text(
    catalog: Catalog,
    locale: str,
    result: SyncResult | None,
    *,
    created: bool,
    channel_names: Mapping[str, str],
    similar: tuple[int, str] | None = None,
) -> str:
    """What the author is told after saving: where the cards went, which channel failed, a look-alike."""
    t = catalog.t
    lines = [t(locale, "missions.saved.created" if created else "missions.saved.updated")]
    if result is not None:
        if result.posted:
            lines.append(t(locale, "missions.saved.posted", count=len(result.posted)))
        if result.edited:
            lines.append(t(locale, "missions.saved.edited", count=len(result.edited)))
        if result.failed:
            names = ", ".join(f"#{channel_names.get(c, c)}" for c in result.failed)
            lines.append(t(locale, "missions.saved.failed", channels=names, count=len(result.failed)))
        if result.retrying:  # the platform failed for now: not a moderator's business
            names = ", ".join(f"#{channel_names.get(c, c)}" for c in result.retrying)
            lines.append(t(locale, "missions.saved.retrying", channels=names, count=len(result.retrying)))
    if similar is not None:
        lines.append(t(locale, "missions.saved.similar", id=similar[0], title=similar[1]))
    return "\n".join(lines)


def next_post_text(catalog: Catalog, locale: str, when: date) -> str:
    return catalog.t(locale, "missions.errors.weekly_limit", date=format_date(when, locale))
