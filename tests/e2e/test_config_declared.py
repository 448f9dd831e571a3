"""A setting a feature declares (the test feature `probe`), end to end on both platforms through the fakes."""

from __future__ import annotations

import pytest

from bot.settings_registry import read_setting
from storage.communities import get_community
from tests.config.conftest import with_probe
from tests.e2e.conftest import DiscordHarness
from tests.e2e.probe import CADENCE, ENABLED, GROUP_SIZE, NUDGE_DELAY
from tests.e2e.probe import FEATURE as PROBE
from tests.e2e.slack_harness import SlackHarness
from tests.e2e.test_config_discord import _text
from tests.e2e.test_config_slack import _open_settings, _say, _state
from tests.fakes.slack_api import visible_text

pytest_plugins = ["tests.e2e.slack_harness"]


@pytest.fixture
def extra_features():
    return (PROBE,)


async def _values(services, platform: str, external_id: str) -> dict[str, object]:
    async with services.db.transaction() as session:
        community = await get_community(session, platform, external_id)
        return {
            spec.key: await read_setting(session, community.id, spec)
            for spec in (ENABLED, CADENCE, GROUP_SIZE, NUDGE_DELAY)
        }


async def test_on_discord_it_is_offered_set_refused_shown_logged_and_exported(
    discord_harness: DiscordHarness,
):
    h = discord_harness
    offered = await h.fake.autocomplete(
        h.guild, h.moderator, "config setting", {"setting": "sonde"}, "setting", locale="fr"
    )
    assert {c["value"] for c in offered.data["choices"]} == {s.key for s in PROBE.settings}
    assert "Délai de relance de la sonde" in {c["name"] for c in offered.data["choices"]}
    typed = {"setting": "probe.cadence", "new_value": ""}
    values = await h.fake.autocomplete(h.guild, h.moderator, "config setting", typed, "new_value",
                                       locale="fr")
    assert [c["name"] for c in values.data["choices"]] == [
        "chaque semaine", "toutes les deux semaines", "chaque mois"
    ]

    answer = await h.fake.invoke_slash(h.guild, h.moderator, "config setting",
                                       {"setting": "probe.nudge_delay", "new_value": "3 j"}, locale="fr")
    assert "Délai de relance de la sonde: 2 j → 3 j" in _text(answer)
    refused = await h.fake.invoke_slash(h.guild, h.moderator, "config setting",
                                        {"setting": "probe.group_size", "new_value": "9"}, locale="en-US")
    assert "Probe group size: a whole number between 2 and 3 is expected" in refused.content
    member = await h.fake.invoke_slash(h.guild, h.member, "config setting",
                                       {"setting": "probe.group_size", "new_value": "3"}, locale="fr")
    assert member.content == h.t("fr", "errors.forbidden")
    assert await _values(h.services, "discord", str(h.guild.id)) == {
        "probe.enabled": False, "probe.cadence": "weekly", "probe.group_size": 2,
        "probe.nudge_delay": 3 * 1440,
    }

    shown = await h.fake.invoke_slash(h.guild, h.moderator, "config show", locale="fr")
    assert "Délai de relance de la sonde : 3 j" in _text(shown)
    logged = await h.fake.invoke_slash(h.guild, h.moderator, "config history", locale="fr")
    assert "Délai de relance de la sonde : 2 j → 3 j" in _text(logged)

    await h.fake.invoke_slash(h.guild, h.moderator, "config export")
    callback = next(r for r in h.fake.requests if "/webhooks/" in r.path and r.files)  # after "thinking…"
    content = next(iter(callback.file_contents.values())).decode()
    assert 'nudge_delay = "3d"' in content
    imported = await h.fake.submit_modal(h.guild, h.moderator, "config:import",
                                         {"value": content.replace('"3d"', '"1h"')})
    assert "1 réglage modifié" in _text(imported)
    assert (await _values(h.services, "discord", str(h.guild.id)))["probe.nudge_delay"] == 60


async def test_on_slack_the_form_and_the_words_set_it(slack: SlackHarness):
    with_probe(slack.services)
    view = await _open_settings(slack)
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks["probe.group_size"]["element"]["type"] == "number_input"
    assert blocks["probe.enabled"]["element"]["initial_option"]["value"] == "off"
    assert blocks["probe.nudge_delay"]["hint"]["text"] == "0 désactive la relance"
    assert blocks["probe.nudge_delay"]["label"]["text"] == "Délai de relance de la sonde"

    bad = _state(view, **{"probe.nudge_delay": "9 j", "probe.cadence": "daily"})
    answer = await slack.sender.view_submission("config:settings", bad, user_id=slack.admin,
                                                private_metadata=view["private_metadata"])
    errors = answer.json()["errors"]
    assert "une durée entre 0 et 7 j est attendue" in errors["probe.nudge_delay"]
    assert "« daily » n’est pas l’une des valeurs possibles" in errors["probe.cadence"]

    good = _state(view, **{"probe.nudge_delay": "0", "probe.cadence": "monthly", "probe.enabled": "on",
                           "probe.group_size": "3"})
    answer = await slack.sender.view_submission("config:settings", good, user_id=slack.admin,
                                                private_metadata=view["private_metadata"])
    assert answer.status == 200
    assert await _values(slack.services, "slack", slack.fake.team_id) == {
        "probe.enabled": True, "probe.cadence": "monthly", "probe.group_size": 3, "probe.nudge_delay": 0,
    }

    assert "un nombre entier entre 2 et 3" in await _say(slack, "config définir probe.group_size 9")
    assert "Seuls les modérateurs" in await _say(slack, "config set probe.group_size 2", slack.member_fr)
    text = await _say(slack, "config set probe.group_size 2")
    assert "Taille des groupes de sonde" in text and "3 → 2" in text
    shown = await _say(slack, "config afficher")
    assert "Délai de relance de la sonde : désactivé" in shown and "Rythme de la sonde : chaque mois" in shown
    assert "Tours de sonde : désactivé → activé" in await _say(slack, "config historique")
    assert "Seuls les modérateurs" in visible_text(
        (await slack.sender.view_submission("config:settings", good, user_id=slack.member_fr)).json()
    )
