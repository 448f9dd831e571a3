"""`/collectif mission`, the mission modal, cards and their buttons on Slack, through the real Bolt app."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select, update

from cogs.intros._profile import save_profile
from cogs.intros._validation import IntroForm
from cogs.missions import FEATURE
from cogs.missions.models import Candidacy, Mission
from storage.models import Community, Job, Trade
from storage.settings import get_settings
from tests.e2e.slack_harness import SlackHarness
from tests.fakes.callers import make_caller
from tests.fakes.slack_api import visible_text

CHANNELS = {"missions": "CMISSIONS", "Développement": "CDEV", "Design graphique": "CDESIGN"}
TEXTS = {
    "title": "Site vitrine pour une boulangerie",
    "description": "Refonte complète, 5 pages, SEO local.",
    "skills": "WordPress, SEO",
    "budget": "400-600 €/j",
    "duration": "3 semaines",
    "link": "https://boulangerie.example/brief",
    "client_name": "Boulangerie Dupain",
}
SACHA = "USACHA"


@pytest.fixture(autouse=True)
async def job_kinds(slack: SlackHarness) -> None:
    """Missions' start hook (its job kinds), as bot.runner runs it."""
    await FEATURE.on_start(slack.services)
    slack.fake.add_user(SACHA, "sacha", locale="fr-FR")


async def community_id(slack: SlackHarness) -> int:
    async with slack.services.db.transaction() as session:
        found = await session.scalar(select(Community.id).where(Community.external_id == slack.fake.team_id))
    assert found is not None
    return found


async def configure(slack: SlackHarness, per_week: int | None = None) -> None:
    cid = await community_id(slack)
    async with slack.services.db.transaction() as session:
        settings = await get_settings(session, cid)
        settings.missions_channel_id = CHANNELS["missions"]
        if per_week is not None:
            settings.missions_per_week = per_week
        for name in ("Développement", "Design graphique"):
            await session.execute(
                update(Trade)
                .where(Trade.community_id == cid, Trade.name == name)
                .values(channel_id=CHANNELS[name])
            )


async def trade_ids(slack: SlackHarness, *names: str) -> list[str]:
    cid = await community_id(slack)
    async with slack.services.db.transaction() as session:
        rows = await session.execute(select(Trade.name, Trade.id).where(Trade.community_id == cid))
        ids = {row.name: row.id for row in rows}
    return [str(ids[name]) for name in names]


def state(trades: list[str], *, answer_by: str = "2026-12-10", **texts: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "trades": {
            "value": {"type": "multi_static_select", "selected_options": [{"value": t} for t in trades]}
        },
        "work_mode": {"value": {"type": "static_select", "selected_option": {"value": "remote"}}},
        "source": {"value": {"type": "static_select", "selected_option": {"value": "own"}}},
        "start_date": {"value": {"type": "datepicker", "selected_date": "2026-12-07"}},
        "answer_by": {"value": {"type": "datepicker", "selected_date": answer_by}},
    }
    for name, text in {**TEXTS, **texts}.items():
        values[name] = {"value": {"type": "plain_text_input", "value": text}}
    return values


async def open_form(slack: SlackHarness, user: str) -> dict[str, Any]:
    before = len(slack.fake.calls_to("views.open"))
    answer, _ = await slack.sender.command("mission", user_id=user)
    assert answer.status == 200
    call = await slack.fake.wait_for_call(
        "views.open", lambda c: slack.fake.calls_to("views.open").index(c) >= before
    )
    return call.args["view"]


async def submit(
    slack: SlackHarness, user: str, metadata: str, *, trades: tuple[str, ...] = (), **kw: str
) -> Any:
    ids = await trade_ids(slack, *(trades or ("Développement", "Design graphique")))
    return await slack.sender.view_submission(
        "missions:form", state(ids, **kw), user_id=user, private_metadata=metadata
    )


async def post_mission(slack: SlackHarness, user: str, **kw: str) -> Mission:
    view = await open_form(slack, user)
    await configure(slack)
    answer = await submit(slack, user, view["private_metadata"], **kw)
    assert answer.text == "", answer.text
    await slack.fake.wait_for_call("chat.postEphemeral", lambda c: c.args.get("user") == user)
    return (await missions(slack))[-1]


async def missions(slack: SlackHarness) -> list[Mission]:
    async with slack.services.db.transaction() as session:
        return list(await session.scalars(select(Mission).order_by(Mission.id)))


async def give_profile(slack: SlackHarness, user: str, *trades: str) -> None:
    """A profile with these trades (what a candidate counts for on the card)."""
    caller = await make_caller(slack.services, user, platform="slack", guild=slack.fake.team_id)
    async with slack.services.db.transaction() as session:
        form = IntroForm(trade_ids=await trade_ids(slack, *trades), skills="WordPress")
        await save_profile(session, caller, form, slack.services.clock)


def mrkdwn(message: dict[str, Any]) -> str:
    """What Slack parses for mentions: the fallback text and every mrkdwn text (plain_text never is)."""
    parts = [str(message.get("text", ""))]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                parts.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.get("blocks", []))
    return "\n".join(parts)


async def candidacies(slack: SlackHarness) -> list[Candidacy]:
    async with slack.services.db.transaction() as session:
        return list(await session.scalars(select(Candidacy).order_by(Candidacy.id)))


def cards(slack: SlackHarness) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for (channel, _ts), message in slack.fake.messages.items():
        found.setdefault(channel, []).append(message)
    return found


def action_ids(message: dict[str, Any]) -> list[str]:
    return [
        e["action_id"] for b in message.get("blocks", []) if b["type"] == "actions" for e in b["elements"]
    ]


async def click(slack: SlackHarness, action_id: str, user: str) -> str:
    """Click a button; what the user is then told (through the response_url)."""
    _, url = await slack.sender.action(action_id, user_id=user)
    return (await slack.fake.wait_for_post(url)).text


async def interest(slack: SlackHarness, mission_id: int, user: str, note: str = "") -> str:
    before = len(slack.fake.calls_to("views.open"))
    answer, _ = await slack.sender.action(f"missions:interest:{mission_id}", user_id=user)
    assert answer.status == 200
    opened = await slack.fake.wait_for_call(
        "views.open", lambda c: slack.fake.calls_to("views.open").index(c) >= before
    )
    view = opened.args["view"]
    assert view["callback_id"] == f"missions:note:{mission_id}"
    told = len(slack.fake.calls_to("chat.postEphemeral"))
    submitted = await slack.sender.view_submission(
        view["callback_id"],
        {"note": {"value": {"type": "plain_text_input", "value": note}}},
        user_id=user,
        private_metadata=view["private_metadata"],
    )
    assert submitted.text == "", submitted.text
    call = await slack.fake.wait_for_call(
        "chat.postEphemeral",
        lambda c: slack.fake.calls_to("chat.postEphemeral").index(c) >= told and c.args.get("user") == user,
    )
    return str(call.args["text"])


async def choose(slack: SlackHarness, action_id: str, values: list[str], user: str) -> str:
    """Pick `values` in a multi select (the candidates' select)."""
    payload = slack.sender.action_payload(action_id, user_id=user)
    payload["actions"] = [
        {
            "action_id": action_id,
            "block_id": "b1",
            "type": "multi_static_select",
            "selected_options": [{"value": v, "text": {"type": "plain_text", "text": v}} for v in values],
            "action_ts": "1764150000.000200",
        }
    ]
    await slack.sender.send(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")
    return (await slack.fake.wait_for_post(payload["response_url"])).text


async def test_share_interest_select_staff_and_close(slack: SlackHarness) -> None:
    mission = await post_mission(slack, slack.member_fr)

    note = slack.fake.calls_to("chat.postEphemeral")[-1]
    assert slack.t("fr", "missions.saved.posted", count=3) in note.args["text"]
    assert (mission.budget_kind, mission.budget_min, mission.budget_max) == ("daily", 400, 600)
    posted = cards(slack)
    assert {"CMISSIONS", "CDEV", "CDESIGN"} <= set(posted)
    for channel in CHANNELS.values():
        [card] = posted[channel]
        text = visible_text(card)
        assert TEXTS["title"] in text and "Boulangerie Dupain" not in text
        assert "Développement 0 · Design graphique 0" in text
        assert f"missions:interest:{mission.id}" in action_ids(card)

    await give_profile(slack, SACHA, "Design graphique")
    await give_profile(slack, slack.member_en, "Design graphique", "Développement")
    told = await interest(slack, mission.id, SACHA, note="Dispo dès lundi")
    assert told == slack.t("fr", "missions.interest.saved")
    assert await interest(slack, mission.id, SACHA) == slack.t("fr", "missions.interest.already")
    assert await interest(slack, mission.id, slack.member_en) == slack.t("en", "missions.interest.saved")
    assert len(await candidacies(slack)) == 2
    for channel in CHANNELS.values():
        assert "Développement 1 · Design graphique 2" in visible_text(cards(slack)[channel][0])
    dms = [visible_text(m) for m in cards(slack).get("DUCAMILLE", [])]
    assert any("sacha" in dm and "Dispo dès lundi" in dm for dm in dms), dms

    assert await click(slack, f"missions:candidates:{mission.id}", SACHA) == slack.t(
        "fr", "missions.errors.not_author"
    )
    listed = await click(slack, f"missions:candidates:{mission.id}", slack.member_fr)
    assert "Dispo dès lundi" in listed
    sacha_member = (await candidacies(slack))[0].member_id
    chosen = await choose(slack, f"missions:select:{mission.id}:0", [str(sacha_member)], slack.member_fr)
    assert slack.t("fr", "missions.candidates.selected") in chosen
    assert (await missions(slack))[0].status == "forming"

    confirmed = await click(slack, f"missions:confirm:{mission.id}", slack.member_fr)
    assert confirmed == slack.t("fr", "missions.team.confirmed", count=1)
    assert (await missions(slack))[0].status == "staffed"
    [selected] = cards(slack)["DUSACHA"]
    assert "Boulangerie Dupain" in visible_text(selected)
    [not_selected] = cards(slack)["DUJORDAN"]
    assert "Boulangerie Dupain" not in visible_text(not_selected)
    assert slack.t("en", "missions.dm.not_selected", title=TEXTS["title"]) in visible_text(not_selected)
    for channel in CHANNELS.values():
        [card] = cards(slack)[channel]
        assert action_ids(card) == [f"missions:close:{mission.id}"]

    asked = await click(slack, f"missions:close:{mission.id}", slack.member_fr)
    assert slack.t("fr", "missions.outcome.won") in asked
    closed = await click(slack, f"missions:closeas:{mission.id}:won", slack.member_fr)
    assert slack.t("fr", "missions.outcome.won") in closed
    after = (await missions(slack))[0]
    assert (after.status, after.outcome) == ("closed", "won")
    for channel in CHANNELS.values():
        [card] = cards(slack)[channel]
        assert action_ids(card) == []
        assert slack.t("fr", "missions.outcome.won") in visible_text(card)


async def test_expiry_warning_then_expiry_run_once(slack: SlackHarness) -> None:
    mission = await post_mission(slack, slack.member_fr)
    clock: Any = slack.services.clock
    scheduler = slack.services.scheduler

    clock.advance(timedelta(days=12, hours=14))
    await scheduler.run_due()
    await scheduler.run_due()
    [warning] = cards(slack)["DUCAMILLE"]
    assert slack.t("fr", "missions.dm.warning", title=TEXTS["title"]) in visible_text(warning)
    assert set(action_ids(warning)) == {f"missions:extend:{mission.id}", f"missions:close:{mission.id}"}

    clock.advance(timedelta(days=2))
    await scheduler.run_due()
    await scheduler.run_due()
    clock.advance(timedelta(days=2))
    await scheduler.run_due()
    assert (await missions(slack))[0].status == "expired"
    dms = cards(slack)["DUCAMILLE"]
    assert len(dms) == 2
    assert slack.t("fr", "missions.dm.expired", title=TEXTS["title"]) in visible_text(dms[1])
    for channel in CHANNELS.values():
        [card] = cards(slack)[channel]
        assert action_ids(card) == []
        assert slack.t("fr", "missions.status.expired") in visible_text(card)
    async with slack.services.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Job).where(Job.state == "pending")) == 0


async def test_weekly_limit_and_repost_are_refused_inline(slack: SlackHarness) -> None:
    first = await post_mission(slack, slack.member_fr)
    await configure(slack, per_week=1)
    view = await open_form(slack, slack.member_fr)

    repost = (await submit(slack, slack.member_fr, view["private_metadata"])).json()
    assert repost["response_action"] == "errors"
    assert repost["errors"]["trades"].startswith(
        slack.t("fr", "missions.errors.repost", id=first.id, title=TEXTS["title"], link="").split("(")[0]
    )
    limited = (
        await submit(
            slack,
            slack.member_fr,
            view["private_metadata"],
            title="Application mobile de livraison",
            description="Une app Flutter.",
        )
    ).json()
    assert limited["errors"] == {
        "trades": slack.t("fr", "missions.errors.weekly_limit", date="3 décembre 2026")
    }
    assert len(await missions(slack)) == 1


async def test_bad_input_errors_inline_and_saves_nothing(slack: SlackHarness) -> None:
    view = await open_form(slack, slack.member_en)
    answer = await submit(
        slack,
        slack.member_en,
        view["private_metadata"],
        answer_by="2026-11-01",
        link="javascript:alert(1)",
        title="x" * 101,
    )

    body = answer.json()
    assert body["response_action"] == "errors"
    assert body["errors"] == {
        "title": slack.t("en", "missions.errors.too_long", max=100, length=101),
        "link": slack.t("en", "missions.errors.bad_link"),
        "answer_by": slack.t("en", "missions.errors.answer_past"),
    }
    assert await missions(slack) == []
    assert slack.fake.calls_to("chat.postMessage") == []


async def test_user_text_pings_nobody(slack: SlackHarness) -> None:
    loud = "<!channel> <!here> <@UJORDAN> <!subteam^S123> & co"
    await post_mission(slack, slack.member_fr, title="Mission <!everyone>", description=loud)

    posts = [c for c in slack.fake.calls_to("chat.postMessage") if c.args["channel"] in CHANNELS.values()]
    assert len(posts) == 3
    for call in posts:
        text = mrkdwn(call.args)
        assert "<!" not in text and "<@" not in text
        assert "&lt;!channel&gt; &lt;!here&gt; &lt;@UJORDAN&gt;" in text


async def test_someone_else_cannot_manage_the_mission(slack: SlackHarness) -> None:
    mission = await post_mission(slack, slack.member_fr)
    await interest(slack, mission.id, SACHA)
    refused = slack.t("fr", "missions.errors.not_author")

    for action in ("candidates", "edit", "close", "confirm", "extend", "closeas:{}:lost"):
        action_id = (
            f"missions:{action.format(mission.id)}" if "{}" in action else f"missions:{action}:{mission.id}"
        )
        assert await click(slack, action_id, SACHA) == refused, action_id
    sacha_member = (await candidacies(slack))[0].member_id
    assert await choose(slack, f"missions:select:{mission.id}:0", [str(sacha_member)], SACHA) == refused
    after = (await missions(slack))[0]
    assert (after.status, after.outcome) == ("open", None)
    assert not (await candidacies(slack))[0].selected
    # A moderator may close it.
    closed = await click(slack, f"missions:closeas:{mission.id}:cancelled", slack.admin)
    assert slack.t("fr", "missions.outcome.cancelled") in closed


async def test_a_forged_id_from_another_community_changes_nothing(slack: SlackHarness) -> None:
    services = slack.services
    stranger = await make_caller(
        services, "UOTHER", platform="slack", guild="TOTHER", community_name="other", name="other"
    )
    from bot.usecase import run
    from cogs.missions._publish import submit_mission
    from cogs.missions._validation import MissionForm

    async with services.db.transaction() as session:
        other_trade = await session.scalar(
            select(Trade.id).where(Trade.community_id == stranger.community_id)
        )
    done = await run(
        services,
        stranger,
        submit_mission,
        MissionForm(trade_ids=[str(other_trade)], title="Leur mission"),
        origin_channel_id="COTHER",
    )
    theirs = done.mission_id
    await post_mission(slack, slack.member_fr)
    not_found = slack.t("fr", "missions.errors.not_found")

    for user, action_id in (
        (SACHA, f"missions:interest:{theirs}"),
        (SACHA, f"missions:withdraw:{theirs}"),
        (slack.member_fr, f"missions:candidates:{theirs}"),
        (slack.member_fr, f"missions:edit:{theirs}"),
        (slack.member_fr, f"missions:close:{theirs}"),
        (slack.member_fr, f"missions:confirm:{theirs}"),
        (slack.member_fr, f"missions:extend:{theirs}"),
        (slack.admin, f"missions:closeas:{theirs}:cancelled"),
    ):
        assert await click(slack, action_id, user) == not_found, action_id
    note = await slack.sender.view_submission(
        f"missions:note:{theirs}",
        {"note": {"value": {"type": "plain_text_input", "value": "hi"}}},
        user_id=SACHA,
    )
    assert "missions:note" not in note.text
    # A mission id of the other community in the form's metadata edits nothing.
    view = await open_form(slack, slack.member_fr)
    forged = json.dumps({**json.loads(view["private_metadata"]), "mission": theirs})
    answer = await submit(slack, slack.member_fr, forged, title="Volée")
    assert answer.json()["errors"] == {"trades": not_found}
    async with services.db.transaction() as session:
        kept = await session.get(Mission, theirs)
        assert kept is not None
        assert (kept.title, kept.status, kept.outcome) == ("Leur mission", "open", None)
        assert (
            await session.scalar(
                select(func.count()).select_from(Candidacy).where(Candidacy.mission_id == theirs)
            )
            == 0
        )


async def test_editing_from_the_card_updates_the_same_messages(slack: SlackHarness) -> None:
    mission = await post_mission(slack, slack.member_fr)
    before = set(slack.fake.messages)
    opened = len(slack.fake.calls_to("views.open"))

    answer, _ = await slack.sender.action(f"missions:edit:{mission.id}", user_id=slack.member_fr)
    assert answer.status == 200
    call = await slack.fake.wait_for_call(
        "views.open", lambda c: slack.fake.calls_to("views.open").index(c) >= opened
    )
    view = call.args["view"]
    title = next(b for b in view["blocks"] if b.get("block_id") == "title")
    assert title["element"]["initial_value"] == TEXTS["title"]
    told = len(slack.fake.calls_to("chat.postEphemeral"))
    edited = await submit(slack, slack.member_fr, view["private_metadata"], title="Site vitrine et boutique")
    assert edited.text == ""
    note = await slack.fake.wait_for_call(
        "chat.postEphemeral", lambda c: slack.fake.calls_to("chat.postEphemeral").index(c) >= told
    )

    assert slack.t("fr", "missions.saved.updated") in note.args["text"]
    [after] = await missions(slack)
    assert (after.id, after.title) == (mission.id, "Site vitrine et boutique")
    assert set(slack.fake.messages) == before
    for channel in CHANNELS.values():
        assert "Site vitrine et boutique" in visible_text(cards(slack)[channel][0])
    # Someone else's edit form, even with the mission id in its metadata, changes nothing.
    other = await submit(slack, SACHA, view["private_metadata"], title="Détournée")
    assert other.json()["errors"] == {"trades": slack.t("fr", "missions.errors.not_author")}
    assert (await missions(slack))[0].title == "Site vitrine et boutique"


async def test_withdrawing_updates_the_cards(slack: SlackHarness) -> None:
    mission = await post_mission(slack, slack.member_fr)
    await give_profile(slack, SACHA, "Design graphique")
    await interest(slack, mission.id, SACHA)
    assert "Design graphique 1" in visible_text(cards(slack)["CDESIGN"][0])

    assert await click(slack, f"missions:withdraw:{mission.id}", SACHA) == slack.t(
        "fr", "missions.interest.withdrawn"
    )
    assert await candidacies(slack) == []
    assert "Design graphique 0" in visible_text(cards(slack)["CDESIGN"][0])
    again = await click(slack, f"missions:withdraw:{mission.id}", SACHA)
    assert again == slack.t("fr", "missions.interest.not_candidate")


async def test_deleting_the_authors_data_keeps_a_mission_with_candidates_and_its_cards(
    slack: SlackHarness,
) -> None:
    kept = await post_mission(slack, slack.member_fr)
    told = len(slack.fake.calls_to("chat.postEphemeral"))
    view = await open_form(slack, slack.member_fr)
    await submit(
        slack, slack.member_fr, view["private_metadata"], title="Logo pour une librairie", description=""
    )
    await slack.fake.wait_for_call(
        "chat.postEphemeral", lambda c: slack.fake.calls_to("chat.postEphemeral").index(c) >= told
    )
    alone = (await missions(slack))[-1]
    await give_profile(slack, SACHA, "Design graphique")
    await interest(slack, kept.id, SACHA)
    kept_cards = {key for key, m in slack.fake.messages.items() if f"missions:interest:{kept.id}" in str(m)}
    alone_cards = {key for key, m in slack.fake.messages.items() if f"missions:interest:{alone.id}" in str(m)}
    assert len(kept_cards) == 3 and len(alone_cards) == 3
    member_id = kept.author_member_id

    _, url = await slack.sender.command("confidentialite supprimer", user_id=slack.member_fr)
    await slack.fake.wait_for_post(url)
    done_before = slack.completions.count
    await slack.sender.action(f"privacy:confirm:{member_id}", user_id=slack.member_fr)
    await slack.completions.wait(done_before + 1)
    await slack.services.scheduler.run_due()  # the cards follow (the next sweep)

    assert not alone_cards & set(slack.fake.messages)
    assert kept_cards <= set(slack.fake.messages)  # the same messages, edited
    former = slack.t("fr", "missions.card.former_member")
    for key in kept_cards:
        text = visible_text(slack.fake.messages[key])
        assert former in text and "Boulangerie Dupain" not in text
        assert f"missions:interest:{kept.id}" in action_ids(slack.fake.messages[key])
    [mission] = await missions(slack)
    assert (mission.id, mission.author_member_id, mission.client_name) == (kept.id, None, "")
    assert len(await candidacies(slack)) == 1


async def seed_missions(slack: SlackHarness, count: int, **values: Any) -> list[int]:
    """`count` open missions needing Développement, written directly (posting is tested above)."""
    from datetime import date

    from cogs.missions.models import MissionSkill, MissionTrade

    cid = await community_id(slack)
    [dev] = await trade_ids(slack, "Développement")
    ids = []
    async with slack.services.db.transaction() as session:
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


async def test_missions_filters_in_both_languages_and_pages_by_token(slack: SlackHarness) -> None:
    _, url = await slack.sender.command("missions", user_id=SACHA)  # the community's first contact
    assert slack.t("fr", "missions.list.none") in visible_text((await slack.fake.wait_for_post(url)).body)
    await configure(slack)
    await seed_missions(slack, 12, title="Audit SEO", skill="seo", work_mode="remote")
    await seed_missions(
        slack,
        2,
        title="Atelier Lyon",
        work_mode="hybrid",
        city="Lyon",
        city_key="lyon",
        budget_kind="daily",
        budget_min=500,
        budget_max=650,
    )

    _, url = await slack.sender.command("missions compétence:référencement mode:télétravail", user_id=SACHA)
    listed = await slack.fake.wait_for_post(url)
    text = visible_text(listed.body)
    assert len(set(re.findall(r"Audit SEO \d+", text))) == 10 and "Atelier" not in text
    [next_id] = action_ids(listed.body)
    assert next_id.startswith("missions:page:1:")
    _, page_url = await slack.sender.action(next_id, user_id=SACHA)
    turned = await slack.fake.wait_for_post(page_url)
    assert len(set(re.findall(r"Audit SEO \d+", visible_text(turned.body)))) == 2
    assert turned.body["replace_original"]

    _, url = await slack.sender.command("missions city:lyon rate:600", user_id=slack.member_en)
    found = visible_text((await slack.fake.wait_for_post(url)).body)
    assert "Atelier Lyon 0" in found and "Audit" not in found
    assert slack.t("en", "missions.list.filter.rate", value="600") in found

    _, url = await slack.sender.command("missions Développement couleur:bleu", user_id=SACHA)
    refused = (await slack.fake.wait_for_post(url)).text
    assert slack.t("fr", "missions.errors.unknown_filter", value="couleur") in refused
    _, url = await slack.sender.command("missions statut:expirée tjm:beaucoup", user_id=SACHA)
    refused = (await slack.fake.wait_for_post(url)).text
    assert slack.t("fr", "missions.errors.status_not_live") in refused
    assert slack.t("fr", "missions.errors.bad_rate_filter", max=100_000) in refused


async def test_suggest_a_team_then_invite_and_the_invited_member_applies_from_the_dm(
    slack: SlackHarness,
) -> None:
    mission = await post_mission(slack, slack.member_fr)
    await give_profile(slack, SACHA, "Design graphique")
    await give_profile(slack, slack.member_en, "Développement")

    assert await click(slack, f"missions:suggest:{mission.id}", SACHA) == slack.t(
        "fr", "missions.errors.not_author"
    )
    _, url = await slack.sender.action(f"missions:suggest:{mission.id}", user_id=slack.member_fr)
    suggested = await slack.fake.wait_for_post(url)
    text = visible_text(suggested.body)
    assert slack.t("fr", "missions.suggest.title", title=TEXTS["title"]) in text
    assert "sacha" in text.lower() and slack.t("fr", "missions.suggest.why.skills", value="WordPress") in text
    assert f"missions:invite:{mission.id}" in action_ids(suggested.body)

    said = await click(slack, f"missions:invite:{mission.id}", slack.member_fr)
    assert said.startswith(slack.t("fr", "missions.suggest.invited", names="", count=2)[:10])
    invitations = [m for (channel, _), m in slack.fake.messages.items() if channel == f"D{SACHA}"]
    [dm] = invitations
    assert slack.t("fr", "missions.dm.invited", title=TEXTS["title"]) in visible_text(dm)
    assert "Boulangerie Dupain" not in visible_text(dm)
    assert action_ids(dm) == [f"missions:interest:{mission.id}", f"missions:decline:{mission.id}"]
    assert await click(slack, f"missions:invite:{mission.id}", slack.member_fr) == slack.t(
        "fr", "missions.suggest.already_invited"
    )

    assert await interest(slack, mission.id, SACHA, note="Avec plaisir") == slack.t(
        "fr", "missions.interest.saved"
    )
    [candidacy] = await candidacies(slack)
    assert candidacy.note == "Avec plaisir"

    # Declining from the DM: the author is told once.
    assert await click(slack, f"missions:decline:{mission.id}", slack.member_en) == slack.t(
        "en", "missions.suggest.declined"
    )
    assert await click(slack, f"missions:decline:{mission.id}", slack.member_en) == slack.t(
        "en", "missions.suggest.declined"
    )
    declined_title = slack.t("fr", "missions.dm.declined_text")
    told = [
        m
        for (channel, _), m in slack.fake.messages.items()
        if channel == f"D{slack.member_fr}" and declined_title in visible_text(m)
    ]
    assert len(told) == 1


async def test_a_mission_brought_by_someone_who_never_used_collectif_shows_their_name(
    slack: SlackHarness,
) -> None:
    """The "brought by" member is chosen in a users_select, which gives only their id: the card shows
    their name from users.info (after the ack), not their raw id, though they never used Collectif."""
    slack.fake.add_user("UZOE", "Zoé Ferrand")
    view = await open_form(slack, slack.member_fr)
    await configure(slack)
    values = state(await trade_ids(slack, "Développement"))
    values["behalf"] = {"value": {"type": "users_select", "selected_user": "UZOE"}}
    answer = await slack.sender.view_submission(
        "missions:form", values, user_id=slack.member_fr, private_metadata=view["private_metadata"]
    )
    assert answer.text == "", answer.text
    await slack.fake.wait_for_call("chat.postEphemeral", lambda c: c.args.get("user") == slack.member_fr)

    [card] = cards(slack)[CHANNELS["missions"]]
    assert "Zoé Ferrand" in visible_text(card)
    assert "UZOE" not in visible_text(card)


async def test_a_mission_shared_from_the_apps_dm_is_never_posted_in_that_private_dm(
    slack: SlackHarness,
) -> None:
    """The Messages tab is a DM nobody else sees: with no channel set, the mission is refused (nothing
    saved, the member told where to share it); with the missions channel set, it goes there."""
    dm = f"D{slack.member_fr}"
    async def values() -> dict[str, Any]:
        return state(await trade_ids(slack, "Développement"))

    answer, metadata = await slack.form_from("mission", "missions:form", values, user_id=slack.member_fr,
                                             channel_id=dm)
    assert answer.status == 200 and answer.text == ""
    told = await slack.fake.wait_for_call(
        "chat.postEphemeral", lambda c: slack.t("fr", "missions.errors.nowhere") in visible_text(c.args))
    assert told.args["channel"] == dm
    assert await missions(slack) == []
    assert not [c for c in slack.fake.calls_to("chat.postMessage") if "boulangerie" in visible_text(c.args)]

    await configure(slack)
    await slack.sender.view_submission("missions:form", await values(), user_id=slack.member_fr,
                                       private_metadata=metadata)
    await slack.fake.wait_for_call("chat.postMessage",
                                   lambda c: c.args.get("channel") == CHANNELS["missions"])
    [mission] = await missions(slack)
    assert mission.origin_channel_id is None


async def test_a_channel_the_bot_cannot_post_in_is_named_by_its_name(slack: SlackHarness) -> None:
    """The Design channel refuses the bot (archived). On Discord the author reads "Could not post in
    #design"; on Slack the note named the raw channel id "#CDESIGN" (plain text: Slack does not turn it
    into a link), a name nobody recognises. Slack gives its name."""
    slack.fake.forbidden_channels[CHANNELS["Design graphique"]] = "is_archived"
    slack.fake.channels[CHANNELS["Design graphique"]] = {
        "id": CHANNELS["Design graphique"], "name": "design-graphique", "is_channel": True,
        "is_archived": True, "is_member": False}
    view = await open_form(slack, slack.member_fr)
    await configure(slack)
    told = len(slack.fake.calls_to("chat.postEphemeral"))
    answer = await submit(slack, slack.member_fr, view["private_metadata"])
    assert answer.text == "", answer.text
    call = await slack.fake.wait_for_call(
        "chat.postEphemeral",
        lambda c: slack.fake.calls_to("chat.postEphemeral").index(c) >= told
        and c.args.get("user") == slack.member_fr,
    )
    text = str(call.args.get("text", ""))
    assert await missions(slack)
    assert slack.t("fr", "missions.saved.failed", channels="#design-graphique", count=1) in text, text
    assert "CDESIGN" not in text
