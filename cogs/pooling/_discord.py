"""/pool on Discord, and the card's Join / Leave / Close now / Cancel buttons, routed by id.

Every refusal is found by a read-only check and answered at once; only then is the interaction
deferred and the change written: Discord never waits on the database.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import locale_str
from discord.ext import commands
from sqlalchemy import select

from bot.cards import truncate
from bot.discord_bot.replies import send_card, send_text
from bot.discord_bot.translator import command_texts, keyed
from bot.features import CommandSpec
from bot.rendering.discord import render_card
from bot.text import refuse_control_characters
from bot.usecase import run
from cogs.pooling import FEATURE, _ids
from cogs.pooling._form import MAX_TIERS_TEXT, MAX_TITLE, MAX_WHAT, PoolForm
from cogs.pooling._payments import check_remind, mark_paid, remind_unpaid, show_payments
from cogs.pooling._pools import (
    cancel_pool,
    cancelled_key,
    check_answer,
    check_close,
    check_manage,
    check_pool,
    close_pool,
    create_pool,
    join_pool,
    leave_pool,
    where_options,
)
from cogs.pooling._rota import (
    add_task,
    cant,
    check_remove,
    check_task,
    check_volunteer,
    history,
    list_tasks,
    mark_done,
    remove_task,
    stop,
    task_names,
    volunteer,
)
from cogs.pooling._rota import (
    check_answer as check_turn,
)
from cogs.pooling._rota_form import MAX_DESCRIPTION, MAX_NAME, MAX_TRADES_TEXT, TaskForm
from cogs.pooling._rota_time import CADENCES, WEEKDAYS
from cogs.pooling.models import Pool, RotaTurn

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.discord_bot.client import CollectifBot
    from bot.discord_bot.router import DiscordRequest

SPECS = {c.name: c for c in FEATURE.commands}
OPTIONS = ("title", "what", "link", "tiers", "minimum", "deadline", "maximum", "where")
TASK_OPTIONS = ("name", "cadence", "weekday", "description", "trades")


def _sub(name: str) -> dict[str, Any]:
    return command_texts(CommandSpec(name, "pooling"))
CHOICES_MAX = 25


def where_label(t: Any, locale: str, trade_name: str | None) -> str:
    if trade_name:
        return str(t(locale, "pooling.where.trade", name=trade_name))
    return str(t(locale, "pooling.where.pool"))


class Pooling(commands.Cog):
    tasks = app_commands.Group(**command_texts(SPECS["tasks"]), guild_only=True)

    def __init__(self, bot: CollectifBot) -> None:
        self.bot = bot

    def t(self, locale: str, key: str, /, **params: Any) -> str:
        return self.bot.services.t(locale, key, **params)

    @app_commands.command(**command_texts(SPECS["pool"]))
    @app_commands.guild_only()
    @app_commands.rename(**{name: locale_str(name, key=f"pooling.options.{name}") for name in OPTIONS})
    @app_commands.describe(**{name: keyed(f"pooling.options.{name}_description") for name in OPTIONS})
    async def pool(
        self,
        interaction: discord.Interaction,
        title: app_commands.Range[str, 1, MAX_TITLE],
        what: app_commands.Range[str, 1, MAX_WHAT],
        link: app_commands.Range[str, 1, 500],
        tiers: app_commands.Range[str, 1, MAX_TIERS_TEXT],
        minimum: app_commands.Range[int, 1, 1000],
        deadline: app_commands.Range[str, 1, 40],
        maximum: app_commands.Range[int, 1, 1000] | None = None,
        where: app_commands.Range[str, 0, 100] | None = None,
    ) -> None:
        services = self.bot.services
        caller = await self.bot.caller(interaction)
        typed = {"title": title, "what": what, "link": link, "tiers": tiers, "deadline": deadline,
                 "where": where or ""}
        refuse_control_characters(typed)
        form = PoolForm(minimum=str(minimum), maximum="" if maximum is None else str(maximum), **typed)
        await run(services, caller, check_pool, form, write=False)  # refusals answered at once
        await interaction.response.defer(ephemeral=True, thinking=True)
        created = await run(services, caller, create_pool, form)
        key = ("pooling.created.posted" if created.posted else
               "pooling.created.retrying" if created.retrying else "pooling.created.not_posted")
        await send_text(interaction, self.t(caller.locale, key, channel=created.channel_id))

    @pool.autocomplete("where")
    async def where_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        caller = await self.bot.caller(interaction)
        options = await run(self.bot.services, caller, where_options, write=False)
        wanted = current.casefold()[:100]
        labelled = [(value, where_label(self.t, caller.locale, name)) for value, name, _ in options]
        return [
            app_commands.Choice(name=truncate(label, 100), value=value)
            for value, label in labelled if wanted in label.casefold()
        ][:CHOICES_MAX]

    # -- /tasks: the rota of shared admin tasks ---------------------------------------------------------

    @tasks.command(**_sub("list"))
    async def tasks_list(self, interaction: discord.Interaction) -> None:
        caller = await self.bot.caller(interaction)
        await send_card(interaction, await run(self.bot.services, caller, list_tasks, write=False))

    @tasks.command(**_sub("add"))
    @app_commands.rename(**{n: locale_str(n, key=f"pooling.tasks.options.{n}") for n in TASK_OPTIONS})
    @app_commands.describe(**{n: keyed(f"pooling.tasks.options.{n}_description") for n in TASK_OPTIONS})
    @app_commands.choices(
        cadence=[app_commands.Choice(name=keyed(f"pooling.tasks.cadences_short.{c}"), value=c)
                 for c in CADENCES],
        weekday=[app_commands.Choice(name=keyed(f"pooling.tasks.weekdays.{d}"), value=d) for d in WEEKDAYS],
    )
    async def tasks_add(
        self,
        interaction: discord.Interaction,
        name: app_commands.Range[str, 1, MAX_NAME],
        cadence: str,
        weekday: str,
        description: app_commands.Range[str, 0, MAX_DESCRIPTION] | None = None,
        trades: app_commands.Range[str, 0, MAX_TRADES_TEXT] | None = None,
    ) -> None:
        services = self.bot.services
        caller = await self.bot.caller(interaction)
        typed = {"name": name, "description": description or "", "trades": trades or ""}
        refuse_control_characters({"name": name, "trades": trades or ""})
        form = TaskForm(cadence=cadence, weekday=weekday, **typed)
        await run(services, caller, check_task, form, write=False)  # refusals answered at once
        await interaction.response.defer(ephemeral=True, thinking=True)
        await send_card(interaction, await run(services, caller, add_task, form))

    @tasks.command(**_sub("remove"))
    @app_commands.rename(name=locale_str("name", key="pooling.tasks.options.name"))
    @app_commands.describe(name=keyed("pooling.tasks.options.remove_description"))
    async def tasks_remove(self, interaction: discord.Interaction,
                           name: app_commands.Range[str, 1, MAX_NAME]) -> None:
        services = self.bot.services
        caller = await self.bot.caller(interaction)
        await run(services, caller, check_remove, name, write=False)  # refusals answered at once
        await interaction.response.defer(ephemeral=True, thinking=True)
        removed = await run(services, caller, remove_task, name)
        await send_text(interaction, self.t(caller.locale, "pooling.tasks.removed", name=removed))

    @tasks_remove.autocomplete("name")
    async def task_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        caller = await self.bot.caller(interaction)
        names = await run(self.bot.services, caller, task_names, write=False)
        wanted = current.casefold()[:100]
        return [app_commands.Choice(name=truncate(n, 100), value=truncate(n, 100))
                for n in names if wanted in n.casefold()][:CHOICES_MAX]

    @tasks.command(**_sub("history"))
    async def tasks_history(self, interaction: discord.Interaction) -> None:
        caller = await self.bot.caller(interaction)
        await send_card(interaction, await run(self.bot.services, caller, history, write=False))

    async def on_task_join(self, request: DiscordRequest) -> None:
        interaction = request.interaction
        caller = await request.caller()
        task_id = int(request.match["id"])
        changed = await request.check_then_write(check_volunteer, volunteer, task_id)
        key = "pooling.tasks.answered.volunteer" if changed else "pooling.tasks.answered.already"
        await send_text(interaction, self.t(caller.locale, key))

    async def on_task_stop(self, request: DiscordRequest) -> None:
        interaction, caller = request.interaction, await request.caller()
        await interaction.response.defer(ephemeral=True, thinking=True)
        changed = await run(self.bot.services, caller, stop, int(request.match["id"]))
        key = "pooling.tasks.answered.stopped" if changed else "pooling.tasks.answered.not_volunteer"
        await send_text(interaction, self.t(caller.locale, key))

    async def on_task_done(self, request: DiscordRequest) -> None:
        interaction = request.interaction
        caller = await request.caller()
        turn_id = int(request.match["id"])
        await request.check_then_write(check_turn, mark_done, turn_id)
        await send_text(interaction, self.t(caller.locale, "pooling.tasks.answered.done"))

    async def on_task_cant(self, request: DiscordRequest) -> None:
        interaction = request.interaction
        caller = await request.caller()
        turn_id = int(request.match["id"])
        answer = await request.check_then_write(check_turn, cant, turn_id)
        await send_text(interaction, self.t(caller.locale, f"pooling.tasks.answered.{answer.outcome}"))

    # -- routed by id (cogs.pooling._ids) ------------------------------------------------------------

    async def on_join(self, request: DiscordRequest) -> None:
        interaction = request.interaction
        pool_id = int(request.match["id"])
        joined = await request.check_then_write(check_answer, join_pool, pool_id)
        caller = await request.caller()  # resolved by check_then_write (the check in its transaction)
        key = f"pooling.answered.{joined.status}" if joined.changed else "pooling.answered.unchanged"
        await send_text(interaction, self.t(caller.locale, key, position=joined.position or 0))

    async def on_leave(self, request: DiscordRequest) -> None:
        interaction = request.interaction
        pool_id = int(request.match["id"])
        left = await request.check_then_write(check_answer, leave_pool, pool_id)
        caller = await request.caller()
        key = "pooling.answered.left" if left.changed else "pooling.answered.not_in"
        await send_text(interaction, self.t(caller.locale, key))

    async def on_close(self, request: DiscordRequest) -> None:
        interaction = request.interaction
        caller = await request.caller()
        pool_id = int(request.match["id"])
        await request.check_then_write(check_close, close_pool, pool_id)
        await send_text(interaction, self.t(caller.locale, "pooling.closed.done"))

    async def on_cancel(self, request: DiscordRequest) -> None:
        interaction = request.interaction
        caller = await request.caller()
        pool_id = int(request.match["id"])
        pool = await request.check_then_write(check_manage, cancel_pool, pool_id)
        await send_text(interaction, self.t(caller.locale, cancelled_key(pool, caller.member_id)))

    # -- payments: private to the organizer (and moderators) ------------------------------------------

    async def on_payments(self, request: DiscordRequest) -> None:
        caller = await request.caller()
        card = await run(self.bot.services, caller, show_payments, int(request.match["id"]),
                         int(request.match["page"]), write=False)
        await send_card(request.interaction, card)

    async def on_paid(self, request: DiscordRequest) -> None:
        interaction, caller = request.interaction, await request.caller()
        await interaction.response.defer()
        card = await run(self.bot.services, caller, mark_paid, int(request.match["id"]),
                         int(request.match["page"]), request.values, _ids.shown_range(request.match))
        embed, view = render_card(card)
        mentions = discord.AllowedMentions.none()
        if interaction.message is None:
            await interaction.edit_original_response(embed=embed, view=view, allowed_mentions=mentions)
            return
        await interaction.followup.edit_message(
            interaction.message.id, embed=embed, view=view, allowed_mentions=mentions
        )

    async def on_remind(self, request: DiscordRequest) -> None:
        interaction = request.interaction
        caller = await request.caller()
        pool_id = int(request.match["id"])
        count = await request.check_then_write(check_remind, remind_unpaid, pool_id)
        await send_text(interaction, self.t(caller.locale, "pooling.payments.reminder_sent", count=count))


async def pool_community(session: AsyncSession, match: re.Match[str], user_id: str) -> int | None:
    """A click in the organizer's DM (Payments, the list's select, the reminder): the pool's community."""
    return await session.scalar(select(Pool.community_id).where(Pool.id == int(match["id"])))


async def turn_community(session: AsyncSession, match: re.Match[str], user_id: str) -> int | None:
    """Done / Can't in a holder's DM: the turn's community (the use case lets only its holder answer)."""
    return await session.scalar(select(RotaTurn.community_id).where(RotaTurn.id == int(match["id"])))


async def setup(bot: CollectifBot) -> None:
    cog = Pooling(bot)
    await bot.add_cog(cog)
    bot.router.action(_ids.JOIN, cog.on_join)
    bot.router.action(_ids.LEAVE, cog.on_leave)
    bot.router.action(_ids.CLOSE, cog.on_close)
    bot.router.action(_ids.CANCEL, cog.on_cancel)
    bot.router.action(_ids.PAYMENTS, cog.on_payments, dm=pool_community)
    bot.router.select(_ids.PAID, cog.on_paid, dm=pool_community)
    bot.router.action(_ids.REMIND, cog.on_remind, dm=pool_community)
    bot.router.action(_ids.TASK_JOIN, cog.on_task_join)
    bot.router.action(_ids.TASK_STOP, cog.on_task_stop)
    bot.router.action(_ids.TASK_DONE, cog.on_task_done, dm=turn_community)
    bot.router.action(_ids.TASK_CANT, cog.on_task_cant, dm=turn_community)
