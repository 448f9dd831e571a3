"""/config on Discord: subcommands with autocomplete and a "Remove post" message menu.

The group carries default_member_permissions = Manage Server, so Discord hides it from members; that
is only a default a server can override, so every subcommand still goes through
`cogs.config._context.run`, which refuses anyone the server does not count as a moderator (Manage
Server, or the community's moderator role). Modals are routed by custom_id
(`config:import`, `config:removepost:<channel>:<message>`: cogs.config._ids) through `bot.router`,
so they survive a restart.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import locale_str
from discord.ext import commands

from bot.cards import Attachment, Card, truncate
from bot.discord_bot.attachments import download
from bot.discord_bot.replies import send_card
from bot.discord_bot.translator import command_texts, keyed
from bot.errors import Forbidden, InvalidInput
from bot.rendering.discord import routed_modal
from bot.settings_registry import Choice, Flag, declared_settings
from bot.text import is_number
from cogs.config import FEATURE, _ids, _refs
from cogs.config._audit import history
from cogs.config._context import run
from cogs.config._declared import CHANNEL_KINDS, CORE_SETTINGS
from cogs.config._moderation import remove_post, remove_post_by_link
from cogs.config._packs import packs, remove_pack, set_pack
from cogs.config._settings import LIMITS, Bad, set_setting
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
from cogs.config._transfer import MAX_BYTES, export_settings, import_settings
from storage.communities import sectors, trades
from storage.text import fold

if TYPE_CHECKING:
    from bot.discord_bot.client import CollectifBot
    from bot.discord_bot.router import DiscordRequest

log = logging.getLogger(__name__)
CONFIG = next(c for c in FEATURE.commands if c.name == "config")
MANAGE = discord.Permissions(manage_guild=True)
IMPORT_MODAL = "config:import"
CHOICES_MAX = 25
LANGUAGE = next(s.kind for s in CORE_SETTINGS if s.key == "locale" and isinstance(s.kind, Choice))
TEXT_INPUT_MAX = 4000


def _texts(key: str, default: str) -> dict[str, Any]:
    return {
        "name": locale_str(default, key=f"config.discord.{key}.name"),
        "description": keyed(f"config.discord.{key}.description"),
    }


def _options(*names: str) -> Callable[[Any], Any]:
    """Localized names and descriptions for the options of a subcommand."""

    def decorate(func: Any) -> Any:
        func = app_commands.describe(**{n: keyed(f"config.discord.options.{n}_description") for n in names})(
            func
        )
        return app_commands.rename(**{n: locale_str(n, key=f"config.discord.options.{n}") for n in names})(
            func
        )

    return decorate


class DiscordDirectory:
    """Channels and roles of the guild the interaction comes from (discord.py's cache).

    A channel is a text channel, as `/config channel` offers (cards are posted there): not a voice
    channel, a category or a thread. A guild may give two channels, or two roles, the same name: such
    a name is refused (the moderator gives the id or mention), never resolved to the first one.
    """

    def __init__(self, guild: discord.Guild | None) -> None:
        self.guild = guild

    async def channel(self, ref: str) -> str | None:
        ref = ref.strip()
        if self.guild is None:
            return _refs.channel_id("discord", ref)
        if ref.startswith("#"):
            named = [c for c in self.guild.text_channels if c.name == ref[1:]]
            if len(named) > 1:
                raise Bad("config.errors.ambiguous_channel", channel=ref)
            return str(named[0].id) if named else None
        channel_id = _refs.channel_id("discord", ref)
        found = self.guild.get_channel_or_thread(int(channel_id)) if channel_id is not None else None
        if found is None:
            return None
        if not isinstance(found, discord.TextChannel):
            raise Bad("config.errors.not_text_channel", channel=f"#{found.name}")
        return channel_id

    async def channel_label(self, channel_id: str) -> str:
        return f"<#{channel_id}>"

    async def channel_name(self, channel_id: str) -> str | None:
        found = self.guild.get_channel(int(channel_id)) if self.guild and is_number(channel_id) else None
        return found.name if found is not None else None

    async def role(self, ref: str) -> str | None:
        ref = ref.strip()
        if self.guild is None:
            return _refs.role_id("discord", ref)
        if ref.startswith("@"):
            named = [r for r in self.guild.roles if r.name == ref[1:] and _a_person_may_hold(r)]
            if len(named) > 1:
                raise Bad("config.errors.ambiguous_role", role=ref)
            found = named[0] if named else None
        else:
            role_id = _refs.role_id("discord", ref)
            found = self.guild.get_role(int(role_id)) if role_id is not None else None
        return str(found.id) if found is not None and _a_person_may_hold(found) else None

    async def role_label(self, role_id: str) -> str:
        return f"<@&{role_id}>"

    async def role_name(self, role_id: str) -> str | None:
        found = self.guild.get_role(int(role_id)) if self.guild and is_number(role_id) else None
        return found.name if found is not None else None

    async def user_label(self, user_id: str) -> str:
        return f"<@{user_id}>"

    async def usergroup(self, ref: str) -> str | None:
        return None


def _a_person_may_hold(role: discord.Role) -> bool:
    # @everyone would make every member a moderator; a bot's managed role belongs to no person.
    return not role.is_default() and not role.managed


def _modal(
    title: str, custom_id: str, label: str, *, max_length: int, placeholder: str = ""
) -> discord.ui.Modal:
    """A one-field modal; stopped so that discord.py keeps no per-user state (on_interaction routes it)."""
    modal = routed_modal(title, custom_id)
    modal.add_item(
        discord.ui.TextInput(
            custom_id="value",
            label=truncate(label, 45),
            style=discord.TextStyle.paragraph,
            max_length=max_length,
            placeholder=truncate(placeholder, 100) or None,
        )
    )
    return modal


def _matching(names: list[str], current: str) -> list[app_commands.Choice[str]]:
    wanted = fold(current)
    found = [n for n in names if wanted in fold(n)]
    return [app_commands.Choice(name=n, value=n) for n in found[:CHOICES_MAX]]


class Config(commands.Cog):
    config = app_commands.Group(**command_texts(CONFIG), default_permissions=MANAGE, guild_only=True)
    trade = app_commands.Group(**_texts("trade", "trade"), parent=config)
    sector = app_commands.Group(**_texts("sector", "sector"), parent=config)
    pack = app_commands.Group(**_texts("pack", "pack"), parent=config)

    def __init__(self, bot: CollectifBot) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(
            name=locale_str("Remove post", key="config.discord.remove_post_menu"),
            callback=self.remove_post_menu,
        )
        self.menu.default_permissions = MANAGE
        self.menu.guild_only = True

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    async def _run(self, interaction: discord.Interaction, use_case: Any, *args: Any, **kwargs: Any) -> Any:
        caller = await self.bot.caller(interaction)
        directory = DiscordDirectory(interaction.guild)
        return await run(self.bot.services, caller, use_case, *args, directory=directory, **kwargs)

    async def _reply(self, interaction: discord.Interaction, use_case: Any, *args: Any,
                     hint: tuple[str, dict[str, Any]] | None = None) -> None:
        """Answer as soon as the change is stored; the modlog post, deletions and DMs come after.

        `hint`: a catalog key and its values, a Discord-only line added below the answer.
        """

        async def respond(card: Card) -> None:
            if hint is not None:
                caller = await self.bot.caller(interaction)
                line = self.bot.services.catalog.t(caller.locale, hint[0], **hint[1])
                card = replace(card, text=f"{card.text}\n\n{line}".strip())
            await send_card(interaction, card, ephemeral=True)

        # A change may wait on the database's write lock: Discord gets "thinking…" first (3 s rule).
        if not interaction.response.is_done():
            await interaction.response.defer(ephemeral=True, thinking=True)
        await self._run(interaction, use_case, *args, respond=respond)

    # -- settings ---------------------------------------------------------------------------------

    @config.command(**_texts("show", "show"))
    async def show(self, interaction: discord.Interaction) -> None:
        await self._reply(interaction, show)

    @config.command(**_texts("history", "history"))
    async def history(self, interaction: discord.Interaction) -> None:
        await self._reply(interaction, history)

    @config.command(**_texts("channel", "channel"))
    @_options("which", "channel")
    @app_commands.choices(
        which=[
            app_commands.Choice(name=keyed(f"config.setting.{key}"), value=kind)
            for kind, key in CHANNEL_KINDS.items()
        ]
    )
    async def channel(
        self, interaction: discord.Interaction, which: str, channel: discord.TextChannel | None = None
    ) -> None:
        """Without a channel, the setting is cleared."""
        await self._reply(interaction, set_setting, CHANNEL_KINDS.get(which, f"channel.{which}"),
                          str(channel.id) if channel else None)

    @config.command(**_texts("setting", "setting"))
    @_options("setting", "new_value")
    async def setting(
        self, interaction: discord.Interaction, setting: str, new_value: str | None = None
    ) -> None:
        """Any declared setting, by key (autocompleted) or by its name; no value clears it."""
        await self._reply(interaction, set_setting, setting, new_value)

    @setting.autocomplete("setting")
    async def setting_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if not await self._is_moderator(interaction):
            return []
        t = self.bot.services.t
        locale = str(interaction.locale)
        wanted = fold(current)
        found = [
            app_commands.Choice(name=truncate(t(locale, spec.label_key), 100), value=spec.key)
            for spec in declared_settings(self.bot.services.features).values()
            if "discord" in spec.platforms
            and (wanted in fold(spec.key) or wanted in fold(t(locale, spec.label_key)))
        ]
        return found[:CHOICES_MAX]

    @setting.autocomplete("new_value")
    async def value_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """The values of a choice or an on/off setting, once the setting is chosen."""
        key = str(getattr(interaction.namespace, "setting", "") or "")
        spec = declared_settings(self.bot.services.features).get(key)
        if spec is None or not await self._is_moderator(interaction):
            return []
        t, locale = self.bot.services.t, str(interaction.locale)
        if isinstance(spec.kind, Choice):
            labels = {value: t(locale, f"{spec.kind.labels}.{value}") for value in spec.kind.values}
        elif isinstance(spec.kind, Flag):
            labels = {"on": t(locale, "config.values.on"), "off": t(locale, "config.values.off")}
        else:
            return []
        wanted = fold(current)
        return [
            app_commands.Choice(name=truncate(label, 100), value=value)
            for value, label in labels.items()
            if wanted in fold(label) or wanted in fold(value)
        ][:CHOICES_MAX]

    async def _is_moderator(self, interaction: discord.Interaction) -> bool:
        try:
            return (await self.bot.caller(interaction)).is_moderator
        except Exception:
            log.exception("config autocomplete failed in guild %s", interaction.guild_id)
            return False

    @config.command(**_texts("language", "language"))
    @_options("language")
    @app_commands.choices(
        language=[
            app_commands.Choice(name=keyed(f"{LANGUAGE.labels}.{code}"), value=code)
            for code in LANGUAGE.values
        ]
    )
    async def language(self, interaction: discord.Interaction, language: str) -> None:
        await self._reply(interaction, set_setting, "locale", language)

    @config.command(**_texts("timezone", "timezone"))
    @_options("timezone")
    async def timezone(self, interaction: discord.Interaction, timezone: str) -> None:
        await self._reply(interaction, set_setting, "timezone", timezone)

    @timezone.autocomplete("timezone")
    async def timezone_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        wanted = current.casefold().replace(" ", "_")
        names = sorted(z for z in zoneinfo.available_timezones() if wanted in z.casefold())
        return [app_commands.Choice(name=z, value=z) for z in names[:CHOICES_MAX]]

    @config.command(**_texts("reminders", "reminders"))
    @_options("reminders")
    async def reminders(self, interaction: discord.Interaction, reminders: str) -> None:
        await self._reply(interaction, set_setting, "reminders", reminders)

    @config.command(**_texts("limit", "limit"))
    @_options("which", "value")
    @app_commands.choices(
        which=[app_commands.Choice(name=keyed(f"config.setting.limit.{name}"), value=name) for name in LIMITS]
    )
    async def limit(self, interaction: discord.Interaction, which: str, value: int) -> None:
        await self._reply(interaction, set_setting, f"limit.{which}", value)

    @config.command(**_texts("moderator_role", "moderator-role"))
    @_options("role")
    async def moderator_role(
        self, interaction: discord.Interaction, role: discord.Role | None = None
    ) -> None:
        """Without a role, only members with Manage Server remain moderators.

        Discord shows /config and "Remove post" to Manage Server by default (`MANAGE`), and a bot
        cannot change who sees a command: the reply says how a server admin lets the role see them.
        """
        hint = ("config.discord.role_visibility", {"role": role.name}) if role else None
        value = str(role.id) if role else None
        await self._reply(interaction, set_setting, "moderators.role", value, hint=hint)

    @config.command(**_texts("purge_delay", "purge-delay"))
    @_options("days")
    async def purge_delay(self, interaction: discord.Interaction, days: int) -> None:
        """Kept beside `/config setting purge_grace_days` (the README's command)."""
        await self._reply(interaction, set_setting, "purge_grace_days", days)

    # -- export / import --------------------------------------------------------------------------

    @config.command(**_texts("export", "export"))
    async def export(self, interaction: discord.Interaction) -> None:
        # Reading the packs may store the default ones (a write): "thinking…" first (3 s rule).
        await interaction.response.defer(ephemeral=True, thinking=True)
        exported = await self._run(interaction, export_settings)
        await send_card(interaction, replace(exported.card, attachments=(
            Attachment(exported.filename, exported.content),)))

    @config.command(**_texts("import", "import"))
    @_options("file")
    async def import_(self, interaction: discord.Interaction, file: discord.Attachment | None = None) -> None:
        """With a file: apply it. Without: a modal to paste the settings into."""
        caller = await self.bot.caller(interaction)
        if not caller.is_moderator:
            raise Forbidden()
        if file is None:
            t = self.bot.services.t
            await interaction.response.send_modal(
                _modal(
                    t(caller.locale, "config.discord.import_modal.title"),
                    IMPORT_MODAL,
                    t(caller.locale, "config.discord.import_modal.label"),
                    max_length=TEXT_INPUT_MAX,
                    placeholder='timezone = "Europe/Paris"',
                )
            )
            return
        if file.size > MAX_BYTES:
            raise InvalidInput({"file": ("config.errors.import_too_big", {"max_kb": MAX_BYTES // 1000})})
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await download(file, MAX_BYTES)
        if data is None:  # larger than Discord said
            raise InvalidInput({"file": ("config.errors.import_too_big", {"max_kb": MAX_BYTES // 1000})})
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput({"file": ("config.errors.import_toml", {"error": "UTF-8"})}) from None
        await self._reply(interaction, import_settings, text)

    # -- trades, sectors, packs -------------------------------------------------------------------

    @trade.command(**_texts("trade.add", "add"))
    @_options("name")
    async def trade_add(self, interaction: discord.Interaction, name: str) -> None:
        await self._reply(interaction, add_trade, name)

    @trade.command(**_texts("trade.rename", "rename"))
    @_options("trade", "new_name")
    async def trade_rename(self, interaction: discord.Interaction, trade: str, new_name: str) -> None:
        await self._reply(interaction, rename_trade, trade, new_name)

    @trade.command(**_texts("trade.remove", "remove"))
    @_options("trade", "merge_into")
    async def trade_remove(
        self, interaction: discord.Interaction, trade: str, merge_into: str | None = None
    ) -> None:
        await self._reply(interaction, remove_trade, trade, merge_into)

    @trade.command(**_texts("trade.channel", "channel"))
    @_options("trade", "channel")
    async def trade_channel(
        self, interaction: discord.Interaction, trade: str, channel: discord.TextChannel | None = None
    ) -> None:
        await self._reply(interaction, bind_trade, trade, str(channel.id) if channel else None)

    @sector.command(**_texts("sector.add", "add"))
    @_options("name")
    async def sector_add(self, interaction: discord.Interaction, name: str) -> None:
        await self._reply(interaction, add_sector, name)

    @sector.command(**_texts("sector.rename", "rename"))
    @_options("sector", "new_name")
    async def sector_rename(self, interaction: discord.Interaction, sector: str, new_name: str) -> None:
        await self._reply(interaction, rename_sector, sector, new_name)

    @sector.command(**_texts("sector.remove", "remove"))
    @_options("sector", "merge_into")
    async def sector_remove(
        self, interaction: discord.Interaction, sector: str, merge_into: str | None = None
    ) -> None:
        await self._reply(interaction, remove_sector, sector, merge_into)

    @pack.command(**_texts("pack.set", "set"))
    @_options("name", "trades")
    async def pack_set(self, interaction: discord.Interaction, name: str, trades: str) -> None:
        await self._reply(interaction, set_pack, name, trades)

    @pack.command(**_texts("pack.remove", "remove"))
    @_options("name")
    async def pack_remove(self, interaction: discord.Interaction, name: str) -> None:
        await self._reply(interaction, remove_pack, name)

    # -- autocomplete: never raising, moderators only ---------------------------------------------

    async def _names(
        self, interaction: discord.Interaction, load: Callable[[Any, int], Awaitable[list[str]]]
    ) -> list[str]:
        try:
            caller = await self.bot.caller(interaction)
            if not caller.is_moderator:
                return []
            async with self.bot.services.db.transaction(write=False) as session:  # no waiting on a writer
                return await load(session, caller.community_id)
        except Exception:
            log.exception("config autocomplete failed in guild %s", interaction.guild_id)
            return []

    async def _trade_names(self, interaction: discord.Interaction) -> list[str]:
        async def load(session: Any, community_id: int) -> list[str]:
            return [t.name for t in await trades(session, community_id)]

        return await self._names(interaction, load)

    @trade_rename.autocomplete("trade")
    @trade_remove.autocomplete("trade")
    @trade_remove.autocomplete("merge_into")
    @trade_channel.autocomplete("trade")
    async def trade_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return _matching(await self._trade_names(interaction), current)

    @sector_rename.autocomplete("sector")
    @sector_remove.autocomplete("sector")
    @sector_remove.autocomplete("merge_into")
    async def sector_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        async def load(session: Any, community_id: int) -> list[str]:
            return [s.name for s in await sectors(session, community_id)]

        return _matching(await self._names(interaction, load), current)

    @pack_set.autocomplete("name")
    @pack_remove.autocomplete("name")
    async def pack_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        async def load(session: Any, community_id: int) -> list[str]:
            return [name for name, _ in await packs(session, community_id)]

        return _matching(await self._names(interaction, load), current)

    @pack_set.autocomplete("trades")
    async def pack_trades_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """A comma-separated list: completes its last item, keeping the ones already typed."""
        *done, last = [part.strip() for part in current.split(",")]
        chosen = {fold(d) for d in done}
        prefix = ", ".join(d for d in done if d)
        choices = []
        for choice in _matching(await self._trade_names(interaction), last):
            if fold(choice.value) in chosen:
                continue
            value = f"{prefix}, {choice.value}" if prefix else choice.value
            if len(value) <= 100:
                choices.append(app_commands.Choice(name=value, value=value))
        return choices

    # -- moderation -------------------------------------------------------------------------------

    @config.command(**_texts("remove_post", "remove-post"))
    @_options("link", "reason")
    async def remove_post_command(self, interaction: discord.Interaction, link: str, reason: str) -> None:
        await self._reply(interaction, remove_post_by_link, link, reason)

    async def remove_post_menu(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Message menu "Remove post": asks the reason, then removes (see on_interaction)."""
        caller = await self.bot.caller(interaction)
        if not caller.is_moderator:
            raise Forbidden()
        t = self.bot.services.t
        await interaction.response.send_modal(
            _modal(
                t(caller.locale, "config.discord.reason_modal.title"),
                f"config:removepost:{message.channel.id}:{message.id}",
                t(caller.locale, "config.discord.reason_modal.label"),
                max_length=500,
            )
        )

    async def on_import(self, request: DiscordRequest) -> None:
        await self._reply(request.interaction, import_settings, request.fields().get("value", ""))

    async def on_remove_post(self, request: DiscordRequest) -> None:
        reason = request.fields().get("value", "")
        channel, message = request.match["channel"], request.match["message"]
        await self._reply(request.interaction, remove_post, channel, message, reason)


async def setup(bot: CollectifBot) -> None:
    cog = Config(bot)
    await bot.add_cog(cog)
    bot.router.modal(_ids.IMPORT, cog.on_import)
    bot.router.modal(_ids.REMOVE_POST, cog.on_remove_post)
