"""A group's card where it was posted, recorded so that a member's data deletion redraws it without them.

The card shows everyone's trades, city and bio: in the group's private space, or by DM to each member
when there is none. Every copy is recorded (storage.models.Post, feature "pairing", the group's id):
the space's under no member (it is the group's), a DM under its recipient, whose own deletion then
removes it like any card posted for them. A member's deletion (`delete_member`, the privacy hook, with
no platform at hand) queues a REDRAW job per group of theirs still shown somewhere, which edits every
copy left to show the members still there and "a former member" for each who deleted their data.

Both platforms edit the bot's own messages in a Discord private thread or DM and in a Slack group DM
or DM, except in an archived Discord thread (a week without messages: Discord answers "Thread is
archived"). There a short notice is posted first, which reopens the thread, then the card is edited;
what still fails is retried by the job, with the scheduler's backoff.

The card is sent by `deliver` once the group's space is recorded (its state, and its thread): where a
recorded copy is missing (the space's, or a member's DM) it goes out, drawn as the group is then, and
is recorded at once. What the platform failed to take (a 5xx) is sent by a DELIVER job later, which
finds the copies already out recorded: no second private thread is opened, nobody is DMed twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards import Card
from bot.errors import BUGS
from bot.i18n import Catalog
from bot.notifier import CannotPost, PostRef, ThreadRef
from bot.posting import PostOwner, SyncResult, edit_posted, notifier_for, retry_later
from bot.scheduler import JobRun, queue
from bot.settings_registry import read_settings
from cogs.intros.profiles import ProfileView, get_profile
from cogs.pairing import _store
from cogs.pairing._cards import COLOR, group_card, space_name
from cogs.pairing._settings import INTRO_MESSAGE
from cogs.pairing.models import SPACE_DMS, SPACE_FAILED, SPACE_OPEN, PairingGroup
from storage.models import Community, Member, Post

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)
FEATURE = "pairing"  # Post.feature of a group's card; its object_id is the group's id
REDRAW = "pairing.redraw"
DELIVER = "pairing.deliver"  # the copies of a group's card the platform failed to take at once


@dataclass(frozen=True)
class GroupPeople:
    """Who a group's card shows: its members (`_store.group_members` rows), their profiles, the former."""

    members: list[tuple[int, str, str, str | None]]
    views: list[ProfileView]
    former: int


async def group_people(session: AsyncSession, community_id: int, group_id: int) -> GroupPeople:
    members = (await _store.group_members(session, community_id, [group_id])).get(group_id, [])
    views: list[ProfileView] = []
    for member_id, *_ in members:
        try:
            views.append(await get_profile(session, community_id, member_id))
        except Exception:  # a profile deleted since the round was held: shown by name only
            log.info("pairing: no profile for member %s any more", member_id)
    return GroupPeople(members, views, await former_members(session, community_id, group_id))


async def former_members(session: AsyncSession, community_id: int, group_id: int) -> int:
    value = await session.scalar(
        select(PairingGroup.former_members).where(
            PairingGroup.community_id == community_id, PairingGroup.id == group_id
        )
    )
    return int(value or 0)


def draw(catalog: Catalog, locale: str, group_id: int, people: GroupPeople, intro: str) -> Card:
    names = [name for _, _, name, _ in people.members]
    return group_card(catalog, locale, group_id, people.views, names, intro, former=people.former)


def record(
    session: AsyncSession, community_id: int, group_id: int, sent: Sequence[tuple[int | None, PostRef]],
    services: Services,
) -> None:
    """The card's copies as posted: (recipient member id, or None for the group's space; where)."""
    session.add_all(
        Post(
            community_id=community_id,
            member_id=member_id,
            feature=FEATURE,
            object_id=group_id,
            channel_id=ref.channel_id,
            message_id=ref.message_id,
            posted_at=services.clock.now(),
        )
        for member_id, ref in sent
    )


# -- sending the card ----------------------------------------------------------------------------


async def deliver(services: Services, community_id: int, group_id: int, *, retry: bool) -> None:
    """The group's card wherever a copy is missing: its open space, else each member's DMs.

    Each copy is recorded as soon as it is out. With `retry`, the copies the platform failed to take
    are sent by the DELIVER job later; the job itself raises while they still fail. DMs all refused
    (closed): the group's space is marked failed. A deletion that came while the card was on its way
    (one more former member since it was drawn) gets it redrawn.
    """
    async with services.db.transaction(write=False) as session:
        community = await session.get(Community, community_id)
        group = await session.scalar(
            select(PairingGroup).where(PairingGroup.community_id == community_id, PairingGroup.id == group_id)
        )
        shown = set(
            (await session.execute(
                select(Post.member_id).where(Post.community_id == community_id, Post.feature == FEATURE,
                                             Post.object_id == group_id)
            )).scalars()
        )
        people = await group_people(session, community_id, group_id)
        intro = (await read_settings(session, community_id, [INTRO_MESSAGE]))[INTRO_MESSAGE.key]
    if community is None or group is None or group.space not in (SPACE_OPEN, SPACE_DMS):
        return
    sent: list[tuple[int | None, PostRef]] = []
    failing = await _send_missing(services, community, group, people, intro, shown, sent)
    async with services.db.transaction() as session:
        record(session, community_id, group_id, sent, services)
        if group.space == SPACE_DMS and not sent and not shown and not failing:  # every DM refused
            await session.execute(
                update(PairingGroup)
                .where(PairingGroup.id == group_id, PairingGroup.space == SPACE_DMS)
                .values(space=SPACE_FAILED)
                .execution_options(synchronize_session=False)
            )
        # A deletion while the card was on its way (drawn with her), or before the space was recorded
        # (its thread's name names her: renamed by the redraw, retried like it, never posting twice).
        renamed = people.former and group.space == SPACE_OPEN and group.thread_id
        if sent and (renamed or await former_members(session, community_id, group_id) != people.former):
            await services.scheduler.schedule(
                session, kind=REDRAW, due_at=services.clock.now(), community_id=community_id,
                payload={"group_id": group_id},
            )
    if not failing:
        return
    if not retry:
        raise RuntimeError(f"pairing: the card of group {group_id} could not be sent to {sorted(failing)}")
    await retry_later(services, SyncResult(retrying=sorted(failing)), DELIVER, community_id, group_id,
                      {"group_id": group_id})


async def _send_missing(
    services: Services, community: Community, group: PairingGroup, people: GroupPeople, intro: str,
    shown: set[int | None], sent: list[tuple[int | None, PostRef]],
) -> set[str]:
    """Sends the copies not `shown` yet (None: the space's), appending them to `sent`; where it failed.

    A DM speaks its reader's language, the space the community's. A refusal (closed DMs, a space
    refusing the bot) is no failure: nothing to retry.
    """
    notifier = notifier_for(services, community.platform)
    if group.space == SPACE_OPEN:
        wanted: list[tuple[int | None, str, str]] = [(None, "", community.locale)]
    else:
        wanted = [(member_id, user_id, locale or community.locale)
                  for member_id, user_id, _, locale in people.members]
    failing: set[str] = set()
    for recipient, user_id, locale in wanted:
        if recipient in shown:
            continue
        card = draw(services.catalog, locale, group.id, people, intro)
        try:
            if recipient is None:
                space = ThreadRef(group.channel_id or "", group.thread_id or "")
                ref = await notifier.post_in_thread(community.external_id, space, card)
            else:
                ref = await notifier.dm(community.external_id, user_id, card)
        except CannotPost as error:
            log.info("pairing: group %s's card refused (%s)", group.id, error.reason)
            continue
        except BUGS:
            raise
        except Exception:  # a platform failure (5xx): sent again by the DELIVER job
            log.warning("pairing: group %s's card failed", group.id, exc_info=True)
            failing.add(user_id or group.thread_id or group.channel_id or "")
            continue
        if ref is not None:
            sent.append((recipient, ref))
    return failing


async def run_deliver(services: Services, run: JobRun) -> None:
    assert run.community_id is not None
    await deliver(services, run.community_id, int(run.payload["group_id"]), retry=False)


# -- after a privacy deletion --------------------------------------------------------------------


async def delete_member(session: AsyncSession, community_id: int, member_id: int) -> None:
    """The privacy hook: pairing's data on the member (`_store.delete_member`), then their groups' cards.

    Their own DM copies were removed already (posted for them); every other copy is redrawn by a REDRAW
    job, due at once on the wall clock like every job a privacy hook queues.
    """
    groups = await _store.delete_member(session, community_id, member_id)
    shown = await session.scalars(
        select(Post.object_id)
        .where(Post.community_id == community_id, Post.feature == FEATURE, Post.object_id.in_(groups))
        .distinct()
    )
    # A private thread's name named them too, even before any card of it was recorded (its card failed).
    named = await session.scalars(
        select(PairingGroup.id).where(PairingGroup.community_id == community_id, PairingGroup.id.in_(groups),
                                      PairingGroup.thread_id.is_not(None))
    )
    for group_id in sorted({*shown, *named}):
        queue(session, REDRAW, community_id, {"group_id": group_id})


async def run_redraw(services: Services, run: JobRun) -> None:
    assert run.community_id is not None
    await redraw(services, run.community_id, int(run.payload["group_id"]))


async def redraw(services: Services, community_id: int, group_id: int) -> None:
    """Every recorded copy of the group's card, edited to show the group as it is now.

    The space's copy speaks the community's language, a DM its recipient's. Raises while a copy could
    not be edited, so that the job is retried.
    """
    async with services.db.transaction(write=False) as session:
        community = await session.get(Community, community_id)
        group = await session.scalar(
            select(PairingGroup).where(PairingGroup.community_id == community_id, PairingGroup.id == group_id)
        )
        copies = list(
            (
                await session.execute(
                    select(Post.id, Post.channel_id, Post.message_id, Member.locale)
                    .outerjoin(Member, Member.id == Post.member_id)
                    .where(Post.community_id == community_id, Post.feature == FEATURE,
                           Post.object_id == group_id)
                    .order_by(Post.id)
                )
            ).all()
        )
        people = await group_people(session, community_id, group_id)
        intro = (await read_settings(session, community_id, [INTRO_MESSAGE]))[INTRO_MESSAGE.key]
    if community is None or group is None:
        return
    failing, archived = await _edit(services, community, group_id, copies, people, intro) if copies else (
        set(), set())
    space = group.thread_id or group.channel_id
    if space in archived and await _reopen(services, community, group):
        failing, _ = await _edit(
            services, community, group_id, [c for c in copies if c.channel_id in failing], people, intro
        )
    await _rename(services, community, group, people)
    if failing:
        raise RuntimeError(f"pairing: the card of group {group_id} could not be redrawn in {sorted(failing)}")


async def _rename(services: Services, community: Community, group: PairingGroup, people: GroupPeople) -> None:
    """The private thread's name ("Café : Alice, Bob") without the members who deleted their data."""
    if group.space != SPACE_OPEN or not group.thread_id or not people.former:
        return
    names = [name for _, _, name, _ in people.members]
    name = space_name(services.catalog, community.locale, names, former=people.former)
    await notifier_for(services, community.platform).rename_private_space(
        community.external_id, ThreadRef(group.channel_id or "", group.thread_id), name)


async def _edit(
    services: Services, community: Community, group_id: int, copies: Sequence[Any], people: GroupPeople,
    intro: str,
) -> tuple[set[str], set[str]]:
    """Edits the copies, each in its reader's language.

    Returns the channels where the platform failed, and of them the archived threads (`SyncResult.archived`).
    """
    by_locale: dict[str, list[Any]] = {}
    for copy in copies:
        by_locale.setdefault(copy.locale or community.locale, []).append(copy)
    owner = PostOwner(community.id, FEATURE, group_id)
    failing: set[str] = set()
    archived: set[str] = set()
    for locale, mine in by_locale.items():
        card = draw(services.catalog, locale, group_id, people, intro)
        result = await edit_posted(services, owner, community.platform, community.external_id, mine, card)
        failing.update(result.retrying)
        archived.update(result.archived)
    return failing, archived


async def _reopen(services: Services, community: Community, group: PairingGroup) -> bool:
    """A notice in the group's space, which reopens an archived Discord thread; False when refused."""
    if group.space != SPACE_OPEN or group.channel_id is None:
        return False
    notice = Card(
        title=services.t(community.locale, "pairing.card.title"),
        text=services.t(community.locale, "pairing.card.former_notice"),
        color=COLOR,
    )
    try:
        posted = await notifier_for(services, community.platform).post_in_thread(
            community.external_id, ThreadRef(group.channel_id, group.thread_id or ""), notice
        )
    except CannotPost as error:  # a locked thread, the bot removed: nothing reopens it
        log.warning("pairing: group %s's space refuses the bot (%s): its card stays as it was", group.id,
                    error.reason)
        return False
    return posted is not None
