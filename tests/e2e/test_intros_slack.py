"""`/collectif intro|profile|availability`, the intro modal and the Home tab, through the real Bolt app."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update

from cogs.intros._profile import save_profile
from cogs.intros._validation import IntroForm
from cogs.intros.models import Profile
from storage.models import Community, Post, Trade
from storage.settings import get_settings
from tests.e2e.slack_harness import SlackHarness
from tests.fakes.callers import make_caller
from tests.fakes.slack_api import visible_text

CHANNELS = {"intro": "CINTRO", "Développement": "CDEV", "Design graphique": "CDESIGN"}
TEXTS = {
    "skills": "WordPress, référencement",
    "city": "Nantes",
    "rate": "450-650",
    "links": "https://camille.example",
    "bio": "Intégratrice WordPress.",
}


async def community_id(slack: SlackHarness, external_id: str | None = None) -> int:
    async with slack.services.db.transaction() as session:
        found = await session.scalar(
            select(Community.id).where(Community.external_id == (external_id or slack.fake.team_id))
        )
    assert found is not None
    return found


async def trade_ids(slack: SlackHarness, *names: str) -> list[str]:
    cid = await community_id(slack)
    async with slack.services.db.transaction() as session:
        rows = await session.execute(select(Trade.name, Trade.id).where(Trade.community_id == cid))
        ids = {row.name: row.id for row in rows}
    return [str(ids[name]) for name in names]


async def configure(slack: SlackHarness) -> None:
    cid = await community_id(slack)
    async with slack.services.db.transaction() as session:
        (await get_settings(session, cid)).intro_channel_id = CHANNELS["intro"]
        for name in ("Développement", "Design graphique"):
            await session.execute(
                update(Trade)
                .where(Trade.community_id == cid, Trade.name == name)
                .values(channel_id=CHANNELS[name])
            )


def state(trades: list[str], **texts: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "trades": {
            "value": {"type": "multi_static_select", "selected_options": [{"value": t} for t in trades]}
        },
        "work_mode": {"value": {"type": "static_select", "selected_option": {"value": "remote"}}},
        "availability": {"value": {"type": "static_select", "selected_option": {"value": "available"}}},
        "opt_ins": {
            "value": {
                "type": "checkboxes",
                "selected_options": [{"value": "matching"}, {"value": "directory"}],
            }
        },
    }
    for name, text in {**TEXTS, **texts}.items():
        values[name] = {"value": {"type": "plain_text_input", "value": text}}
    return values


async def open_form(slack: SlackHarness, user: str) -> dict[str, Any]:
    before = len(slack.fake.calls_to("views.open"))
    answer, _ = await slack.sender.command("intro", user_id=user)
    assert answer.status == 200
    call = await slack.fake.wait_for_call(
        "views.open", lambda c: slack.fake.calls_to("views.open").index(c) >= before
    )
    return call.args["view"]


async def submit(slack: SlackHarness, user: str, metadata: str, **texts: str) -> Any:
    trades = await trade_ids(slack, "Développement", "Design graphique")
    return await slack.sender.view_submission(
        "intros:form", state(trades, **texts), user_id=user, private_metadata=metadata
    )


async def profiles(slack: SlackHarness) -> list[Profile]:
    async with slack.services.db.transaction() as session:
        return list(await session.scalars(select(Profile).order_by(Profile.id)))


def cards(slack: SlackHarness) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for (channel, _ts), message in slack.fake.messages.items():
        found.setdefault(channel, []).append(message)
    return found


async def test_full_intro_flow_posts_cards_in_intro_and_trade_channels(slack: SlackHarness) -> None:
    view = await open_form(slack, slack.member_fr)
    await configure(slack)
    assert view["callback_id"] == "intros:form"
    assert [o["text"]["text"] for o in view["blocks"][0]["element"]["options"]][:2] == [
        "Développement",
        "Design graphique",
    ]
    assert view["title"]["text"] == slack.t("fr", "intros.form.title")

    [opt_ins] = [b["element"] for b in view["blocks"] if b.get("block_id") == "opt_ins"]
    assert [o["value"] for o in opt_ins["options"]] == ["matching", "pairing", "directory", "leaderboards"]
    assert opt_ins["options"][-1]["text"]["text"] == "M’afficher dans les classements"
    assert [o["value"] for o in opt_ins["initial_options"]] == ["matching", "directory", "leaderboards"]

    answer = await submit(slack, slack.member_fr, view["private_metadata"])  # leaderboards unticked
    assert answer.status == 200
    assert answer.text == ""  # the modal closes
    note = await slack.fake.wait_for_call("chat.postEphemeral")

    assert slack.t("fr", "intros.saved.posted", count=3) in note.args["text"]
    [profile] = await profiles(slack)
    assert (profile.city, profile.rate_min, profile.opt_pairing) == ("Nantes", 450, False)
    assert (profile.opt_directory, profile.opt_leaderboards) == (True, False)
    posted = cards(slack)
    assert set(posted) == {"CINTRO", "CDEV", "CDESIGN"}
    for messages in posted.values():
        [message] = messages
        assert message["blocks"][0]["text"]["text"] == "👋 camille"
        assert "Intégratrice WordPress." in visible_text(message)


async def test_running_intro_again_updates_the_same_messages(slack: SlackHarness) -> None:
    view = await open_form(slack, slack.member_fr)
    await configure(slack)
    await submit(slack, slack.member_fr, view["private_metadata"])
    await slack.fake.wait_for_call("chat.postEphemeral")
    before = set(slack.fake.messages)

    again = await open_form(slack, slack.member_fr)
    city = next(b for b in again["blocks"] if b["block_id"] == "city")
    assert city["element"]["initial_value"] == "Nantes"
    await submit(slack, slack.member_fr, again["private_metadata"], city="Rennes")
    await slack.fake.wait_for_call("chat.postEphemeral", lambda c: "mise à jour" in c.args["text"])

    assert len(slack.fake.calls_to("chat.postMessage")) == 3
    updates = slack.fake.calls_to("chat.update")
    assert {(c.args["channel"], c.args["ts"]) for c in updates} == before
    assert set(slack.fake.messages) == before
    assert all("Rennes" in visible_text(m) for m in slack.fake.messages.values())


async def test_invalid_input_errors_inline_in_french_and_saves_nothing(slack: SlackHarness) -> None:
    view = await open_form(slack, slack.member_fr)
    answer = await submit(
        slack,
        slack.member_fr,
        view["private_metadata"],
        bio="x" * 1001,
        links="ftp://files.example",
        rate="600-400",
    )

    body = answer.json()
    assert body["response_action"] == "errors"
    assert body["errors"] == {
        "bio": slack.t("fr", "intros.problems.bio_too_long", max=1000, length=1001),
        "links": slack.t("fr", "intros.problems.link_scheme", link="ftp://files.example"),
        "rate": slack.t("fr", "intros.problems.rate_order"),
    }
    assert await profiles(slack) == []
    assert slack.fake.calls_to("chat.postMessage") == []


async def test_invalid_input_errors_inline_in_english(slack: SlackHarness) -> None:
    view = await open_form(slack, slack.member_en)
    values = state([], bio="ok")
    values["availability"]["value"]["selected_option"]["value"] = "from_date"
    values["available_from"] = {"value": {"type": "datepicker", "selected_date": "2026-11-01"}}
    answer = await slack.sender.view_submission(
        "intros:form", values, user_id=slack.member_en, private_metadata=view["private_metadata"]
    )

    assert answer.json()["errors"] == {
        "trades": slack.t("en", "intros.problems.trades_count", min=1, max=3),
        "available_from": slack.t("en", "intros.problems.date_past", today="2026-11-26"),
    }
    assert await profiles(slack) == []


async def test_a_bio_with_mentions_pings_nobody(slack: SlackHarness) -> None:
    view = await open_form(slack, slack.member_fr)
    await configure(slack)
    await submit(
        slack,
        slack.member_fr,
        view["private_metadata"],
        bio="<!channel> <!here> <@UJORDAN> <!subteam^S123> @everyone & co",
    )
    await slack.fake.wait_for_call("chat.postEphemeral")

    posts = slack.fake.calls_to("chat.postMessage")
    assert len(posts) == 3
    for call in posts:
        text = visible_text(call.args)
        assert "<!" not in text
        assert "<@" not in text
        assert "&lt;!channel&gt; &lt;!here&gt; &lt;@UJORDAN&gt;" in text
        assert "&amp; co" in text


async def test_availability_command_updates_the_cards(slack: SlackHarness) -> None:
    view = await open_form(slack, slack.member_fr)
    await configure(slack)
    await submit(slack, slack.member_fr, view["private_metadata"])
    await slack.fake.wait_for_call("chat.postEphemeral")

    _, url = await slack.sender.command("disponibilite occupé", user_id=slack.member_fr)
    reply = await slack.fake.wait_for_post(url)

    assert reply.text == slack.t("fr", "intros.availability.updated", status="Occupé·e")
    assert len(slack.fake.calls_to("chat.update")) == 3
    assert all("Occupé·e" in visible_text(m) for m in slack.fake.messages.values())
    _, url = await slack.sender.command("availability 01/01/2020", user_id=slack.member_fr)
    assert (
        slack.t("fr", "intros.problems.date_past", today="2026-11-26")
        in (await slack.fake.wait_for_post(url)).text
    )
    [profile] = await profiles(slack)
    assert profile.availability == "busy"


async def test_home_tab_shows_the_profile_with_an_edit_button(slack: SlackHarness) -> None:
    await slack.sender.event({"type": "app_home_opened", "user": slack.member_fr, "tab": "home"})
    first = await slack.fake.wait_for_call("views.publish", lambda c: "intros:create" in str(c.args["view"]))
    assert slack.t("fr", "intros.home.no_profile") in visible_text(first.args)

    answer, _ = await slack.sender.action("intros:create", user_id=slack.member_fr)
    assert answer.status == 200
    view = (await slack.fake.wait_for_call("views.open")).args["view"]
    await submit(slack, slack.member_fr, view["private_metadata"])
    published = await slack.fake.wait_for_call(
        "views.publish", lambda c: "intros:edit:" in str(c.args["view"])
    )

    [profile] = await profiles(slack)
    actions = [
        e["action_id"]
        for b in published.args["view"]["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert actions[:3] == [
        f"intros:edit:{profile.id}",
        f"intros:avail:{profile.id}:available",
        f"intros:avail:{profile.id}:busy",
    ]
    assert "Nantes" in visible_text(published.args)
    await slack.sender.action(f"intros:edit:{profile.id}", user_id=slack.member_fr)
    await slack.fake.wait_for_call("views.open", lambda c: len(slack.fake.calls_to("views.open")) == 2)


async def test_profile_visibility(slack: SlackHarness) -> None:
    view = await open_form(slack, slack.member_fr)
    values = state(await trade_ids(slack, "Conseil"))
    values["opt_ins"]["value"]["selected_options"] = [{"value": "matching"}]  # not in the directory
    await slack.sender.view_submission(
        "intros:form", values, user_id=slack.member_fr, private_metadata=view["private_metadata"]
    )
    await slack.completions.wait(2)

    _, url = await slack.sender.command("profil <@UCAMILLE|camille>", user_id=slack.member_en)
    assert (await slack.fake.wait_for_post(url)).text == slack.t("en", "intros.errors.no_profile")
    _, url = await slack.sender.command("profile <@UCAMILLE|camille>", user_id=slack.admin)
    shown = await slack.fake.wait_for_post(url)
    assert "👋 camille" in shown.text
    assert "intros:edit" not in str(shown.body)
    _, url = await slack.sender.command("profile", user_id=slack.member_fr)
    assert "intros:edit" in str((await slack.fake.wait_for_post(url)).body)


async def test_another_community_cannot_see_or_change_a_profile(slack: SlackHarness) -> None:
    services = slack.services
    stranger = await make_caller(services, "UOTHER", platform="slack", guild="TOTHER", community_name="other",
                                 name="other", locale="fr-FR")
    async with services.db.transaction() as session:
        other_trade = await session.scalar(
            select(Trade.id).where(Trade.community_id == stranger.community_id)
        )
        saved = await save_profile(
            session, stranger, IntroForm(trade_ids=[str(other_trade)], city="Lille"), services.clock
        )
    theirs = saved.view.id

    for action in (f"intros:edit:{theirs}", f"intros:avail:{theirs}:busy"):
        _, url = await slack.sender.action(action, user_id=slack.member_fr)
        assert (await slack.fake.wait_for_post(url)).text == slack.t("fr", "intros.errors.no_profile")
    _, url = await slack.sender.command("profile <@UOTHER|other>", user_id=slack.member_fr)
    assert (await slack.fake.wait_for_post(url)).text == slack.t("fr", "intros.errors.no_profile")
    # A trade id of the other community, submitted in this one, is an unknown trade.
    answer = await slack.sender.view_submission(
        "intros:form", state([str(other_trade)]), user_id=slack.member_fr
    )
    assert answer.json()["errors"]["trades"] == slack.t("fr", "intros.problems.trades_unknown")

    assert slack.fake.calls_to("views.open") == []
    [profile] = await profiles(slack)
    assert (profile.id, profile.availability, profile.city) == (theirs, "available", "Lille")
    async with services.db.transaction() as session:
        assert list(await session.scalars(select(Post))) == []


async def test_forged_private_metadata_is_not_trusted(slack: SlackHarness) -> None:
    """A private_metadata that is not ours (not an object, or a channel that is not a channel id)
    neither fails the submission nor chooses where the card goes."""
    await open_form(slack, slack.member_fr)
    assert (await submit(slack, slack.member_fr, "[]")).text == ""
    forged = '{"channel": "#général <!channel>", "home": false}'
    assert (await submit(slack, slack.member_fr, forged, city="Brest")).text == ""
    await slack.completions.wait(3)  # /collectif intro and both submissions, their work included

    assert [p.city for p in await profiles(slack)] == ["Brest"]
    assert all(channel.startswith("D") for channel in cards(slack))  # only the member's DM: no card
    notes = [visible_text(m) for messages in cards(slack).values() for m in messages]
    assert notes and not any("erreur" in note for note in notes)
    assert all(c.args.get("channel") != "#général <!channel>" for c in slack.fake.calls)


async def test_an_intro_sent_from_the_apps_dm_is_saved_but_never_posted_in_that_private_dm(
    slack: SlackHarness,
) -> None:
    """The Messages tab is a DM nobody else sees: with no intro or trade channel set, the profile is
    saved (the directory lists it) and no card goes into that DM."""
    dm = f"D{slack.member_fr}"
    async def values() -> dict[str, Any]:
        return state(await trade_ids(slack, "Développement"))

    answer, _ = await slack.form_from("intro", "intros:form", values, user_id=slack.member_fr, channel_id=dm)
    assert answer.status == 200
    told = await slack.fake.wait_for_call(
        "chat.postEphemeral", lambda c: slack.t("fr", "intros.saved.nowhere") in visible_text(c.args))
    assert told.args["channel"] == dm
    async with slack.services.db.transaction() as session:
        assert list(await session.scalars(select(Post.channel_id))) == []
        assert await session.scalar(select(func.count()).select_from(Profile)) == 1


@pytest.mark.parametrize(
    ("user", "words"),
    [
        ("member_fr", "disponibilite disponible à partir du 15/01/2027"),
        ("member_en", "availability available from 2027-01-15"),
    ],
)
async def test_slack_available_from_a_date_is_saved_from_that_date(slack: SlackHarness, user: str,
                                                                    words: str) -> None:
    """`/collectif disponibilite disponible à partir du 15/01/2027`: the first word won, the date was
    dropped and the member counted available now by /members and /match."""
    member = getattr(slack, user)
    view = await open_form(slack, member)
    await configure(slack)
    await submit(slack, member, view["private_metadata"])
    await slack.fake.wait_for_call("chat.postEphemeral")

    _, url = await slack.sender.command(words, user_id=member)
    await slack.fake.wait_for_post(url)
    [profile] = await profiles(slack)
    assert (profile.availability, str(profile.available_from)) == ("from_date", "2027-01-15")


async def test_slack_a_date_picked_under_available_is_saved_as_from_that_date(slack: SlackHarness) -> None:
    """The form's datepicker ("Disponible à partir du") under the default status "Disponible": the
    date picked was dropped without a word."""
    view = await open_form(slack, slack.member_fr)
    await configure(slack)
    values = state(await trade_ids(slack, "Développement"))
    values["available_from"] = {"value": {"type": "datepicker", "selected_date": "2027-01-15"}}
    await slack.sender.view_submission(
        "intros:form", values, user_id=slack.member_fr, private_metadata=view["private_metadata"]
    )
    await slack.fake.wait_for_call("chat.postEphemeral")
    [profile] = await profiles(slack)
    assert (profile.availability, str(profile.available_from)) == ("from_date", "2027-01-15")


def picked(values: dict[str, Any], status: str, when: str | None) -> dict[str, Any]:
    """The form's state with this status and, when given, this date in the datepicker."""
    values["availability"]["value"]["selected_option"]["value"] = status
    if when is not None:
        values["available_from"] = {"value": {"type": "datepicker", "selected_date": when}}
    return values


async def _available_from_january(slack: SlackHarness) -> dict[str, Any]:
    """camille saved "available from 15/01/2027"; the form opened again, pre-filled with it."""
    view = await open_form(slack, slack.member_fr)
    await configure(slack)
    values = picked(state(await trade_ids(slack, "Développement")), "from_date", "2027-01-15")
    await slack.sender.view_submission(
        "intros:form", values, user_id=slack.member_fr, private_metadata=view["private_metadata"]
    )
    await slack.fake.wait_for_call("chat.postEphemeral")
    again = await open_form(slack, slack.member_fr)
    blocks = {b["block_id"]: b["element"] for b in again["blocks"]}
    assert blocks["availability"]["initial_option"]["value"] == "from_date"
    assert blocks["available_from"]["initial_date"] == "2027-01-15"
    return again


@pytest.mark.parametrize(
    ("status", "when", "expected"),
    [
        ("available", "2027-01-15", ("available", None)),  # the pre-filled date, untouched
        ("from_date", "2027-01-15", ("from_date", "2027-01-15")),
        ("available", "2027-02-01", ("from_date", "2027-02-01")),  # a date picked anew: from then
    ],
)
async def test_slack_switching_to_available_drops_the_pre_filled_from_date(
    slack: SlackHarness, status: str, when: str, expected: tuple[str, str | None]
) -> None:
    """Slack's datepicker cannot be emptied and sends its pre-filled date back: a member "available
    from 15/01" who chose "Disponible" stayed "available from 15/01", on the cards and in /members."""
    view = await _available_from_january(slack)
    values = picked(state(await trade_ids(slack, "Développement")), status, when)
    await slack.sender.view_submission(
        "intros:form", values, user_id=slack.member_fr, private_metadata=view["private_metadata"]
    )
    await slack.fake.wait_for_call("chat.postEphemeral", lambda c: "mis à jour" in c.args["text"])

    [profile] = await profiles(slack)
    saved = (profile.availability, str(profile.available_from) if profile.available_from else None)
    assert saved == expected
    shown = visible_text(slack.fake.messages[next(k for k in slack.fake.messages if k[0] == "CINTRO")])
    if expected[0] == "available":
        assert slack.t("fr", "intros.availability.available") in shown
        assert "à partir du" not in shown
    else:
        assert "à partir du" in shown


@pytest.mark.parametrize(
    ("user", "words", "expected"),
    [
        ("member_en", "availability unavailable", "busy"),
        ("member_en", "availability not available", "busy"),
        ("member_en", "availability Busy", "busy"),
        ("member_fr", "disponibilite indisponible", "busy"),
        ("member_fr", "disponibilite pas dispo", "busy"),
        ("member_fr", "disponibilite occupée", "busy"),
        ("member_en", "availability available now", "available"),
        ("member_fr", "disponibilite disponible", "available"),
        ("member_fr", "disponibilite dispo", "available"),
    ],
)
async def test_slack_availability_status_words_set_that_status(slack: SlackHarness, user: str, words: str,
                                                                expected: str) -> None:
    """`/collectif availability unavailable` was read as a date: "write the date as YYYY-MM-DD"."""
    member = getattr(slack, user)
    view = await open_form(slack, member)
    await configure(slack)
    await submit(slack, member, view["private_metadata"])
    await slack.fake.wait_for_call("chat.postEphemeral")
    _, url = await slack.sender.command("availability 2027-03-01", user_id=member)
    await slack.fake.wait_for_post(url)

    _, url = await slack.sender.command(words, user_id=member)
    reply = await slack.fake.wait_for_post(url)
    locale = "fr" if user == "member_fr" else "en"
    status = slack.t(locale, f"intros.availability.{expected}")
    assert reply.text == slack.t(locale, "intros.availability.updated", status=status)
    [profile] = await profiles(slack)
    assert (profile.availability, profile.available_from) == (expected, None)


@pytest.mark.parametrize(
    ("user", "words"), [("member_en", "availability holidays"), ("member_fr", "disponibilite vacances")]
)
async def test_slack_availability_unknown_word_is_told_the_usage_not_a_date_format(
    slack: SlackHarness, user: str, words: str
) -> None:
    member = getattr(slack, user)
    view = await open_form(slack, member)
    await configure(slack)
    await submit(slack, member, view["private_metadata"])
    await slack.fake.wait_for_call("chat.postEphemeral")

    _, url = await slack.sender.command(words, user_id=member)
    reply = await slack.fake.wait_for_post(url)
    locale = "fr" if user == "member_fr" else "en"
    assert reply.text == slack.t(locale, "intros.availability.usage")
    assert slack.t(locale, "intros.problems.date_format") not in reply.text
    [profile] = await profiles(slack)
    assert profile.availability == "available"


async def test_profile_of_a_word_that_names_no_member_is_told_the_usage(slack: SlackHarness) -> None:
    """Before, `/collectif profile foo` answered "This member has no profile here yet.", as for a member."""
    for typed, user, locale in (("profile foo", slack.member_en, "en"),
                                ("profil truc", slack.member_fr, "fr"),
                                ("profile UFO", slack.member_en, "en")):  # a word, not a user id
        _, url = await slack.sender.command(typed, user_id=user)
        reply = await slack.fake.wait_for_post(url)
        assert reply.text == slack.t(locale, "intros.slack.profile_usage")
        assert "/collectif profil" in reply.text and reply.text != slack.t(locale, "intros.errors.no_profile")
    _, url = await slack.sender.command("profile <@UNOBODY|nobody>", user_id=slack.member_en)
    assert (await slack.fake.wait_for_post(url)).text == slack.t("en", "intros.errors.no_profile")
