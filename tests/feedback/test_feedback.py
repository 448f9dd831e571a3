"""Peer feedback use cases: asking, answering, kudos, nudges, due dates, closing, privacy."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.clock import FrozenClock
from bot.context import Caller
from bot.errors import Forbidden, InvalidInput, NotFound, UserError
from bot.notifier import CannotPost, PostRef, ThreadRef
from bot.rendering.slack import render_message
from bot.services import Services
from bot.usecase import run
from cogs.feedback._feedback import (
    Place,
    answer_form,
    ask,
    check_request,
    close_request,
    kudos_of,
    kudos_top,
    mark_helpful,
    publish_answer,
    submit_answer,
    who_wrote,
)
from cogs.feedback._store import (
    AnswerView,
    Person,
    count_kudos,
    delete_member,
    export_member,
    load_request,
    month_key,
    request_row,
)
from cogs.feedback._validation import AnswerForm
from cogs.feedback.models import FeedbackAnswer, FeedbackRequest, Kudos, KudosMonth
from cogs.intros._profile import save_profile
from cogs.privacy._privacy import delete_member_data
from storage.models import Community, FeatureSetting, Job, Trade
from tests.directory.factory import add_profile
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier
from tests.feedback.conftest import FEEDBACK_CHANNEL, good_request
from tests.intros.conftest import good_form


async def asked(services: Services, caller: Caller, **changes: object) -> int:
    done = await run(services, caller, ask, good_request(**changes))
    assert done.published is not None and done.published.posted
    return done.request_id


async def answered(
    services: Services,
    caller: Caller,
    request_id: int,
    *,
    anonymous: bool = False,
    text: str = "Bien, mais la typo est trop fine.",
    **ratings: str,
) -> int:
    done = await run(
        services, caller, submit_answer, request_id, anonymous, AnswerForm(text=text, ratings=ratings)
    )
    return done.answer_id


async def count(services: Services, table: type) -> int:
    async with services.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_ask_posts_a_card_with_a_thread_and_the_checklist(
    services: Services, alice: Caller, notifier: RecordingNotifier
) -> None:
    request_id = await asked(services, alice)
    [card] = notifier.in_channel(FEEDBACK_CHANNEL)
    assert card.title == "🔎 Avis demandé : Logo pour une boulangerie"
    fields = {f.name: f.value for f in card.fields}
    assert "Hiérarchie visuelle" in fields["Grille"]
    assert [a.id for a in card.actions] == [
        f"feedback:answer:{request_id}",
        f"feedback:answer:{request_id}:anon",
        f"feedback:close:{request_id}",
    ]
    assert len(notifier.threads) == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 101}, "title"),
        ({"links": "ftp://x.example"}, "links"),
        ({"links": "javascript:alert(1)"}, "links"),
        ({"links": ""}, "links"),
        ({"due": "2020-01-01"}, "due"),
        ({"kind": "nope"}, "kind"),
        ({"question": "q" * 1001}, "question"),
        ({"links": "https://a.example https://b.example https://c.example https://d.example"}, "links"),
    ],
)
async def test_bad_requests_are_refused_and_nothing_is_saved(
    services: Services, alice: Caller, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await run(services, alice, ask, good_request(**changes))
    assert field in refused.value.problems
    assert await count(services, FeedbackRequest) == 0
    assert await count(services, Job) == 0


async def test_weekly_limit_says_when_the_next_request_is_possible(services: Services, alice: Caller) -> None:
    for _ in range(3):
        await asked(services, alice)
    with pytest.raises(UserError) as refused:
        await run(services, alice, check_request, good_request(), write=False)
    assert refused.value.key == "feedback.errors.limit"
    assert refused.value.params["date"] == "30 novembre 2026"
    assert await count(services, FeedbackRequest) == 3


async def test_two_requests_asked_at_once_under_the_limit_are_both_saved(
    services: Services, alice: Caller
) -> None:
    """Both took the week's first slot; on PostgreSQL the second waited for the first, found its slot
    taken and answered "3 requests a week at most" with one request made. The next free slot is taken."""
    import asyncio

    outcomes = await asyncio.gather(*(run(services, alice, ask, good_request()) for _ in range(2)),
                                    return_exceptions=True)
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    assert await count(services, FeedbackRequest) == 2


async def test_answers_anonymous_or_not_go_in_the_thread_and_dm_the_requester(
    services: Services, alice: Caller, bob: Caller, chloe: Caller, notifier: RecordingNotifier
) -> None:
    request_id = await asked(services, alice)
    await answered(services, bob, request_id, hierarchy="4")
    await answered(services, chloe, request_id, anonymous=True)
    [thread] = notifier.threads
    cards = notifier.in_channel(thread)
    assert [c.title for c in cards] == ["💬 Avis de Bob", "💬 Avis de un·e pair anonyme"]
    assert "Chloé" not in str(cards[1])
    assert [d.user_id for d in notifier.dms] == ["U1", "U1"]
    [card] = notifier.in_channel(FEEDBACK_CHANNEL)
    assert "2 réponses" in {f.value for f in card.fields}


async def test_answer_refusals(services: Services, alice: Caller, bob: Caller) -> None:
    request_id = await asked(services, alice, anonymous=False)
    with pytest.raises(UserError, match="own_request"):
        await run(services, alice, answer_form, request_id, False, write=False)
    with pytest.raises(UserError, match="no_anonymous"):
        await answered(services, bob, request_id, anonymous=True)
    with pytest.raises(InvalidInput) as too_long:
        await answered(services, bob, request_id, text="x" * 4001)
    assert "text" in too_long.value.problems
    with pytest.raises(InvalidInput) as out_of_range:
        await answered(services, bob, request_id, hierarchy="6")
    assert "rating_hierarchy" in out_of_range.value.problems
    await run(services, alice, close_request, request_id)
    with pytest.raises(UserError, match="closed"):
        await answered(services, bob, request_id)
    assert await count(services, FeedbackAnswer) == 0


async def test_helpful_gives_one_kudos_only_from_the_requester(
    services: Services, alice: Caller, bob: Caller, chloe: Caller
) -> None:
    request_id = await asked(services, alice)
    answer_id = await answered(services, bob, request_id)
    with pytest.raises(Forbidden):
        await run(services, chloe, mark_helpful, answer_id)
    with pytest.raises(Forbidden):
        await run(services, bob, mark_helpful, answer_id)
    assert await run(services, alice, mark_helpful, answer_id) == "Bob"
    with pytest.raises(UserError, match="already_helpful"):
        await run(services, alice, mark_helpful, answer_id)
    assert await count(services, Kudos) == 1
    card = await run(services, alice, kudos_of, "U2", write=False)
    assert card.text == "1 kudos pour des avis utiles"
    assert "Critique de design : 1" in card.fields[0].value


async def test_nudge_once_after_the_delay_and_not_after_an_answer(
    services: Services, alice: Caller, bob: Caller, notifier: RecordingNotifier, clock: object
) -> None:
    quiet = await asked(services, alice)
    busy = await asked(services, alice, title="Devis")
    await answered(services, bob, busy)
    clock.advance(timedelta(hours=47))  # type: ignore[attr-defined]
    await services.scheduler.run_due()
    assert len(notifier.in_channel(FEEDBACK_CHANNEL)) == 2
    clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    await services.scheduler.run_due()
    await services.scheduler.run_due()
    nudges = [c for c in notifier.in_channel(FEEDBACK_CHANNEL) if c.title.startswith("🔔")]
    assert [c.title for c in nudges] == ["🔔 Toujours en attente d’avis : Logo pour une boulangerie"]
    assert nudges[0].actions[0].id == f"feedback:answer:{quiet}"


async def test_the_nudge_s_notification_text_says_when_it_was_asked_in_words(
    services: Services, alice: Caller, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """Slack's lock screen shows the message's plain text: "demandée il y a …", not a UTC date."""
    await asked(services, alice)
    clock.advance(timedelta(hours=49))
    await services.scheduler.run_due()
    [nudge] = [c for c in notifier.in_channel(FEEDBACK_CHANNEL) if c.title.startswith("🔔")]
    text = render_message(nudge)["text"]
    assert "UTC" not in text and "demandée il y a" in text, text


async def test_nudge_delay_zero_means_no_nudge(
    services: Services, alice: Caller, notifier: RecordingNotifier, clock: object
) -> None:
    async with services.db.transaction() as session:
        session.add(FeatureSetting(community_id=alice.community_id, key="feedback.nudge_delay", value=0))
    await asked(services, alice)
    async with services.db.transaction() as session:
        assert await session.scalar(select(func.count(Job.id)).where(Job.kind == "feedback.nudge")) == 0
    clock.advance(timedelta(days=3))  # type: ignore[attr-defined]
    await services.scheduler.run_due()
    assert not [c for c in notifier.in_channel(FEEDBACK_CHANNEL) if c.title.startswith("🔔")]


async def test_due_date_dm_then_close_archives_and_cancels(
    services: Services, alice: Caller, bob: Caller, notifier: RecordingNotifier, clock: object
) -> None:
    request_id = await asked(services, alice, due="2026-11-28")
    await answered(services, bob, request_id)
    clock.advance(timedelta(days=3))  # type: ignore[attr-defined]
    await services.scheduler.run_due()
    assert [d.card.actions[0].id for d in notifier.dms if d.card.title.startswith("⏰")] == [
        f"feedback:close:{request_id}"
    ]
    await run(services, alice, close_request, request_id)
    [space] = notifier.threads.values()
    assert space.archived
    assert notifier.in_channel(space.ref.thread_id)[-1].text.startswith("Merci à Bob")
    [card] = notifier.in_channel(FEEDBACK_CHANNEL)
    assert card.actions == ()
    with pytest.raises(UserError, match="already_closed"):
        await run(services, alice, close_request, request_id)


async def test_only_the_requester_or_a_moderator_closes(
    services: Services, alice: Caller, bob: Caller, moderator: Caller
) -> None:
    request_id = await asked(services, alice)
    with pytest.raises(Forbidden):
        await run(services, bob, close_request, request_id)
    assert await run(services, moderator, close_request, request_id) == "Logo pour une boulangerie"


async def test_moderators_see_who_wrote_an_anonymous_answer(
    services: Services, alice: Caller, chloe: Caller, moderator: Caller
) -> None:
    answer_id = await answered(services, chloe, await asked(services, alice), anonymous=True)
    with pytest.raises(Forbidden):
        await run(services, alice, who_wrote, answer_id, write=False)
    assert "Chloé" in await run(services, moderator, who_wrote, answer_id, write=False)


class NoThreads(RecordingNotifier):
    async def open_thread(self, community_external_id: str, ref: PostRef, name: str) -> ThreadRef | None:
        raise CannotPost(ref.channel_id, "forbidden")


async def test_threads_refused_answers_go_under_the_card_and_the_requester_is_told(
    services: Services, alice: Caller, bob: Caller
) -> None:
    notifier = NoThreads()
    services.notifiers["discord"] = notifier
    done = await run(services, alice, ask, good_request())
    assert done.published is not None and (done.published.posted, done.published.threaded) == (True, False)
    await answered(services, bob, done.request_id)
    cards = notifier.in_channel(FEEDBACK_CHANNEL)
    assert cards[1].footer.startswith("En réponse à « Logo pour une boulangerie »")


async def test_a_card_nobody_can_see_is_no_request(
    services: Services, alice: Caller, notifier: RecordingNotifier
) -> None:
    notifier.forbidden.add(FEEDBACK_CHANNEL)
    done = await run(services, alice, ask, good_request())
    assert done.published is not None and not done.published.posted
    assert await count(services, FeedbackRequest) == 0


async def test_other_community_ids_change_nothing(services: Services, alice: Caller, bob: Caller) -> None:
    request_id = await asked(services, alice)
    answer_id = await answered(services, bob, request_id)
    from tests.fakes.callers import make_caller

    stranger = await make_caller(services, user="U1", guild="g2")
    for use_case in (mark_helpful, close_request):
        with pytest.raises(NotFound):
            await run(services, stranger, use_case, answer_id if use_case is mark_helpful else request_id)


async def test_export_and_delete(services: Services, alice: Caller, bob: Caller) -> None:
    mine = await asked(services, alice)
    answer_id = await answered(services, bob, mine)
    await run(services, alice, mark_helpful, answer_id)
    theirs = await asked(services, bob, title="Portfolio")
    await answered(services, alice, theirs, text="Très clair")
    async with services.db.transaction() as session:
        data = await export_member(session, alice.community_id, alice.member_id)
        assert [r["title"] for r in data["requests"]] == ["Logo pour une boulangerie"]
        assert [a["text"] for a in data["answers"]] == ["Très clair"]
        assert len(data["kudos_given"]) == 1
        await delete_member(session, alice.community_id, alice.member_id)
    async with services.db.transaction() as session:
        assert await session.scalar(select(func.count(FeedbackRequest.id))) == 1
        [stub] = (await session.scalars(select(FeedbackAnswer))).all()
        assert (stub.request_id, stub.member_id, stub.text) == (theirs, None, "")
        assert await session.scalar(select(func.count(Kudos.id))) == 0
        assert (
            await session.scalar(select(Job.kind).where(Job.kind == "feedback.forget")) == "feedback.forget"
        )


async def test_a_deleted_requests_jobs_do_not_fire_on_the_next_request_given_its_id(
    services: Services, alice: Caller, bob: Caller, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """Alice asks on 26 Nov (due 28 Nov), then deletes her data; on 27 Nov Bob asks, without a due
    date, and SQLite gives his request her freed id. Before: her nudge and due-date jobs stayed
    pending, so Bob's request was nudged a day early and Bob was DMed "the date you wanted has
    passed" for a date he never set; his own nudge, its key taken by hers, was never planned."""
    hers = await asked(services, alice, due="2026-11-28")
    await delete_member_data(services, alice, alice.member_id)
    clock.advance(timedelta(days=1))
    his = await asked(services, bob, title="Devis pour un client")
    if services.db.engine.dialect.name == "sqlite":
        assert his == hers  # the case at stake (a PostgreSQL sequence never gives an id twice)

    def shown() -> tuple[list[str], list[str]]:
        return ([d.card.title for d in notifier.dms if d.card.title.startswith("⏰")],
                [c.title for c in notifier.in_channel(FEEDBACK_CHANNEL) if c.title.startswith("🔔")])

    clock.advance(timedelta(days=2) - timedelta(minutes=30))  # 29 Nov 09:30 UTC: past Alice's jobs
    await services.scheduler.run_due()
    assert shown() == ([], [])
    clock.advance(timedelta(hours=1))  # 29 Nov 10:30: Bob's own nudge, two days after his request
    await services.scheduler.run_due()
    assert shown() == ([], ["🔔 Toujours en attente d’avis : Devis pour un client"])


async def test_a_nudge_planned_by_an_earlier_version_is_still_cancelled_by_the_first_answer(
    services: Services, alice: Caller, bob: Caller, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """Rows planned before the keys carried the request's creation time keep their id-only key."""
    request_id = await asked(services, alice)
    async with services.db.transaction() as session:
        nudge = await session.scalar(select(Job).where(Job.kind == "feedback.nudge"))
        assert nudge is not None
        nudge.dedupe_key = f"feedback.nudge:{alice.community_id}:{request_id}"
        nudge.payload = {"request_id": request_id}
    await answered(services, bob, request_id)
    clock.advance(timedelta(days=3))
    await services.scheduler.run_due()
    assert [c for c in notifier.in_channel(FEEDBACK_CHANNEL) if c.title.startswith("🔔")] == []


async def test_kudos_top_ranks_the_month_per_trade_without_members_who_opted_out(
    services: Services, alice: Caller, bob: Caller, chloe: Caller
) -> None:
    """Top 3 per trade by kudos this month (ties by name), trades alphabetically, the feedback
    channel last; last month's kudos and members who opted out of leaderboards are left out, but a
    member hidden from the directory only is listed (two separate choices)."""
    dan = await make_caller(services, user="U4", name="Dan")
    eve = await make_caller(services, user="U5", name="Eve")
    hidden = await make_caller(services, user="U6", name="Zed")
    opted_out = await make_caller(services, user="U7", name="Olga")
    request_id = await asked(services, alice)
    now = services.clock.now()
    assert isinstance(services.clock, FrozenClock)
    month_start = datetime(now.year, now.month, 1, tzinfo=now.tzinfo)
    async with services.db.transaction() as session:
        await add_profile(session, hidden, listed=False)  # hidden from the directory: still ranked
        (await add_profile(session, opted_out)).opt_leaderboards = False  # listed, but not on leaderboards
        await add_profile(session, bob)  # listed: kept
        design = Trade(community_id=alice.community_id, key="design", name="Design")
        dev = Trade(community_id=alice.community_id, key="dev", name="Dev")
        session.add_all([design, dev])
        await session.flush()
        given = [
            (design.id, bob, 3), (design.id, chloe, 2), (design.id, dan, 2), (design.id, eve, 1),
            (design.id, opted_out, 5), (dev.id, hidden, 2), (dev.id, bob, 1), (None, chloe, 1),
        ]
        at = now - timedelta(hours=1)
        for trade_id, who, n in [*given, (dev.id, eve, -4)]:  # -4: four kudos of last month
            for _ in range(abs(n)):
                answer = FeedbackAnswer(
                    community_id=alice.community_id, request_id=request_id, member_id=who.member_id,
                    text="ok", ratings={}, created_at=at,
                )
                session.add(answer)
                await session.flush()
                given_at = at if n > 0 else month_start - timedelta(days=2)
                session.add(Kudos(
                    community_id=alice.community_id, answer_id=answer.id, giver_id=alice.member_id,
                    receiver_id=who.member_id, kind="design", trade_id=trade_id, created_at=given_at,
                ))
                month = month_key(given_at, "Europe/Paris")
                await count_kudos(session, alice.community_id, month, trade_id, who.member_id, 1)
    card = await run(services, alice, kudos_top, write=False)
    assert [(f.name, f.value) for f in card.fields] == [
        ("Design", "Bob : 3 kudos\nChloé : 2 kudos\nDan : 2 kudos"),
        ("Dev", "Zed : 2 kudos\nBob : 1 kudos"),
        ("Salon des avis", "Chloé : 1 kudos"),
    ]


async def test_opting_out_of_leaderboards_from_the_profile_and_back_in(
    services: Services, alice: Caller, bob: Caller
) -> None:
    """The profile's "show me on leaderboards" choice: saved off, Bob leaves /kudos top (his kudos stay,
    /kudos Bob still shows them); saved on again, he is back. Hiding the profile from the directory
    alone keeps him listed."""
    await run(services, alice, mark_helpful, await answered(services, bob, await asked(services, alice)))

    async def save_bob(**choices: bool) -> None:
        async with services.db.transaction() as session:
            await save_profile(session, bob, await good_form(services, bob, **choices), services.clock)

    async def top() -> list[tuple[str, str]]:
        card = await run(services, alice, kudos_top, write=False)
        return [(f.name, f.value) for f in card.fields]

    await save_bob(opt_directory=False)  # hidden from the directory, leaderboards untouched
    assert await top() == [("Salon des avis", "Bob : 1 kudos")]
    await save_bob(opt_leaderboards=False)
    assert await top() == []
    assert (await run(services, alice, kudos_of, "U2", write=False)).text == "1 kudos pour des avis utiles"
    await save_bob(opt_leaderboards=True, opt_directory=False)
    assert await top() == [("Salon des avis", "Bob : 1 kudos")]


async def test_kudos_top_follows_helpful_clicks_and_privacy_deletions(
    services: Services, alice: Caller, bob: Caller, chloe: Caller
) -> None:
    for requester in (alice, chloe):
        request_id = await asked(services, requester, title=f"Pour {requester.display_name}")
        await run(services, requester, mark_helpful, await answered(services, bob, request_id))
    top = await run(services, alice, kudos_top, write=False)
    assert [(f.name, f.value) for f in top.fields] == [("Salon des avis", "Bob : 2 kudos")]

    async with services.db.transaction() as session:  # alice's kudos given go, and her requests' kudos
        await delete_member(session, alice.community_id, alice.member_id)
    top = await run(services, chloe, kudos_top, write=False)
    assert [(f.name, f.value) for f in top.fields] == [("Salon des avis", "Bob : 1 kudos")]
    async with services.db.transaction() as session:
        await delete_member(session, bob.community_id, bob.member_id)
        assert await session.scalar(select(func.count(KudosMonth.id))) == 0
    top = await run(services, chloe, kudos_top, write=False)
    assert top.fields == () and top.text == "Pas encore de kudos ce mois-ci."


async def test_a_late_answer_effect_never_shows_a_smaller_count(
    services: Services, alice: Caller, bob: Caller, chloe: Caller, notifier: RecordingNotifier
) -> None:
    """Two answers commit, then the first one's effect runs last, with the view it read (1 answer)."""
    request_id = await asked(services, alice)
    first = await answered(services, bob, request_id)
    await answered(services, chloe, request_id, text="Deuxième avis")
    async with services.db.transaction() as session:
        row = await request_row(session, alice.community_id, request_id)
        assert row is not None
        stale = dataclasses.replace(await load_request(session, row), answers=1)
        place = Place.of(await session.get(Community, alice.community_id))  # type: ignore[arg-type]
    author = Person(bob.member_id, bob.user_id, "Bob", None)
    await publish_answer(services, place, stale, AnswerView(first, request_id, author, False, "x", {}, False))
    [card] = notifier.in_channel(FEEDBACK_CHANNEL)
    assert {f.name: f.value for f in card.fields}["Réponses"] == "2 réponses"


async def test_a_kudos_on_an_anonymous_answer_never_tells_who_wrote_it(
    services: Services, alice: Caller, chloe: Caller
) -> None:
    """Only the requester may thank an answer, and only moderators may learn who wrote an anonymous
    one: its kudos is Chloé's alone (her own /kudos counts it), on nobody else's view of her kudos
    and on no leaderboard, or Alice would find the author by looking up each suspect."""
    request = await run(services, alice, ask, good_request(anonymous=True))
    answer = await run(services, chloe, submit_answer, request.request_id, True,
                       AnswerForm(text="Anonyme : la typo est trop fine."))
    assert "Chlo" not in await run(services, alice, mark_helpful, answer.answer_id)

    seen_by_alice = await run(services, alice, kudos_of, chloe.user_id, write=False)
    seen_by_chloe = await run(services, chloe, kudos_of, None, write=False)
    board = await run(services, alice, kudos_top, write=False)
    assert seen_by_alice.text == services.t("fr", "feedback.kudos.total", count=0)
    assert seen_by_chloe.text == services.t("fr", "feedback.kudos.total", count=1)
    assert "Chlo" not in " ".join(f"{f.name} {f.value}" for f in board.fields)
    async with services.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(KudosMonth)) == 0


async def test_a_member_with_600_requests_over_the_years_can_delete_their_data(
    services: Services, alice: Caller
) -> None:
    """The jobs of every request were cancelled in one statement: SQLite refused it past about 500
    requests ("Expression tree is too large") and the privacy deletion failed."""
    from datetime import UTC

    from cogs.feedback._store import DUE, insert_request, job_key

    start = datetime(2015, 1, 5, 9, 0, tzinfo=UTC)
    async with services.db.transaction() as session:
        ids = []
        for n in range(600):
            created = start + timedelta(days=7 * n)
            ids.append(await insert_request(session, {
                "community_id": alice.community_id, "member_id": alice.member_id, "title": f"Demande {n}",
                "links": [], "kind": "general", "question": "?", "channel_id": FEEDBACK_CHANNEL,
                "state": "closed", "week": f"w{n}", "week_slot": 0, "nudged": False, "created_at": created,
            }))
        last = start + timedelta(days=7 * 599)
        await services.scheduler.schedule(
            session, kind=DUE, due_at=datetime(2027, 1, 1, tzinfo=UTC), community_id=alice.community_id,
            payload={"request_id": ids[-1], "created_at": last.isoformat()},
            dedupe_key=job_key(DUE, alice.community_id, ids[-1], last))
    await delete_member_data(services, alice, alice.member_id)
    assert await count(services, FeedbackRequest) == 0
    async with services.db.transaction() as session:
        states = list(await session.scalars(select(Job.state).where(Job.kind == DUE)))
    assert states == ["skipped"]
