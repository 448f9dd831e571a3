"""/intro, /profile and /availability on Discord.

The intro form is a short flow, since a modal holds only 5 text inputs: an ephemeral message whose
page 1 has select menus for trades, sectors, work mode and availability, page 2 for languages and
opt-ins, then "Continue" opens a modal with skills, city, rate, portfolio links and bio. Every
choice is one interaction, kept in the runtime's draft store (bot.drafts). Buttons, selects and the
modal are routed by their ids (cogs.intros._ids) through `bot.router`, so all of it survives a
restart (only the unsent draft is lost).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import locale_str
from discord.ext import commands

from bot.cards import truncate
from bot.community_time import community_today
from bot.discord_bot.forms import form_select, modal_values
from bot.discord_bot.replies import send_card, send_text
from bot.discord_bot.translator import command_texts, keyed
from bot.errors import InvalidInput, UserError
from bot.rendering.discord import CardButton, discord_text, routed_modal, routed_view
from bot.usecase import run
from cogs.intros import FEATURE, _ids
from cogs.intros._cards import availability_text, outcome_text, problems_text, profile_card
from cogs.intros._form import (
    FormStart,
    availability_value,
    opt_in_values,
    set_availability_value,
    set_opt_ins,
)
from cogs.intros._publish import (
    check_intro,
    edit_profile,
    open_form,
    profile_of,
    submit_intro,
    update_availability,
)
from cogs.intros._validation import MAX_BIO, MAX_CITY, MAX_TRADES, IntroForm

if TYPE_CHECKING:
    from bot.context import Caller
    from bot.discord_bot.client import CollectifBot
    from bot.discord_bot.router import DiscordRequest

SPECS = {c.name: c for c in FEATURE.commands}
DRAFT = "intro"  # this form's name in the runtime's draft store
TEXT_INPUTS = ("skills", "city", "rate", "links", "bio")
MESSAGE_MAX = 2000






def form_view(start: FormStart, t: Any, locale: str, page: int, *, fix: bool = False) -> discord.ui.View:
    """Page 1 (trades, sectors, work mode, availability) or page 2 (languages, opt-ins) of the form."""
    choices, form = start.choices, start.form
    view = routed_view()
    if page == 1:
        view.add_item(
            form_select(
                "intros:pick:trades",
                t(locale, "intros.form.trades_placeholder"),
                choices.trades,
                form.trade_ids,
                min_values=1,
                max_values=MAX_TRADES,
            )
        )
        if choices.sectors:
            view.add_item(
                form_select(
                    "intros:pick:sectors",
                    t(locale, "intros.form.sectors_placeholder"),
                    choices.sectors,
                    form.sector_ids,
                    max_values=len(choices.sectors),
                )
            )
        view.add_item(
            form_select(
                "intros:pick:work_mode",
                t(locale, "intros.form.work_mode_placeholder"),
                choices.work_modes,
                [form.work_mode],
                min_values=1,
            )
        )
        view.add_item(
            form_select(
                "intros:pick:availability",
                t(locale, "intros.form.availability_placeholder"),
                choices.availability,
                [availability_value(form)],
                min_values=1,
            )
        )
        buttons = [
            ("intros:form:open", "fix" if fix else "continue", discord.ButtonStyle.primary),
            ("intros:step:2", "next", discord.ButtonStyle.secondary),
        ]
    else:
        view.add_item(
            form_select(
                "intros:pick:languages",
                t(locale, "intros.form.languages_placeholder"),
                choices.languages,
                form.languages,
                max_values=len(choices.languages),
            )
        )
        view.add_item(
            form_select(
                "intros:pick:opt_ins",
                t(locale, "intros.form.opt_ins_placeholder"),
                choices.opt_ins,
                opt_in_values(form),
                max_values=len(choices.opt_ins),
            )
        )
        buttons = [
            ("intros:step:1", "back", discord.ButtonStyle.secondary),
            ("intros:form:open", "continue", discord.ButtonStyle.primary),
        ]
    for custom_id, label, style in buttons:
        view.add_item(
            CardButton(custom_id=custom_id, label=t(locale, f"intros.buttons.{label}"), style=style)
        )
    return view


def intro_modal(form: IntroForm, t: Any, locale: str) -> discord.ui.Modal:
    """The 5 text inputs, pre-filled."""
    modal = routed_modal(t(locale, "intros.form.title"), _ids.SUBMIT)
    specs = {
        "skills": (discord.TextStyle.paragraph, 800),
        "city": (discord.TextStyle.short, MAX_CITY),
        "rate": (discord.TextStyle.short, 40),
        "links": (discord.TextStyle.paragraph, 1600),
        "bio": (discord.TextStyle.paragraph, MAX_BIO),
    }
    for name in TEXT_INPUTS:
        style, max_length = specs[name]
        value = getattr(form, name)
        modal.add_item(
            discord.ui.TextInput(
                custom_id=name,
                label=truncate(t(locale, f"intros.form.{name}_label"), 45),
                style=style,
                required=False,
                max_length=max_length,
                default=value[:max_length] or None,
                placeholder=truncate(t(locale, f"intros.form.{name}_placeholder"), 100),
            )
        )
    return modal


class Intros(commands.Cog):
    def __init__(self, bot: CollectifBot) -> None:
        self.bot = bot
        self.drafts = bot.drafts

    def t(self, locale: str, key: str, /, **params: Any) -> str:
        return self.bot.services.t(locale, key, **params)

    def _draft(self, caller: Caller) -> IntroForm | None:
        return self.drafts.get(DRAFT, caller.community_id, caller.member_id, IntroForm)

    def _keep(self, caller: Caller, form: IntroForm) -> None:
        self.drafts.put(DRAFT, caller.community_id, caller.member_id, form)

    async def _start(self, caller: Caller) -> FormStart:
        return await run(self.bot.services, caller, open_form, self._draft(caller), write=False)

    # -- the form --------------------------------------------------------------------------------

    @app_commands.command(**command_texts(SPECS["intro"]))
    async def intro(self, interaction: discord.Interaction) -> None:
        await self.show_form(interaction, 1)

    async def show_form(
        self,
        interaction: discord.Interaction,
        page: int,
        *,
        notice: str = "",
        update: bool = False,
        fix: bool = False,
    ) -> None:
        """Show a page of the form (a new ephemeral message, or in place of the clicked one)."""
        caller = await self.bot.caller(interaction)
        start = await self._start(caller)
        if not start.choices.trades:
            raise UserError("intros.form.no_trades")
        self._keep(caller, start.form)
        content = truncate(
            discord_text("\n\n".join(
                p for p in (notice, self.t(caller.locale, f"intros.form.step{page}")) if p)),
            MESSAGE_MAX,
        )
        view = form_view(start, self.t, caller.locale, page, fix=fix)
        mentions = discord.AllowedMentions.none()
        if update:
            await interaction.response.edit_message(content=content, view=view, allowed_mentions=mentions)
        elif interaction.response.is_done():
            await interaction.followup.send(content, view=view, ephemeral=True, allowed_mentions=mentions)
        else:
            await interaction.response.send_message(
                content, view=view, ephemeral=True, allowed_mentions=mentions
            )

    async def _expired(self, interaction: discord.Interaction, caller: Caller) -> bool:
        """A step of the form whose draft expired (15 minutes): page 1 again, saying so.

        Rebuilt silently from the saved profile, the member's earlier picks were lost without a word.
        """
        if self._draft(caller) is not None:
            return False
        await self.show_form(interaction, 1, notice=self.t(caller.locale, "intros.form.expired"), update=True)
        return True

    async def picked(self, interaction: discord.Interaction, field: str, values: list[str]) -> None:
        caller = await self.bot.caller(interaction)
        if await self._expired(interaction, caller):
            return
        form = (await self._start(caller)).form
        if field == "trades":
            form.trade_ids = values
        elif field == "sectors":
            form.sector_ids = values
        elif field == "languages":
            form.languages = values
        elif field == "opt_ins":
            set_opt_ins(form, values)
        elif field == "work_mode" and values:
            form.work_mode = values[0]
        elif field == "availability" and values:
            set_availability_value(form, values[0])
        self._keep(caller, form)
        await interaction.response.defer()

    async def open_modal(self, interaction: discord.Interaction) -> None:
        caller = await self.bot.caller(interaction)
        if await self._expired(interaction, caller):
            return
        start = await self._start(caller)
        self._keep(caller, start.form)  # lives from now on
        await interaction.response.send_modal(intro_modal(start.form, self.t, caller.locale))

    # -- routed by id (cogs.intros._ids) ------------------------------------------------------------

    async def on_pick(self, request: DiscordRequest) -> None:
        await self.picked(request.interaction, request.match["field"], request.values)

    async def on_step(self, request: DiscordRequest) -> None:
        if await self._expired(request.interaction, await request.caller()):
            return
        await self.show_form(request.interaction, int(request.match["page"]), update=True)

    async def on_open_form(self, request: DiscordRequest) -> None:
        await self.open_modal(request.interaction)

    async def on_edit(self, request: DiscordRequest) -> None:
        """The "Edit my profile" button of one's own /profile card: only the owner, only in this community."""
        caller = await request.caller()
        await run(self.bot.services, caller, edit_profile, int(request.match["id"]), write=False)
        await self.show_form(request.interaction, 1)

    async def on_availability(self, request: DiscordRequest) -> None:
        await self.set_availability(request.interaction, request.match["status"], None,
                                    profile_id=int(request.match["id"]))

    async def on_submit(self, request: DiscordRequest) -> None:
        await self.submitted(request.interaction)

    async def submitted(self, interaction: discord.Interaction) -> None:
        """Save (nothing when invalid: the problems and the form again), then post or edit the cards."""
        services = self.bot.services
        caller = await self.bot.caller(interaction)
        draft = self._draft(caller)
        form = draft or (await self._start(caller)).form
        try:
            typed = modal_values(dict(interaction.data or {}))
        except InvalidInput as error:  # the draft keeps what was valid; the form says what to fix
            if draft is not None:
                notice = problems_text(services.catalog, caller.locale, error.problems)
                await self.show_form(interaction, 1, notice=notice, fix=True)
                return
            raise
        for name, value in typed.items():
            if name in TEXT_INPUTS:
                setattr(form, name, value)
        self._keep(caller, form)
        if draft is None:
            # The draft expired (or the process restarted) while the modal was open: the choices
            # made in the selects are gone, so saving now would silently keep the old ones.
            notice = self.t(caller.locale, "intros.form.expired")
            await self.show_form(interaction, 1, notice=notice, fix=True)
            return
        try:  # a read-only check first: the form is shown again at once, without any write lock
            await run(services, caller, check_intro, form, write=False)
        except InvalidInput as error:
            notice = problems_text(services.catalog, caller.locale, error.problems)
            await self.show_form(interaction, 1, notice=notice, fix=True)
            return
        # Saving may wait on the database: Discord gets its answer first (10062 after 3 s).
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            submitted = await run(services, caller, submit_intro, form,
                                  origin_channel_id=str(interaction.channel_id or "") or None)
        except InvalidInput as error:  # changed since the check (a trade removed): the draft is kept
            notice = problems_text(services.catalog, caller.locale, error.problems)
            await self.show_form(interaction, 1, notice=notice, fix=True)
            return
        self.drafts.drop(DRAFT, caller.community_id, caller.member_id)  # saved: only now
        published = submitted.published
        await send_text(
            interaction,
            outcome_text(
                services.catalog,
                caller.locale,
                published.result if published else None,
                created=submitted.created,
                next_post=published.next_post if published else None,
            ),
        )

    # -- profile and availability ----------------------------------------------------------------

    @app_commands.command(**command_texts(SPECS["profile"]))
    @app_commands.rename(member=locale_str("member", key="intros.options.member"))
    @app_commands.describe(member=keyed("intros.options.member_description"))
    async def profile(self, interaction: discord.Interaction, member: discord.User | None = None) -> None:
        services = self.bot.services
        caller = await self.bot.caller(interaction)
        who = None if member is None else str(member.id)
        view = await run(services, caller, profile_of, who, write=False)
        today = community_today(services.clock.now(), caller.timezone)
        own = view.member_id == caller.member_id
        card = profile_card(services.catalog, caller.locale, view, today, own=own, timezone=caller.timezone)
        await send_card(interaction, card, ephemeral=True)

    @app_commands.command(**command_texts(SPECS["availability"]))
    @app_commands.rename(
        status=locale_str("status", key="intros.options.status"),
        date=locale_str("date", key="intros.options.date"),
    )
    @app_commands.describe(
        status=keyed("intros.options.status_description"), date=keyed("intros.options.date_description")
    )
    @app_commands.choices(
        status=[
            app_commands.Choice(name=keyed("intros.options.status_available"), value="available"),
            app_commands.Choice(name=keyed("intros.options.status_from_date"), value="from_date"),
            app_commands.Choice(name=keyed("intros.options.status_busy"), value="busy"),
        ]
    )
    async def availability(
        self, interaction: discord.Interaction, status: str, date: str | None = None
    ) -> None:
        await self.set_availability(interaction, status, date)

    async def set_availability(
        self,
        interaction: discord.Interaction,
        status: str,
        date: str | None,
        *,
        profile_id: int | None = None,
    ) -> None:
        services = self.bot.services
        caller = await self.bot.caller(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        view = await run(services, caller, update_availability, status, date, profile_id=profile_id)
        today = community_today(services.clock.now(), caller.timezone)
        shown = availability_text(services.catalog, caller.locale, view, today)
        await send_text(interaction, self.t(caller.locale, "intros.availability.updated", status=shown))


async def setup(bot: CollectifBot) -> None:
    cog = Intros(bot)
    await bot.add_cog(cog)
    bot.router.select(_ids.PICK, cog.on_pick)
    bot.router.action(_ids.STEP, cog.on_step)
    bot.router.action(_ids.OPEN_FORM, cog.on_open_form)
    bot.router.action(_ids.EDIT, cog.on_edit)
    bot.router.action(_ids.AVAILABILITY, cog.on_availability)
    bot.router.modal(_ids.SUBMIT, cog.on_submit)
