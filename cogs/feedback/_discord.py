"""/feedback and /kudos on Discord; the answer form (a modal) and the card buttons, routed by id.

/feedback takes its texts as command options (title, kind, link…, where with autocomplete): every
refusal is found by a read-only check and answered at once; only then is the interaction deferred
and the request saved and posted. An attached file is downloaded once deferred (the interaction's
attachment expires) and posted with the card. "Give feedback" opens a modal: the answer and one rating input
per checklist item (a modal holds five inputs; checklists have three items).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import locale_str
from discord.ext import commands

from bot.cards import truncate
from bot.discord_bot.attachments import DOWNLOAD_FAILED, download
from bot.discord_bot.replies import send_card, send_text
from bot.discord_bot.translator import command_texts, keyed
from bot.errors import UserError
from bot.rendering.discord import routed_modal
from bot.text import refuse_control_characters
from bot.usecase import run
from cogs.feedback import FEATURE, _ids
from cogs.feedback._feedback import (
    answer_form,
    ask,
    check_answer,
    check_request,
    close_request,
    kudos_of,
    kudos_top,
    mark_helpful,
    submit_answer,
    where_options,
    who_wrote,
)
from cogs.feedback._kinds import KINDS, checklist
from cogs.feedback._outcome import asked_text, where_label
from cogs.feedback._store import requester_community
from cogs.feedback._validation import (
    MAX_ANSWER,
    MAX_FILE_BYTES,
    MAX_QUESTION,
    MAX_TITLE,
    AnswerForm,
    AttachedFile,
    RequestForm,
    file_too_big,
)

if TYPE_CHECKING:
    from bot.discord_bot.client import CollectifBot
    from bot.discord_bot.router import DiscordRequest

SPECS = {c.name: c for c in FEATURE.commands}
CHOICES_MAX = 25


def answer_modal(
    t: Any, locale: str, request_id: int, anonymous: bool, kind: str, title: str
) -> discord.ui.Modal:
    custom_id = f"feedback:reply:{request_id}" + (":anon" if anonymous else "")
    modal = routed_modal(t(locale, "feedback.form.answer_title"), custom_id)
    modal.add_item(
        discord.ui.TextInput(
            custom_id="text",
            label=truncate(t(locale, "feedback.form.answer_label"), 45),
            style=discord.TextStyle.paragraph,
            max_length=MAX_ANSWER,
            required=True,
            placeholder=truncate(t(locale, "feedback.form.answer_placeholder"), 100),
        )
    )
    for item in checklist(kind)[:4]:
        modal.add_item(
            discord.ui.TextInput(
                custom_id=f"rating_{item}",
                label=truncate(
                    t(locale, "feedback.form.rating_label", item=t(locale, f"feedback.items.{item}")), 45
                ),
                style=discord.TextStyle.short,
                max_length=1,
                required=False,
                placeholder="1-5",
            )
        )
    return modal


async def _download(file: discord.Attachment) -> bytes:
    """The attached file's bytes, to post with the card; refused when too big, or when Discord fails."""
    try:
        data = await download(file, MAX_FILE_BYTES)
    except DOWNLOAD_FAILED:
        raise UserError("feedback.errors.file_unreadable") from None
    if data is None:
        raise file_too_big(file.size)
    return data


class Feedback(commands.Cog):
    def __init__(self, bot: CollectifBot) -> None:
        self.bot = bot

    def t(self, locale: str, key: str, /, **params: Any) -> str:
        return self.bot.services.t(locale, key, **params)

    @app_commands.command(**command_texts(SPECS["feedback"]))
    @app_commands.rename(
        **{
            name: locale_str(name, key=f"feedback.options.{name}")
            for name in (
                "title",
                "kind",
                "link",
                "question",
                "where",
                "due",
                "anonymous",
                "link2",
                "link3",
                "file",
            )
        }
    )
    @app_commands.describe(
        **{
            name: keyed(f"feedback.options.{name}_description")
            for name in (
                "title",
                "kind",
                "link",
                "question",
                "where",
                "due",
                "anonymous",
                "link2",
                "link3",
                "file",
            )
        }
    )
    @app_commands.choices(
        kind=[app_commands.Choice(name=keyed(f"feedback.kinds.{k}"), value=k) for k in KINDS]
    )
    async def feedback(
        self,
        interaction: discord.Interaction,
        title: app_commands.Range[str, 1, MAX_TITLE],
        kind: str,
        link: app_commands.Range[str, 1, 500],
        question: app_commands.Range[str, 0, MAX_QUESTION] = "",
        where: str | None = None,
        due: app_commands.Range[str, 0, 40] | None = None,
        anonymous: bool = False,
        link2: app_commands.Range[str, 0, 500] | None = None,
        link3: app_commands.Range[str, 0, 500] | None = None,
        file: discord.Attachment | None = None,
    ) -> None:
        services = self.bot.services
        caller = await self.bot.caller(interaction)
        links = "\n".join(x for x in (link, link2, link3) if x)
        typed = {"title": title, "links": links, "question": question, "where": where or "", "due": due or ""}
        refuse_control_characters({**typed, "file": file.filename if file else ""})
        attached = AttachedFile(file.filename, file.size, file.content_type or "") if file else None
        form = RequestForm(kind=kind, anonymous=anonymous, file=attached, **typed)
        await run(services, caller, check_request, form, write=False)  # refusals answered at once
        await interaction.response.defer(ephemeral=True, thinking=True)
        if file is not None and attached is not None:
            form.file = dataclasses.replace(attached, content=await _download(file))
        asked = await run(services, caller, ask, form)
        await send_text(interaction, asked_text(services.catalog, caller.locale, asked, mention_channel=True))

    @feedback.autocomplete("where")
    async def where_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        caller = await self.bot.caller(interaction)
        options = await run(self.bot.services, caller, where_options, write=False)
        wanted = current.casefold()[:100]
        return [
            app_commands.Choice(name=truncate(label, 100), value=value)
            for value, label in (
                (v, where_label(self.bot.services.catalog, caller.locale, name)) for v, name, _ in options
            )
            if wanted in label.casefold()
        ][:CHOICES_MAX]

    @app_commands.command(**command_texts(SPECS["kudos"]))
    @app_commands.rename(
        member=locale_str("member", key="feedback.options.member"),
        top=locale_str("top", key="feedback.options.top"),
    )
    @app_commands.describe(
        member=keyed("feedback.options.member_description"), top=keyed("feedback.options.top_description")
    )
    async def kudos(
        self, interaction: discord.Interaction, member: discord.User | None = None, top: bool = False
    ) -> None:
        services = self.bot.services
        caller = await self.bot.caller(interaction)
        if top:
            card = await run(services, caller, kudos_top, write=False)
        else:
            card = await run(
                services, caller, kudos_of, None if member is None else str(member.id), write=False
            )
        await send_card(interaction, card, ephemeral=True)

    # -- routed by id (cogs.feedback._ids) ------------------------------------------------------------

    async def on_answer(self, request: DiscordRequest) -> None:
        caller = await request.caller()
        anonymous = bool(request.match["anon"])
        view = await run(
            self.bot.services, caller, answer_form, int(request.match["id"]), anonymous, write=False
        )
        await request.interaction.response.send_modal(
            answer_modal(self.t, caller.locale, view.id, anonymous, view.kind, view.title)
        )

    async def on_reply(self, request: DiscordRequest) -> None:
        caller = await request.caller()
        fields = request.fields()
        request_id, anonymous = int(request.match["id"]), bool(request.match["anon"])
        form = AnswerForm(
            text=fields.get("text", ""),
            ratings={k.removeprefix("rating_"): v for k, v in fields.items() if k.startswith("rating_")},
        )
        answered = await request.check_then_write(check_answer, submit_answer, request_id, anonymous, form)
        key = "feedback.answered.sent" if answered.later.value else "feedback.answered.sent_not_posted"
        await send_text(request.interaction, self.t(caller.locale, key))

    async def on_helpful(self, request: DiscordRequest) -> None:
        caller = await request.caller()
        await request.interaction.response.defer(ephemeral=True, thinking=True)
        name = await run(self.bot.services, caller, mark_helpful, int(request.match["id"]))
        await send_text(request.interaction, self.t(caller.locale, "feedback.helpful.done", name=name))

    async def on_close(self, request: DiscordRequest) -> None:
        caller = await request.caller()  # in the due-date DM: the requester, through the request
        await request.interaction.response.defer(ephemeral=True, thinking=True)
        title = await run(self.bot.services, caller, close_request, int(request.match["id"]))
        await send_text(request.interaction, self.t(caller.locale, "feedback.closed.done", title=title))

    async def on_who(self, request: DiscordRequest) -> None:
        caller = await request.caller()
        text = await run(self.bot.services, caller, who_wrote, int(request.match["id"]), write=False)
        await send_text(request.interaction, text)


async def setup(bot: CollectifBot) -> None:
    cog = Feedback(bot)
    await bot.add_cog(cog)
    bot.router.action(_ids.ANSWER, cog.on_answer)
    bot.router.modal(_ids.REPLY, cog.on_reply)
    bot.router.action(_ids.HELPFUL, cog.on_helpful)
    bot.router.action(_ids.CLOSE, cog.on_close, dm=requester_community)
    bot.router.action(_ids.WHO, cog.on_who)
