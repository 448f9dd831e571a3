import contextlib
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.cards import Card
from bot.clock import FrozenClock
from bot.context import Caller
from bot.notifier import PostRef
from bot.posting import remove_posts
from bot.services import Services
from bot.usecase import run
from cogs.intros import FEATURE
from cogs.intros._publish import submit_intro, update_availability
from storage.models import Post, Trade
from storage.settings import get_settings
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier
from tests.intros.conftest import good_form, trade_ids


async def configure(
    services: Services,
    caller: Caller,
    *,
    intro: str | None = "C-INTRO",
    trade_channels: bool = True,
    repost_days: int = 7,
) -> list[int]:
    trades = await trade_ids(services, caller.community_id)
    async with services.db.transaction() as session:
        settings = await get_settings(session, caller.community_id)
        settings.intro_channel_id = intro
        settings.intro_repost_days = repost_days
        if trade_channels:
            for trade_id in trades:
                await session.execute(
                    update(Trade).where(Trade.id == trade_id).values(channel_id=f"C-T{trade_id}")
                )
    return trades


async def posts(services: Services) -> list[tuple[str, str]]:
    async with services.db.transaction() as session:
        rows = await session.scalars(select(Post).order_by(Post.id))
        return [(p.channel_id, p.message_id) for p in rows]


async def submit(services: Services, caller: Caller, origin: str | None = "C-HERE", **changes: object):
    form = await good_form(services, caller, **changes)
    return await run(services, caller, submit_intro, form, origin_channel_id=origin)


async def test_first_intro_posts_in_intro_and_trade_channels(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    trades = await configure(services, alice)
    done = await submit(services, alice)
    expected = ["C-INTRO", f"C-T{trades[2]}", f"C-T{trades[3]}"]
    assert done.created
    assert done.published.result.posted == expected
    assert [c for c, _ in await posts(services)] == expected
    card = notifier.in_channel("C-INTRO")[0]
    assert card.title == "👋 Alice"
    assert card.text == "Rédactrice web depuis 8 ans."
    fields = {f.name: f.value for f in card.fields}
    assert fields["Métiers"] == "Rédaction web, SEO / SEA"
    assert fields["TJM"] == "400\u00a0€ – 600\u00a0€ / jour"  # CLDR: a no-break space before €
    assert fields["Où"] == "Lyon · Hybride"


async def test_without_channels_the_card_goes_where_the_command_was_used(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    await configure(services, alice, intro=None, trade_channels=False)
    await submit(services, alice, origin="C-HERE")
    await submit(services, alice, origin="C-ELSEWHERE", city="Paris")
    assert [c for c, _ in await posts(services)] == ["C-HERE"]
    assert [verb for verb, _ in notifier.calls] == ["post", "edit"]


async def test_running_intro_again_edits_the_same_messages(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier, alice: Caller
) -> None:
    await configure(services, alice)
    await submit(services, alice)
    before = await posts(services)
    clock.advance(timedelta(hours=1))
    done = await submit(services, alice, city="Marseille")
    assert not done.created
    assert done.published.result.posted == []
    assert len(done.published.result.edited) == 3
    assert await posts(services) == before
    assert {f.value for f in notifier.in_channel("C-INTRO")[0].fields} >= {"Marseille · Hybride"}


async def test_new_cards_wait_for_the_repost_limit(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier, alice: Caller
) -> None:
    trades = await configure(services, alice)
    await submit(services, alice)
    clock.advance(timedelta(days=3))
    done = await submit(services, alice, trade_ids=[str(trades[2]), str(trades[5])])
    result = done.published.result
    assert result.removed == [f"C-T{trades[3]}"]
    assert result.held == [f"C-T{trades[5]}"]
    assert done.published.next_post is not None
    assert done.published.next_post.isoformat() == "2026-12-03"
    assert notifier.in_channel(f"C-T{trades[3]}") == []
    assert notifier.in_channel(f"C-T{trades[5]}") == []
    clock.advance(timedelta(days=4))
    done = await submit(services, alice, trade_ids=[str(trades[2]), str(trades[5])])
    assert done.published.result.posted == [f"C-T{trades[5]}"]
    assert len(notifier.in_channel(f"C-T{trades[5]}")) == 1


async def test_a_message_deleted_by_hand_is_reposted_within_the_limit_only(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier, alice: Caller
) -> None:
    await configure(services, alice, trade_channels=False)
    await submit(services, alice)
    notifier.messages.clear()
    done = await submit(services, alice)
    assert done.published.result.held == ["C-INTRO"]
    assert await posts(services) == []
    clock.advance(timedelta(days=7))
    done = await submit(services, alice)
    assert done.published.result.posted == ["C-INTRO"]


async def test_zero_days_means_no_limit(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    await configure(services, alice, trade_channels=False, repost_days=0)
    await submit(services, alice)
    notifier.messages.clear()
    assert (await submit(services, alice)).published.result.posted == ["C-INTRO"]


async def test_refused_channel_is_reported(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    await configure(services, alice, trade_channels=False)
    notifier.forbidden.add("C-INTRO")
    done = await submit(services, alice)
    assert done.published.result.failed == ["C-INTRO"]
    assert await posts(services) == []


async def test_availability_update_edits_the_cards(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    await configure(services, alice, trade_channels=False)
    await submit(services, alice)
    await run(services, alice, update_availability, "busy", None)
    fields = {f.name: f.value for f in notifier.in_channel("C-INTRO")[0].fields}
    assert fields["Disponibilité"] == "Occupé·e"
    assert [verb for verb, _ in notifier.calls] == ["post", "edit"]


async def test_privacy_delete_removes_messages_and_rows(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller
) -> None:
    await configure(services, alice)
    await submit(services, alice)
    await submit(services, bob)
    async with services.db.transaction() as session:
        exported = await FEATURE.privacy.export(session, alice.community_id, alice.member_id)
    assert len(exported["intro_cards"]) == 3
    removed = await remove_posts(services, alice.community_id, member_id=alice.member_id)
    async with services.db.transaction() as session:
        await FEATURE.privacy.delete(session, alice.community_id, alice.member_id)
    async with services.db.transaction() as session:
        assert await FEATURE.privacy.export(session, alice.community_id, alice.member_id) == {}
        assert await FEATURE.privacy.export(session, bob.community_id, bob.member_id) != {}
    assert removed == 3
    assert len(notifier.messages) == 3  # Bob's cards stay
    assert len(await posts(services)) == 3


async def test_posts_are_scoped_by_community(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    await configure(services, alice, trade_channels=False)
    other = await make_caller(services, guild="G2", user="U1")
    await configure(services, other, intro="C-OTHER", trade_channels=False)
    await submit(services, alice)
    await submit(services, other)
    assert await remove_posts(services, other.community_id, member_id=alice.member_id) == 0
    assert len(notifier.messages) == 2


async def test_posts_sent_before_a_platform_failure_are_recorded(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    trades = await configure(services, alice)
    original = notifier.post

    async def flaky(community: str, channel: str, card: object) -> object:
        if channel == f"C-T{trades[3]}":
            raise ConnectionError("platform down")
        return await original(community, channel, card)  # type: ignore[arg-type]

    notifier.post = flaky  # type: ignore[method-assign]
    with contextlib.suppress(ConnectionError):
        await submit(services, alice)
    assert [c for c, _ in await posts(services)] == ["C-INTRO", f"C-T{trades[2]}"]
    notifier.post = original  # type: ignore[method-assign]
    done = await submit(services, alice)  # the repost limit was claimed: the missing one waits
    assert done.published.result.edited == ["C-INTRO", f"C-T{trades[2]}"]
    assert done.published.result.held == [f"C-T{trades[3]}"]


async def test_a_platform_failure_spends_no_allowance_and_is_retried_by_a_job(
    services: Services, notifier: RecordingNotifier, alice: Caller, clock: FrozenClock
) -> None:
    from bot.posting import RETRY_AFTER
    from cogs.intros._cards import outcome_text
    from cogs.intros._publish import register_jobs
    from cogs.intros.models import Profile

    register_jobs(services)
    await configure(services, alice, trade_channels=False)
    notifier.failing.add("C-INTRO")  # e.g. Discord answering 503 after its own retries
    done = await submit(services, alice)

    assert done.published.result.retrying == ["C-INTRO"] and await posts(services) == []
    text = outcome_text(services.catalog, "fr", done.published.result, created=True, next_post=None)
    assert services.t("fr", "intros.saved.retrying", count=1) in text
    async with services.db.transaction() as session:
        profile = await session.scalar(select(Profile))
        assert profile.last_posted_at is None  # the allowance was given back

    notifier.failing.clear()  # the platform is back
    clock.advance(RETRY_AFTER)
    assert await services.scheduler.run_due() >= 1
    assert [c for c, _ in await posts(services)] == ["C-INTRO"]
    async with services.db.transaction() as session:
        assert (await session.scalar(select(Profile))).last_posted_at is not None  # spent by the real post


async def test_a_retry_that_fails_again_is_tried_later_by_the_scheduler(
    services: Services, notifier: RecordingNotifier, alice: Caller, clock: FrozenClock
) -> None:
    from bot.posting import RETRY_AFTER
    from cogs.intros._publish import register_jobs
    from storage.models import Job

    register_jobs(services)
    await configure(services, alice, trade_channels=False)
    notifier.failing.add("C-INTRO")
    await submit(services, alice)
    clock.advance(RETRY_AFTER)
    await services.scheduler.run_due()
    async with services.db.transaction() as session:
        job = await session.scalar(select(Job).where(Job.kind == "intros.republish"))
        assert (job.state, job.attempts) == ("pending", 1)  # back in the queue, not lost
    notifier.failing.clear()
    clock.advance(RETRY_AFTER)
    await services.scheduler.run_due()
    assert [c for c, _ in await posts(services)] == ["C-INTRO"]


async def test_a_card_where_intro_was_typed_stays_until_the_new_channel_may_have_one(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier, alice: Caller
) -> None:
    """In a fresh community her card went where she typed /intro; the moderators then set the intro
    channel, and she fixes her city within the repost interval: the new card is held back, so her
    only card stays (edited) where it was instead of leaving her with none for days; once she may
    post again it moves to the intro channel."""
    first = await run(services, alice, submit_intro, await good_form(services, alice),
                      origin_channel_id="C-GENERAL")
    assert first.published.result.posted == ["C-GENERAL"]
    async with services.db.transaction() as session:
        (await get_settings(session, alice.community_id)).intro_channel_id = "C-INTROS"

    again = await run(services, alice, submit_intro, await good_form(services, alice, city="Paris"),
                      origin_channel_id="C-GENERAL")

    assert again.published.result.held == ["C-INTROS"]
    assert again.published.result.edited == ["C-GENERAL"]
    [card] = notifier.in_channel("C-GENERAL")
    assert "Paris" in str(card)
    clock.advance(timedelta(days=8))
    later = await run(services, alice, submit_intro, await good_form(services, alice, city="Lyon"),
                      origin_channel_id="C-GENERAL")
    assert (later.published.result.posted, later.published.result.removed) == (["C-INTROS"], ["C-GENERAL"])


class _EditsFail(RecordingNotifier):
    """Edits in the `failing` channels raise (a 5xx after the client's retries)."""

    async def edit(self, community_external_id: str, ref: PostRef, card: Card) -> bool:
        if ref.channel_id in self.failing:
            raise RuntimeError(f"503 Service Unavailable editing in {ref.channel_id}")
        return await super().edit(community_external_id, ref, card)


async def test_an_availability_edit_lost_to_an_outage_is_redone_by_the_job_which_only_edits(
    services: Services, alice: Caller, clock: FrozenClock
) -> None:
    """The REPUBLISH job redoes a failed edit (`bot.posting.retry_edits`) as an edit: a card deleted by
    hand meanwhile is not posted again outside the repost limit."""
    from bot.posting import RETRY_AFTER
    from cogs.intros._publish import register_jobs

    notifier = _EditsFail()
    services.notifiers["discord"] = notifier
    register_jobs(services)
    trades = await configure(services, alice)
    await submit(services, alice)
    by_hand = f"C-T{trades[2]}"
    notifier.messages = {k: v for k, v in notifier.messages.items() if k[0] != by_hand}
    notifier.failing.add("C-INTRO")

    await run(services, alice, update_availability, "busy", None)

    notifier.failing.clear()
    clock.advance(RETRY_AFTER)
    await services.scheduler.run_due()
    shown = {channel: {f.name: f.value for f in card.fields}["Disponibilité"]
             for (channel, _), card in notifier.messages.items()}
    assert shown == {"C-INTRO": "Occupé·e", f"C-T{trades[3]}": "Occupé·e"}
    assert [c for c, _ in await posts(services)] == ["C-INTRO", f"C-T{trades[3]}"]


def _availability_field(notifier: RecordingNotifier, channel: str) -> str:
    [card] = notifier.in_channel(channel)
    return {f.name: f.value for f in card.fields}["Disponibilité"]


async def test_a_reached_from_date_turns_the_posted_intro_cards_available(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier, alice: Caller
) -> None:
    """The card said "Disponible à partir du …" for ever after the date (only /profile, drawn afresh,
    said available): a job at the community's midnight of the date redraws it."""
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    from cogs.intros._publish import register_jobs

    register_jobs(services)
    await configure(services, alice)
    day = (clock.now() + timedelta(days=3)).date()
    await submit(services, alice, availability="from_date", available_from=day.isoformat())
    assert _availability_field(notifier, "C-INTRO").startswith("Disponible à partir du")

    clock.set(datetime.combine(day, time(0), ZoneInfo("Europe/Paris")) - timedelta(minutes=1))
    await services.scheduler.run_due()
    assert _availability_field(notifier, "C-INTRO").startswith("Disponible à partir du")  # not yet
    clock.advance(timedelta(minutes=1))  # midnight in Paris, 23:00 UTC the day before
    assert await services.scheduler.run_due() == 1
    assert _availability_field(notifier, "C-INTRO") == "Disponible"


async def test_each_change_replaces_the_from_date_job(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier, alice: Caller
) -> None:
    """A new date, "busy", then the first date again: one pending job, for the current date only."""
    from cogs.intros._publish import AVAILABLE_ON, register_jobs
    from storage.models import Job

    register_jobs(services)
    await configure(services, alice)
    await submit(services, alice, availability="from_date", available_from="2026-12-10")
    await run(services, alice, update_availability, "from_date", "2026-12-20")
    await run(services, alice, update_availability, "busy", None)
    async with services.db.transaction(write=False) as session:
        jobs = list(await session.scalars(select(Job).where(Job.kind == AVAILABLE_ON)))
    assert [job.state for job in jobs] == ["skipped", "skipped"]
    await run(services, alice, update_availability, "from_date", "2026-12-10")
    async with services.db.transaction(write=False) as session:
        query = select(Job).where(Job.kind == AVAILABLE_ON, Job.state == "pending")
        pending = list(await session.scalars(query))
    assert len(pending) == 1 and pending[0].due_at.date().isoformat() == "2026-12-09"  # 23:00 UTC

    clock.advance(timedelta(days=30))
    await services.scheduler.run_due()
    assert _availability_field(notifier, "C-INTRO") == "Disponible"


async def test_new_cards_may_go_out_on_the_day_the_member_was_told(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier, alice: Caller
) -> None:
    """Told "next time from 3 December", rerun at 09:00 that day: it was held again (the interval was
    counted to the minute from 11:00); it is counted in the community's days."""
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    trades = await configure(services, alice)
    await submit(services, alice)  # 26 November, 11:00 Paris
    clock.advance(timedelta(days=3))
    held = await submit(services, alice, trade_ids=[str(trades[2]), str(trades[5])])
    told = held.published.next_post
    assert held.published.result.held and told is not None and told.isoformat() == "2026-12-03"
    clock.set(datetime.combine(told, time(0), ZoneInfo("Europe/Paris")) - timedelta(minutes=1))
    still = await submit(services, alice, trade_ids=[str(trades[2]), str(trades[5])])
    assert still.published.result.held == [f"C-T{trades[5]}"] and still.published.next_post == told
    clock.set(datetime.combine(told, time(9, 0), ZoneInfo("Europe/Paris")))
    again = await submit(services, alice, trade_ids=[str(trades[2]), str(trades[5])])
    assert again.published.result.posted == [f"C-T{trades[5]}"], (told, again.published)


async def test_a_date_typed_with_a_from_word_is_read(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    """« à partir du 15 janvier » was refused while "from January 15" was read."""
    await submit(services, alice)
    english = await run(services, alice, update_availability, "from_date", "from January 15")
    french = await run(services, alice, update_availability, "from_date", "à partir du 15 janvier")
    assert english.available_from is not None and french.available_from == english.available_from


async def test_a_date_given_with_the_status_available_means_available_from_it(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    """Discord /availability status:Disponible date:15/01/2027 saved "available now", the date dropped."""
    from bot.errors import InvalidInput

    await submit(services, alice)
    view = await run(services, alice, update_availability, "available", "15/01/2027")
    assert (view.availability, str(view.available_from)) == ("from_date", "2027-01-15")
    view = await run(services, alice, update_availability, "available", None)
    assert (view.availability, view.available_from) == ("available", None)
    with pytest.raises(InvalidInput) as refused:  # a date that cannot be read is said, not dropped
        await run(services, alice, update_availability, "available", "banane")
    assert "available_from" in refused.value.problems


@pytest.mark.parametrize("repost_days", [7, 0])
async def test_a_first_intro_submitted_twice_at_once_posts_one_card_per_channel(
    services: Services, notifier: RecordingNotifier, alice: Caller, repost_days: int
) -> None:
    """Two first saves at once (a double submit, two devices): the profile insert picks one row. With a
    repost limit the claim lets one save post; with none (0 days) both read no card and both posted, each
    channel showed two cards. The second sync to record its posts now finds the first's, removes its own."""
    import asyncio

    trades = await configure(services, alice, repost_days=repost_days)
    form = await good_form(services, alice)
    post = notifier.post

    async def slow_post(*args: object) -> PostRef | None:  # a platform call takes a while
        await asyncio.sleep(0.05)
        return await post(*args)  # type: ignore[arg-type]

    notifier.post = slow_post  # type: ignore[method-assign]
    await asyncio.gather(*(run(services, alice, submit_intro, form, origin_channel_id="C-HERE")
                           for _ in range(2)))
    expected = ["C-INTRO", f"C-T{trades[2]}", f"C-T{trades[3]}"]
    assert sorted(c for c, _ in notifier.messages) == sorted(expected)  # what the channels show
    assert sorted(c for c, _ in await posts(services)) == sorted(expected)
