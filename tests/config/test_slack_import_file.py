"""`/collectif config import` on Slack with a file: the real Bolt app, the fake Slack serving the file.

A workspace with 25 trades each bound to a channel, 20 sectors and 5 packs exports more than the
3,000 characters a Slack text box takes: its export comes back through the form's file field,
downloaded with the bot token. The form takes a file or pasted settings, exactly one; a file too
big, one Slack will not hand over (an outage, the `files:read` scope missing, too slow) or not in
UTF-8 is refused on the form, and nothing changes.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import urlencode

import tomli_w
from sqlalchemy import select

from cogs.config._slack import DOWNLOAD_TIMEOUT, IMPORT_MAX
from cogs.config._transfer import MAX_BYTES
from cogs.config.models import Pack
from storage.communities import get_community, sectors, trades
from tests.config.conftest import snapshot
from tests.e2e.slack_harness import SlackHarness
from tests.fakes.slack_api import BOT_TOKEN, FILE_DOWNLOAD, HttpFailure, server_error, visible_text

pytest_plugins = ["tests.e2e.slack_harness"]

ENGLISH_ADMIN = "UALEXADMIN"


def _trade(i: int) -> str:
    return f"Développement d’applications {i:02d}"


def _channel(i: int) -> str:
    return f"CTRADE{i:04d}"


def _big_settings() -> dict[str, Any]:
    return {
        "trades": [{"name": _trade(i), "channel": _channel(i)} for i in range(25)],
        "sectors": [f"Secteur de clientèle numéro {i:02d}" for i in range(20)],
        "packs": [{"name": f"Pack complet numéro {p}", "trades": [_trade(p * 5 + j) for j in range(5)]}
                  for p in range(5)],
    }


def _with_file(file: dict[str, Any] | None, text: str | None = None) -> dict[str, Any]:
    """The import form's state as Slack sends it: the file field (files or none) and the text box."""
    return {
        "upload": {"value": {"type": "file_input", "files": [file] if file else []}},
        "file": {"value": {"type": "plain_text_input", "value": text}},
    }


async def _submit(slack: SlackHarness, values: dict[str, Any], user: str | None = None) -> Any:
    return await slack.sender.view_submission("config:import", values, user_id=user or slack.admin)


async def _community(slack: SlackHarness):
    async with slack.services.db.transaction() as session:
        return await get_community(session, "slack", slack.fake.team_id)


async def _ready(slack: SlackHarness, *users: str) -> None:
    """The community and its moderators exist (a first command each), so that "nothing changed"
    compares like with like."""
    for user in (slack.admin, *users):
        _, url = await slack.sender.command("config show", user_id=user)
        await slack.fake.wait_for_post(url)
    await slack.completions.wait(slack.completions.count)


async def _state(slack: SlackHarness) -> tuple[dict[str, str | None], list[str], dict[str, int]]:
    community = await _community(slack)
    async with slack.services.db.transaction() as session:
        found = {t.name: t.channel_id for t in await trades(session, community.id)}
        names = [s.name for s in await sectors(session, community.id)]
        packs = {p.name: p.position for p in await session.scalars(
            select(Pack).where(Pack.community_id == community.id))}
    return found, names, packs


async def test_the_form_offers_a_file_and_the_text_box_both_optional(slack: SlackHarness):
    await slack.sender.command("config importer", user_id=slack.admin)
    view = (await slack.fake.wait_for_call("views.open")).args["view"]
    upload, text = view["blocks"]
    assert (upload["type"], upload["block_id"], upload["optional"]) == ("input", "upload", True)
    assert upload["element"] == {"type": "file_input", "max_files": 1, "filetypes": ["toml", "txt"],
                                 "action_id": "value"}
    assert "Fichier des réglages" in upload["label"]["text"]
    assert "/collectif config exporter" in upload["hint"]["text"]
    assert (text["block_id"], text["optional"], text["element"]["type"]) == ("file", True, "plain_text_input")
    assert text["element"]["max_length"] == IMPORT_MAX


async def test_an_app_installed_without_files_read_gets_the_form_with_the_text_box_only(slack: SlackHarness):
    """Slack refuses a file field to an app without the scope: the form opens without it, and says why."""
    slack.fake.files_read = False
    await slack.sender.command("config importer", user_id=slack.admin)
    await slack.fake.wait_for_call("views.open")
    opened = [c for c in slack.fake.calls if c.method == "views.open"]
    for _ in range(100):
        if len(opened) == 2:
            break
        await asyncio.sleep(0.02)
        opened = [c for c in slack.fake.calls if c.method == "views.open"]
    [text] = opened[-1].args["view"]["blocks"]
    assert (text["block_id"], text["optional"]) == ("file", False)
    assert "files:read" in text["hint"]["text"] and "réinstaller" in text["hint"]["text"]


async def test_an_export_over_3000_characters_comes_back_through_the_file(slack: SlackHarness):
    for i in range(25):
        slack.fake.channels[_channel(i)] = {"id": _channel(i), "name": f"metier-{i:02d}", "is_channel": True,
                                            "is_private": False, "is_member": True}
    first = slack.fake.add_file(tomli_w.dumps(_big_settings()).encode(), "collectif.toml")
    answer = await _submit(slack, _with_file(first))
    assert (answer.status, answer.text) == (200, "")  # checked, then the form closed
    await slack.completions.wait(slack.completions.count)
    [download] = slack.fake.calls_to(FILE_DOWNLOAD)
    assert download.token == BOT_TOKEN
    found, names, packs = await _state(slack)
    assert found == {_trade(i): _channel(i) for i in range(25)}
    assert len(names) == 20 and len(packs) == 5

    # The export of that workspace is too long for the text box: as a file, it round-trips.
    _, url = await slack.sender.command("config export", user_id=slack.admin)
    await slack.fake.wait_for_post(url)
    await slack.fake.wait_for_call("files.completeUploadExternal")
    exported = next(iter(slack.fake.uploads.values()))
    assert len(exported.decode()) > 3300 > IMPORT_MAX
    assert '"#metier-07"' in exported.decode()
    _, url = await slack.sender.command("config language en", user_id=slack.admin)
    await slack.fake.wait_for_post(url)
    _, url = await slack.sender.command(f"config trade channel {_trade(3)} | <#CELSEWHERE|ailleurs>",
                                        user_id=slack.admin)
    await slack.fake.wait_for_post(url)
    await slack.completions.wait(slack.completions.count)
    assert (await _community(slack)).locale == "en"

    again = slack.fake.add_file(exported, "collectif-collectif-test.toml")
    answer = await _submit(slack, _with_file(again))
    assert (answer.status, answer.text) == (200, "")
    await slack.completions.wait(slack.completions.count)
    assert (await _community(slack)).locale == "fr"
    assert await _state(slack) == (found, names, packs)


async def test_a_byte_order_mark_is_read_past(slack: SlackHarness):
    file = slack.fake.add_file(b"\xef\xbb\xbf" + b'locale = "en"\n', "reglages.txt")
    answer = await _submit(slack, _with_file(file))
    assert (answer.status, answer.text) == (200, "")
    await slack.completions.wait(slack.completions.count)
    assert (await _community(slack)).locale == "en"


async def test_neither_or_both_is_refused_under_the_right_field(slack: SlackHarness):
    slack.fake.add_user(ENGLISH_ADMIN, "alex", locale="en-US", is_admin=True)
    await _ready(slack, ENGLISH_ADMIN)
    before = await snapshot(slack.services)
    neither = (await _submit(slack, _with_file(None, "  \n"))).json()
    assert neither["response_action"] == "errors"
    assert list(neither["errors"]) == ["upload"]
    assert "choisissez le fichier des réglages, ou collez" in neither["errors"]["upload"]
    english = (await _submit(slack, _with_file(None), ENGLISH_ADMIN)).json()
    assert "choose the settings file, or paste the settings" in english["errors"]["upload"]

    file = slack.fake.add_file(b'locale = "en"\n', "reglages.toml")
    both = (await _submit(slack, _with_file(file, 'locale = "en"'))).json()
    assert list(both["errors"]) == ["file"]
    assert "pas les deux" in both["errors"]["file"]
    english = (await _submit(slack, _with_file(file, 'locale = "en"'), ENGLISH_ADMIN)).json()
    assert "not both" in english["errors"]["file"]
    assert slack.fake.calls_to(FILE_DOWNLOAD) == []  # nothing fetched for a form refused anyway
    await slack.completions.wait(slack.completions.count)
    assert await snapshot(slack.services) == before


async def test_pasted_text_still_works_and_its_problems_stay_under_it(slack: SlackHarness):
    bad = (await _submit(slack, _with_file(None, 'locale = "de"'))).json()
    assert list(bad["errors"]) == ["file"] and "« de » n’est pas une langue" in bad["errors"]["file"]
    good = await _submit(slack, _with_file(None, 'locale = "en"'))
    assert (good.status, good.text) == (200, "")
    await slack.completions.wait(slack.completions.count)
    assert (await _community(slack)).locale == "en"


async def test_a_file_s_problems_are_shown_under_the_file_field(slack: SlackHarness):
    file = slack.fake.add_file(b'locale = "de"\n', "reglages.toml")
    bad = (await _submit(slack, _with_file(file))).json()
    assert list(bad["errors"]) == ["upload"] and "« de » n’est pas une langue" in bad["errors"]["upload"]


async def test_a_file_too_big_is_refused_before_any_download(slack: SlackHarness):
    await _ready(slack)
    before = await snapshot(slack.services)
    file = slack.fake.add_file(b"# " + b"x" * MAX_BYTES + b"\n", "enorme.toml")
    assert file["size"] > MAX_BYTES
    answer = (await _submit(slack, _with_file(file))).json()
    assert "le fichier dépasse 64 Ko" in answer["errors"]["upload"]
    assert slack.fake.calls_to(FILE_DOWNLOAD) == []
    await slack.completions.wait(slack.completions.count)
    assert await snapshot(slack.services) == before


async def test_a_file_bigger_than_slack_said_is_not_read_past_the_limit(slack: SlackHarness):
    await _ready(slack)
    before = await snapshot(slack.services)
    file = slack.fake.add_file(b'locale = "en"\n# ' + b"x" * (2 * MAX_BYTES) + b"\n", "reglages.toml")
    file["size"] = 20  # what the form said
    answer = (await _submit(slack, _with_file(file))).json()
    assert "le fichier dépasse 64 Ko" in answer["errors"]["upload"]
    assert len(slack.fake.calls_to(FILE_DOWNLOAD)) == 1
    await slack.completions.wait(slack.completions.count)
    assert await snapshot(slack.services) == before


async def test_a_download_slack_fails_is_told_on_the_form_and_changes_nothing(slack: SlackHarness):
    await _ready(slack)
    before = await snapshot(slack.services)
    file = slack.fake.add_file(b'locale = "en"\n', "reglages.toml")
    slack.fake.fail_next(FILE_DOWNLOAD, server_error(500))
    answer = (await _submit(slack, _with_file(file))).json()
    assert answer["response_action"] == "errors"
    assert "Slack n’a pas pu fournir le fichier (HTTP 500) : rien n’a changé" in answer["errors"]["upload"]
    slack.fake.dropped.add(FILE_DOWNLOAD)  # the connection cut with no answer
    answer = (await _submit(slack, _with_file(file))).json()
    assert "Slack n’a pas pu fournir le fichier" in answer["errors"]["upload"]
    slack.fake.dropped.discard(FILE_DOWNLOAD)
    await slack.completions.wait(slack.completions.count)
    assert await snapshot(slack.services) == before
    assert (await _community(slack)).locale == "fr"


async def test_without_the_files_read_scope_the_form_names_it(slack: SlackHarness):
    """An app installed before `files:read` was asked for: Slack hands its sign-in page, or refuses."""
    slack.fake.add_user(ENGLISH_ADMIN, "alex", locale="en-US", is_admin=True)
    await _ready(slack, ENGLISH_ADMIN)
    before = await snapshot(slack.services)
    file = slack.fake.add_file(b'locale = "en"\n', "reglages.toml")
    slack.fake.files_read = False
    answer = (await _submit(slack, _with_file(file))).json()
    assert "l’autorisation Slack files:read" in answer["errors"]["upload"]
    assert "réinstaller" in answer["errors"]["upload"]
    slack.fake.fail_next(FILE_DOWNLOAD, HttpFailure(403, '{"ok": false, "error": "missing_scope", '
                                                         '"needed": "files:read"}'))
    answer = (await _submit(slack, _with_file(file), ENGLISH_ADMIN)).json()
    assert "lacks the Slack scope files:read" in answer["errors"]["upload"]
    unaddressed = {k: v for k, v in file.items() if not k.startswith("url_private")}
    answer = (await _submit(slack, _with_file(unaddressed))).json()
    assert "l’autorisation Slack files:read" in answer["errors"]["upload"]
    # the pasted text still works meanwhile
    await slack.completions.wait(slack.completions.count)
    assert await snapshot(slack.services) == before
    pasted = await _submit(slack, _with_file(None, 'locale = "en"'))
    assert (pasted.status, pasted.text) == (200, "")
    await slack.completions.wait(slack.completions.count)
    assert (await _community(slack)).locale == "en"


async def test_a_slow_download_is_given_up_in_time_to_say_so_on_the_form(slack: SlackHarness):
    await _ready(slack)
    before = await snapshot(slack.services)
    file = slack.fake.add_file(b'locale = "en"\n', "reglages.toml")
    slack.fake.download_delay = DOWNLOAD_TIMEOUT + 0.5
    started = time.monotonic()
    answer = (await _submit(slack, _with_file(file))).json()
    assert time.monotonic() - started < 2.5  # Slack waits 3 s for the answer
    assert "Slack a mis trop de temps à fournir le fichier" in answer["errors"]["upload"]
    await slack.completions.wait(slack.completions.count)
    assert await snapshot(slack.services) == before


async def test_a_file_not_in_utf8_is_refused(slack: SlackHarness):
    await _ready(slack)
    before = await snapshot(slack.services)
    file = slack.fake.add_file('sectors = ["Santé"]\n'.encode("latin-1"), "reglages.toml")
    answer = (await _submit(slack, _with_file(file))).json()
    assert "le fichier n’est pas enregistré en UTF-8" in answer["errors"]["upload"]
    await slack.completions.wait(slack.completions.count)
    assert await snapshot(slack.services) == before


async def test_the_bot_token_goes_to_slack_s_file_host_only(slack: SlackHarness):
    file = slack.fake.add_file(b'locale = "en"\n', "reglages.toml")
    file["url_private_download"] = file["url_private_download"].replace("127.0.0.1", "localhost")
    answer = (await _submit(slack, _with_file(file))).json()
    assert "Slack n’a pas pu fournir le fichier" in answer["errors"]["upload"]
    assert slack.fake.calls_to(FILE_DOWNLOAD) == []


async def test_a_member_gets_no_download(slack: SlackHarness):
    file = slack.fake.add_file(b'locale = "en"\n', "reglages.toml")
    answer = await _submit(slack, _with_file(file), slack.member_fr)
    assert "Seuls les modérateurs peuvent faire cela." in visible_text(answer.json())
    assert slack.fake.calls_to(FILE_DOWNLOAD) == []


def test_the_manifest_asks_for_files_read_with_its_reason():
    from bot.config import load_settings
    from bot.features import load_features
    from bot.slack_app.app import scope_reasons

    settings, _ = load_settings(env={"COLLECTIF_SLACK__MODE": "socket"})
    reasons = scope_reasons(settings, load_features())["files:read"]
    assert [who for who, _ in reasons] == ["config"]
    assert "config import" in reasons[0][1]


async def test_the_text_box_alone_shows_its_problem_under_itself(slack: SlackHarness):
    """The form without its file field (no files:read): a blank paste was refused under the missing file
    field, so Slack showed nothing at all. Slack sends the form's blocks back with the submission."""
    slack.fake.files_read = False
    await slack.sender.command("config importer", user_id=slack.admin)
    await slack.fake.wait_for_call("views.open")
    for _ in range(100):
        opened = [c for c in slack.fake.calls if c.method == "views.open"]
        if len(opened) == 2:
            break
        await asyncio.sleep(0.02)
    blocks = opened[-1].args["view"]["blocks"]
    payload = slack.sender.view_payload("config:import", _with_file(None, "   "), user_id=slack.admin)
    payload["view"]["blocks"] = blocks
    answer = await slack.sender.send(urlencode({"payload": json.dumps(payload)}),
                                     "application/x-www-form-urlencoded")
    errors = answer.json()["errors"]
    assert set(errors) == {"file"} and "collez les réglages dans cette case" in errors["file"]
