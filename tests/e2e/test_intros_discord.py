"""/intro, /profile and /availability on Discord, through the real bot and the fake Discord."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select, update

from cogs.intros import FEATURE as INTROS
from cogs.intros.models import Profile
from storage.models import Community, Member, Post, Trade
from storage.settings import get_settings
from tests.e2e.conftest import DiscordHarness
from tests.e2e.test_discord_outage import fail_route
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import FakeGuild, FakeUser

MODAL = 9
DEFERRED_UPDATE = 6
MESSAGE = 4
TEXTS = {
    "skills": "WordPress, référencement, Figma",
    "city": "Lyon",
    "rate": "400-600",
    "links": "https://camille.example",
    "bio": "Développeuse WordPress depuis 10 ans.",
}


async def choose(
    h: DiscordHarness,
    message: dict[str, Any],
    custom_id: str,
    values: list[str],
    user: FakeUser,
    locale: str = "fr",
) -> FakeInteraction:
    """Pick `values` in the select `custom_id` of a message."""
    return await h.fake.choose(message, custom_id, values, user, locale=locale)


async def community_id(h: DiscordHarness, guild: FakeGuild) -> int:
    async with h.services.db.transaction() as session:
        found = await session.scalar(select(Community.id).where(Community.external_id == str(guild.id)))
    assert found is not None
    return found


async def configure_channels(h: DiscordHarness) -> dict[str, str]:
    """Intro channel "général"; Développement -> "développement", Design graphique -> "design"."""
    cid = await community_id(h, h.guild)
    channels = {name: str(h.guild.channel(name).id) for name in ("général", "développement", "design")}
    async with h.services.db.transaction() as session:
        (await get_settings(session, cid)).intro_channel_id = channels["général"]
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


async def profiles(h: DiscordHarness) -> list[Profile]:
    async with h.services.db.transaction() as session:
        return list(await session.scalars(select(Profile).order_by(Profile.id)))


async def run_intro(
    h: DiscordHarness,
    user: FakeUser,
    *,
    guild: FakeGuild | None = None,
    trades: tuple[str, ...] = ("Développement", "Design graphique"),
    texts: dict[str, str] | None = None,
    locale: str = "fr",
) -> FakeInteraction:
    """/intro, pick trades, Continue, submit the modal: the modal submission's interaction."""
    guild = guild or h.guild
    started = await h.fake.invoke_slash(guild, user, "intro", locale=locale)
    assert started.ephemeral
    form = started.original
    assert form is not None
    if trades:
        picked = await choose(
            h, form, "intros:pick:trades", await trade_values(h, guild, *trades), user, locale
        )
        assert picked.response_type == DEFERRED_UPDATE
    opened = await h.fake.click(form, "intros:form:open", user, locale=locale)
    assert opened.response_type == MODAL
    return await h.fake.submit_modal(
        guild, user, "intros:form:submit", {**TEXTS, **(texts or {})}, locale=locale, message=form
    )


def card_messages(h: DiscordHarness, channel_id: str) -> list[dict[str, Any]]:
    return [m for m in h.fake.channel_messages(int(channel_id)) if m.get("embeds")]


async def test_full_intro_flow_saves_and_posts_in_intro_and_trade_channels(
    discord_harness: DiscordHarness,
) -> None:
    h = discord_harness
    channels = await configure_channels(h)

    submitted = await run_intro(h, h.member)
    followups = await submitted.wait_followups(1)

    assert h.t("fr", "intros.saved.created") in followups[0]["content"]
    assert h.t("fr", "intros.saved.posted", count=3) in followups[0]["content"]
    [profile] = await profiles(h)
    assert (profile.city, profile.rate_min, profile.rate_max) == ("Lyon", 400, 600)
    for name in ("général", "développement", "design"):
        [message] = card_messages(h, channels[name])
        embed = message["embeds"][0]
        assert embed["title"] == "👋 Camille"
        assert embed["description"] == TEXTS["bio"]
        assert message["allowed_mentions"] == {"parse": []}
    fields = {f["name"]: f["value"] for f in card_messages(h, channels["général"])[0]["embeds"][0]["fields"]}
    assert fields["Métiers"] == "Développement, Design graphique"
    assert fields["Compétences"] == "WordPress, référencement, Figma"


async def test_selects_and_pages_fill_the_profile(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    started = await h.fake.invoke_slash(h.guild, h.member, "intro", locale="fr")
    form = started.original
    assert form is not None
    await choose(h, form, "intros:pick:trades", await trade_values(h, h.guild, "Traduction"), h.member)
    await choose(h, form, "intros:pick:work_mode", ["onsite"], h.member)
    await choose(h, form, "intros:pick:availability", ["from:2026-12-07"], h.member)
    page2 = await h.fake.click(form, "intros:step:2", h.member)
    assert page2.response_type == 7
    assert h.t("fr", "intros.form.step2") in page2.data["content"]
    await choose(h, form, "intros:pick:languages", ["fr", "es"], h.member)
    components = [c for row in page2.data["components"] for c in row["components"]]
    [opt_ins] = [c for c in components if c["custom_id"] == "intros:pick:opt_ins"]
    assert [(o["value"], o.get("default", False)) for o in opt_ins["options"]] == [
        ("matching", True), ("pairing", False), ("directory", True), ("leaderboards", True),
    ]
    assert opt_ins["options"][-1]["label"] == "M’afficher dans les classements"
    await choose(h, form, "intros:pick:opt_ins", ["pairing"], h.member)
    await h.fake.click(form, "intros:form:open", h.member)
    submitted = await h.fake.submit_modal(h.guild, h.member, "intros:form:submit", TEXTS, message=form)
    await submitted.wait_followups(1)

    [profile] = await profiles(h)
    assert profile.work_mode == "onsite"
    assert (profile.availability, str(profile.available_from)) == ("from_date", "2026-12-07")
    assert profile.languages == ["fr", "es"]
    assert (profile.opt_matching, profile.opt_pairing, profile.opt_directory, profile.opt_leaderboards) == (
        False, True, False, False
    )
    # No channel configured: the card goes where the command was used.
    assert len(card_messages(h, str(h.guild.default_channel.id))) == 1


async def test_running_intro_again_edits_the_same_cards(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    channels = await configure_channels(h)
    await (await run_intro(h, h.member)).wait_followups(1)
    posts_before = len(h.fake.requests_to("POST", r"/channels/\d+/messages"))
    ids_before = {name: card_messages(h, c)[0]["id"] for name, c in channels.items()}

    started = await h.fake.invoke_slash(h.guild, h.member, "intro", locale="fr")
    opened = await h.fake.click(started.original, "intros:form:open", h.member)
    prefilled = {
        c["components"][0]["custom_id"]: c["components"][0].get("value") for c in opened.data["components"]
    }
    assert prefilled["city"] == "Lyon"
    assert prefilled["rate"] == "400-600 EUR"
    submitted = await h.fake.submit_modal(
        h.guild, h.member, "intros:form:submit", {**prefilled, "city": "Marseille"}, message=started.original
    )
    followups = await submitted.wait_followups(1)

    assert h.t("fr", "intros.saved.edited", count=3) in followups[0]["content"]
    assert len(h.fake.requests_to("POST", r"/channels/\d+/messages")) == posts_before
    patched = h.fake.requests_to("PATCH", r"/channels/\d+/messages/\d+")
    assert {r.path.rsplit("/", 1)[1] for r in patched} == set(ids_before.values())
    for name, channel in channels.items():
        [message] = card_messages(h, channel)
        assert message["id"] == ids_before[name]
        assert "Marseille · À distance" in {f["value"] for f in message["embeds"][0]["fields"]}


async def test_invalid_input_saves_nothing_and_offers_the_form_again_in_french(
    discord_harness: DiscordHarness,
) -> None:
    h = discord_harness
    submitted = await run_intro(
        h, h.member, texts={"bio": "x" * 1001, "links": "ftp://files.example", "rate": "600-400"}
    )

    assert submitted.response_type == MESSAGE
    assert submitted.ephemeral
    text = submitted.content
    assert text.startswith(h.t("fr", "intros.problems.heading"))
    assert h.t("fr", "intros.problems.bio_too_long", max=1000, length=1001) in text
    assert h.t("fr", "intros.problems.link_scheme", link="ftp://files.example") in text
    assert h.t("fr", "intros.problems.rate_order") in text
    assert await profiles(h) == []
    assert h.fake.requests_to("POST", r"/channels/\d+/messages") == []
    fix = next(
        b
        for row in submitted.data["components"]
        for b in row["components"]
        if b.get("custom_id") == "intros:form:open"
    )
    assert fix["label"] == h.t("fr", "intros.buttons.fix")

    reopened = await h.fake.click(submitted.original, "intros:form:open", h.member)
    values = {
        c["components"][0]["custom_id"]: c["components"][0].get("value") for c in reopened.data["components"]
    }
    assert values["links"] == "ftp://files.example"
    assert values["rate"] == "600-400"


async def test_invalid_input_in_english(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    submitted = await run_intro(
        h, h.member, trades=(), locale="en-US", texts={"links": "javascript:alert(1)"}
    )

    assert submitted.content.startswith(h.t("en", "intros.problems.heading"))
    assert h.t("en", "intros.problems.trades_count", min=1, max=3) in submitted.content
    assert "javascript:alert(1)" in submitted.content
    assert submitted.data["allowed_mentions"] == {"parse": []}
    assert await profiles(h) == []


async def test_a_bio_with_mentions_pings_nobody(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    await configure_channels(h)
    bio = "@everyone @here <@&123456789012345678> <!channel> <@987654321098765432> hello"
    await (await run_intro(h, h.member, texts={"bio": bio})).wait_followups(1)

    posted = h.fake.requests_to("POST", r"/channels/\d+/messages")
    assert len(posted) == 3
    for request in posted:
        assert request.body["allowed_mentions"] == {"parse": []}
        assert not request.body.get("content")  # the bio is in the embed only
        assert request.body["embeds"][0]["description"] == bio


async def test_availability_updates_the_posted_cards(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    channels = await configure_channels(h)
    await (await run_intro(h, h.member)).wait_followups(1)

    answer = await h.fake.invoke_slash(h.guild, h.member, "availability", {"status": "busy"}, locale="fr")
    followups = await answer.wait_followups(1)

    assert followups[0]["content"] == h.t("fr", "intros.availability.updated", status="Occupé·e")
    for channel in channels.values():
        fields = {f["name"]: f["value"] for f in card_messages(h, channel)[0]["embeds"][0]["fields"]}
        assert fields["Disponibilité"] == "Occupé·e"
    past = await h.fake.invoke_slash(
        h.guild, h.member, "availability", {"status": "from_date", "date": "2020-01-01"}, locale="fr"
    )
    assert (
        h.t("fr", "intros.problems.date_past", today="2026-11-26")
        in (await past.wait_followups(1))[0]["content"]
    )
    [profile] = await profiles(h)
    assert profile.availability == "busy"


async def test_profile_shows_own_card_with_buttons_and_hides_unlisted_ones(
    discord_harness: DiscordHarness,
) -> None:
    h = discord_harness
    started = await h.fake.invoke_slash(h.guild, h.member, "intro", locale="fr")
    form = started.original
    await choose(h, form, "intros:pick:trades", await trade_values(h, h.guild, "Conseil"), h.member)
    await h.fake.click(form, "intros:step:2", h.member)
    await choose(h, form, "intros:pick:opt_ins", ["matching"], h.member)  # not listed in the directory
    await h.fake.click(form, "intros:form:open", h.member)
    await (
        await h.fake.submit_modal(h.guild, h.member, "intros:form:submit", TEXTS, message=form)
    ).wait_followups(1)
    [profile] = await profiles(h)

    own = await h.fake.invoke_slash(h.guild, h.member, "profile", locale="fr")
    buttons = [b["custom_id"] for row in own.data["components"] for b in row["components"]]
    assert buttons == [
        f"intros:edit:{profile.id}",
        f"intros:avail:{profile.id}:available",
        f"intros:avail:{profile.id}:busy",
    ]
    other = h.fake.add_user("Sacha", locale="fr", guild=h.guild)
    hidden = await h.fake.invoke_slash(h.guild, other, "profile", {"member": h.member}, locale="fr")
    assert hidden.content == h.t("fr", "intros.errors.no_profile")
    shown = await h.fake.invoke_slash(h.guild, h.moderator, "profile", {"member": h.member}, locale="fr")
    assert shown.embeds[0]["title"] == "👋 Camille"
    assert "components" not in shown.data

    clicked = await h.fake.click(own.original, f"intros:avail:{profile.id}:busy", h.member)
    assert (await clicked.wait_followups(1))[0]["content"] == h.t(
        "fr", "intros.availability.updated", status="Occupé·e"
    )


async def test_another_community_cannot_see_or_change_a_profile(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    other_guild = h.fake.new_guild("Autre collectif")
    await h.fake.join_guild(other_guild)
    owner = h.fake.add_user("Alex", locale="fr", guild=other_guild)
    await (await run_intro(h, owner, guild=other_guild)).wait_followups(1)
    [theirs] = await profiles(h)
    await (await run_intro(h, h.member)).wait_followups(1)
    mine = (await profiles(h))[1]
    own = await h.fake.invoke_slash(h.guild, h.member, "profile", locale="fr")

    for verb in (f"intros:edit:{theirs.id}", f"intros:avail:{theirs.id}:busy"):
        forged = copy.deepcopy(own.original)
        for row in forged["components"]:
            for button in row["components"]:
                if button["custom_id"].endswith(f":{mine.id}") or f":{mine.id}:" in button["custom_id"]:
                    button["custom_id"] = verb
        clicked = await h.fake.click(forged, verb, h.member, locale="fr")
        if clicked.response_type == 5:  # deferred: the answer is a follow-up
            await clicked.wait_followups(1)
        assert h.t("fr", "intros.errors.no_profile") in clicked.all_texts()

    unknown = await h.fake.invoke_slash(h.guild, h.member, "profile", {"member": owner}, locale="fr")
    assert unknown.content == h.t("fr", "intros.errors.no_profile")
    after = (await profiles(h))[0]
    assert (after.availability, after.updated_at) == (theirs.availability, theirs.updated_at)
    async with h.services.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Post)) == 2


async def test_choices_lost_with_an_expired_draft_are_not_saved_silently(
    discord_harness: DiscordHarness,
) -> None:
    """A member who picked new trades, then took longer than the draft lives to write the modal,
    must not see their old trades saved: they are asked to check their choices, texts kept."""
    from datetime import timedelta

    from bot.drafts import DRAFT_TTL

    h = discord_harness
    await (await run_intro(h, h.member)).wait_followups(1)
    started = await h.fake.invoke_slash(h.guild, h.member, "intro", locale="fr")
    await choose(h, started.original, "intros:pick:trades", await trade_values(h, h.guild, "Photographie"),
                 h.member)
    await h.fake.click(started.original, "intros:form:open", h.member)
    h.services.clock.advance(DRAFT_TTL + timedelta(minutes=1))  # type: ignore[attr-defined]

    submitted = await h.fake.submit_modal(
        h.guild, h.member, "intros:form:submit", {**TEXTS, "city": "Brest"}, message=started.original
    )

    [profile] = await profiles(h)
    assert profile.city == "Lyon"  # nothing saved with choices the member did not make
    assert submitted.response_type == MESSAGE and submitted.ephemeral
    assert submitted.content.startswith(h.t("fr", "intros.form.expired"))
    reopened = await h.fake.click(submitted.original, "intros:form:open", h.member)
    values = {
        c["components"][0]["custom_id"]: c["components"][0].get("value") for c in reopened.data["components"]
    }
    assert values["city"] == "Brest"


async def test_a_pick_on_an_expired_form_says_so_and_shows_the_first_page_again(
    discord_harness: DiscordHarness,
) -> None:
    """Picks, then over 15 minutes, then another pick: the member is told the form expired and sees
    page 1 again (before: the draft was rebuilt silently, the earlier picks lost without a word)."""
    from datetime import timedelta

    from bot.drafts import DRAFT_TTL

    h = discord_harness
    started = await h.fake.invoke_slash(h.guild, h.member, "intro", locale="fr")
    await choose(h, started.original, "intros:pick:trades", await trade_values(h, h.guild, "Photographie"),
                 h.member)
    h.services.clock.advance(DRAFT_TTL + timedelta(minutes=1))  # type: ignore[attr-defined]
    late = await h.fake.choose(started.original, "intros:pick:availability", ["available"], h.member)
    await late.wait_answer()
    assert late.response_type == 7  # the form's message, updated in place
    assert late.data["content"].startswith(h.t("fr", "intros.form.expired"))


async def test_own_commands_before_any_intro_say_to_run_it(discord_harness: DiscordHarness) -> None:
    """/availability and /profile before any /intro: "You have no profile yet: introduce yourself with
    /intro" (/presentation in French), not "This member has no profile here yet". (Found by a review.)"""
    h = discord_harness
    for locale, intro in (("fr", "/presentation"), ("en", "/intro")):
        for command, options in (("availability", {"status": "busy"}), ("profile", {})):
            answer = await h.fake.invoke_slash(h.guild, h.member, command, options, locale=locale)
            if answer.response_type == 5:  # deferred: the answer is a follow-up
                await answer.wait_followups(1)
            expected = h.t(locale, "intros.errors.no_own_profile")
            assert expected in answer.all_texts() and intro in expected, (command, answer.all_texts())


def availability(h: DiscordHarness, channel_id: str) -> str:
    [card] = card_messages(h, channel_id)
    return {f["name"]: f["value"] for f in card["embeds"][0]["fields"]}["Disponibilité"]


async def test_a_card_discord_refused_to_edit_for_a_while_is_kept_edited_later_and_deleted_with_the_member(
    discord_harness: DiscordHarness,
) -> None:
    """A 403 on an edit (the bot's access to the channels taken away for a while) is not "message gone".

    Its `posts` row stays: the card is edited once the access is back, and the member's privacy
    deletion still removes it (taken for gone, it stayed in the channels for ever).
    """
    h = discord_harness
    await INTROS.on_start(h.services)
    channels = await configure_channels(h)
    await (await run_intro(h, h.member)).wait_followups(1)
    original = list(h.fake._routes)
    fail_route(h, "PATCH", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)", status=403)
    answer = await h.fake.invoke_slash(h.guild, h.member, "availability", {"status": "busy"}, locale="fr")
    await answer.wait_followups(1)
    h.fake._routes = original  # the moderators gave the bot its access back
    assert {availability(h, c) for c in channels.values()} != {"Occupé·e"}

    for _ in range(3):
        h.services.clock.advance(timedelta(minutes=10))  # type: ignore[attr-defined]
        await h.services.scheduler.run_due()
    assert {availability(h, c) for c in channels.values()} == {"Occupé·e"}

    async with h.services.db.transaction() as session:
        member_id = await session.scalar(select(Member.id).where(Member.platform_user_id == str(h.member.id)))
    asked = await h.fake.invoke_slash(h.guild, h.member, "privacy delete")
    await (await h.fake.click(asked.original, f"privacy:confirm:{member_id}", h.member)).wait_followups(1)
    assert {name: card_messages(h, c) for name, c in channels.items()} == {name: [] for name in channels}


async def test_a_save_refused_after_the_check_shows_the_form_again_with_what_was_typed(
    discord_harness: DiscordHarness, monkeypatch: Any
) -> None:
    """A trade removed by a moderator between the form's check and its save: the refusal came as an
    error and the draft was already dropped, so skills, rate, links and bio had to be typed again."""
    from cogs.intros import _discord as intros_discord

    h = discord_harness
    await configure_channels(h)
    real = intros_discord.submit_intro

    async def removing(ctx: Any, form: Any, **kwargs: Any) -> Any:
        await ctx.session.execute(delete(Trade).where(Trade.community_id == ctx.community_id,
                                                      Trade.name == "Design graphique"))
        return await real(ctx, form, **kwargs)

    monkeypatch.setattr(intros_discord, "submit_intro", removing)
    typed = {"skills": "Figma, illustration", "rate": "500 €/j", "bio": "Graphiste depuis dix ans."}
    submitted = await run_intro(h, h.member, texts=typed)
    [shown] = await submitted.wait_followups(1)
    assert h.t("fr", "intros.problems.heading") in shown["content"]
    assert await profiles(h) == []

    monkeypatch.undo()
    reopened = await h.fake.click(shown, "intros:form:open", h.member)
    assert reopened.response_type == MODAL
    values = {c["components"][0]["custom_id"]: c["components"][0].get("value")
              for c in reopened.data["components"]}
    assert {k: values[k] for k in typed} == typed
