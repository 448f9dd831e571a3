"""/mission, mission cards and their buttons on Discord, through the real bot and the fake Discord."""

from __future__ import annotations

import asyncio
import copy
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from cogs.intros._profile import save_profile
from cogs.intros._validation import IntroForm
from cogs.missions import FEATURE
from cogs.missions.models import Candidacy, Mission
from storage.models import Community, Job, Post, Trade
from storage.settings import get_settings
from tests.e2e.conftest import DiscordHarness
from tests.fakes.callers import make_caller
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import FakeGuild, FakeUser

MODAL = 9
UPDATE = 7
DEFERRED_UPDATE = 6
TEXTS = {
    "title": "Site vitrine pour une boulangerie",
    "description": "Refonte complète, 5 pages, SEO local.",
    "skills": "WordPress, SEO",
    "budget": "3000 €",
    "link": "https://boulangerie.example/brief",
}
DETAILS = {
    "start_date": "2026-12-07",
    "duration": "3 semaines",
    "city": "",
    "answer_by": "2026-12-10",
    "client_name": "Boulangerie Dupain",
}
MENTIONS = "@everyone @here <@&123456789012345678> <@987654321098765432>"


@pytest.fixture(autouse=True)
async def job_kinds(discord_harness: DiscordHarness) -> None:
    """Missions' start hook (its job kinds), as bot.runner runs it."""
    await FEATURE.on_start(discord_harness.services)


async def community_id(h: DiscordHarness, guild: FakeGuild | None = None) -> int:
    async with h.services.db.transaction() as session:
        found = await session.scalar(
            select(Community.id).where(Community.external_id == str((guild or h.guild).id))
        )
    assert found is not None
    return found


async def configure(h: DiscordHarness, guild: FakeGuild | None = None) -> dict[str, str]:
    """Missions channel "général"; Développement -> "développement", Design graphique -> "design"."""
    guild = guild or h.guild
    cid = await community_id(h, guild)
    channels = {name: str(guild.channel(name).id) for name in ("général", "développement", "design")}
    async with h.services.db.transaction() as session:
        (await get_settings(session, cid)).missions_channel_id = channels["général"]
        for trade, channel in (("Développement", "développement"), ("Design graphique", "design")):
            await session.execute(
                update(Trade)
                .where(Trade.community_id == cid, Trade.name == trade)
                .values(channel_id=channels[channel])
            )
    return channels


async def trade_values(h: DiscordHarness, guild: FakeGuild, *names: str) -> list[str]:
    cid = await community_id(h, guild)
    async with h.services.db.transaction() as session:
        rows = await session.execute(select(Trade.name, Trade.id).where(Trade.community_id == cid))
        ids = {row.name: row.id for row in rows}
    return [str(ids[name]) for name in names]


async def fill_form(
    h: DiscordHarness,
    user: FakeUser,
    *,
    guild: FakeGuild | None = None,
    trades: tuple[str, ...] = ("Développement", "Design graphique"),
    texts: dict[str, str] | None = None,
    details: dict[str, str] | None = None,
) -> dict[str, Any]:
    """/mission, pick trades, fill both modals: the form message, ready to publish."""
    guild = guild or h.guild
    started = await h.fake.invoke_slash(guild, user, "mission", locale="fr")
    assert started.ephemeral, started.callbacks
    form = started.original
    assert form is not None
    picked = await h.fake.choose(form, "missions:pick:trades", await trade_values(h, guild, *trades), user)
    assert picked.response_type == UPDATE
    opened = await h.fake.click(form, "missions:form:texts", user)
    assert opened.response_type == MODAL
    typed = await h.fake.submit_modal(
        guild, user, "missions:form:submit_texts", {**TEXTS, **(texts or {})}, message=form
    )
    assert h.t("fr", "missions.form.texts_saved") in typed.content
    opened = await h.fake.click(form, "missions:form:details", user)
    assert opened.response_type == MODAL
    typed = await h.fake.submit_modal(
        guild, user, "missions:form:submit_details", {**DETAILS, **(details or {})}, message=form
    )
    assert h.t("fr", "missions.form.details_saved") in typed.content
    return form


async def publish(h: DiscordHarness, form: dict[str, Any], user: FakeUser) -> FakeInteraction:
    return await h.fake.click(form, "missions:form:publish", user)


async def missions(h: DiscordHarness) -> list[Mission]:
    async with h.services.db.transaction() as session:
        return list(await session.scalars(select(Mission).order_by(Mission.id)))


def cards(h: DiscordHarness, channel_id: str) -> list[dict[str, Any]]:
    return [m for m in h.fake.channel_messages(int(channel_id)) if m.get("embeds")]


def fields(message: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in message["embeds"][0].get("fields", [])}


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for row in message.get("components") or [] for c in row["components"]]


def texts_of(interaction: FakeInteraction) -> str:
    return "\n".join(interaction.all_texts())


async def answered(interaction: FakeInteraction) -> FakeInteraction:
    if interaction.response_type == 5 and not interaction.followups:
        await interaction.wait_followups(1)
    return interaction


async def post_mission(h: DiscordHarness, user: FakeUser, **kwargs: Any) -> tuple[Mission, FakeInteraction]:
    form = await fill_form(h, user, **kwargs)
    done = await answered(await publish(h, form, user))
    found = await missions(h)
    assert found, texts_of(done)
    return found[-1], done


async def interest(
    h: DiscordHarness, card: dict[str, Any], mission_id: int, user: FakeUser, note: str = ""
) -> FakeInteraction:
    opened = await h.fake.click(card, f"missions:interest:{mission_id}", user)
    assert opened.response_type == MODAL, texts_of(opened)
    return await answered(
        await h.fake.submit_modal(h.guild, user, f"missions:note:{mission_id}", {"note": note}, message=card)
    )


async def test_share_interest_select_staff_and_close(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    channels = await configure(h)
    sacha = h.fake.add_user("Sacha", locale="fr", guild=h.guild)
    alex = h.fake.add_user("Alex", locale="en-US", guild=h.guild)

    mission, done = await post_mission(h, h.member)

    assert h.t("fr", "missions.saved.created") in done.content
    assert h.t("fr", "missions.saved.posted", count=3) in done.content
    assert (mission.title, mission.budget_min, mission.client_name) == (
        TEXTS["title"],
        3000,
        "Boulangerie Dupain",
    )
    for channel in channels.values():
        [card] = cards(h, channel)
        assert card["embeds"][0]["title"].endswith(TEXTS["title"])
        assert card["allowed_mentions"] == {"parse": []}
        assert "Boulangerie Dupain" not in str(card)
        assert fields(card)[h.t("fr", "missions.card.trades")] == "Développement 0 · Design graphique 0"
    card = cards(h, channels["design"])[0]

    await give_profile(h, sacha, "Design graphique")
    await give_profile(h, alex, "Design graphique", "Développement")
    said = await interest(h, card, mission.id, sacha, note="Dispo dès lundi")
    assert h.t("fr", "missions.interest.saved") in texts_of(said)
    again = await interest(h, card, mission.id, sacha)
    assert h.t("fr", "missions.interest.already") in texts_of(again)
    await interest(h, card, mission.id, alex)
    async with h.services.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Candidacy)) == 2
    for channel in channels.values():
        [updated] = cards(h, channel)
        assert fields(updated)[h.t("fr", "missions.card.trades")] == "Développement 1 · Design graphique 2"
    [dm, _] = h.fake.dm_messages(h.member)
    assert "Sacha" in dm["embeds"][0]["title"]
    assert "Dispo dès lundi" in str(dm["embeds"][0])
    assert dm["allowed_mentions"] == {"parse": []}

    # The author's own mission: no candidacy; someone else cannot see the candidates.
    own = await h.fake.click(card, f"missions:interest:{mission.id}", h.member)
    assert h.t("fr", "missions.errors.own_mission") in texts_of(own)
    refused = await answered(await h.fake.click(card, f"missions:candidates:{mission.id}", sacha))
    assert h.t("fr", "missions.errors.not_author") in texts_of(refused)

    listed = await h.fake.click(card, f"missions:candidates:{mission.id}", h.member)
    assert listed.ephemeral
    assert "Dispo dès lundi" in str(listed.embeds[0])
    members = {c.member_id for c in await candidacies(h)}
    sacha_id = min(members)
    select_id = f"missions:select:{mission.id}:0"
    chosen = await h.fake.choose(listed.original, select_id, [str(sacha_id)], h.member)
    assert chosen.response_type == DEFERRED_UPDATE
    assert (await missions(h))[0].status == "forming"
    edited = await _wait_edit(h, listed.original)
    assert any(b["custom_id"] == f"missions:confirm:{mission.id}" for b in buttons(edited))

    confirmed = await answered(await h.fake.click(edited, f"missions:confirm:{mission.id}", h.member))
    assert h.t("fr", "missions.team.confirmed", count=1) in texts_of(confirmed)
    assert (await missions(h))[0].status == "staffed"
    [selected_dm] = h.fake.dm_messages(sacha)
    assert "Boulangerie Dupain" in str(selected_dm)  # the team sees the confidential client
    [kind_note] = h.fake.dm_messages(alex)
    assert "Boulangerie Dupain" not in str(kind_note)
    assert kind_note["embeds"][0]["title"] == h.t("en", "missions.dm.not_selected", title=TEXTS["title"])
    for channel in channels.values():
        [card] = cards(h, channel)
        assert h.t("fr", "missions.status.staffed") in card["embeds"][0]["footer"]["text"]
        assert [b["custom_id"] for b in buttons(card)] == [f"missions:close:{mission.id}"]

    asked = await h.fake.click(card, f"missions:close:{mission.id}", h.member)
    closed = await answered(
        await h.fake.click(asked.original, f"missions:closeas:{mission.id}:won", h.member)
    )
    assert h.t("fr", "missions.outcome.won") in texts_of(closed)
    assert ((await missions(h))[0].status, (await missions(h))[0].outcome) == ("closed", "won")
    for channel in channels.values():
        [card] = cards(h, channel)
        assert buttons(card) == []
        assert h.t("fr", "missions.outcome.won") in card["embeds"][0]["footer"]["text"]
    async with h.services.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Job).where(Job.state == "pending")) == 0


async def give_profile(h: DiscordHarness, user: FakeUser, *trades: str) -> None:
    """A profile with these trades (what a candidate counts for on the card)."""
    caller = await make_caller(h.services, str(user.id), guild=str(h.guild.id), name=user.name)
    async with h.services.db.transaction() as session:
        form = IntroForm(trade_ids=await trade_values(h, h.guild, *trades), skills="WordPress")
        await save_profile(session, caller, form, h.services.clock)


async def candidacies(h: DiscordHarness) -> list[Candidacy]:
    async with h.services.db.transaction() as session:
        return list(await session.scalars(select(Candidacy).order_by(Candidacy.id)))


async def _wait_edit(h: DiscordHarness, message: dict[str, Any]) -> dict[str, Any]:
    """The message once the bot edited it through the interaction's webhook."""
    request = await h.fake.wait_for_request(
        lambda r: r.method == "PATCH" and r.path.endswith(f"/messages/{message['id']}")
    )
    return {**message, **(request.body or {})}


async def test_expiry_warning_then_expiry_run_once(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    channels = await configure(h)
    mission, _ = await post_mission(h, h.member)
    clock: Any = h.services.clock
    scheduler = h.services.scheduler

    clock.advance(timedelta(days=12, hours=14))  # 2026-12-09 00:00 Paris: two days before 11 Dec 00:00
    await scheduler.run_due()
    await scheduler.run_due()
    [warning] = h.fake.dm_messages(h.member)
    assert warning["embeds"][0]["title"] == h.t("fr", "missions.dm.warning", title=TEXTS["title"])
    assert {b["custom_id"] for b in buttons(warning)} == {
        f"missions:extend:{mission.id}",
        f"missions:close:{mission.id}",
    }
    assert (await missions(h))[0].status == "open"

    await h.restart()  # the expiry was planned before the restart
    await FEATURE.on_start(h.services)
    clock.advance(timedelta(days=2))
    await scheduler.run_due()
    await scheduler.run_due()
    assert (await missions(h))[0].status == "expired"
    dms = h.fake.dm_messages(h.member)
    assert len(dms) == 2
    assert dms[1]["embeds"][0]["title"] == h.t("fr", "missions.dm.expired", title=TEXTS["title"])
    for channel in channels.values():
        [card] = cards(h, channel)
        assert buttons(card) == []
        assert h.t("fr", "missions.status.expired") in card["embeds"][0]["footer"]["text"]
    clock.advance(timedelta(days=3))
    await scheduler.run_due()
    assert len(h.fake.dm_messages(h.member)) == 2


async def test_extend_from_the_warning_dm_replans_the_expiry(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    await configure(h)
    mission, _ = await post_mission(h, h.member)
    clock: Any = h.services.clock
    clock.advance(timedelta(days=12, hours=14))
    await h.services.scheduler.run_due()
    [warning] = h.fake.dm_messages(h.member)

    extended = await answered(await h.fake.click(warning, f"missions:extend:{mission.id}", h.member))
    assert h.t("fr", "missions.extended", date="17 décembre 2026") in texts_of(extended)
    assert str((await missions(h))[0].answer_by) == "2026-12-17"
    clock.advance(timedelta(days=2))
    await h.services.scheduler.run_due()
    assert (await missions(h))[0].status == "open"  # the old expiry was cancelled


async def test_weekly_limit_and_repost_are_refused(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    await configure(h)
    cid = await community_id(h)
    async with h.services.db.transaction() as session:
        (await get_settings(session, cid)).missions_per_week = 1
    first, _ = await post_mission(h, h.member)

    form = await fill_form(h, h.member)
    repost = await answered(await publish(h, form, h.member))
    [first_card] = cards(h, str(h.guild.channel("développement").id))
    link = f"https://discord.com/channels/{h.guild.id}/{first_card['channel_id']}/{first_card['id']}"
    assert h.t("fr", "missions.errors.repost", id=first.id, title=TEXTS["title"], link=link) in texts_of(
        repost
    )

    form = await fill_form(
        h, h.member, texts={"title": "Application mobile de livraison", "description": "Une app Flutter."}
    )
    limited = await answered(await publish(h, form, h.member))
    assert h.t("fr", "missions.errors.weekly_limit", date="3 décembre 2026") in texts_of(limited)
    assert len(await missions(h)) == 1


async def test_bad_input_is_refused_in_french_and_nothing_saved(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    await configure(h)
    form = await fill_form(
        h,
        h.member,
        texts={"link": "ftp://files.example"},
        details={"answer_by": "2026-11-01"},
    )
    refused = await publish(h, form, h.member)
    text = texts_of(refused)
    assert text.startswith(h.t("fr", "missions.problems.heading"))
    assert h.t("fr", "missions.errors.bad_link") in text
    assert h.t("fr", "missions.errors.answer_past") in text
    assert await missions(h) == []
    assert h.fake.requests_to("POST", r"/channels/\d+/messages") == []


async def test_an_over_long_title_is_refused_in_english(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    started = await h.fake.invoke_slash(h.guild, h.member, "mission", locale="en-US")
    form = started.original
    await h.fake.choose(
        form, "missions:pick:trades", await trade_values(h, h.guild, "Conseil"), h.member, locale="en-US"
    )
    typed = await h.fake.submit_modal(
        h.guild,
        h.member,
        "missions:form:submit_texts",
        {**TEXTS, "title": "x" * 101},
        message=form,
        locale="en-US",
    )
    assert h.t("en", "missions.form.texts_saved") in typed.content  # Discord itself caps it at 100
    refused = await h.fake.click(form, "missions:form:publish", h.member, locale="en-US")
    text = texts_of(refused)
    assert text.startswith(h.t("en", "missions.problems.heading"))
    assert h.t("en", "missions.errors.too_long", max=100, length=101) in text
    assert await missions(h) == []
    assert h.fake.requests_to("POST", r"/channels/\d+/messages") == []


async def test_user_text_pings_nobody(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    await configure(h)
    await post_mission(h, h.member, texts={"title": "Mission @everyone", "description": MENTIONS})
    posted = h.fake.requests_to("POST", r"/channels/\d+/messages")
    assert len(posted) == 3
    for request in posted:
        assert request.body["allowed_mentions"] == {"parse": []}
        assert not request.body.get("content")
        assert request.body["embeds"][0]["description"] == MENTIONS


async def test_someone_else_cannot_manage_the_mission(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    channels = await configure(h)
    sacha = h.fake.add_user("Sacha", locale="fr", guild=h.guild)
    mission, _ = await post_mission(h, h.member)
    [card] = cards(h, channels["général"])
    await interest(h, card, mission.id, sacha)

    for custom_id in (
        *(f"missions:{verb}:{mission.id}" for verb in ("candidates", "edit", "close", "confirm", "extend")),
        f"missions:closeas:{mission.id}:lost",
    ):
        clicked = await answered(await h.fake.click(card, custom_id, sacha))
        assert h.t("fr", "missions.errors.not_author") in texts_of(clicked), custom_id
    forged = copy.deepcopy(card)
    chosen = await h.fake.choose(forged, f"missions:select:{mission.id}:0", [str(sacha.id)], sacha)
    await answered(chosen)
    [after] = await missions(h)
    assert (after.status, after.outcome) == ("open", None)
    assert not any(c.selected for c in await candidacies(h))
    # A moderator may close it.
    asked = await h.fake.click(card, f"missions:close:{mission.id}", h.moderator)
    closed = await answered(
        await h.fake.click(asked.original, f"missions:closeas:{mission.id}:cancelled", h.moderator)
    )
    assert h.t("fr", "missions.outcome.cancelled") in texts_of(closed)


async def test_a_forged_id_from_another_community_changes_nothing(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    other_guild = h.fake.new_guild("Autre collectif")
    await h.fake.join_guild(other_guild)
    owner = h.fake.add_user("Alex", locale="fr", guild=other_guild)
    theirs, _ = await post_mission(h, owner, guild=other_guild)
    await configure(h)
    mine, _ = await post_mission(h, h.member)
    [card] = cards(h, str(h.guild.channel("général").id))
    sacha = h.fake.add_user("Sacha", locale="fr", guild=h.guild)

    for user, custom_id in (
        (sacha, f"missions:interest:{theirs.id}"),
        (sacha, f"missions:withdraw:{theirs.id}"),
        (h.member, f"missions:candidates:{theirs.id}"),
        (h.member, f"missions:edit:{theirs.id}"),
        (h.member, f"missions:close:{theirs.id}"),
        (h.member, f"missions:closeas:{theirs.id}:won"),
        (h.member, f"missions:confirm:{theirs.id}"),
        (h.moderator, f"missions:closeas:{theirs.id}:cancelled"),
    ):
        clicked = await answered(await h.fake.click(card, custom_id, user))
        assert h.t("fr", "missions.errors.not_found") in texts_of(clicked), custom_id
    note = await answered(
        await h.fake.submit_modal(h.guild, sacha, f"missions:note:{theirs.id}", {"note": "hi"}, message=card)
    )
    assert h.t("fr", "missions.errors.not_found") in texts_of(note)
    after = (await missions(h))[0]
    assert (after.id, after.status, after.outcome) == (theirs.id, "open", None)
    assert await candidacies(h) == []
    assert mine.id != theirs.id
    async with h.services.db.transaction() as session:
        posts = await session.scalar(
            select(func.count())
            .select_from(Post)
            .where(Post.object_id == theirs.id, Post.feature == "missions")
        )
    assert posts == 1


async def test_editing_updates_every_card_in_place_and_replans_the_expiry(
    discord_harness: DiscordHarness,
) -> None:
    h = discord_harness
    channels = await configure(h)
    mission, _ = await post_mission(h, h.member)
    [card] = cards(h, channels["général"])
    ids_before = {name: cards(h, c)[0]["id"] for name, c in channels.items()}

    opened = await h.fake.click(card, f"missions:edit:{mission.id}", h.member)
    assert opened.ephemeral
    form = opened.original
    texts = await h.fake.click(form, "missions:form:texts", h.member)
    prefilled = {
        c["components"][0]["custom_id"]: c["components"][0].get("value") for c in texts.data["components"]
    }
    assert prefilled["title"] == TEXTS["title"]
    assert prefilled["budget"] == "3000 EUR"
    await h.fake.submit_modal(
        h.guild,
        h.member,
        "missions:form:submit_texts",
        {**prefilled, "title": "Site vitrine et boutique"},
        message=form,
    )
    await h.fake.choose(
        form, "missions:pick:trades", await trade_values(h, h.guild, "Développement"), h.member
    )
    await h.fake.click(form, "missions:form:details", h.member)
    await h.fake.submit_modal(
        h.guild,
        h.member,
        "missions:form:submit_details",
        {**DETAILS, "answer_by": "2026-12-20"},
        message=form,
    )
    done = await answered(await publish(h, form, h.member))

    assert h.t("fr", "missions.saved.updated") in texts_of(done)
    [after] = await missions(h)
    assert (after.id, after.title, str(after.answer_by)) == (
        mission.id,
        "Site vitrine et boutique",
        "2026-12-20",
    )
    assert cards(h, channels["design"]) == []  # the trade is no longer needed: its card goes
    for name in ("général", "développement"):
        [edited] = cards(h, channels[name])
        assert edited["id"] == ids_before[name]
        assert edited["embeds"][0]["title"].endswith("Site vitrine et boutique")
    async with h.services.db.transaction() as session:
        pending = {
            (j.kind, j.payload["answer_by"])
            for j in await session.scalars(select(Job).where(Job.state == "pending"))
        }
    assert pending == {("missions.warn", "2026-12-20"), ("missions.expire", "2026-12-20")}


async def test_a_channel_the_bot_cannot_post_in_is_named_and_the_rest_posted(
    discord_harness: DiscordHarness,
) -> None:
    h = discord_harness
    channels = await configure(h)
    h.guild.channel("design").bot_may_post = False

    mission, done = await post_mission(h, h.member)

    assert mission.status == "open"
    assert h.t("fr", "missions.saved.posted", count=2) in done.content
    assert h.t("fr", "missions.saved.failed", channels="#design", count=1) in done.content
    assert cards(h, channels["design"]) == []
    assert len(cards(h, channels["développement"])) == len(cards(h, channels["général"])) == 1


async def test_close_from_the_warning_dm(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    channels = await configure(h)
    mission, _ = await post_mission(h, h.member)
    clock: Any = h.services.clock
    clock.advance(timedelta(days=12, hours=14))
    await h.services.scheduler.run_due()
    [warning] = h.fake.dm_messages(h.member)
    sacha = h.fake.add_user("Sacha", locale="fr", guild=h.guild)

    stolen = await answered(await h.fake.click(warning, f"missions:close:{mission.id}", sacha))
    assert h.t("fr", "missions.errors.not_author") in texts_of(stolen)
    asked = await h.fake.click(warning, f"missions:close:{mission.id}", h.member)
    closed = await answered(
        await h.fake.click(asked.original, f"missions:closeas:{mission.id}:lost", h.member)
    )

    assert h.t("fr", "missions.outcome.lost") in texts_of(closed)
    assert ((await missions(h))[0].status, (await missions(h))[0].outcome) == ("closed", "lost")
    assert buttons(cards(h, channels["général"])[0]) == []


async def test_deleting_the_authors_data_keeps_a_mission_with_candidates_and_its_cards(
    discord_harness: DiscordHarness,
) -> None:
    h = discord_harness
    channels = await configure(h)
    sacha = h.fake.add_user("Sacha", locale="fr", guild=h.guild)
    kept, _ = await post_mission(h, h.member)
    alone, _ = await post_mission(h, h.member, texts={"title": "Logo pour une librairie", "description": ""})
    await give_profile(h, sacha, "Design graphique")
    await interest(h, cards(h, channels["design"])[0], kept.id, sacha)
    kept_ids = {m["id"] for c in channels.values() for m in cards(h, c) if f"n°{kept.id}" in str(m)}
    alone_ids = {m["id"] for c in channels.values() for m in cards(h, c) if f"n°{alone.id}" in str(m)}
    assert len(kept_ids) == 3 and len(alone_ids) == 3
    member_id = kept.author_member_id

    asked = await h.fake.invoke_slash(h.guild, h.member, "privacy delete")
    confirmed = await h.fake.click(asked.original, f"privacy:confirm:{member_id}", h.member)
    await confirmed.wait_followups(1)
    await h.services.scheduler.run_due()  # the cards follow (the next sweep)

    left = {m["id"]: m for c in channels.values() for m in cards(h, c)}
    assert set(left) == kept_ids  # the same messages, edited; the other mission's are gone
    former = h.t("fr", "missions.card.former_member")
    for message in left.values():
        people = fields(message)[h.t("fr", "missions.card.people")]
        assert former in people and h.member.name not in people
        assert "Boulangerie Dupain" not in str(message)
        assert any(b["custom_id"] == f"missions:interest:{kept.id}" for b in buttons(message))
    [mission] = await missions(h)
    assert (mission.id, mission.author_member_id, mission.client_name) == (kept.id, None, "")


async def seed_missions(h: DiscordHarness, count: int, **values: Any) -> list[int]:
    """`count` open missions needing Développement, written directly (posting is tested above)."""
    from datetime import date

    from cogs.missions.models import MissionSkill, MissionTrade

    cid = await community_id(h)
    [dev] = await trade_values(h, h.guild, "Développement")
    ids = []
    async with h.services.db.transaction() as session:
        for i in range(count):
            mission = Mission(
                community_id=cid,
                title=f"{values.get('title', 'Mission')} {i}",
                title_key=f"seeded {i}",
                answer_by=date(2026, 12, 20),
                **{k: v for k, v in values.items() if k not in ("title", "skill")},
            )
            session.add(mission)
            await session.flush()
            session.add(MissionTrade(community_id=cid, mission_id=mission.id, trade_id=int(dev)))
            if "skill" in values:
                session.add(MissionSkill(community_id=cid, mission_id=mission.id, key=values["skill"]))
            ids.append(mission.id)
    return ids


async def test_missions_filters_and_pages_survive_a_restart(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    await configure(h)
    await seed_missions(h, 12, title="Audit SEO", skill="seo", work_mode="remote", city="")
    await seed_missions(h, 2, title="Atelier Lyon", work_mode="onsite", city="Lyon", city_key="lyon")

    listed = await h.fake.invoke_slash(
        h.guild, h.member, "missions", {"skill": "référencement", "mode": "remote"}
    )
    assert listed.ephemeral
    [embed] = listed.embeds
    assert embed["description"].count("Audit SEO") == 10 and "Atelier" not in embed["description"]
    assert h.t("fr", "missions.list.filter.skill", value="référencement") in embed["description"]
    [next_id] = [b["custom_id"] for b in buttons(listed.original)]
    assert next_id.startswith("missions:page:1:")

    await h.restart()  # the search is stored behind the token: nothing kept in memory
    turned = await h.fake.click(listed.original, next_id, h.member)
    assert turned.response_type == UPDATE
    assert turned.data["embeds"][0]["description"].count("Audit SEO") == 2

    lyon = await h.fake.invoke_slash(h.guild, h.member, "missions", {"city": "LYON", "trade": "dévelop"})
    text = lyon.embeds[0]["description"]
    assert "Atelier Lyon 0" in text and "Atelier Lyon 1" in text and "Audit" not in text

    refused = await h.fake.invoke_slash(h.guild, h.member, "missions", {"sector": "Spatial", "start": "hier"})
    said = texts_of(refused)
    assert h.t("fr", "missions.errors.unknown_sector_filter", sector="Spatial") in said
    assert h.t("fr", "missions.errors.start_filter_past") in said


async def test_suggest_a_team_then_invite_and_the_invited_member_applies_from_the_dm(
    discord_harness: DiscordHarness,
) -> None:
    h = discord_harness
    channels = await configure(h)
    sacha = h.fake.add_user("Sacha", locale="fr", guild=h.guild)
    alex = h.fake.add_user("Alex", locale="en-US", guild=h.guild)
    await give_profile(h, sacha, "Design graphique")
    await give_profile(h, alex, "Développement")
    mission, _ = await post_mission(h, h.member)
    card = cards(h, channels["design"])[0]

    listed = await h.fake.click(card, f"missions:candidates:{mission.id}", h.member)
    assert f"missions:suggest:{mission.id}" in [b["custom_id"] for b in buttons(listed.original)]
    stolen = await answered(await h.fake.click(listed.original, f"missions:suggest:{mission.id}", sacha))
    assert h.t("fr", "missions.errors.not_author") in texts_of(stolen)
    suggest = f"missions:suggest:{mission.id}"
    suggested = await answered(await h.fake.click(listed.original, suggest, h.member))
    [embed] = suggested.followups[0]["embeds"]
    values = {f["name"]: f["value"] for f in embed["fields"]}
    assert values["Design graphique"].startswith("Sacha") and values["Développement"].startswith("Alex")
    assert h.t("fr", "missions.suggest.why.skills", value="WordPress") in values["Design graphique"]
    proposal = suggested.followups[0]

    invited = await answered(await h.fake.click(proposal, f"missions:invite:{mission.id}", h.member))
    assert h.t("fr", "missions.suggest.invited", names="Sacha, Alex", count=2) in texts_of(invited) or (
        h.t("fr", "missions.suggest.invited", names="Alex, Sacha", count=2) in texts_of(invited)
    )
    [dm] = h.fake.dm_messages(sacha)
    assert dm["embeds"][0]["title"] == h.t("fr", "missions.dm.invited", title=TEXTS["title"])
    assert "Boulangerie Dupain" not in str(dm) and dm["allowed_mentions"] == {"parse": []}
    again = await answered(await h.fake.click(proposal, f"missions:invite:{mission.id}", h.member))
    assert h.t("fr", "missions.suggest.already_invited") in texts_of(again)
    assert len(h.fake.dm_messages(sacha)) == 1

    # Accepting from the DM: I'm interested there makes a candidacy like on the card.
    opened = await h.fake.click(dm, f"missions:interest:{mission.id}", sacha)
    assert opened.response_type == MODAL, texts_of(opened)
    said = await answered(
        await h.fake.submit_modal(
            None, sacha, f"missions:note:{mission.id}", {"note": "Avec plaisir"}, message=dm  # type: ignore[arg-type]
        )
    )
    assert h.t("fr", "missions.interest.saved") in texts_of(said)
    [candidacy] = await candidacies(h)
    assert candidacy.note == "Avec plaisir"
    assert "Design graphique 1" in fields(cards(h, channels["design"])[0])[h.t("fr", "missions.card.trades")]

    # Declining from the DM: the author is told once, with Suggest a team at hand.
    [alex_dm] = h.fake.dm_messages(alex)
    declined = await answered(await h.fake.click(alex_dm, f"missions:decline:{mission.id}", alex))
    assert h.t("en", "missions.suggest.declined") in texts_of(declined)
    again = await answered(await h.fake.click(alex_dm, f"missions:decline:{mission.id}", alex))
    assert h.t("en", "missions.suggest.declined") in texts_of(again)
    told = [m for m in h.fake.dm_messages(h.member) if "Alex" in m["embeds"][0]["title"]]
    assert [m["embeds"][0]["title"] for m in told] == [
        h.t("fr", "missions.dm.declined", name="Alex", title=TEXTS["title"])
    ]


async def test_missions_and_its_pages_answer_while_another_process_writes(
    discord_harness: DiscordHarness,
) -> None:
    """/missions and Next only read: the search is stored for paging after the answer, so another
    process's write lock (a backup, an import) does not make Discord drop them (3 s)."""
    from tests.e2e.test_write_lock import write_locked

    h = discord_harness
    await configure(h)
    await seed_missions(h, 12, title="Audit SEO", skill="seo", work_mode="remote", city="")
    await h.fake.invoke_slash(h.guild, h.member, "help")  # the member is known: no first-contact write
    with write_locked(h.services.settings.database.url):
        listed = await h.fake.invoke_slash(h.guild, h.member, "missions", timeout=2.5)
        [next_id] = [b["custom_id"] for b in buttons(listed.original)]
        turned = await h.fake.click(listed.original, next_id, h.member, timeout=2.5)
    assert turned.response_type == UPDATE
    assert turned.data["embeds"][0]["description"].count("Audit SEO") == 2
    await asyncio.sleep(0.3)  # the search is stored once the lock is gone
    again = await h.fake.click(listed.original, next_id, h.member)
    assert again.data["embeds"][0]["description"].count("Audit SEO") == 2


async def test_the_author_picks_the_team_from_the_candidates_shown_in_a_dm(
    discord_harness: DiscordHarness,
) -> None:
    """The "new candidate" DM's "See candidates" shows the candidates there; its select and Confirm
    work in the DM too (before: the generic error, nothing selected)."""
    h = discord_harness
    channels = await configure(h)
    sacha = h.fake.add_user("Sacha", locale="fr", guild=h.guild)
    await give_profile(h, sacha, "Design graphique")
    mission, _ = await post_mission(h, h.member)
    await interest(h, cards(h, channels["design"])[0], mission.id, sacha, note="Dispo")
    [dm] = [m for m in h.fake.dm_messages(h.member) if "Sacha" in str(m.get("embeds"))]
    listed = await h.fake.click(dm, f"missions:candidates:{mission.id}", h.member)
    [candidacy] = await candidacies(h)
    chosen = await answered(await h.fake.choose(
        listed.original, f"missions:select:{mission.id}:0", [str(candidacy.member_id)], h.member))
    assert h.t("fr", "errors.generic") not in texts_of(chosen)
    assert (await missions(h))[0].status == "forming"


async def test_a_step_of_an_expired_edit_form_says_so_and_makes_no_second_mission(
    discord_harness: DiscordHarness,
) -> None:
    """Editing mission 1, the member leaves the form open over 15 minutes, then picks and goes on:
    told the form expired, with no new draft (before: a blank new mission's draft, silently, and
    Publish posted a second mission)."""
    from datetime import timedelta

    h = discord_harness
    channels = await configure(h)
    mission, _ = await post_mission(h, h.member)
    [card] = cards(h, channels["général"])
    form = (await h.fake.click(card, f"missions:edit:{mission.id}", h.member)).original
    h.services.clock.advance(timedelta(minutes=16))  # type: ignore[attr-defined]
    gone = h.t("fr", "missions.form.gone")
    picked = await answered(await h.fake.choose(
        form, "missions:pick:trades", await trade_values(h, h.guild, "Développement"), h.member))
    assert gone in texts_of(picked)
    texts = await answered(await h.fake.click(form, "missions:form:texts", h.member))
    assert gone in texts_of(texts)  # no modal of an empty new mission
    published = await answered(await h.fake.click(form, "missions:form:publish", h.member))
    assert [m.id for m in await missions(h)] == [mission.id], texts_of(published)


async def test_a_mission_brought_by_someone_who_never_used_collectif_shows_their_name(
    discord_harness: DiscordHarness,
) -> None:
    """The "brought by" member is chosen in a user select: the card shows the name Discord resolved
    for them (their nickname, else their name), not their raw user id, though they never used Collectif."""
    h = discord_harness
    channels = await configure(h)
    friend = h.fake.add_user("Zoé Ferrand", guild=h.guild)
    form = await fill_form(h, h.member)
    assert (await h.fake.click(form, "missions:step:2", h.member)).response_type == UPDATE
    picked = await h.fake.choose(form, "missions:pick:behalf", [str(friend.id)], h.member)
    assert picked.response_type == DEFERRED_UPDATE, texts_of(picked)

    mission, _ = await post_mission_from(h, form)

    shown = fields(cards(h, channels["général"])[0])[h.t("fr", "missions.card.people")]
    assert shown == h.t("fr", "missions.card.brought_by", name="Zoé Ferrand", author=h.member.name)
    assert str(friend.id) not in shown
    assert mission.brought_by_member_id is not None


async def post_mission_from(h: DiscordHarness, form: dict[str, Any]) -> tuple[Mission, FakeInteraction]:
    done = await answered(await publish(h, form, h.member))
    found = await missions(h)
    assert found, texts_of(done)
    return found[-1], done


async def test_a_late_modal_of_an_edit_form_keeps_the_text_and_edits_the_same_mission(
    discord_harness: DiscordHarness,
) -> None:
    """Editing mission 1, the member spends over 15 minutes rewriting its description in the modal:
    the draft expired, their text was dropped and a blank NEW mission's form shown; publishing it
    posted a second mission. The modal names the mission it edits: the text is kept on a draft of
    that mission, and Publish edits it."""
    h = discord_harness
    channels = await configure(h)
    mission, _ = await post_mission(h, h.member, trades=("Développement",))
    [card] = cards(h, channels["général"])

    form = (await h.fake.click(card, f"missions:edit:{mission.id}", h.member)).original
    opened = await h.fake.click(form, "missions:form:texts", h.member)
    assert opened.response_type == MODAL
    modal_id = opened.callback["data"]["custom_id"]
    h.services.clock.advance(timedelta(minutes=16))  # type: ignore[attr-defined]
    rewritten = {**TEXTS, "title": "Boutique en ligne pour une librairie",
                 "description": "Catalogue de 2 000 livres, paiement en ligne, retrait en magasin."}
    late = await answered(await h.fake.submit_modal(h.guild, h.member, modal_id, rewritten, message=form))
    assert h.t("fr", "missions.form.restored") in texts_of(late)
    done = await answered(await publish(h, late.original or form, h.member))

    [edited] = await missions(h)
    assert edited.id == mission.id, texts_of(done)
    assert (edited.title, edited.description) == (rewritten["title"], rewritten["description"])
    assert edited.client_name == DETAILS["client_name"]  # the rest as the mission had it


async def test_a_late_modal_of_a_new_mission_keeps_the_text_and_asks_for_the_choices_again(
    discord_harness: DiscordHarness,
) -> None:
    h = discord_harness
    await configure(h)
    started = await h.fake.invoke_slash(h.guild, h.member, "mission", locale="fr")
    form = started.original
    opened = await h.fake.click(form, "missions:form:texts", h.member)
    modal_id = opened.callback["data"]["custom_id"]
    h.services.clock.advance(timedelta(minutes=16))  # type: ignore[attr-defined]
    late = await answered(await h.fake.submit_modal(h.guild, h.member, modal_id, TEXTS, message=form))
    assert h.t("fr", "missions.form.expired") in texts_of(late)
    form = late.original or form
    trade = await trade_values(h, h.guild, "Développement")
    await h.fake.choose(form, "missions:pick:trades", trade, h.member)
    await h.fake.click(form, "missions:form:details", h.member)
    await h.fake.submit_modal(h.guild, h.member, "missions:form:submit_details", DETAILS, message=form)
    await answered(await publish(h, form, h.member))
    [posted] = await missions(h)
    assert posted.title == TEXTS["title"]


async def test_candidates_answer_thinking_before_asking_discord_who_left(
    discord_harness: DiscordHarness,
) -> None:
    """The list marks candidates who left the server (a member lookup per candidate): a slow Discord
    must not hold the first answer, which says "thinking…" at once; the list follows."""
    h = discord_harness
    channels = await configure(h)
    sacha = h.fake.add_user("Sacha", locale="fr", guild=h.guild)
    await give_profile(h, sacha, "Design graphique")
    mission, _ = await post_mission(h, h.member)
    card = cards(h, channels["design"])[0]
    opened = await h.fake.click(card, f"missions:interest:{mission.id}", sacha)
    await answered(await h.fake.submit_modal(
        None, sacha, f"missions:note:{mission.id}", {"note": "Dispo"}, message=card))  # type: ignore[arg-type]
    assert opened.response_type == MODAL

    lookups = [i for i, (method, pattern, _) in enumerate(h.fake._routes)
               if method == "GET" and "members" in pattern.pattern]
    for index in lookups:
        method, pattern, handler = h.fake._routes[index]

        async def slow(r: Any, _handler: Any = handler, **kw: str) -> Any:
            await asyncio.sleep(1.0)
            return await _handler(r, **kw)

        h.fake._routes[index] = (method, pattern, slow)
    listed = await answered(await h.fake.click(card, f"missions:candidates:{mission.id}", h.member))
    assert listed.response_type == 5
    assert listed.answered_at - listed.sent_at < 0.5
    assert "Sacha" in str(listed.original["embeds"])
