"""`/collectif config` on Slack: a settings modal, text subcommands, the install lifecycle events.

`/collectif config` (or `config settings`) opens one modal with every setting of the workspace; it
carries the settings version it showed, so a submission after another moderator's change is refused
rather than overwriting it. Everything else is a text subcommand (`config trade add Illustration`,
`config pack set Livre | Illustration, Rédaction web`: a `|` separates two names). Both write
through the same use cases as Discord (`cogs.config._context.run`).

`config import` opens a form taking a settings file (a `file_input`: what `config export` sends, well
over the 3,000 characters of a text box once a workspace has its trades, sectors and packs) or the
settings pasted in a text box; exactly one of the two. The file is downloaded from Slack with the
workspace's bot token (it needs the `files:read` scope) within the form's time, then checked and
imported exactly like pasted text (`cogs.config._transfer`).

The message shortcut "Remove post" (`config:remove_post`) asks moderators for a reason in a modal
whose callback_id names the message (`config:removepost:<channel>:<ts>`, as on Discord), then
removes it through the same use case as `config remove-post <link> <reason>`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot.cards import Card
from bot.errors import Forbidden, InvalidInput
from bot.notifier import Attachment
from bot.rendering.slack import plain
from bot.settings_registry import (
    Channel,
    Choice,
    Duration,
    Flag,
    Number,
    Offsets,
    Role,
    SettingSpec,
    UserGroup,
    Users,
)
from bot.slack_app.callers import team_of
from bot.slack_app.client import error_code
from bot.slack_app.forms import parse_metadata
from bot.slack_app.request import SlackRequest
from bot.slack_app.router import SlackRouter
from bot.words import catalog_words, match_word
from cogs.config import _ids, _refs
from cogs.config._audit import history
from cogs.config._context import run
from cogs.config._declared import CHANNEL_KINDS
from cogs.config._durations import format_offset, format_offsets
from cogs.config._moderation import REASON_MAX, check_remove_post, remove_post, remove_post_by_link
from cogs.config._packs import remove_pack, set_pack
from cogs.config._settings import (
    LIMITS,
    SettingsForm,
    check_update,
    set_setting,
    set_usergroup_members,
    settings_form,
    update_settings,
)
from cogs.config._show import show
from cogs.config._trades import (
    add_sector,
    add_trade,
    bind_trade,
    remove_sector,
    remove_trade,
    rename_sector,
    rename_trade,
)
from cogs.config._transfer import MAX_BYTES, check_import, export_settings, import_settings
from cogs.config._usergroup import queue_refresh
from storage.models import Community
from storage.settings import get_settings

log = logging.getLogger(__name__)
SETTINGS_VIEW = _ids.SETTINGS
IMPORT_VIEW = _ids.IMPORT
REMOVE_SHORTCUT = _ids.REMOVE_SHORTCUT
VALUE = "value"
IMPORT_MAX = 3000  # Slack's plain_text_input limit
# The import form's two blocks: the file, or the settings pasted (named "file" before files came).
IMPORT_UPLOAD = "upload"
IMPORT_TEXT = "file"
IMPORT_FILETYPES = ("toml", "txt")
# Slack waits 3 s for a form's answer, and the router closes the form after VIEW_ACK_BUDGET (2 s) of
# work: a download must end well before, leaving the check its time, for its refusal to show on the form.
DOWNLOAD_TIMEOUT = 1.2
DOWNLOAD_CHUNK = 16_384
FILES_SCOPE = "files:read"
SLACK_FILE_HOSTS = ("slack.com", "slack-gov.com")  # files.slack.com serves url_private_download
PAGES_MAX = 10
VERBS = (
    "settings",
    "show",
    "history",
    "export",
    "import",
    "channel",
    "language",
    "timezone",
    "reminders",
    "limit",
    "moderators",
    "usergroup",
    "purge-delay",
    "set",
    "trade",
    "sector",
    "pack",
    "remove-post",
    "help",
)
SUBVERBS = ("add", "rename", "remove", "channel", "set")


class SlackDirectory:
    """Channels, people and user groups of the workspace, asked to Slack once per request."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._names: dict[str, str | None] = {}

    async def _info(self, channel_id: str) -> str | None:
        if channel_id not in self._names:
            try:
                response = await self.client.conversations_info(channel=channel_id)
                self._names[channel_id] = str(response["channel"].get("name") or channel_id)
            except SlackApiError:
                self._names[channel_id] = None
        return self._names[channel_id]

    async def channel(self, ref: str) -> str | None:
        ref = ref.strip()
        if ref.startswith("#"):
            return await self._find_channel(ref[1:])
        channel_id = _refs.channel_id("slack", ref)
        return channel_id if channel_id is not None and await self._info(channel_id) is not None else None

    async def _find_channel(self, name: str) -> str | None:
        cursor = None
        for _ in range(PAGES_MAX):
            try:
                page = await self.client.conversations_list(
                    types="public_channel,private_channel", exclude_archived=True, limit=1000, cursor=cursor
                )
            except SlackApiError:
                return None
            for channel in page.get("channels") or []:
                if channel.get("name") == name:
                    return str(channel["id"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

    async def channel_label(self, channel_id: str) -> str:
        return f"#{await self._info(channel_id) or channel_id}"

    async def channel_name(self, channel_id: str) -> str | None:
        return await self._info(channel_id)

    async def role(self, ref: str) -> str | None:
        return None

    async def role_label(self, role_id: str) -> str:
        return role_id

    async def role_name(self, role_id: str) -> str | None:
        return None

    async def user_label(self, user_id: str) -> str:
        try:
            user = (await self.client.users_info(user=user_id))["user"]
            profile = user.get("profile") or {}
            return "@" + str(
                profile.get("display_name") or profile.get("real_name") or user.get("name") or user_id
            )
        except SlackApiError:
            return f"@{user_id}"

    async def usergroup(self, ref: str) -> str | None:
        ref = ref.strip()
        found = _refs.slack_usergroup_id(ref)
        if found is not None or not ref.startswith("@"):
            return found
        try:
            groups = (await self.client.usergroups_list()).get("usergroups") or []
        except SlackApiError:
            return None
        return next((str(g["id"]) for g in groups if g.get("handle") == ref[1:]), None)


async def _run(request: SlackRequest, use_case: Any, *args: Any, **kwargs: Any) -> Any:
    caller = await request.ensure_caller()
    return await run(
        request.services, caller, use_case, *args, directory=SlackDirectory(request.client), **kwargs
    )


async def _check_then_close(request: SlackRequest, check: Any, *args: Any, **kwargs: Any) -> None:
    """A form: checked read-only (refusals inline, on their fields), then the modal closes.

    Slack gives up on a form after 3 s, and the save may wait on another process's write lock: it
    comes after. What only the save can refuse (a form older than a change made meanwhile) is told
    to the moderator then (bot.slack_app.errors).
    """
    await _run(request, check, *args, write=False, **kwargs)
    await request.ack()


async def _reply(request: SlackRequest, use_case: Any, *args: Any, **kwargs: Any) -> None:
    await request.reply(await _run(request, use_case, *args, **kwargs))


async def refresh_usergroup(request: SlackRequest, team_id: str | None = None) -> None:
    """Copy the moderator group's members from Slack, so that the moderator check needs no API call."""
    services = request.services
    team_id = team_id or team_of(request.body, request.context)
    async with services.db.transaction() as session:
        community = await session.scalar(
            select(Community.id).where(Community.platform == "slack", Community.external_id == team_id)
        )
        group = (await get_settings(session, community)).moderator_usergroup_id if community else None
    if community is None or group is None:
        return
    try:
        users = list((await request.client.usergroups_users_list(usergroup=group)).get("users") or [])
    except SlackApiError as exc:
        log.warning("usergroups.users.list failed for %s: %s (asked again later)", group, error_code(exc))
        await queue_refresh(services, community)
        return
    except (TimeoutError, aiohttp.ClientError) as exc:  # asyncio.TimeoutError is TimeoutError on 3.11
        # The setting is saved already: a job asks again a little later (cogs/config/_usergroup.py).
        log.warning("usergroups.users.list unreachable for %s: %r (asked again later)", group, exc)
        await queue_refresh(services, community)
        return
    async with services.db.transaction() as session:
        await set_usergroup_members(session, community, group, users)
    services.callers.forget(community)  # who counts as a moderator changed


# -- the settings modal ----------------------------------------------------------------------------


def _input(request: SlackRequest, spec: SettingSpec, element: dict[str, Any]) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": spec.key,
        "optional": True,
        "label": plain(request.t(spec.label_key), 2000),
        "element": {**element, "action_id": VALUE},
    }
    if request.services.catalog.has(spec.help_key, request.locale):
        block["hint"] = plain(request.t(spec.help_key), 2000)
    return block


def _select(options: list[tuple[str, str]], chosen: str) -> dict[str, Any]:
    shown = [{"text": plain(label, 75), "value": value} for value, label in options]
    element: dict[str, Any] = {"type": "static_select", "options": shown}
    initial = next((o for o in shown if o["value"] == chosen), None)
    if initial is not None:
        element["initial_option"] = initial
    return element


def _element(request: SlackRequest, spec: SettingSpec, value: Any) -> dict[str, Any] | None:
    """The form element for a setting's kind, showing its current value."""
    t, kind = request.t, spec.kind
    if isinstance(kind, Flag):
        flags = [("on", t("config.values.on")), ("off", t("config.values.off"))]
        return _select(flags, "on" if value else "off")
    if isinstance(kind, Choice):
        return _select([(v, t(f"{kind.labels}.{v}")) for v in kind.values], value)
    if isinstance(kind, Number):
        return {
            "type": "number_input",
            "is_decimal_allowed": False,
            "initial_value": str(value),
            "min_value": str(kind.low),
            "max_value": str(kind.high),
        }
    if isinstance(kind, Users):
        element: dict[str, Any] = {"type": "multi_users_select"}
        if value:
            element["initial_users"] = list(value)
        return element
    if isinstance(kind, Role):
        return None
    if isinstance(kind, UserGroup):
        placeholder = plain(t("config.slack.usergroup_placeholder"), 150)
        group = {"type": "plain_text_input", "placeholder": placeholder}
        return {**group, "initial_value": value} if value else group
    if isinstance(kind, Channel):
        channel: dict[str, Any] = {
            "type": "conversations_select",
            "filter": {"include": ["public", "private"], "exclude_bot_users": True},
        }
        if value:
            channel["initial_conversation"] = value
        return channel
    catalog = request.services.catalog
    if isinstance(kind, Offsets):
        text = format_offsets(catalog, request.locale, value)
    elif isinstance(kind, Duration):
        text = format_offset(catalog, request.locale, value) if value else "0"
    else:
        text = str(value or "")
    return {"type": "plain_text_input", **({"initial_value": text} if text else {})}


def settings_view(request: SlackRequest, form: SettingsForm) -> dict[str, Any]:
    t = request.t
    blocks = []
    for spec in form.specs:
        element = _element(request, spec, form.values[spec.key])
        if element is not None:
            blocks.append(_input(request, spec, element))
    return {
        "type": "modal",
        "callback_id": SETTINGS_VIEW,
        "private_metadata": json.dumps({"version": form.version}),
        "title": plain(t("config.slack.settings_title"), 24),
        "submit": plain(t("config.slack.save"), 24),
        "close": plain(t("config.slack.cancel"), 24),
        "blocks": blocks,
    }


def values_from_state(state: dict[str, Any]) -> dict[str, Any]:
    """Setting name -> raw value, for every block of the settings modal that came back."""
    values: dict[str, Any] = {}
    for block_id, actions in state.items():
        element = (actions or {}).get(VALUE) or {}
        kind = element.get("type")
        if kind == "conversations_select":
            values[block_id] = element.get("selected_conversation")
        elif kind == "static_select":
            values[block_id] = (element.get("selected_option") or {}).get("value")
        elif kind == "multi_users_select":
            values[block_id] = list(element.get("selected_users") or [])
        else:
            values[block_id] = element.get("value") or ""
    return values


async def open_settings(request: SlackRequest) -> None:
    form = await _run(request, settings_form)
    await request.open_modal(settings_view(request, form))


async def submit_settings(request: SlackRequest) -> dict[str, Any]:
    view = request.body["view"]
    version = parse_metadata(view.get("private_metadata")).get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        version = -1  # unreadable: the form is treated as stale (refused), never as "any version"
    values = values_from_state(view["state"]["values"])
    await _check_then_close(request, check_update, values, expected_version=version)
    card = await _run(request, update_settings, values, expected_version=version)
    await refresh_usergroup(request)
    await request.reply(card)
    return {}


async def open_import(request: SlackRequest) -> None:
    """The import form: the settings file, or the settings pasted (one of the two).

    Slack shows a file field only to an app with the `files:read` scope: one installed before it was
    asked for gets the form without it (its refusal of the first form), the box saying what to do.
    """
    await _run(request, settings_form)  # refuses non-moderators before showing anything
    try:
        await request.open_modal(_import_form(request, files=True))
    except SlackApiError as error:
        log.warning("config import: Slack refused the form with a file field (%s): shown without it",
                    error_code(error))
        await request.open_modal(_import_form(request, files=False))


def _import_form(request: SlackRequest, *, files: bool) -> dict[str, Any]:
    t = request.t
    upload = {
        "type": "input",
        "block_id": IMPORT_UPLOAD,
        "optional": True,
        "label": plain(t("config.slack.import.file_label"), 2000),
        "hint": plain(t("config.slack.import.file_hint", max_kb=MAX_BYTES // 1000), 2000),
        "element": {
            "type": "file_input",
            "max_files": 1,
            "filetypes": list(IMPORT_FILETYPES),
            "action_id": VALUE,
        },
    }
    hint = (t("config.slack.import.text_hint", max=IMPORT_MAX) if files
            else t("config.slack.import.text_hint_no_files", max=IMPORT_MAX, scope=FILES_SCOPE))
    text = {
        "type": "input",
        "block_id": IMPORT_TEXT,
        "optional": files,
        "label": plain(t("config.slack.import.text_label"), 2000),
        "hint": plain(hint, 2000),
        "element": {
            "type": "plain_text_input",
            "multiline": True,
            "max_length": IMPORT_MAX,
            "action_id": VALUE,
        },
    }
    return {
        "type": "modal",
        "callback_id": IMPORT_VIEW,
        "title": plain(t("config.discord.import_modal.title"), 24),
        "submit": plain(t("config.slack.save"), 24),
        "close": plain(t("config.slack.cancel"), 24),
        "blocks": [upload, text] if files else [text],
    }


def _slack_file_url(url: str, api_base: str) -> bool:
    """Whether `url` is a file of this Slack: the bot token goes to no other host.

    Slack's own file hosts over https, or the Web API's host (and its subdomains) over its scheme,
    for an `api_base_url` pointing elsewhere (a test's fake Slack).
    """
    try:
        found, api = urlsplit(url), urlsplit(api_base)
        host, api_host = (found.hostname or "").lower(), (api.hostname or "").lower()
    except ValueError:
        return False
    if found.scheme == "https" and any(host == h or host.endswith("." + h) for h in SLACK_FILE_HOSTS):
        return True
    same_api = host == api_host or host.endswith("." + api_host)
    return bool(api_host) and found.scheme == api.scheme and same_api


def _missing_scope(body: bytes) -> bool:
    """Slack's JSON refusal of a token without files:read (`missing_scope`)."""
    try:
        answer = json.loads(body[:2000])
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("error") == "missing_scope"


async def _fetch(request: SlackRequest, session: aiohttp.ClientSession, url: str, mimetype: str) -> bytes:
    """GET a file with the bot token, at most MAX_BYTES of it; every refusal an InvalidInput on the form."""
    headers = {"Authorization": f"Bearer {request.client.token}"}
    # No redirect is followed: a token Slack refuses is sent to its sign-in page, and the token to no one.
    async with session.get(url, headers=headers, allow_redirects=False) as response:
        if response.status in (401, 403) or 300 <= response.status < 400:
            raise _on_upload("config.errors.import_missing_scope", scope=FILES_SCOPE)
        if response.status != 200:
            if _missing_scope(await response.content.read(2000)):
                raise _on_upload("config.errors.import_missing_scope", scope=FILES_SCOPE)
            log.warning("Slack file download answered HTTP %s", response.status)
            raise _on_upload("config.errors.import_download_failed", error=f"HTTP {response.status}")
        if response.content_type == "text/html" and not mimetype.startswith("text/html"):
            # What Slack serves a token without files:read instead of the file: its sign-in page (HTTP 200).
            raise _on_upload("config.errors.import_missing_scope", scope=FILES_SCOPE)
        data = bytearray()
        async for chunk in response.content.iter_chunked(DOWNLOAD_CHUNK):
            data += chunk
            if len(data) > MAX_BYTES:  # the size Slack told was wrong: read no further
                raise _on_upload("config.errors.import_too_big", max_kb=MAX_BYTES // 1000)
        return bytes(data)


def _on_upload(key: str, /, **params: Any) -> InvalidInput:
    return InvalidInput({IMPORT_UPLOAD: (key, params)})


async def _download(request: SlackRequest, file: dict[str, Any]) -> str:
    """The text of the file a moderator gave the import form, refused (InvalidInput) as the form shows it.

    Its size is checked before anything is downloaded, and again while reading; the download is
    bounded by DOWNLOAD_TIMEOUT. Through the runtime's shared HTTP session when there is one.
    """
    size = file.get("size")
    if isinstance(size, int) and not isinstance(size, bool) and size > MAX_BYTES:
        raise _on_upload("config.errors.import_too_big", max_kb=MAX_BYTES // 1000)
    url = str(file.get("url_private_download") or file.get("url_private") or "")
    if not url:  # what Slack may give an app that cannot read files: the file, without its address
        raise _on_upload("config.errors.import_missing_scope", scope=FILES_SCOPE)
    if not _slack_file_url(url, request.client.base_url) or not request.client.token:
        log.warning("import form: a file without a Slack download URL (%s)", urlsplit(url).hostname)
        raise _on_upload("config.errors.import_download_failed", error="URL")
    mimetype = str(file.get("mimetype") or "")
    session = request.session or request.client.session
    try:
        async with asyncio.timeout(DOWNLOAD_TIMEOUT):
            if session is not None and not session.closed:
                data = await _fetch(request, session, url, mimetype)
            else:  # no runtime session (a bare client): one for this download
                async with aiohttp.ClientSession() as own:
                    data = await _fetch(request, own, url, mimetype)
    except TimeoutError:
        log.warning("Slack file download took over %.1f s", DOWNLOAD_TIMEOUT)
        raise _on_upload("config.errors.import_download_slow") from None
    except aiohttp.ClientError as exc:
        log.warning("Slack file download failed: %r", exc)
        raise _on_upload("config.errors.import_download_failed", error=type(exc).__name__) from None
    try:
        return data.decode("utf-8")  # a byte order mark stays: the import reads past it as for pasted text
    except UnicodeDecodeError:
        raise _on_upload("config.errors.import_not_utf8") from None


async def _import_source(request: SlackRequest) -> tuple[str, str]:
    """(the block the settings came from, their text): a file or pasted text, exactly one of them."""
    if not (await request.ensure_caller()).is_moderator:  # nothing is downloaded for anyone else
        raise Forbidden()
    values = request.body["view"]["state"]["values"]
    text = str(((values.get(IMPORT_TEXT) or {}).get(VALUE) or {}).get("value") or "")
    files = ((values.get(IMPORT_UPLOAD) or {}).get(VALUE) or {}).get("files") or []
    if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
        files = []
    if files and text.strip():
        raise InvalidInput({IMPORT_TEXT: ("config.errors.import_not_both", {})})
    if not files and not text.strip():
        shown = {b.get("block_id") for b in request.body["view"].get("blocks") or () if isinstance(b, dict)}
        if shown and IMPORT_UPLOAD not in shown:  # the form without its file field (no files:read)
            raise InvalidInput({IMPORT_TEXT: ("config.errors.import_paste", {})})
        raise _on_upload("config.errors.import_choose_one")
    if not files:
        return IMPORT_TEXT, text
    if len(files) > 1:
        raise _on_upload("config.errors.import_one_file")
    return IMPORT_UPLOAD, await _download(request, files[0])


async def submit_import(request: SlackRequest) -> dict[str, Any]:
    block, text = await _import_source(request)
    try:
        await _check_then_close(request, check_import, text)
    except InvalidInput as error:  # every problem under the field the settings came from
        raise InvalidInput({block: next(iter(error.problems.values()))}) from None
    card = await _run(request, import_settings, text)
    await refresh_usergroup(request)
    await request.reply(card)
    return {}


# -- text subcommands ------------------------------------------------------------------------------


def _verb(request: SlackRequest, word: str, verbs: tuple[str, ...]) -> str | None:
    """The verb a word names, in English or in the caller's language (folded).

    Discord's name of a subcommand is read too where Slack's differs (`config setting` for `config
    set`): a text naming `{/config setting}` shows the Discord words on Slack as well.
    """
    catalog = request.services.catalog
    keys = {verb: "config.slack.words." + verb.replace("-", "_") for verb in verbs}
    also = {verb: f"config.slack.also.{verb}" for verb in verbs if catalog.has(f"config.slack.also.{verb}")}
    return match_word(word, catalog_words(catalog, keys)) or match_word(word, catalog_words(catalog, also))


def _pair(text: str) -> tuple[str, str | None]:
    first, sep, second = text.partition("|")
    return first.strip(), (second.strip() if sep else None)


def _kind(request: SlackRequest, word: str, kinds: Any, prefix: str) -> str | None:
    catalog = request.services.catalog
    keys = {kind: f"config.slack.{prefix}.{kind}" for kind in kinds}
    former = {kind: f"config.slack.former_words.{kind}" for kind in kinds
              if catalog.has(f"config.slack.former_words.{kind}")}
    # The current words first; words of earlier versions ("retours") still read, so nothing breaks.
    return match_word(word, catalog_words(catalog, keys)) or match_word(word, catalog_words(catalog, former))


def _kind_words(request: SlackRequest, kinds: Any, prefix: str) -> str:
    """The words that name `kinds` in the caller's language, for a refusal to list."""
    return ", ".join(request.t(f"config.slack.{prefix}.{kind}") for kind in kinds)


async def config_command(request: SlackRequest) -> None:
    word, _, rest = request.args.strip().partition(" ")
    rest = rest.strip()
    verb = _verb(request, word, VERBS) if word else "settings"
    if verb == "settings":
        await open_settings(request)
    elif verb == "import":
        await open_import(request)
    elif verb == "show":
        await _reply(request, show)
    elif verb == "history":
        await _reply(request, history)
    elif verb == "export":
        await export(request)
    elif verb in ("trade", "sector", "pack"):
        await _list_command(request, verb, rest)
    elif verb == "set":
        name, _, value = rest.partition(" ")
        await _reply(request, set_setting, name, value.strip())
    elif verb == "remove-post":
        link, _, reason = rest.partition(" ")
        await _reply(request, remove_post_by_link, link, reason)
    elif verb is not None and verb != "help" and await _setting_command(request, verb, rest):
        return
    else:
        await request.reply(
            Card(
                title=request.t("config.slack.usage_title"),
                text=request.t("config.slack.usage", command=request.command),
            )
        )


async def _setting_command(request: SlackRequest, verb: str, rest: str) -> bool:
    first, _, value = rest.partition(" ")
    if verb == "channel":
        kind = _kind(request, first, CHANNEL_KINDS, "channels")
        if kind is None:
            raise InvalidInput(
                {
                    "which": (
                        "config.errors.unknown_channel_kind",
                        {"kind": first, "kinds": _kind_words(request, CHANNEL_KINDS, "channels")},
                    )
                }
            )
        await _reply(request, set_setting, CHANNEL_KINDS[kind], value.strip())
    elif verb == "limit":
        which = _kind(request, first, LIMITS, "limits")
        if which is None:
            raise InvalidInput(
                {"which": ("config.errors.unknown_limit",
                           {"which": first, "limits": _kind_words(request, LIMITS, "limits")})}
            )
        await _reply(request, set_setting, f"limit.{which}", value.strip())
    else:
        name = {
            "language": "locale",
            "timezone": "timezone",
            "reminders": "reminders",
            "moderators": "moderators.users",
            "usergroup": "moderators.usergroup",
            "purge-delay": "purge_grace_days",
        }.get(verb)
        if name is None:
            return False
        card = await _run(request, set_setting, name, rest)
        if name == "moderators.usergroup":
            await refresh_usergroup(request)
        await request.reply(card)
    return True


async def _list_command(request: SlackRequest, noun: str, rest: str) -> None:
    word, _, text = rest.partition(" ")
    sub = _verb(request, word, SUBVERBS)
    first, second = _pair(text)
    actions = {
        ("trade", "add"): (add_trade, (first,)),
        ("trade", "rename"): (rename_trade, (first, second or "")),
        ("trade", "remove"): (remove_trade, (first, second)),
        ("trade", "channel"): (bind_trade, (first, second or "")),
        ("sector", "add"): (add_sector, (first,)),
        ("sector", "rename"): (rename_sector, (first, second or "")),
        ("sector", "remove"): (remove_sector, (first, second)),
        ("pack", "set"): (set_pack, (first, second or "")),
        ("pack", "remove"): (remove_pack, (first,)),
    }
    found = actions.get((noun, sub or ""))
    if found is None:
        await request.reply(
            Card(
                title=request.t("config.slack.usage_title"),
                text=request.t("config.slack.usage", command=request.command),
            )
        )
        return
    use_case, args = found
    await _reply(request, use_case, *args)


async def export(request: SlackRequest) -> None:
    """The file goes to the moderator's DM (Slack has no ephemeral files); a note answers here."""
    exported = await _run(request, export_settings)
    caller = await request.ensure_caller()
    notifier = request.services.notifiers.get("slack")
    sent = None
    if notifier is not None:
        sent = await notifier.dm(
            team_of(request.body, request.context),
            caller.user_id,
            exported.card,
            Attachment(exported.filename, exported.content),
        )
    if sent is None:
        await request.reply(Card(title=exported.card.title, text=exported.content.decode()))
        return
    await request.reply(Card(title=exported.card.title, text=request.t("config.slack.export_sent")))


# -- the "Remove post" message shortcut -------------------------------------------------------------


async def open_remove_post(request: SlackRequest) -> None:
    """Message shortcut: moderators get the reason modal; the modal names the message."""
    caller = await request.ensure_caller()
    if not caller.is_moderator:
        raise Forbidden()
    message = request.body.get("message") or {}
    channel, ts = request.channel_id, str(message.get("ts") or request.body.get("message_ts") or "")
    t = request.t
    await request.open_modal(
        {
            "type": "modal",
            "callback_id": f"config:removepost:{channel}:{ts}",
            "title": plain(t("config.slack.remove_post.title"), 24),
            "submit": plain(t("config.slack.remove_post.submit"), 24),
            "close": plain(t("config.slack.cancel"), 24),
            "blocks": [
                {
                    "type": "input",
                    "block_id": "reason",
                    "label": plain(t("config.slack.remove_post.label"), 2000),
                    "element": {
                        "type": "plain_text_input",
                        "multiline": True,
                        "max_length": REASON_MAX,
                        "action_id": VALUE,
                    },
                }
            ],
        }
    )


async def submit_remove_post(request: SlackRequest) -> dict[str, Any]:
    assert request.match is not None
    reason = str(
        ((request.body["view"]["state"]["values"].get("reason") or {}).get(VALUE) or {}).get("value") or ""
    )
    where = (request.match["channel"], request.match["message"])
    await _check_then_close(request, check_remove_post, *where, reason)
    card = await _run(request, remove_post, *where, reason)
    await request.reply(card)
    return {}


# -- events ----------------------------------------------------------------------------------------


async def on_group_changed(request: SlackRequest) -> None:
    """subteam_members_changed: refresh the moderator group's members when it is that group."""
    await refresh_usergroup(request)


def register(router: SlackRouter) -> None:
    router.subcommand("config", config_command)
    router.view(SETTINGS_VIEW, submit_settings)
    router.view(IMPORT_VIEW, submit_import)
    router.view(_ids.REMOVE_POST, submit_remove_post)
    router.shortcut(
        REMOVE_SHORTCUT,
        "config.slack.remove_post.name",
        "config.slack.remove_post.description",
        open_remove_post,
    )
    router.event("subteam_members_changed", on_group_changed)
    router.need_scope("usergroups:read", "moderators may be a user group: its members are read from Slack")
    router.need_scope("channels:read", "moderators pick channels by name in /collectif config")
    router.need_scope("groups:read", "moderators pick private channels by name in /collectif config")
    router.need_scope(FILES_SCOPE, "a moderator's /collectif config import may be a settings file given "
                      "in its form: Collectif downloads that file")
    router.need_scope("files:write", "files.uploadV2: /collectif config export, as a TOML file in the "
                      "moderator's DM")
