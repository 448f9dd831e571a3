"""/feedback, the answer form, Helpful, /kudos and Close on Discord, through the real bot and fake Discord."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from cogs.feedback import FEATURE
from cogs.feedback.models import FeedbackAnswer, FeedbackRequest, Kudos
from storage.models import Community
from storage.settings import get_settings
from tests.e2e.conftest import DiscordHarness
from tests.e2e.test_privacy_discord import exported as exported_file

MODAL = 9


async def configure(h: DiscordHarness) -> str:
    """The feedback channel set, and the feature's job kinds registered (as bot.runner does at start)."""
    await FEATURE.on_start(h.services)
    channel = str(h.guild.channel("général").id)
    async with h.services.db.transaction() as session:
        cid = await session.scalar(select(Community.id).where(Community.external_id == str(h.guild.id)))
        assert cid is not None
        (await get_settings(session, cid)).feedback_channel_id = channel
    return channel


def cards(h: DiscordHarness, channel_id: str) -> list[dict[str, Any]]:
    return [m for m in h.fake.channel_messages(int(channel_id)) if m.get("embeds")]


OPTIONS = {
    "title": "Logo @everyone",
    "kind": "design",
    "link": "https://camille.example/logo.png",
    "question": "Lisible en petit ?",
    "anonymous": True,
}


async def test_request_answers_helpful_kudos_and_close(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    channel = await configure(h)
    asked = await h.fake.invoke_slash(h.guild, h.member, "feedback", OPTIONS, locale="fr")
    [note] = await asked.wait_followups(1)
    assert h.t("fr", "feedback.asked.posted", channel=channel) in note["content"]
    [card] = cards(h, channel)
    assert card["embeds"][0]["title"] == "🔎 Avis demandé : Logo @everyone"
    assert card["allowed_mentions"] == {"parse": []}
    thread = h.fake.channels[int(card["id"])]
    assert thread.is_thread
    request_id = card["components"][0]["components"][0]["custom_id"].rsplit(":", 1)[1]

    opened = await h.fake.click(card, f"feedback:answer:{request_id}", h.moderator, locale="fr")
    assert opened.response_type == MODAL
    assert [c["components"][0]["custom_id"] for c in opened.data["components"]][:2] == [
        "text",
        "rating_hierarchy",
    ]
    sent = await h.fake.submit_modal(
        h.guild,
        h.moderator,
        f"feedback:reply:{request_id}:anon",
        {"text": "La typo est trop fine.", "rating_hierarchy": "4"},
        message=card,
    )
    [thanks] = await sent.wait_followups(1)
    assert thanks["content"] == h.t("fr", "feedback.answered.sent")
    [answer] = cards(h, str(thread.id))
    assert answer["embeds"][0]["title"] == "💬 Avis de un·e pair anonyme"
    assert "Dominique" not in str(answer["embeds"])
    await h.fake.wait_for_request(lambda r: r.method == "POST" and "Nouvel avis" in str(r.body))
    assert any("Nouvel avis" in str(m) for m in h.fake.dm_messages(h.member))

    helpful_id = next(
        c["custom_id"]
        for row in answer["components"]
        for c in row["components"]
        if c["custom_id"].startswith("feedback:helpful:")
    )
    refused = await h.fake.click(answer, helpful_id, h.moderator, locale="fr")
    assert h.t("fr", "feedback.errors.only_requester_helpful") in str(await refused.wait_followups(1))
    given = await h.fake.click(answer, helpful_id, h.member, locale="fr")
    assert "Kudos" in str(await given.wait_followups(1))
    async with h.services.db.transaction() as session:
        assert await session.scalar(select(func.count(Kudos.id))) == 1

    # The answer was anonymous: its kudos is Dominique's alone, or looking it up would name the author.
    shown = await h.fake.invoke_slash(h.guild, h.member, "kudos", {"member": h.moderator}, locale="fr")
    assert shown.embeds[0]["description"] == "0 kudos pour des avis utiles"
    own = await h.fake.invoke_slash(h.guild, h.moderator, "kudos", {}, locale="fr")
    assert own.embeds[0]["description"] == "1 kudos pour des avis utiles"
    top = await h.fake.invoke_slash(h.guild, h.member, "kudos", {"top": True}, locale="fr")
    assert top.embeds[0]["title"] == "🏆 Relecteur·rices les plus utiles, novembre 2026"
    assert "Dominique" not in str(top.embeds[0])

    closed = await h.fake.click(card, f"feedback:close:{request_id}", h.member, locale="fr")
    await closed.wait_followups(1)
    assert thread.archived
    async with h.services.db.transaction() as session:
        assert await session.scalar(select(FeedbackRequest.state)) == "closed"


async def test_refusals_answer_in_french_and_save_nothing(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    await configure(h)
    bad = await h.fake.invoke_slash(
        h.guild,
        h.member,
        "feedback",
        {**OPTIONS, "link": "javascript:alert(1)", "due": "2020-01-01"},
        locale="fr",
    )
    assert bad.ephemeral
    assert h.t("fr", "feedback.problems.link_scheme", link="javascript:alert(1)") in bad.content
    assert h.t("fr", "feedback.problems.due_past") in bad.content
    for _ in range(3):
        ok = await h.fake.invoke_slash(h.guild, h.member, "feedback", OPTIONS, locale="fr")
        await ok.wait_followups(1)
    limited = await h.fake.invoke_slash(h.guild, h.member, "feedback", OPTIONS, locale="fr")
    assert "30 novembre 2026" in limited.content
    async with h.services.db.transaction() as session:
        assert await session.scalar(select(func.count(FeedbackRequest.id))) == 3


# -- helpers for the longer stories -----------------------------------------------------------------


async def ask_for(h: DiscordHarness, user: Any, channel: str, **changes: Any) -> tuple[dict[str, Any], str]:
    """/avis as `user`: the card posted (the newest one) and the request's id."""
    asked = await h.fake.invoke_slash(h.guild, user, "feedback", {**OPTIONS, **changes}, locale="fr")
    await asked.wait_followups(1)
    card = cards(h, channel)[-1]
    return card, card["components"][0]["components"][0]["custom_id"].split(":")[2]


async def answer(
    h: DiscordHarness,
    user: Any,
    card: dict[str, Any],
    request_id: str,
    text: str,
    *,
    anonymous: bool = False,
    **ratings: str,
) -> Any:
    sent = await h.fake.submit_modal(
        h.guild,
        user,
        f"feedback:reply:{request_id}" + (":anon" if anonymous else ""),
        {"text": text, **{f"rating_{k}": v for k, v in ratings.items()}},
        message=card,
    )
    if not sent.ephemeral or sent.content is None:
        await sent.wait_followups(1)
    return sent


def titled(messages: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    return [m for m in messages if m.get("embeds") and m["embeds"][0].get("title", "").startswith(prefix)]


def button_ids(message: dict[str, Any]) -> list[str]:
    rows = message.get("components") or []
    return [c["custom_id"] for row in rows for c in row["components"] if "custom_id" in c]


# -- two answers, the nudge, the due date, the thread refused, privacy ------------------------------


async def test_two_answers_one_anonymous_and_the_card_counts_them(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    channel = await configure(h)
    lou = h.fake.add_user("Lou", locale="fr", guild=h.guild)
    card, request_id = await ask_for(h, h.member, channel)
    thread = h.fake.channels[int(card["id"])]
    await answer(h, h.moderator, card, request_id, "Anonyme : trop fin.", anonymous=True, hierarchy="4")
    await answer(h, lou, card, request_id, "Signé : bonne idée.", readability="5")
    answers = cards(h, str(thread.id))
    assert [a["embeds"][0]["title"] for a in answers] == ["💬 Avis de un·e pair anonyme", "💬 Avis de Lou"]
    assert "Dominique" not in str(answers[0])
    assert {f["name"]: f["value"] for f in answers[1]["embeds"][0]["fields"]} == {"Lisibilité": "★★★★★"}
    edited = h.fake.messages[int(card["id"])]
    assert "2 réponses" in str(edited["embeds"][0]["fields"])
    # the requester got one DM per answer, each with a link to it
    await h.fake.wait_for_request(lambda r: r.method == "POST" and "Lou a répondu" in str(r.body))
    dms = titled(h.fake.dm_messages(h.member), "Nouvel avis")
    assert len(dms) == 2
    assert all(str(thread.id) in str(dm["components"]) for dm in dms)
    # the moderators may see who wrote the anonymous one; a member may not
    who = next(i for i in button_ids(answers[0]) if i.startswith("feedback:who:"))
    denied = await h.fake.click(answers[0], who, lou, locale="fr")
    assert denied.content != h.t("fr", "feedback.who.text", name="Dominique", user=str(h.moderator.id))
    shown = await h.fake.click(answers[0], who, h.moderator, locale="fr")
    assert shown.content == h.t("fr", "feedback.who.text", name="Dominique", user=str(h.moderator.id))


async def test_unanswered_request_is_nudged_once_after_the_delay(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    channel = await configure(h)
    lonely, lonely_id = await ask_for(h, h.member, channel, title="Personne ne répond")
    answered_card, answered_id = await ask_for(h, h.member, channel, title="Déjà répondu")
    await answer(h, h.moderator, answered_card, answered_id, "Voilà mon avis.")
    clock: Any = h.services.clock

    clock.advance(timedelta(hours=47, minutes=59))
    await h.services.scheduler.run_due()
    assert titled(h.fake.channel_messages(int(channel)), "🔔") == []

    clock.advance(timedelta(minutes=2))
    await h.services.scheduler.run_due()
    await h.services.scheduler.run_due()
    [nudge] = titled(h.fake.channel_messages(int(channel)), "🔔")
    assert nudge["embeds"][0]["title"] == "🔔 Toujours en attente d’avis : Personne ne répond"
    assert nudge["allowed_mentions"] == {"parse": []}
    assert button_ids(nudge) == [f"feedback:answer:{lonely_id}"]

    h.fake.messages.pop(int(nudge["id"]))  # even gone from the channel, a later run posts no second one
    clock.advance(timedelta(days=3))
    await h.services.scheduler.run_due()
    await h.stop()
    await h.start()  # nor does a restart
    await h.services.scheduler.run_due()
    assert titled(h.fake.channel_messages(int(channel)), "🔔") == []
    async with h.services.db.transaction() as session:
        nudged = dict((await session.execute(select(FeedbackRequest.title, FeedbackRequest.nudged))).all())
    assert nudged == {"Personne ne répond": True, "Déjà répondu": False}
    assert lonely["id"] != answered_card["id"]


async def test_closing_early_cancels_the_nudge_and_removes_it(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    channel = await configure(h)
    nudged_card, nudged_id = await ask_for(h, h.member, channel, title="Relancée")
    early_card, early_id = await ask_for(h, h.member, channel, title="Clôturée tôt", due="2026-11-28")
    closed = await h.fake.click(early_card, f"feedback:close:{early_id}", h.member, locale="fr")
    await closed.wait_followups(1)
    clock: Any = h.services.clock
    clock.advance(timedelta(days=3))  # past the nudge delay (48 h) and the due date's 09:00 the day after
    await h.services.scheduler.run_due()
    [nudge] = titled(h.fake.channel_messages(int(channel)), "🔔")
    assert "Relancée" in nudge["embeds"][0]["title"]
    assert titled(h.fake.dm_messages(h.member), "⏰") == []  # its due-date DM was cancelled too

    done = await h.fake.click(nudged_card, f"feedback:close:{nudged_id}", h.member, locale="fr")
    await done.wait_followups(1)
    await h.fake.wait_for_request(lambda r: r.method == "DELETE" and nudge["id"] in r.path)
    assert int(nudge["id"]) not in h.fake.messages


async def test_due_date_dm_offers_close_once(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    channel = await configure(h)
    card, request_id = await ask_for(h, h.member, channel, due="2026-11-28")
    thread = h.fake.channels[int(card["id"])]
    clock: Any = h.services.clock
    # due on Saturday 28 November: the DM comes on the 29th at 09:00 in Paris (08:00 UTC)
    clock.set(datetime(2026, 11, 29, 7, 59, tzinfo=UTC))
    await h.services.scheduler.run_due()
    assert titled(h.fake.dm_messages(h.member), "⏰") == []
    clock.set(datetime(2026, 11, 29, 8, 0, tzinfo=UTC))
    await h.services.scheduler.run_due()
    await h.services.scheduler.run_due()
    [dm] = titled(h.fake.dm_messages(h.member), "⏰")
    assert dm["embeds"][0]["title"] == "⏰ La date souhaitée est passée : Logo @everyone"
    assert button_ids(dm) == [f"feedback:close:{request_id}"]

    stranger = await h.fake.click(dm, f"feedback:close:{request_id}", h.moderator, locale="fr")
    assert stranger.content == h.t("fr", "errors.not_for_you")
    closed = await h.fake.click(dm, f"feedback:close:{request_id}", h.member, locale="fr")
    [done] = await closed.wait_followups(1)
    assert done["content"] == h.t("fr", "feedback.closed.done", title="Logo @everyone")
    assert thread.archived and not thread.locked  # locking needs Manage Threads, not in the invite
    assert h.fake.messages[int(card["id"])]["embeds"][0]["title"].startswith("🔎")
    assert button_ids(h.fake.messages[int(card["id"])]) == []  # the card lost its buttons
    thanks = cards(h, str(thread.id))[-1]
    assert thanks["embeds"][0]["title"] == "✅ Clôturée : Logo @everyone"
    clock.advance(timedelta(days=2))
    await h.services.scheduler.run_due()
    assert len(titled(h.fake.dm_messages(h.member), "⏰")) == 1


async def test_thread_refused_answers_go_under_the_card(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    channel = await configure(h)
    h.guild.channel("général").bot_may_create_threads = False
    asked = await h.fake.invoke_slash(h.guild, h.member, "feedback", OPTIONS, locale="fr")
    [note] = await asked.wait_followups(1)
    assert h.t("fr", "feedback.asked.no_thread") in note["content"]  # the requester is told why
    [card] = cards(h, channel)
    assert int(card["id"]) not in h.fake.channels  # no thread
    request_id = card["components"][0]["components"][0]["custom_id"].split(":")[2]
    async with h.services.db.transaction() as session:
        assert await session.scalar(select(FeedbackRequest.thread_id)) is None

    await answer(h, h.moderator, card, request_id, "Dans le salon, sous la carte.")
    [_, reply] = cards(h, channel)
    embed = reply["embeds"][0]
    assert embed["title"] == "💬 Avis de Dominique"
    assert embed["footer"]["text"].startswith("En réponse à « Logo @everyone »")
    assert embed["url"] == f"https://discord.com/channels/{h.guild.id}/{channel}/{card['id']}"
    await h.fake.wait_for_request(lambda r: r.method == "POST" and "Nouvel avis" in str(r.body))
    [dm] = titled(h.fake.dm_messages(h.member), "Nouvel avis")
    assert reply["id"] in str(dm["components"])

    closed = await h.fake.click(card, f"feedback:close:{request_id}", h.member, locale="fr")
    await closed.wait_followups(1)
    assert cards(h, channel)[-1]["embeds"][0]["title"] == "✅ Clôturée : Logo @everyone"
    assert not h.fake.requests_to("PATCH", r"/channels/\d+$")  # nothing to archive


async def test_answer_refusals_and_a_forged_id_save_nothing(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    channel = await configure(h)
    blank = await h.fake.invoke_slash(h.guild, h.member, "feedback", {**OPTIONS, "title": "   "}, locale="fr")
    assert h.t("fr", "feedback.problems.title_empty") in blank.content
    card, request_id = await ask_for(h, h.member, channel)
    too_long = await answer(h, h.moderator, card, request_id, "x" * 4001)
    assert h.t("fr", "feedback.problems.answer_too_long", max=4000, length=4001) in too_long.content
    out_of_range = await answer(h, h.moderator, card, request_id, "Bien.", hierarchy="9")
    assert h.t("fr", "feedback.problems.rating_range", low=1, high=5) in out_of_range.content
    own = await answer(h, h.member, card, request_id, "Moi-même.")
    assert own.content == h.t("fr", "feedback.errors.own_request")

    other = h.fake.new_guild("Un autre collectif")
    joined = asyncio.ensure_future(
        h.bot.wait_for("community_ready", check=lambda _, guild_id: guild_id == str(other.id), timeout=5)
    )
    await h.fake.join_guild(other)
    await joined
    stranger = h.fake.add_user("Sacha", locale="fr", guild=other, moderator=True)
    forged = {**card, "channel_id": str(other.channel("général").id)}
    refused = await h.fake.click(forged, f"feedback:close:{request_id}", stranger, locale="fr")
    assert refused.content == h.t("fr", "feedback.errors.not_found")

    closed = await h.fake.click(card, f"feedback:close:{request_id}", h.moderator, locale="fr")
    await closed.wait_followups(1)  # a moderator may close any request
    late = await answer(h, h.moderator, card, request_id, "Trop tard.")
    assert late.content == h.t("fr", "feedback.errors.closed")
    async with h.services.db.transaction() as session:
        assert await session.scalar(select(func.count(FeedbackAnswer.id))) == 0
        assert await session.scalar(select(func.count(FeedbackRequest.id))) == 1


def exported(h: DiscordHarness, answer: Any) -> dict[str, Any]:
    return exported_file(h, answer)["features"]["feedback"]


async def test_privacy_export_then_delete(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    channel = await configure(h)
    lou = h.fake.add_user("Lou", locale="fr", guild=h.guild)
    mine, mine_id = await ask_for(h, h.member, channel, title="Ma page")
    thread = h.fake.channels[int(mine["id"])]
    await answer(h, h.moderator, mine, mine_id, "Anonyme.", anonymous=True)
    await answer(h, lou, mine, mine_id, "Signé.")
    theirs, theirs_id = await ask_for(h, lou, channel, title="Sa page")
    await answer(h, h.member, theirs, theirs_id, "Mon avis @everyone", readability="4")
    lou_answer, my_answer = cards(h, str(thread.id))[1], cards(h, theirs["id"])[0]
    given = await h.fake.click(lou_answer, button_ids(lou_answer)[0], h.member, locale="fr")
    await given.wait_followups(1)
    received = await h.fake.click(my_answer, button_ids(my_answer)[0], lou, locale="fr")
    await received.wait_followups(1)

    data = exported(h, await h.fake.invoke_slash(h.guild, h.member, "privacy export"))
    assert [r["title"] for r in data["requests"]] == ["Ma page"]
    assert [(a["request_id"], a["text"], a["ratings"]) for a in data["answers"]] == [
        (int(theirs_id), "Mon avis @everyone", {"readability": 4})
    ]
    assert len(data["kudos_given"]) == 1 and len(data["kudos_received"]) == 1
    assert exported(h, await h.fake.invoke_slash(h.guild, h.moderator, "privacy export"))["answers"][0][
        "anonymous"
    ]  # an anonymous answer is still its author's data

    asked = await h.fake.invoke_slash(h.guild, h.member, "privacy delete")
    confirm = next(i for i in button_ids(asked.original) if i.startswith("privacy:confirm:"))
    confirmed = await h.fake.click(asked.original, confirm, h.member)
    await confirmed.wait_followups(1)
    clock: Any = h.services.clock
    clock.set(datetime.now(UTC) + timedelta(minutes=1))  # the clean-up job is due at once (wall clock)
    await h.services.scheduler.run_due()

    assert int(mine["id"]) not in h.fake.messages  # the request's card
    assert cards(h, str(thread.id)) == [] and thread.archived  # its answers removed, its thread closed
    assert int(my_answer["id"]) not in h.fake.messages  # the member's answer elsewhere
    async with h.services.db.transaction() as session:
        assert await session.scalar(select(FeedbackRequest.title)) == "Sa page"
        stub = (await session.scalars(select(FeedbackAnswer))).one()
        assert (stub.member_id, stub.text, stub.ratings) == (None, "", {})
        assert await session.scalar(select(func.count(Kudos.id))) == 0
    assert exported(h, await h.fake.invoke_slash(h.guild, lou, "privacy export"))["kudos_received"] == []


async def test_a_request_whose_thread_discord_failed_is_saved_and_gets_its_thread_later(
    discord_harness: DiscordHarness,
) -> None:
    """A 503 on creating the thread escaped `publish_request`: the member was told "nothing was saved"
    while the card was in the channel and the request stored without its message id (asking again posted
    it twice). Now the card's message is recorded first, the member told it is posted, and a job opens
    the thread once Discord is back."""
    from tests.e2e.test_discord_outage import fail_route

    h = discord_harness
    channel = await configure(h)
    hits = fail_route(h, "POST", "/threads", times=1)
    asked = await h.fake.invoke_slash(h.guild, h.member, "feedback", OPTIONS, locale="fr")
    [note] = await asked.wait_followups(1)
    assert hits
    assert note["content"] == h.t("fr", "feedback.asked.posted", channel=channel)
    [card] = cards(h, channel)
    async with h.services.db.transaction() as session:
        [request] = list(await session.scalars(select(FeedbackRequest)))
    assert (request.message_id, request.thread_id) == (card["id"], None)
    for _ in range(2):
        h.services.clock.advance(timedelta(minutes=10))  # type: ignore[attr-defined]
        await h.services.scheduler.run_due()
    async with h.services.db.transaction() as session:
        thread_id = await session.scalar(select(FeedbackRequest.thread_id))
    assert thread_id is not None and int(thread_id) in h.fake.channels
    assert len(cards(h, channel)) == 1


async def test_an_attached_file_is_posted_with_the_card_not_linked_at_its_expiring_url(
    discord_harness: DiscordHarness,
) -> None:
    """`/feedback file:` gives an interaction attachment, which Discord marks ephemeral (its signed URL
    expires): the card linked it and reviewers opening it a day later found a dead link. The file is now
    downloaded and posted with the card, so it lasts as long as the card; the request keeps its name."""
    h = discord_harness
    channel = await configure(h)
    file = h.fake.attachment("maquette.png", b"\x89PNG fake image")
    assert file.payload()["ephemeral"] is True
    asked = await h.fake.invoke_slash(h.guild, h.member, "feedback", {**OPTIONS, "file": file}, locale="fr")
    [note] = await asked.wait_followups(1)
    assert note["content"] == h.t("fr", "feedback.asked.posted", channel=channel)
    [card] = cards(h, channel)
    assert [(a["filename"], a["size"]) for a in card["attachments"]] == [("maquette.png", len(file.content))]
    assert file.url not in str(card["embeds"])
    assert "📎 maquette.png" in str(card["embeds"])
    async with h.services.db.transaction() as session:
        [request] = list(await session.scalars(select(FeedbackRequest)))
    assert (request.file_name, request.links) == ("maquette.png", [OPTIONS["link"]])


async def test_a_file_too_big_is_refused_at_once_and_one_discord_fails_to_hand_over_saves_nothing(
    discord_harness: DiscordHarness,
) -> None:
    from cogs.feedback._validation import MAX_FILE_BYTES

    h = discord_harness
    channel = await configure(h)
    big = h.fake.attachment("video.mp4", b"x" * (MAX_FILE_BYTES + 1))
    refused = await h.fake.invoke_slash(h.guild, h.member, "feedback", {**OPTIONS, "file": big}, locale="fr")
    assert refused.ephemeral
    assert h.t("fr", "feedback.problems.file_too_big", size=9, max=8) in refused.content
    assert big.id not in h.fake.attachment_downloads  # refused on its declared size, nothing read

    gone = h.fake.attachment("maquette.png", b"\x89PNG")
    del h.fake.attachments[gone.id]  # Discord's CDN answers 404
    failed = await h.fake.invoke_slash(h.guild, h.member, "feedback", {**OPTIONS, "file": gone}, locale="en")
    [answer] = await failed.wait_followups(1)
    assert h.t("en", "feedback.errors.file_unreadable") in answer["content"]
    assert cards(h, channel) == []
    async with h.services.db.transaction() as session:
        assert await session.scalar(select(func.count(FeedbackRequest.id))) == 0
