"""The cards pairing shows: a group's welcome, the round announcement, the check-in, history and stats."""

from __future__ import annotations

import zlib
from datetime import datetime

from bot.cards import Action, Card, Field, action_id, fields_for, plain_when, truncate, when
from bot.formatting import format_percent
from bot.i18n import Catalog
from cogs.intros.profiles import ProfileView
from cogs.pairing._store import Stats
from cogs.pairing.models import OUTCOMES

STARTERS = 6  # pairing.starters.1 … .6 in each catalog
COLOR = 0xE67E22


def opt_button(catalog: Catalog, locale: str, on: bool, group_id: int | None = None) -> Action:
    choice = "in" if on else "out"
    return Action(
        action_id("pairing", "opt", choice, *(() if group_id is None else (group_id,))),
        catalog.t(locale, f"pairing.buttons.opt_{choice}"),
        style="primary" if on else "secondary",
    )


def starter(catalog: Catalog, locale: str, group_id: int) -> str:
    number = zlib.crc32(str(group_id).encode()) % STARTERS + 1  # stable for a group, varied across groups
    return catalog.t(locale, f"pairing.starters.{number}")


def summary(catalog: Catalog, locale: str, view: ProfileView) -> Field:
    parts = [", ".join(name for _, name, _ in view.trades) or catalog.t(locale, "pairing.card.no_trade")]
    if view.city:
        parts.append(view.city)
    if view.bio:
        parts.append(truncate(view.bio, 300))
    return Field(truncate(view.display_name, 256) or "…", truncate("\n".join(parts), 1024))


def space_name(catalog: Catalog, locale: str, names: list[str], *, former: int = 0) -> str:
    """The group's private space's name ("Café : Alice, Bob").

    A member who deleted their data since is "a former member" there too.
    """
    everyone = [*names, *[catalog.t(locale, "pairing.card.former_member")] * former]
    return catalog.t(locale, "pairing.card.space_name", names=", ".join(everyone))


def group_card(
    catalog: Catalog,
    locale: str,
    group_id: int,
    views: list[ProfileView],
    names: list[str],
    intro: str,
    *,
    former: int = 0,
) -> Card:
    """A group's welcome; `former`: members who deleted their data since, named only "a former member"."""
    everyone = [*names, *[catalog.t(locale, "pairing.card.former_member")] * former]
    text = [catalog.t(locale, "pairing.card.welcome", names=", ".join(everyone))]
    if intro:
        text.append(intro)
    text.append(catalog.t(locale, "pairing.card.starter", starter=starter(catalog, locale, group_id)))
    return Card(
        title=catalog.t(locale, "pairing.card.title"),
        text="\n\n".join(text),
        fields=tuple(summary(catalog, locale, v) for v in views),
        footer=catalog.t(locale, "pairing.card.footer"),
        actions=(opt_button(catalog, locale, False, group_id),),
        color=COLOR,
    )


def announcement(catalog: Catalog, locale: str, seq: int, groups: int, people: int) -> Card:
    return Card(
        title=catalog.t(locale, "pairing.announce.title", number=seq),
        text=catalog.t(locale, "pairing.announce.text", count=groups, people=people),
        actions=(opt_button(catalog, locale, True),),
        color=COLOR,
    )


def skipped_card(catalog: Catalog, locale: str, eligible: int) -> Card:
    return Card(
        title=catalog.t(locale, "pairing.skipped.title"),
        text=catalog.t(locale, "pairing.skipped.text", count=eligible),
        actions=(opt_button(catalog, locale, True),),
    )


def checkin_card(catalog: Catalog, locale: str, group_id: int) -> Card:
    return Card(
        title=catalog.t(locale, "pairing.checkin.title"),
        text=catalog.t(locale, "pairing.checkin.text"),
        actions=(
            *(
                Action(
                    action_id("pairing", "met", group_id, o),
                    catalog.t(locale, f"pairing.outcomes.{o}"),
                    style="success" if o == "met" else "secondary",
                )
                for o in OUTCOMES
            ),
            opt_button(catalog, locale, False, group_id),
        ),
        color=COLOR,
    )


def opt_text(catalog: Catalog, locale: str, *, on: bool, rounds_on: bool, next_round: datetime | None,
             timezone: str) -> str:
    """The answer to "Pair me" / "Stop pairing me": no promise of rounds while a moderator has them off."""
    if not on:
        return catalog.t(locale, "pairing.opt.out")
    if not rounds_on:
        return catalog.t(locale, "pairing.opt.in_off")
    text = catalog.t(locale, "pairing.opt.in")
    if next_round is not None:  # a plain reply carries no platform date: the community's zone, in words
        at = plain_when(int(next_round.timestamp()), "full", locale, timezone)
        text = f"{text} {catalog.t(locale, 'pairing.opt.next_round', when=at)}"
    return text


def history_card(
    catalog: Catalog,
    locale: str,
    *,
    opted_in: bool | None,
    snoozed_rounds: int,
    rounds: list[tuple[object, list[str]]],
    avoided: list[str | None],  # None: a member who deleted their data since
    rounds_on: bool = True,
    next_round: datetime | None = None,
) -> Card:
    t = catalog.t
    if opted_in is None:
        status = t(locale, "pairing.history.no_profile")
    elif not opted_in:
        status = t(locale, "pairing.history.opted_out")
    elif not rounds_on:
        status = t(locale, "pairing.history.opted_in_off")
    elif snoozed_rounds:
        status = t(locale, "pairing.history.snoozed", count=snoozed_rounds)
    else:
        status = t(locale, "pairing.history.opted_in")
    if opted_in and rounds_on and not snoozed_rounds and next_round is not None:
        status += "\n" + t(locale, "pairing.history.next_round", when=when(next_round, "full"))
    avoided_names = [name or t(locale, "pairing.card.former_member") for name in avoided]
    lines = [
        t(locale, "pairing.history.line", when=when(at, "date"), names=", ".join(names) or "—")  # type: ignore[arg-type]
        for at, names in rounds
    ]
    fields = [
        Field(t(locale, "pairing.history.status"), status),
        Field(
            t(locale, "pairing.history.partners"),
            truncate("\n".join(lines), 1024) or t(locale, "pairing.history.none"),
        ),
        *fields_for(t(locale, "pairing.history.avoided"),
                    avoided_names or [t(locale, "pairing.history.none")], ", "),
    ]
    return Card(
        title=t(locale, "pairing.history.title"),
        fields=tuple(fields),
        actions=(opt_button(catalog, locale, not opted_in),) if opted_in is not None else (),
        color=COLOR,
    )


def stats_card(catalog: Catalog, locale: str, stats: Stats) -> Card:
    t = catalog.t
    per_round = "\n".join(
        t(locale, "pairing.stats.round_line", number=s, count=n) for s, n in stats.per_round
    )
    share = format_percent(stats.met / stats.groups, locale) if stats.groups else "—"
    never = ", ".join(stats.never_paired[:20])
    if len(stats.never_paired) > 20:
        never += t(locale, "pairing.stats.more", count=len(stats.never_paired) - 20)
    fields = (
        Field(t(locale, "pairing.stats.rounds"), str(stats.rounds), inline=True),
        Field(
            t(locale, "pairing.stats.met"),
            t(
                locale,
                "pairing.stats.met_value",
                share=share,
                count=stats.answered,
                met=stats.met,
                groups=stats.groups,
            ),
            inline=True,
        ),
        Field(t(locale, "pairing.stats.new_cross"), str(stats.new_cross), inline=True),
        Field(t(locale, "pairing.stats.per_round"), per_round or "—"),
        Field(t(locale, "pairing.stats.never", count=len(stats.never_paired)), truncate(never, 1024) or "—"),
    )
    return Card(title=t(locale, "pairing.stats.title"), fields=fields, color=COLOR)
