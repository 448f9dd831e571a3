"""/afterwork create|dms and /afterworks on Discord; the card's buttons and the edit form, routed by id.

Creating: the command's options are read (read-only), the member sees what was understood with a
"Post it" button; the draft waits in the runtime's draft store (bot.drafts) until then. Every click is
checked read-only, then deferred, then written: Discord never waits on the database.
"""

from __future__ import annotations

import io
import secrets
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import locale_str
from discord.ext import commands

from bot import submissions
from bot.cards import truncate
from bot.discord_bot.replies import send_card, send_text
from bot.discord_bot.translator import command_texts, keyed
from bot.errors import InvalidInput
from bot.features import CommandSpec
from bot.rendering.discord import CardButton, routed_modal, routed_view
from bot.usecase import Check, run
from cogs.afterworks import FEATURE, _ids
from cogs.afterworks._cards import duration_text, form_of, problems_text
from cogs.afterworks._form import (
    CUTOFFS,
    DEFAULT_DURATION,
    DURATIONS,
    MAX_DESCRIPTION,
    NONE,
    AfterworkForm,
)
from cogs.afterworks._polls import PollForm, check_poll, check_vote, create_poll, pick, vote
from cogs.afterworks._publish import (
    answer_afterwork,
    calendar_of,
    cancel_afterwork,
    check_answer,
    check_form,
    create_afterwork,
    edit_afterwork,
    edit_form,
    end_series,
    set_reminder_dms,
    upcoming,
)
from cogs.afterworks.models import KINDS, RULES

if TYPE_CHECKING:
    from bot.context import Caller
    from bot.discord_bot.client import CollectifBot
    from bot.discord_bot.router import DiscordRequest

SPECS = {c.name: c for c in FEATURE.commands}
DRAFT = "afterwork"
EDIT_INPUTS = ("title", "when", "where", "capacity", "description")


def edit_problems(problems: dict[str, tuple[str, dict[str, Any]]]) -> dict[str, tuple[str, dict[str, Any]]]:
    """The problems of the edit form, on its own fields: it has no cutoff field (the kept one).

    Answers still open that the new time would close at once are the time's to fix: a later one.
    """
    past = problems.get("cutoff")
    if past is None or past[0] != "afterworks.problems.cutoff_past" or "when" in problems:
        return problems
    shown = {}
    for name, problem in problems.items():  # in the same place in the list
        if name == "cutoff":
            shown["when"] = ("afterworks.problems.when_closes_answers", past[1])
        else:
            shown[name] = problem
    return shown


def _sub(name: str) -> dict[str, Any]:
    return command_texts(CommandSpec(name, "afterworks"))


def _opt(name: str) -> locale_str:
    return locale_str(name, key=f"afterworks.options.{name}")


def _kind_choices() -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=keyed(f"afterworks.kinds.{k}"), value=k) for k in KINDS]


class Afterworks(commands.Cog):
    afterwork = app_commands.Group(**command_texts(SPECS["afterwork"]), guild_only=True)

    def __init__(self, bot: CollectifBot) -> None:
        self.bot = bot

    def t(self, locale: str, key: str, /, **params: Any) -> str:
        return self.bot.services.t(locale, key, **params)

    async def _problems(self, interaction: discord.Interaction, caller: Caller, error: InvalidInput) -> None:
        await send_text(interaction, problems_text(self.bot.services.catalog, caller.locale, error.problems))

    @afterwork.command(**_sub("create"))
    @app_commands.rename(
        title=_opt("title"),
        when=_opt("when"),
        where=_opt("where"),
        city=_opt("city"),
        capacity=_opt("capacity"),
        duration=_opt("duration"),
        kind=_opt("kind"),
        description=_opt("description"),
        cutoff=_opt("cutoff"),
        recurrence=_opt("recurrence"),
        until=_opt("until"),
    )
    @app_commands.describe(
        title=keyed("afterworks.options.title_description"),
        when=keyed("afterworks.options.when_description"),
        where=keyed("afterworks.options.where_description"),
        city=keyed("afterworks.options.city_description"),
        capacity=keyed("afterworks.options.capacity_description"),
        duration=keyed("afterworks.options.duration_description"),
        kind=keyed("afterworks.options.kind_description"),
        description=keyed("afterworks.options.description_description"),
        cutoff=keyed("afterworks.options.cutoff_description"),
        recurrence=keyed("afterworks.options.recurrence_description"),
        until=keyed("afterworks.options.until_description"),
    )
    @app_commands.choices(
        kind=_kind_choices(),
        duration=[app_commands.Choice(name=duration_text(m), value=m) for m in DURATIONS],
        cutoff=[app_commands.Choice(name=keyed(f"afterworks.cutoffs.{m}"), value=m) for m in (0, *CUTOFFS)],
        recurrence=[
            app_commands.Choice(name=keyed(f"afterworks.repeats.{r}"), value=r) for r in (NONE, *RULES)
        ],
    )
    async def create(
        self,
        interaction: discord.Interaction,
        title: app_commands.Range[str, 1, 100],
        when: app_commands.Range[str, 1, 40],
        where: app_commands.Range[str, 1, 500],
        city: app_commands.Range[str, 0, 100] = "",
        capacity: app_commands.Range[int, 1, 1000] | None = None,
        duration: int = DEFAULT_DURATION,
        kind: str = "afterwork",
        description: app_commands.Range[str, 0, MAX_DESCRIPTION] = "",
        cutoff: int = 0,
        recurrence: str = NONE,
        until: app_commands.Range[str, 0, 40] = "",
    ) -> None:
        caller = await self.bot.caller(interaction)
        form = AfterworkForm(
            title=title,
            when=when,
            duration=str(duration),
            kind=kind,
            where=where,
            city=city,
            capacity="" if capacity is None else str(capacity),
            description=description,
            cutoff=str(cutoff) if cutoff else "",
            recurrence=recurrence,
            until=until,
        )
        try:
            checked = await run(self.bot.services, caller, check_form, form, write=False)
        except InvalidInput as error:
            await self._problems(interaction, caller, error)
            return
        token = secrets.token_hex(4)  # this summary's draft: one per /afterwork create
        self.bot.drafts.put(f"{DRAFT}:{token}", caller.community_id, caller.member_id, form)
        view = routed_view()
        view.add_item(
            CardButton(
                custom_id=f"afterworks:confirm:{token}",
                label=self.t(caller.locale, "afterworks.buttons.confirm"),
                style=discord.ButtonStyle.success,
            )
        )
        await interaction.response.send_message(
            truncate(checked.understood, 2000),
            view=view,
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @afterwork.command(**_sub("poll"))
    @app_commands.rename(
        title=_opt("title"), slot1=_opt("slot1"), slot2=_opt("slot2"), slot3=_opt("slot3"),
        slot4=_opt("slot4"), slot5=_opt("slot5"), where=_opt("where"), city=_opt("city"),
        capacity=_opt("capacity"), duration=_opt("duration"), kind=_opt("kind"),
        description=_opt("description"),
    )
    @app_commands.describe(
        title=keyed("afterworks.options.title_description"),
        slot1=keyed("afterworks.options.slot_description"),
        slot2=keyed("afterworks.options.slot_description"),
        slot3=keyed("afterworks.options.slot_description"),
        slot4=keyed("afterworks.options.slot_description"),
        slot5=keyed("afterworks.options.slot_description"),
        where=keyed("afterworks.options.where_description"),
        city=keyed("afterworks.options.city_description"),
        capacity=keyed("afterworks.options.capacity_description"),
        duration=keyed("afterworks.options.duration_description"),
        kind=keyed("afterworks.options.kind_description"),
        description=keyed("afterworks.options.description_description"),
    )
    @app_commands.choices(
        kind=_kind_choices(),
        duration=[app_commands.Choice(name=duration_text(m), value=m) for m in DURATIONS],
    )
    async def poll(
        self,
        interaction: discord.Interaction,
        title: app_commands.Range[str, 1, 100],
        slot1: app_commands.Range[str, 1, 40],
        slot2: app_commands.Range[str, 1, 40],
        where: app_commands.Range[str, 1, 500],
        slot3: app_commands.Range[str, 0, 40] = "",
        slot4: app_commands.Range[str, 0, 40] = "",
        slot5: app_commands.Range[str, 0, 40] = "",
        city: app_commands.Range[str, 0, 100] = "",
        capacity: app_commands.Range[int, 1, 1000] | None = None,
        duration: int = DEFAULT_DURATION,
        kind: str = "afterwork",
        description: app_commands.Range[str, 0, MAX_DESCRIPTION] = "",
    ) -> None:
        caller = await self.bot.caller(interaction)
        form = PollForm(
            title=title, slot1=slot1, slot2=slot2, slot3=slot3, slot4=slot4, slot5=slot5,
            duration=str(duration), kind=kind, where=where, city=city,
            capacity="" if capacity is None else str(capacity), description=description,
        )
        try:
            await run(self.bot.services, caller, check_poll, form, write=False)
        except InvalidInput as error:
            await self._problems(interaction, caller, error)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        created = await run(
            self.bot.services, caller, create_poll, form,
            origin_channel_id=str(interaction.channel_id or "") or None,
        )
        if created.posted and created.channel_id:
            done = self.t(caller.locale, "afterworks.poll.posted", channel=created.channel_id)
        elif created.retrying:  # the platform failed: a job posts it shortly
            done = self.t(caller.locale, "afterworks.poll.retrying")
        else:
            done = self.t(caller.locale, "afterworks.poll.not_posted")
        await send_text(interaction, truncate(f"{created.understood}\n{done}", 2000))

    async def on_vote(self, request: DiscordRequest) -> None:
        interaction = request.interaction
        caller = await request.caller()
        slot_id = int(request.match["id"])
        ticked = await request.check_then_write(check_vote, vote, slot_id)
        key = "afterworks.poll.ticked" if ticked.can else "afterworks.poll.unticked"
        await send_text(interaction, self.t(caller.locale, key, n=ticked.position))

    async def on_pick(self, request: DiscordRequest) -> None:
        interaction, services = request.interaction, self.bot.services
        caller = await request.caller()
        slot_id = int(request.match["id"])
        await run(services, caller, check_vote, slot_id, write=False)
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            picked = await run(services, caller, pick, slot_id)
        except InvalidInput as error:  # the slot's time is no longer possible
            await self._problems(interaction, caller, error)
            return
        await send_text(interaction, self.t(caller.locale, "afterworks.poll.picked", n=picked.position))

    @afterwork.command(**_sub("dms"))
    @app_commands.rename(on=_opt("on"))
    @app_commands.describe(on=keyed("afterworks.options.on_description"))
    async def dms(self, interaction: discord.Interaction, on: bool) -> None:
        caller = await self.bot.caller(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await run(self.bot.services, caller, set_reminder_dms, on)
        await send_text(interaction, self.t(caller.locale, f"afterworks.dms.{'on' if on else 'off'}"))

    @app_commands.command(**command_texts(SPECS["afterworks"]))
    @app_commands.rename(city=_opt("city"), kind=_opt("kind"))
    @app_commands.describe(
        city=keyed("afterworks.options.city_description"), kind=keyed("afterworks.options.kind_description")
    )
    @app_commands.choices(kind=_kind_choices())
    async def afterworks(
        self, interaction: discord.Interaction, city: app_commands.Range[str, 0, 100] = "", kind: str = ""
    ) -> None:
        caller = await self.bot.caller(interaction)
        card = await run(self.bot.services, caller, upcoming, city, kind, write=False)
        await send_card(interaction, card)

    # -- routed by id (cogs.afterworks._ids) ----------------------------------------------------

    async def on_confirm(self, request: DiscordRequest) -> None:
        interaction = request.interaction
        caller = await request.caller()
        draft = f"{DRAFT}:{request.match['token']}"  # the summary this button is under
        form = self.bot.drafts.get(draft, caller.community_id, caller.member_id, AfterworkForm)
        if form is None or request.match["token"] is None:
            # Its draft goes with the first click: a click again later is told the form was sent.
            sent = request.match["token"] is not None and await submissions.submitted(
                self.bot.services, caller.community_id, f"discord:{draft}")
            key = "errors.already_submitted" if sent else "afterworks.confirm.expired"
            await send_text(interaction, self.t(caller.locale, key))
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            created = await run(
                self.bot.services,
                caller,
                create_afterwork,
                form,
                origin_channel_id=str(interaction.channel_id or "") or None,
                # This summary's token: a second click meanwhile creates nothing and is told it was sent.
                submission=f"discord:{draft}",
            )
        except InvalidInput as error:  # time passed while the member read the summary
            await self._problems(interaction, caller, error)
            return
        finally:
            self.bot.drafts.drop(draft, caller.community_id, caller.member_id)
        if created.posted_in:
            text = self.t(caller.locale, "afterworks.created.posted", channel=created.posted_in)
        elif created.retrying:
            text = self.t(caller.locale, "afterworks.created.retrying")
        else:
            text = self.t(caller.locale, "afterworks.created.not_posted")
        await send_text(interaction, text)

    async def on_rsvp(self, request: DiscordRequest) -> None:
        interaction, services = request.interaction, self.bot.services
        afterwork_id, choice = int(request.match["id"]), request.match["answer"]
        caller = await request.caller(Check(check_answer, (afterwork_id,)))  # one read transaction
        await interaction.response.defer(ephemeral=True, thinking=True)
        answered = await run(services, caller, answer_afterwork, afterwork_id, choice)
        key = (
            f"afterworks.answered.{answered.status}" if answered.changed else "afterworks.answered.unchanged"
        )
        await send_text(interaction, self.t(caller.locale, key, position=answered.position or 0))

    async def on_calendar(self, request: DiscordRequest) -> None:
        caller = await request.caller()
        file = await run(self.bot.services, caller, calendar_of, int(request.match["id"]), write=False)
        await request.interaction.response.send_message(
            self.t(caller.locale, "afterworks.calendar.here"),
            ephemeral=True,
            file=discord.File(io.BytesIO(file.content), filename=file.filename),
        )

    async def on_edit(self, request: DiscordRequest) -> None:
        caller = await request.caller()
        afterwork = await run(self.bot.services, caller, edit_form, int(request.match["id"]), write=False)
        form = form_of(afterwork, caller.timezone)
        modal = routed_modal(self.t(caller.locale, "afterworks.form.edit_title"),
                             f"afterworks:edit_form:{afterwork.id}")
        limits = {"title": 100, "when": 40, "where": 500, "capacity": 4, "description": MAX_DESCRIPTION}
        for name in EDIT_INPUTS:
            value = getattr(form, name)
            modal.add_item(
                discord.ui.TextInput(
                    custom_id=name,
                    label=truncate(self.t(caller.locale, f"afterworks.fields.{name}"), 45),
                    style=discord.TextStyle.paragraph if name == "description" else discord.TextStyle.short,
                    required=name in ("title", "when", "where"),
                    max_length=limits[name],
                    default=value or None,
                )
            )
        await request.interaction.response.send_modal(modal)

    async def on_edit_submit(self, request: DiscordRequest) -> None:
        interaction, services = request.interaction, self.bot.services
        caller = await request.caller()
        afterwork_id = int(request.match["id"])
        typed = request.fields()
        afterwork = await run(services, caller, edit_form, afterwork_id, write=False)
        form = form_of(afterwork, caller.timezone)
        for name in EDIT_INPUTS:
            if name in typed:
                setattr(form, name, typed[name])
        try:
            await run(services, caller, check_form, form, afterwork_id, write=False)
        except InvalidInput as error:
            await self._problems(interaction, caller, InvalidInput(edit_problems(error.problems)))
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            await run(services, caller, edit_afterwork, afterwork_id, form)
        except InvalidInput as error:  # fewer seats than those going; answers closing meanwhile
            await self._problems(interaction, caller, InvalidInput(edit_problems(error.problems)))
            return
        await send_text(interaction, self.t(caller.locale, "afterworks.edited.done"))

    async def on_cancel(self, request: DiscordRequest) -> None:
        interaction = request.interaction
        caller = await request.caller()
        afterwork_id = int(request.match["id"])
        cancelled = await request.check_then_write(edit_form, cancel_afterwork, afterwork_id)
        key = "afterworks.cancelled.occurrence" if cancelled.series_id else "afterworks.cancelled.done"
        await send_text(interaction, self.t(caller.locale, key))

    async def on_end_series(self, request: DiscordRequest) -> None:
        interaction, services = request.interaction, self.bot.services
        caller = await request.caller()
        await interaction.response.defer(ephemeral=True, thinking=True)
        ended = await run(services, caller, end_series, int(request.match["id"]))
        key = f"afterworks.ended.{'done' if ended.changed else 'already'}"
        await send_text(interaction, self.t(caller.locale, key))


async def setup(bot: CollectifBot) -> None:
    cog = Afterworks(bot)
    await bot.add_cog(cog)
    bot.router.action(_ids.CONFIRM, cog.on_confirm)
    bot.router.action(_ids.RSVP, cog.on_rsvp)
    bot.router.action(_ids.CALENDAR, cog.on_calendar)
    bot.router.action(_ids.EDIT, cog.on_edit)
    bot.router.action(_ids.CANCEL, cog.on_cancel)
    bot.router.action(_ids.END_SERIES, cog.on_end_series)
    bot.router.action(_ids.VOTE, cog.on_vote)
    bot.router.action(_ids.PICK, cog.on_pick)
    bot.router.modal(_ids.EDIT_FORM, cog.on_edit_submit)
