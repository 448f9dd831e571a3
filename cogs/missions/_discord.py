"""/mission and /missions on Discord, and the buttons of mission cards.

The form is an ephemeral message with select menus (page 1: trades or a pack, work mode, source,
sector; page 2: referral fee, who brought it) and two modals of 5 text inputs each ("Describe the
mission", "Dates and details"); every choice and every modal is kept in the runtime's draft store
(bot.drafts), so an invalid answer is fixed without retyping the rest. Everything is routed by id
(cogs.missions._ids) through `bot.router`, so it survives a restart. A draft unused for 15 minutes is
lost, but not the text of a modal submitted late: an edit's modal names its mission, and the text goes
on that mission's form again.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import locale_str
from discord.ext import commands
from sqlalchemy import select

from bot.cards import Card, truncate
from bot.context import Caller
from bot.discord_bot.forms import form_select
from bot.discord_bot.replies import send_card, send_text
from bot.discord_bot.translator import command_texts, keyed
from bot.errors import Forbidden, InvalidInput, NotFound, UserError
from bot.i18n import supported_locale
from bot.rendering.discord import CardButton, discord_text, render_card, routed_modal, routed_view
from bot.usecase import run
from cogs.missions import FEATURE, _ids
from cogs.missions._cards import outcome_text, problems_text
from cogs.missions._form import PACK_PREFIX, FormStart, expand_packs
from cogs.missions._publish import (
    ask_close,
    candidates_of,
    check_interest,
    check_mission,
    close_mission,
    confirm_team,
    edit_mission,
    extend_mission,
    find_missions,
    list_missions,
    open_form,
    select_team,
    show_interest,
    submit_mission,
    turn_missions_page,
    withdraw,
)
from cogs.missions._search import MAX_FILTER, MAX_RATE, SCOPES, ListFilters
from cogs.missions._suggest import decline_invitation, invite_suggested, suggest_team
from cogs.missions._validation import (
    MAX_BUDGET_TEXT,
    MAX_CITY,
    MAX_CLIENT,
    MAX_DESCRIPTION,
    MAX_DURATION,
    MAX_LINK,
    MAX_NOTE,
    MAX_SKILLS_TEXT,
    MAX_TITLE,
    MissionForm,
)
from cogs.missions.models import STATUSES, WORK_MODES, Mission
from storage.models import Community, Member

if TYPE_CHECKING:
    from bot.discord_bot.client import CollectifBot
    from bot.discord_bot.router import DiscordRequest

SPECS = {c.name: c for c in FEATURE.commands}
DRAFT = "mission"
EDITING = "mission.editing"
MESSAGE_MAX = 2000
TEXTS = (
    ("title", MAX_TITLE, False),
    ("description", MAX_DESCRIPTION, True),
    ("skills", MAX_SKILLS_TEXT, True),
    ("budget", MAX_BUDGET_TEXT, False),
    ("link", MAX_LINK, False),
)
DETAILS = (
    ("start_date", 40, False),
    ("duration", MAX_DURATION, False),
    ("city", MAX_CITY, False),
    ("answer_by", 40, False),
    ("client_name", MAX_CLIENT, False),
)
LIST_OPTIONS = ("scope", "trade", "skill", "sector", "city", "mode", "rate", "start", "status")


@dataclasses.dataclass
class Editing:
    """Which mission the draft edits (kept beside the form's draft)."""

    mission_id: int = 0


def _submit_id(modal: str, start: FormStart) -> str:
    """A form modal's id; an edit's names its mission, so that a late submission still edits it."""
    return f"missions:form:submit_{modal}" + (f":{start.mission_id}" if start.mission_id else "")


class MemberSelect(discord.ui.UserSelect):
    def is_dispatchable(self) -> bool:
        return False


def form_view(start: FormStart, t: Any, locale: str, page: int) -> discord.ui.View:
    choices, form = start.choices, start.form
    view = routed_view()
    if page == 1:
        trade_options = [  # trades first: past a select's 25 choices, a pack is what is left out
            *choices.trades,
            *((PACK_PREFIX + pid, f"📦 {name}") for pid, name, _ in choices.packs),
        ]
        view.add_item(
            form_select(
                "missions:pick:trades",
                t(locale, "missions.form.trades_placeholder"),
                trade_options,
                form.trade_ids,
                min_values=1,
                max_values=5,
            )
        )
        view.add_item(
            form_select(
                "missions:pick:work_mode",
                t(locale, "missions.form.work_mode_placeholder"),
                list(choices.work_modes),
                [form.work_mode],
                min_values=1,
            )
        )
        view.add_item(
            form_select(
                "missions:pick:source",
                t(locale, "missions.form.source_placeholder"),
                list(choices.sources),
                [form.source],
                min_values=1,
            )
        )
        if choices.sectors:
            view.add_item(
                form_select(
                    "missions:pick:sector",
                    t(locale, "missions.form.sector_placeholder"),
                    list(choices.sectors),
                    [form.sector_id],
                )
            )
        buttons = [
            ("missions:form:texts", "texts", discord.ButtonStyle.primary),
            ("missions:form:details", "details", discord.ButtonStyle.primary),
            ("missions:step:2", "continue", discord.ButtonStyle.secondary),
            ("missions:form:publish", "publish", discord.ButtonStyle.success),
        ]
    else:
        view.add_item(
            form_select(
                "missions:pick:fee",
                t(locale, "missions.form.fee_placeholder"),
                list(choices.fees),
                [form.fee or "0"],
            )
        )
        view.add_item(
            MemberSelect(
                custom_id="missions:pick:behalf",
                placeholder=truncate(t(locale, "missions.form.behalf_placeholder"), 150),
                min_values=0,
                max_values=1,
            )
        )
        buttons = [
            ("missions:step:1", "back", discord.ButtonStyle.secondary),
            ("missions:form:publish", "publish", discord.ButtonStyle.success),
        ]
    for custom_id, label, style in buttons:
        view.add_item(
            CardButton(custom_id=custom_id, label=t(locale, f"missions.buttons.{label}"), style=style)
        )
    return view


def _modal(
    title: str,
    custom_id: str,
    specs: tuple[tuple[str, int, bool], ...],
    form: MissionForm,
    t: Any,
    locale: str,
) -> discord.ui.Modal:
    modal = routed_modal(title, custom_id)
    for name, max_length, long in specs:
        value = getattr(form, name)
        modal.add_item(
            discord.ui.TextInput(
                custom_id=name,
                label=truncate(t(locale, f"missions.form.{name}_label"), 45),
                style=discord.TextStyle.paragraph if long else discord.TextStyle.short,
                required=name == "title",
                max_length=max_length,
                default=value[:max_length] or None,
                placeholder=truncate(t(locale, f"missions.form.{name}_placeholder", max=90), 100)
                if name in ("skills", "budget", "link", "start_date", "duration", "answer_by", "client_name")
                else None,
            )
        )
    return modal


class Missions(commands.Cog):
    def __init__(self, bot: CollectifBot) -> None:
        self.bot = bot
        self.drafts = bot.drafts

    def t(self, locale: str, key: str, /, **params: Any) -> str:
        return self.bot.services.t(locale, key, **params)

    def _draft(self, caller: Caller) -> MissionForm | None:
        return self.drafts.get(DRAFT, caller.community_id, caller.member_id, MissionForm)

    def _editing(self, caller: Caller) -> int | None:
        found = self.drafts.get(EDITING, caller.community_id, caller.member_id, Editing)
        return found.mission_id if found and found.mission_id else None

    def _keep(self, caller: Caller, form: MissionForm, editing: int | None = None) -> None:
        self.drafts.put(DRAFT, caller.community_id, caller.member_id, form)
        self.drafts.put(EDITING, caller.community_id, caller.member_id, Editing(editing or 0))

    async def _start(self, caller: Caller) -> FormStart:
        return await run(
            self.bot.services, caller, open_form, self._editing(caller), self._draft(caller), write=False
        )

    # -- the form --------------------------------------------------------------------------------

    @app_commands.command(**command_texts(SPECS["mission"]))
    @app_commands.guild_only()
    async def mission(self, interaction: discord.Interaction) -> None:
        caller = await self.bot.caller(interaction)
        self.drafts.drop(DRAFT, caller.community_id, caller.member_id)
        self.drafts.drop(EDITING, caller.community_id, caller.member_id)
        await self.show_form(interaction, 1)

    async def show_form(
        self,
        interaction: discord.Interaction,
        page: int,
        *,
        notice: str = "",
        update: bool = False,
        start: FormStart | None = None,
    ) -> None:
        caller = await self.bot.caller(interaction)
        start = start or await self._start(caller)
        if not start.choices.trades:
            raise UserError("missions.form.no_trades")
        self._keep(caller, start.form, start.mission_id)
        warning = self.t(caller.locale, "missions.form.platform_warning") if start.platform_warning else ""
        content = truncate(
            discord_text("\n\n".join(
                p for p in (notice, self.t(caller.locale, "missions.form.step"), warning) if p)),
            MESSAGE_MAX,
        )
        view = form_view(start, self.t, caller.locale, page)
        mentions = discord.AllowedMentions.none()
        if update:
            await interaction.response.edit_message(content=content, view=view, allowed_mentions=mentions)
        elif interaction.response.is_done():
            await interaction.followup.send(content, view=view, ephemeral=True, allowed_mentions=mentions)
        else:
            await interaction.response.send_message(
                content, view=view, ephemeral=True, allowed_mentions=mentions
            )

    async def _gone(self, request: DiscordRequest, caller: Caller) -> bool:
        """A step of a form whose draft expired (15 minutes): say so and build no new draft.

        Rebuilt from nothing, an edit's form would silently become a new mission.
        """
        if self._draft(caller) is not None:
            return False
        await send_text(request.interaction, self.t(caller.locale, "missions.form.gone"))
        return True

    async def on_pick(self, request: DiscordRequest) -> None:
        caller = await request.caller()
        if await self._gone(request, caller):
            return
        start = await self._start(caller)
        form, values, field = start.form, request.values, request.match["field"]
        if field == "trades":
            form.trade_ids = expand_packs(values, start.choices)
        elif field == "sector":
            form.sector_id = values[0] if values else ""
        elif field == "fee":
            form.fee = values[0] if values else ""
        elif field == "behalf":
            form.behalf = values[0] if values else ""
            form.behalf_name = request.chosen_name(form.behalf) if values else ""
        elif values:
            setattr(form, field, values[0])
        self._keep(caller, form, start.mission_id)
        if field in ("trades", "source"):  # a pack shows its trades; a platform shows the terms warning
            await self.show_form(
                request.interaction,
                1,
                update=True,
                start=dataclasses.replace(
                    start, form=form, platform_warning=form.source.startswith("platform:")
                ),
            )
            return
        await request.interaction.response.defer()

    async def on_step(self, request: DiscordRequest) -> None:
        if await self._gone(request, await request.caller()):
            return
        await self.show_form(request.interaction, int(request.match["page"]), update=True)

    async def on_open_texts(self, request: DiscordRequest) -> None:
        caller = await request.caller()
        if await self._gone(request, caller):
            return
        start = await self._start(caller)
        self._keep(caller, start.form, start.mission_id)
        title = self.t(
            caller.locale, "missions.form.edit_title" if start.mission_id else "missions.form.title"
        )
        await request.interaction.response.send_modal(
            _modal(title, _submit_id("texts", start), TEXTS, start.form, self.t, caller.locale)
        )

    async def on_open_details(self, request: DiscordRequest) -> None:
        caller = await request.caller()
        if await self._gone(request, caller):
            return
        start = await self._start(caller)
        self._keep(caller, start.form, start.mission_id)
        await request.interaction.response.send_modal(
            _modal(
                self.t(caller.locale, "missions.form.details_title"),
                _submit_id("details", start),
                DETAILS,
                start.form,
                self.t,
                caller.locale,
            )
        )

    async def on_submit_texts(self, request: DiscordRequest) -> None:
        await self._typed(request, "missions.form.texts_saved")

    async def on_submit_details(self, request: DiscordRequest) -> None:
        await self._typed(request, "missions.form.details_saved")

    async def _typed(self, request: DiscordRequest, saved: str) -> None:
        """A modal submitted: its text goes on the draft (the form shown again, with what to do next).

        Submitted after the draft expired (15 minutes writing), the text is kept all the same: on the
        mission the modal names (`_submit_id`), with the rest as the mission has it, or on a new
        mission's form whose choices are asked again. Never dropped, never an edit turned new mission.
        """
        caller = await request.caller()
        try:
            typed = request.fields()
        except InvalidInput as error:
            await self.show_form(
                request.interaction,
                1,
                notice=problems_text(self.bot.services.catalog, caller.locale, error.problems),
            )
            return
        start, notice = await self._start(caller), saved
        if self._draft(caller) is None:
            start, notice = await self._restart(caller, request.match["id"])
        names = {name for name, _, _ in (*TEXTS, *DETAILS)}
        for name, value in typed.items():
            if name in names:
                setattr(start.form, name, value)
        await self.show_form(request.interaction, 1, notice=self.t(caller.locale, notice), start=start)

    async def _restart(self, caller: Caller, mission_id: str | None) -> tuple[FormStart, str]:
        """The form a late modal's text goes on: the edited mission's as stored, else a new one's."""
        if mission_id:
            start = await run(self.bot.services, caller, edit_mission, int(mission_id), write=False)
            return start, "missions.form.restored"
        return await run(self.bot.services, caller, open_form, write=False), "missions.form.expired"

    async def on_publish(self, request: DiscordRequest) -> None:
        """Check read-only (problems: the form again, the draft kept), then defer, then save and post."""
        services, interaction = self.bot.services, request.interaction
        caller = await request.caller()
        if await self._gone(request, caller):
            return
        draft, editing = self._draft(caller), self._editing(caller)
        assert draft is not None
        try:
            checked = await run(services, caller, check_mission, draft, editing, write=False)
        except InvalidInput as error:
            await self.show_form(
                interaction, 1, notice=problems_text(services.catalog, caller.locale, error.problems)
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        origin = str(interaction.channel_id or "") or None
        done = await run(
            services,
            caller,
            submit_mission,
            draft,
            origin_channel_id=origin,
            mission_id=editing,
            checked=checked,
        )
        self.drafts.drop(DRAFT, caller.community_id, caller.member_id)
        self.drafts.drop(EDITING, caller.community_id, caller.member_id)
        names = {str(c.id): c.name for c in (interaction.guild.channels if interaction.guild else ())}
        await send_text(
            interaction,
            outcome_text(
                services.catalog,
                caller.locale,
                done.published,
                created=done.created,
                channel_names=names,
                similar=done.similar,
            ),
        )

    # -- card buttons -----------------------------------------------------------------------------

    def _id(self, request: DiscordRequest) -> int:
        return int(request.match["id"])

    async def on_interest(self, request: DiscordRequest) -> None:
        caller = await self._caller(request, author=False)
        mission_id = self._id(request)
        await run(self.bot.services, caller, check_interest, mission_id, write=False)
        modal = routed_modal(self.t(caller.locale, "missions.form.note_title"), f"missions:note:{mission_id}")
        modal.add_item(
            discord.ui.TextInput(
                custom_id="note",
                label=truncate(self.t(caller.locale, "missions.form.note_label"), 45),
                style=discord.TextStyle.paragraph,
                required=False,
                max_length=MAX_NOTE,
                placeholder=truncate(self.t(caller.locale, "missions.form.note_placeholder"), 100),
            )
        )
        await request.interaction.response.send_modal(modal)

    async def on_note(self, request: DiscordRequest) -> None:
        caller = await self._caller(request, author=False)
        note = request.fields().get("note", "")
        await request.interaction.response.defer(ephemeral=True, thinking=True)
        created = await run(self.bot.services, caller, show_interest, self._id(request), note)
        await send_text(
            request.interaction,
            self.t(caller.locale, "missions.interest.saved" if created else "missions.interest.already"),
        )

    async def on_withdraw(self, request: DiscordRequest) -> None:
        caller = await request.caller()
        await request.interaction.response.defer(ephemeral=True, thinking=True)
        removed = await run(self.bot.services, caller, withdraw, self._id(request))
        await send_text(
            request.interaction,
            self.t(
                caller.locale, "missions.interest.withdrawn" if removed else "missions.interest.not_candidate"
            ),
        )

    async def on_candidates(self, request: DiscordRequest) -> None:
        caller = await self._caller(request)
        # "Thinking…" first: the list asks the platform who left (up to DEPARTED_WAIT).
        await request.interaction.response.defer(ephemeral=True, thinking=True)
        page = _ids.page_number(request.match)
        card = await run(self.bot.services, caller, candidates_of, self._id(request), page, write=False)
        await send_card(request.interaction, card)

    async def on_select(self, request: DiscordRequest) -> None:
        caller = await self._caller(request)  # also in the DM that showed the candidates
        interaction = request.interaction
        await interaction.response.defer()
        mission_id = self._id(request)
        page = await run(self.bot.services, caller, select_team, mission_id, request.values,
                         _ids.page_number(request.match), _ids.shown_range(request.match))
        card = await run(self.bot.services, caller, candidates_of, mission_id, page, write=False)
        embed, view = render_card(card)
        mentions = discord.AllowedMentions.none()
        if interaction.message is None:
            await interaction.edit_original_response(embed=embed, view=view, allowed_mentions=mentions)
            return
        # The candidates message this select is on (an ephemeral one: edited through the webhook).
        await interaction.followup.edit_message(
            interaction.message.id, embed=embed, view=view, allowed_mentions=mentions
        )

    async def on_confirm(self, request: DiscordRequest) -> None:
        caller = await self._caller(request)
        await request.interaction.response.defer(ephemeral=True, thinking=True)
        text = await run(self.bot.services, caller, confirm_team, self._id(request))
        await send_text(request.interaction, text)

    async def on_edit(self, request: DiscordRequest) -> None:
        caller = await request.caller()
        start = await run(self.bot.services, caller, edit_mission, self._id(request), write=False)
        await self.show_form(request.interaction, 1, start=start)

    async def on_close(self, request: DiscordRequest) -> None:
        caller = await self._caller(request)
        card = await run(self.bot.services, caller, ask_close, self._id(request), write=False)
        await send_card(request.interaction, card)

    async def on_close_as(self, request: DiscordRequest) -> None:
        caller = await self._caller(request)
        await request.interaction.response.defer(ephemeral=True, thinking=True)
        text = await run(
            self.bot.services, caller, close_mission, self._id(request), request.match["outcome"]
        )
        await send_text(request.interaction, text)

    async def on_extend(self, request: DiscordRequest) -> None:
        caller = await self._caller(request)
        await request.interaction.response.defer(ephemeral=True, thinking=True)
        text = await run(self.bot.services, caller, extend_mission, self._id(request))
        await send_text(request.interaction, text)

    async def on_suggest(self, request: DiscordRequest) -> None:
        caller = await self._caller(request)
        await request.interaction.response.defer(ephemeral=True, thinking=True)
        card = await run(self.bot.services, caller, suggest_team, self._id(request), write=False)
        await send_card(request.interaction, card)

    async def on_invite(self, request: DiscordRequest) -> None:
        caller = await self._caller(request)
        await request.interaction.response.defer(ephemeral=True, thinking=True)
        text = await run(self.bot.services, caller, invite_suggested, self._id(request))
        await send_text(request.interaction, text)

    async def on_decline(self, request: DiscordRequest) -> None:
        caller = await self._caller(request, author=False)
        await request.interaction.response.defer(ephemeral=True, thinking=True)
        text = await run(self.bot.services, caller, decline_invitation, self._id(request))
        await send_text(request.interaction, text)

    async def _caller(self, request: DiscordRequest, *, author: bool = True) -> Caller:
        """The caller; in a DM, the member found through the mission's community.

        The expiry warning's buttons: its author only (`author`); an invitation's I'm interested: any member.
        """
        interaction = request.interaction
        if interaction.guild_id is not None:
            return await request.caller()
        async with self.bot.services.db.transaction(write=False) as session:
            row = (
                await session.execute(
                    select(Community, Member)
                    .join(Mission, Mission.community_id == Community.id)
                    .join(
                        Member,
                        Member.id == Mission.author_member_id
                        if author
                        else Member.community_id == Mission.community_id,
                    )
                    .where(
                        Mission.id == self._id(request),
                        Community.platform == "discord",
                        Community.active.is_(True),  # a server that removed the bot: its buttons are dead
                        Member.platform_user_id == str(interaction.user.id),
                    )
                )
            ).first()
        if row is None:
            raise Forbidden("missions.errors.not_author") if author else NotFound("missions.errors.not_found")
        community, member = row
        return Caller(
            platform="discord",
            community_id=community.id,
            community_external_id=community.external_id,
            community_locale=community.locale,
            timezone=community.timezone,
            member_id=member.id,
            user_id=member.platform_user_id,
            display_name=member.display_name,
            # The language the member's Discord shows, else the one they chose, else the community's.
            locale=supported_locale(interaction.locale.value) or member.locale or community.locale,
            is_moderator=False,
        )

    # -- /missions --------------------------------------------------------------------------------

    @app_commands.command(**command_texts(SPECS["missions"]))
    @app_commands.guild_only()
    @app_commands.rename(
        **{name: locale_str(name, key=f"missions.options.{name}") for name in LIST_OPTIONS}  # type: ignore[arg-type]
    )
    @app_commands.describe(
        **{name: keyed(f"missions.options.{name}_description") for name in LIST_OPTIONS}  # type: ignore[arg-type]
    )
    @app_commands.choices(
        scope=[app_commands.Choice(name=keyed(f"missions.options.scope_{s}"), value=s) for s in SCOPES],
        mode=[app_commands.Choice(name=keyed(f"missions.work_mode.{m}"), value=m) for m in WORK_MODES],
        status=[app_commands.Choice(name=keyed(f"missions.status.{s}"), value=s) for s in STATUSES],
    )
    async def missions(
        self,
        interaction: discord.Interaction,
        scope: str = "all",
        trade: app_commands.Range[str, 0, MAX_FILTER] | None = None,
        skill: app_commands.Range[str, 0, MAX_FILTER] | None = None,
        sector: app_commands.Range[str, 0, MAX_FILTER] | None = None,
        city: app_commands.Range[str, 0, MAX_FILTER] | None = None,
        mode: str | None = None,
        rate: app_commands.Range[int, 1, MAX_RATE] | None = None,
        start: app_commands.Range[str, 0, MAX_FILTER] | None = None,
        status: str | None = None,
    ) -> None:
        caller = await self.bot.caller(interaction)
        typed = ListFilters(
            scope=scope,
            trade=trade or "",
            skill=skill or "",
            sector=sector or "",
            city=city or "",
            mode=mode or "",
            rate=str(rate) if rate else "",
            start=start or "",
            status=status or "",
        )

        async def respond(card: Card) -> None:
            await send_card(interaction, card)

        # Reads only: the answer goes out before the search is stored for paging (a write).
        await run(self.bot.services, caller, find_missions, typed, write=False, respond=respond)

    async def _show_page(self, request: DiscordRequest, use_case: Any, *args: Any) -> None:
        caller = await request.caller()

        async def respond(card: Card) -> None:  # before the search is kept in use (a write)
            embed, view = render_card(card)
            await request.interaction.response.edit_message(
                embed=embed, view=view, allowed_mentions=discord.AllowedMentions.none()
            )

        await run(self.bot.services, caller, use_case, *args, write=False, respond=respond)

    async def on_list(self, request: DiscordRequest) -> None:
        match = request.match
        await self._show_page(request, list_missions, int(match["page"]), match["scope"], int(match["trade"]))

    async def on_page(self, request: DiscordRequest) -> None:
        match = request.match
        await self._show_page(
            request, turn_missions_page, match["token"], int(match["page"]), match["cursor"]
        )


async def setup(bot: CollectifBot) -> None:
    cog = Missions(bot)
    await bot.add_cog(cog)
    router = bot.router
    router.select(_ids.PICK, cog.on_pick)
    router.action(_ids.STEP, cog.on_step)
    router.action(_ids.OPEN_TEXTS, cog.on_open_texts)
    router.action(_ids.OPEN_DETAILS, cog.on_open_details)
    router.action(_ids.PUBLISH, cog.on_publish)
    router.modal(_ids.SUBMIT_TEXTS, cog.on_submit_texts)
    router.modal(_ids.SUBMIT_DETAILS, cog.on_submit_details)
    router.action(_ids.INTEREST, cog.on_interest)
    router.modal(_ids.NOTE, cog.on_note)
    router.action(_ids.WITHDRAW, cog.on_withdraw)
    router.action(_ids.CANDIDATES, cog.on_candidates)
    router.select(_ids.SELECT, cog.on_select)
    router.action(_ids.CONFIRM, cog.on_confirm)
    router.action(_ids.EDIT, cog.on_edit)
    router.action(_ids.CLOSE, cog.on_close)
    router.action(_ids.CLOSE_AS, cog.on_close_as)
    router.action(_ids.EXTEND, cog.on_extend)
    router.action(_ids.SUGGEST, cog.on_suggest)
    router.action(_ids.INVITE, cog.on_invite)
    router.action(_ids.DECLINE, cog.on_decline)
    router.action(_ids.LIST, cog.on_list)
    router.action(_ids.PAGE, cog.on_page)
