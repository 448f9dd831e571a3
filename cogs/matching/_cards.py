"""The /match answer: one field per slot with the proposed member and why, alternatives or closest options."""

from __future__ import annotations

from bot import formatting
from bot.cards import Action, Card, Field, action_id, truncate
from bot.i18n import Catalog
from cogs.matching._invite import Invited
from cogs.matching._match import Answer
from cogs.matching._space import request_summary, request_title
from cogs.matching._store import ROTATION_WINDOW
from cogs.matching._team import Blocker, Fit, SlotProposal

FEATURE = "matching"
FIELD_MAX = 1000


def invite_action_id(token: str) -> str:
    return action_id(FEATURE, "invite", token)


def _name(catalog: Catalog, locale: str, answer: Answer, member_id: int) -> str:
    return answer.people.get(member_id, ("", ""))[1] or catalog.t(locale, "matching.card.unnamed")


def why(catalog: Catalog, locale: str, answer: Answer, f: Fit) -> list[str]:
    """Each term of the score that counted, in words."""
    t = catalog.t
    resolved = answer.resolved
    lines = []
    if f.skills:
        labels = dict(zip(resolved.skill_keys, resolved.skill_labels, strict=False))
        lines.append(t(locale, "matching.why.skills", value=", ".join(labels.get(k, k) for k in f.skills)))
    if f.available_now:
        lines.append(t(locale, "matching.why.available_now"))
    elif f.available_from is not None:
        lines.append(t(locale, "matching.why.available_from",
                       date=formatting.format_date(f.available_from, locale)))
    if f.city:
        lines.append(t(locale, "matching.why.city", value=resolved.city))
    elif f.remote:
        lines.append(t(locale, "matching.why.remote"))
    if f.sector:
        lines.append(t(locale, "matching.why.sector", value=resolved.sector_name))
    if f.rate:
        lines.append(t(locale, "matching.why.rate"))
    if f.kudos:
        lines.append(t(locale, "matching.why.kudos", count=f.kudos))
    days = ROTATION_WINDOW.days
    if f.recent_proposals:
        lines.append(t(locale, "matching.why.proposed", count=f.recent_proposals, days=days))
    else:
        lines.append(t(locale, "matching.why.not_proposed", days=days))
    return lines


def blocker_text(catalog: Catalog, locale: str, f: Fit, blocker: Blocker) -> str:
    if blocker is Blocker.LATER and f.available_from is not None:
        return catalog.t(locale, "matching.blocker.later",
                         date=formatting.format_date(f.available_from, locale))
    return catalog.t(locale, f"matching.blocker.{blocker.value}")


def _slot_field(catalog: Catalog, locale: str, answer: Answer, index: int, slot: SlotProposal) -> Field:
    t = catalog.t
    trade = answer.resolved.slot_names[index]
    if slot.requester:
        return Field(name=t(locale, "matching.card.slot_you", trade=trade),
                     value=t(locale, "matching.card.you"))
    if slot.chosen is None:
        if slot.closest:
            options = [t(locale, "matching.card.closest_one",
                         name=_name(catalog, locale, answer, f.member_id),
                         reasons=", ".join(blocker_text(catalog, locale, f, b) for b in f.blockers))
                       for f in slot.closest]
            value = t(locale, "matching.card.nobody") + "\n" + t(locale, "matching.card.closest") + "\n" + \
                "\n".join(options)
        else:
            value = t(locale, "matching.card.nobody_in_trade")
        return Field(name=t(locale, "matching.card.slot_empty", trade=trade),
                     value=truncate(value, FIELD_MAX))
    lines = why(catalog, locale, answer, slot.chosen)
    if slot.alternatives:
        lines.append(t(locale, "matching.card.alternatives", names=", ".join(
            _name(catalog, locale, answer, f.member_id) for f in slot.alternatives)))
    return Field(name=t(locale, "matching.card.slot", trade=trade,
                        name=_name(catalog, locale, answer, slot.chosen.member_id)),
                 value=truncate("\n".join(lines), FIELD_MAX))


def answer_card(catalog: Catalog, locale: str, answer: Answer) -> Card:
    """Shown to the requester only; Invite when at least one member is proposed."""
    t = catalog.t
    resolved = answer.resolved
    title = t(locale, "matching.card.title", title=request_title(catalog, locale, resolved))
    summary = request_summary(catalog, locale, resolved)
    filled = sum(1 for s in answer.team.slots if s.chosen is not None)
    count = t(locale, "matching.card.filled", count=filled, total=len(answer.team.slots))
    invitable = any(s.chosen is not None and not s.requester for s in answer.team.slots)
    actions = (Action(invite_action_id(answer.token), t(locale, "matching.card.invite"), style="primary"),) \
        if invitable else ()
    return Card(
        title=truncate(title, 250),
        text="\n".join(part for part in (summary, count) if part),
        fields=tuple(_slot_field(catalog, locale, answer, i, s) for i, s in enumerate(answer.team.slots)),
        footer=t(locale, "matching.card.footer"),
        actions=actions,
    )


def invited_text(catalog: Catalog, locale: str, invited: Invited) -> str:
    """What the requester reads after Invite: who got the DM (and who could not), or the space retried."""
    outcome = invited.outcome.value
    if invited.space_retry:
        if outcome is not None and outcome.space is not None:
            return catalog.t(locale, "matching.invite.reopened")
        return catalog.t(locale, "matching.invite.failed")
    text = catalog.t(locale, "matching.invite.sent", names=", ".join(invited.names))
    if outcome is not None and outcome.unreachable:
        text += "\n" + catalog.t(locale, "matching.invite.unreachable", names=", ".join(outcome.unreachable))
    return text
