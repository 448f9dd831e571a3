"""`/collectif config` through the real Bolt app: the settings modal, text subcommands, lifecycle events."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from bot.lifecycle import PURGE_KIND
from storage.communities import get_community, trades
from storage.models import FeatureSetting, Job
from storage.settings import get_settings
from tests.config.conftest import snapshot
from tests.e2e.slack_harness import SlackHarness
from tests.fakes.slack_api import visible_text

pytest_plugins = ["tests.e2e.slack_harness"]


async def _say(slack: SlackHarness, text: str, user: str | None = None) -> str:
    _, url = await slack.sender.command(text, user_id=user or slack.admin)
    return (await slack.fake.wait_for_post(url)).text


async def _community(slack: SlackHarness):
    async with slack.services.db.transaction() as session:
        return await get_community(session, "slack", slack.fake.team_id)


async def _settings(slack: SlackHarness):
    community = await _community(slack)
    async with slack.services.db.transaction() as session:
        return await get_settings(session, community.id)


async def _open_settings(slack: SlackHarness) -> dict[str, Any]:
    before = len(slack.fake.calls_to("views.open"))
    await slack.sender.command("config", user_id=slack.admin)
    call = await slack.fake.wait_for_call(
        "views.open", lambda c: len(slack.fake.calls_to("views.open")) > before
    )
    return slack.fake.calls_to("views.open")[-1].args["view"] if call else {}


def _state(view: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The modal's state as Slack sends it back: its initial values, with `changes` applied."""
    state: dict[str, Any] = {}
    for block in view["blocks"]:
        element = block["element"]
        kind, value = element["type"], changes.get(block["block_id"])
        if kind == "conversations_select":
            found = {"selected_conversation": value or element.get("initial_conversation")}
        elif kind == "static_select":
            found = {"selected_option": {"value": value or element["initial_option"]["value"]}}
        elif kind == "multi_users_select":
            found = {"selected_users": value if value is not None else element.get("initial_users", [])}
        else:
            found = {"value": value if value is not None else element.get("initial_value")}
        state[block["block_id"]] = {"value": {"type": kind, **found}}
    return state


async def test_show_for_an_admin(slack: SlackHarness):
    text = await _say(slack, "config afficher")
    assert "Réglages de" in text
    assert "Site vitrine : Rédaction web + Design graphique + SEO / SEA + Développement" in text


# Every `/collectif config` verb (and each subverb of trade / sector / pack), in English or French;
# a verb added to the Slack binding later fails the coverage check until it is listed here.
MEMBER_TRIES = {
    "settings": ["config", "config réglages"],
    "show": ["config show"],
    "history": ["config historique"],
    "export": ["config export"],
    "import": ["config import"],
    "channel": ["config channel intros <#CINTRO|intros>"],
    "language": ["config language en"],
    "timezone": ["config timezone Europe/London"],
    "reminders": ["config rappels 2h"],
    "limit": ["config limit missions 3"],
    "moderators": ["config moderators <@UCAMILLE|camille>"],
    "usergroup": ["config groupe S0MODS"],
    "purge-delay": ["config purge-delay 10"],
    "set": ["config set limit.missions_per_week 5", "config définir langue en"],
    "trade": [
        "config métier ajouter Illustration",
        "config trade rename Conseil | Stratégie",
        "config trade remove Conseil | Développement",
        "config trade channel Conseil | <#CDEV|dev>",
    ],
    "sector": ["config sector add Luxe", "config secteur renommer Mode | Luxe", "config sector remove Mode"],
    "pack": ["config pack set P | Conseil", "config pack remove Site vitrine"],
    "remove-post": ["config remove-post https://x.slack.com/archives/C1/p1355517523000008 spam"],
}


def test_the_member_walk_covers_every_verb():
    from cogs.config._slack import SUBVERBS, VERBS

    assert set(MEMBER_TRIES) == set(VERBS) - {"help"}
    listed = {
        " ".join(text.split()[1:3]) for verb in ("trade", "sector", "pack") for text in MEMBER_TRIES[verb]
    }
    assert len(listed) == 9 and set(SUBVERBS) == {"add", "rename", "remove", "channel", "set"}


async def test_a_member_is_refused_every_action(slack: SlackHarness):
    await _say(slack, "config show")  # the community exists
    await _say(slack, "help", slack.member_fr)  # … and the member
    before = await snapshot(slack.services)
    for texts in MEMBER_TRIES.values():
        for text in texts:
            assert await _say(slack, text, slack.member_fr) == "Seuls les modérateurs peuvent faire cela.", (
                text
            )
    assert not slack.fake.calls_to("views.open")
    # the forms, submitted without having been opened
    for callback_id, values in [
        ("config:settings", {"timezone": {"value": {"type": "plain_text_input", "value": "Europe/London"}}}),
        ("config:import", {"file": {"value": {"type": "plain_text_input", "value": 'locale = "en"'}}}),
        (
            "config:removepost:CINTRO:1764150001.000001",
            {"reason": {"value": {"type": "plain_text_input", "value": "spam"}}},
        ),
    ]:
        answer = await slack.sender.view_submission(callback_id, values, user_id=slack.member_fr)
        assert "Seuls les modérateurs peuvent faire cela." in visible_text(answer.json()), callback_id
    assert await snapshot(slack.services) == before


async def test_the_settings_modal_saves_everything_at_once(slack: SlackHarness):
    view = await _open_settings(slack)
    assert view["callback_id"] == "config:settings"
    assert json.loads(view["private_metadata"]) == {"version": 1}
    assert [b["block_id"] for b in view["blocks"]][:6] == [
        "channel.intros",
        "channel.missions",
        "channel.afterworks",
        "channel.feedback",
        "channel.pairing",
        "channel.modlog",
    ]
    state = _state(
        view,
        **{
            "channel.intros": "CINTRO",
            "timezone": "Europe/London",
            "reminders": "2 j, 1 h",
            "limit.missions_per_week": "5",
            "moderators.users": ["UCAMILLE"],
        },
    )
    answer = await slack.sender.view_submission(
        "config:settings", state, user_id=slack.admin, private_metadata=view["private_metadata"]
    )
    assert answer.status == 200
    await slack.completions.wait(slack.completions.count)  # saved after the ack
    row = await _settings(slack)
    assert (
        row.intro_channel_id,
        row.reminder_offsets_minutes,
        row.missions_per_week,
        row.moderator_user_ids,
    ) == ("CINTRO", [2880, 60], 5, ["UCAMILLE"])
    assert (await _community(slack)).timezone == "Europe/London"
    # the listed member is now a moderator
    assert "Réglages de" in await _say(slack, "config show", slack.member_fr)

    # the same (now stale) form again: refused, nothing overwritten
    stale = _state(view, timezone="Europe/Berlin")
    answer = await slack.sender.view_submission(
        "config:settings", stale, user_id=slack.admin, private_metadata=view["private_metadata"]
    )
    assert "Un·e autre modérateur·rice a changé les réglages" in visible_text(answer.json())
    assert (await _community(slack)).timezone == "Europe/London"


async def test_the_settings_form_closes_before_the_save_waits_on_the_write_lock(slack: SlackHarness):
    """Another process holds the write lock: the form is checked read-only and closes at once (Slack
    gives up after 3 s); the change is saved once the lock is gone."""
    import asyncio
    import time

    from tests.e2e.test_write_lock import write_locked

    view = await _open_settings(slack)
    state = _state(view, timezone="Europe/London")
    with write_locked(slack.services.settings.database.url):
        began = time.perf_counter()
        answer = await slack.sender.view_submission(
            "config:settings", state, user_id=slack.admin, private_metadata=view["private_metadata"]
        )
        acked = time.perf_counter() - began
        await asyncio.sleep(0.3)  # the save waits on the lock meanwhile
    assert answer.status == 200 and answer.text == "" and acked < 1.0
    for _ in range(50):
        if (await _community(slack)).timezone == "Europe/London":
            break
        await asyncio.sleep(0.1)
    assert (await _community(slack)).timezone == "Europe/London"


async def test_bad_values_come_back_inline(slack: SlackHarness):
    view = await _open_settings(slack)
    state = _state(view, timezone="Mars/Olympus", reminders="99 d")
    answer = await slack.sender.view_submission(
        "config:settings", state, user_id=slack.admin, private_metadata=view["private_metadata"]
    )
    errors = answer.json()["errors"]
    assert set(errors) == {"timezone", "reminders"}
    assert "« Mars/Olympus » n’est pas un fuseau horaire" in errors["timezone"]
    assert (await _settings(slack)).version == 1


async def test_text_subcommands_for_trades_and_packs(slack: SlackHarness):
    assert "Métier « Illustration » ajouté." in await _say(slack, "config métier ajouter Illustration")
    assert "existe déjà" in await _say(slack, "config trade add illustration")
    text = await _say(slack, "config pack définir Livre | Illustration, Rédaction web")
    assert "Illustration, Rédaction web" in text
    assert "« Astrologie »" in await _say(slack, "config pack set Livre | Astrologie")
    await _say(slack, "config trade channel Illustration | <#CILLU|illustration>")
    community = await _community(slack)
    async with slack.services.db.transaction() as session:
        found = {t.name: t.channel_id for t in await trades(session, community.id)}
    assert found["Illustration"] == "CILLU"
    assert "Salons" in await _say(slack, "config show")


async def test_import_through_the_modal(slack: SlackHarness):
    await slack.sender.command("config importer", user_id=slack.admin)
    call = await slack.fake.wait_for_call("views.open")
    assert call.args["view"]["callback_id"] == "config:import"
    bad = await slack.sender.view_submission(
        "config:import",
        {"file": {"value": {"type": "plain_text_input", "value": 'locale = "de"'}}},
        user_id=slack.admin,
    )
    assert "locale : « de » n’est pas une langue" in bad.json()["errors"]["file"]
    good = await slack.sender.view_submission(
        "config:import",
        {
            "file": {
                "value": {"type": "plain_text_input", "value": 'locale = "en"\nsectors = ["Mode", "Luxe"]'}
            }
        },
        user_id=slack.admin,
    )
    assert good.status == 200
    await slack.completions.wait(slack.completions.count)  # saved after the ack
    assert (await _community(slack)).locale == "en"


async def test_export_goes_to_the_dm_as_a_file(slack: SlackHarness):
    text = await _say(slack, "config export")
    assert "messages avec Collectif" in text
    await slack.fake.wait_for_call("files.completeUploadExternal")
    content = next(iter(slack.fake.uploads.values())).decode()
    assert 'locale = "fr"' in content


async def test_uninstall_and_revoked_tokens_in_any_order_pause_once(slack: SlackHarness):
    await _say(slack, "config show")
    community = await _community(slack)
    await slack.sender.event({"type": "tokens_revoked", "tokens": {"oauth": ["U1"], "bot": ["UBOT"]}})
    await slack.sender.event({"type": "app_uninstalled"}, event_id="EvUNINSTALL")
    await slack.sender.event({"type": "app_uninstalled"}, event_id="EvUNINSTALL", retry_num=1)
    await slack.completions.wait(4)
    assert not (await _community(slack)).active
    async with slack.services.db.transaction() as session:
        states = list(
            await session.scalars(
                select(Job.state).where(Job.community_id == community.id, Job.kind == PURGE_KIND)
            )
        )
    assert states == ["pending"]
    # a request from the workspace again: it is back
    await _say(slack, "config show")
    assert (await _community(slack)).active


async def test_members_of_the_moderator_user_group_are_moderators(slack: SlackHarness):
    slack.fake._m_usergroups_users_list = lambda args: {"ok": True, "users": ["UCAMILLE"]}
    assert "Seuls les modérateurs" in await _say(slack, "config show", slack.member_fr)
    await _say(slack, "config groupe S0MODS")
    assert (await _settings(slack)).moderator_usergroup_user_ids == ["UCAMILLE"]
    assert "Réglages de" in await _say(slack, "config show", slack.member_fr)


async def test_a_network_error_refreshing_the_user_group_keeps_the_saved_setting(slack: SlackHarness):
    slack.fake.dropped.add("usergroups.users.list")
    text = await _say(slack, "config groupe S0MODS")
    assert slack.t("fr", "config.done.title") in text
    assert slack.t("fr", "config.setting.moderators.usergroup") in text
    assert slack.fake.calls_to("usergroups.users.list")
    assert (await _settings(slack)).moderator_usergroup_id == "S0MODS"


async def _pooling_channel(slack: SlackHarness) -> str | None:
    async with slack.services.db.transaction() as session:
        return await session.scalar(
            select(FeatureSetting.value).where(FeatureSetting.key == "pooling.channel"))


async def test_pools_refusal_names_the_config_command_that_sets_the_pooling_channel(slack: SlackHarness):
    """/pool without a channel sends moderators to `config channel pooling #…` (`config salon achats`
    in French), and that command sets the pooling channel. (Found by a review: there was no such
    channel kind, only `config set pooling.channel`.)"""
    assert "/collectif config channel pooling" in await _say(slack, "pool", slack.member_en)
    assert "/collectif config salon achats" in await _say(slack, "achat-groupe", slack.member_fr)
    answer = await _say(slack, "config salon achats <#CACHATS|achats>")
    assert slack.t("fr", "config.setting.pooling.channel") in answer, answer
    assert await _pooling_channel(slack) == "CACHATS"
    await _say(slack, "config channel pooling none")
    assert await _pooling_channel(slack) is None


async def test_a_setting_named_as_discord_names_it_is_set_on_slack_too(slack: SlackHarness):
    """Texts name `{/config setting}` (`{/config réglage}`), shown on Slack as `/collectif config
    setting …`: Slack's own word is `set` (`définir`), and Discord's reads as well."""
    assert "/collectif config réglage pairing.enabled" in slack.t("fr", "pairing.opt.in_off")
    for said in ("config réglage pairing.enabled activé", "config setting pairing.enabled off",
                 "config définir pairing.enabled on"):
        answer = await _say(slack, said)
        assert slack.t("fr", "config.done.title") in answer, (said, answer)


async def test_a_moderator_group_slack_could_not_list_is_copied_by_a_job_later(slack: SlackHarness):
    """Slack fails to list the group's members when it is chosen (an outage): the moderator check must
    not go on with no list (or an outdated one) until the group next changes; a job asks again."""
    from datetime import timedelta

    from cogs.config import FEATURE

    await FEATURE.on_start(slack.services)
    slack.fake._m_usergroups_users_list = lambda args: {"ok": True, "users": ["UCAMILLE"]}
    slack.fake.dropped.add("usergroups.users.list")
    await _say(slack, "config groupe S0MODS")
    assert (await _settings(slack)).moderator_usergroup_user_ids == []
    slack.fake.dropped.discard("usergroups.users.list")

    slack.services.clock.advance(timedelta(minutes=3))
    assert await slack.services.scheduler.run_due() == 1
    assert (await _settings(slack)).moderator_usergroup_user_ids == ["UCAMILLE"]
    assert "Réglages de" in await _say(slack, "config show", slack.member_fr)


# -- a moderator's "Remove post" while Slack fails (500 after the client's retries) -----------------


ATTEMPTS = 3  # the call and the client's two retries of a 500 (bot/slack_app/client.py)


async def _remove_during_a_blip(slack: SlackHarness, method: str) -> str:
    """Camille's intro card removed by Dominique while Slack answers `method` with 500s; its ts.

    Returns once the form's work (the deletion, the DM, the modlog) is over, with config's jobs
    registered, as `collectif run` does when it starts.
    """
    from cogs.config import FEATURE
    from tests.e2e.test_config_slack_shortcut import REASON, intro_cards, reason_state, shortcut
    from tests.fakes.slack_api import server_error

    assert FEATURE.on_start is not None
    await FEATURE.on_start(slack.services)
    card = next(p for p in await intro_cards(slack) if p.channel_id == "CINTRO")
    slack.fake.fail_next(method, *[server_error(500)] * ATTEMPTS)
    done = slack.completions.count
    await shortcut(slack, slack.admin, "CINTRO", card.message_id)
    view = await slack.fake.wait_for_call("views.open", lambda c: "removepost" in str(c.args))
    answer = await slack.sender.view_submission(view.args["view"]["callback_id"], reason_state(REASON),
                                                user_id=slack.admin)
    assert answer.status == 200 and answer.text == ""
    await slack.completions.wait(done + 2, within=15)  # the shortcut and the form, effects included
    return card.message_id


async def _jobs_after(slack: SlackHarness, minutes: int) -> None:
    """The scheduler's retries over the next `minutes` (the jobs' backoff: 1, 3, 6… minutes)."""
    from datetime import timedelta

    for _ in range(minutes // 10):
        slack.services.clock.advance(timedelta(minutes=10))  # type: ignore[attr-defined]
        await slack.services.scheduler.run_due()


async def test_a_removed_card_slack_failed_to_delete_goes_once_slack_is_back(slack: SlackHarness):
    """The moderator was told "removed" while chat.delete failed: the card stayed for ever and removing
    it again answered "unknown post" (its row was gone). Now a job deletes it once Slack is back."""
    ts = await _remove_during_a_blip(slack, "chat.delete")
    told = await slack.fake.wait_for_call("chat.postMessage", lambda c: c.args["channel"] == slack.admin)
    assert "Hors sujet" in visible_text(told.args)  # the moderator is told it was removed
    assert ("CINTRO", ts) in slack.fake.messages  # Slack failed: still there for now
    await _jobs_after(slack, 60)
    assert ("CINTRO", ts) not in slack.fake.messages
    deletes = slack.fake.calls_to("chat.delete")
    assert len(deletes) == ATTEMPTS + 1 and all(c.args["ts"] == ts for c in deletes)


async def test_the_author_of_a_removed_card_is_told_once_slack_is_back(slack: SlackHarness):
    """The author's "your post was removed" DM called the notifier directly: lost on a 500. Now kept in
    the outbox and sent again."""
    await _remove_during_a_blip(slack, "conversations.open")
    dms = [c for c in slack.fake.calls_to("chat.postMessage") if c.args.get("channel") == "DUCAMILLE"]
    assert dms == []  # Slack failed: not sent yet
    await _jobs_after(slack, 60)
    dms = [visible_text(c.args) for c in slack.fake.calls_to("chat.postMessage")
           if c.args.get("channel") == "DUCAMILLE"]
    assert len(dms) == 1 and "Hors sujet" in dms[0]
