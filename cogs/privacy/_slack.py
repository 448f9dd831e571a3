"""`/collectif privacy export|delete` (`/collectif confidentialite exporter|supprimer`) on Slack.

The export goes to the member's DM with the app, as a JSON file (files.uploadV2); deletion asks
first with buttons (`privacy:confirm:<member>`, `privacy:cancel:<member>`), answered in place.
"""

from __future__ import annotations

import functools
import logging

from bot.errors import BUGS
from bot.notifier import Attachment
from bot.slack_app.request import SlackRequest
from bot.slack_app.router import SlackRouter
from bot.usecase import run
from bot.words import catalog_words, match_word
from cogs.privacy import _ids
from cogs.privacy._privacy import (
    cancelled_card,
    confirm_card,
    delete_my_data,
    ensure_own,
    export_member_data,
    working_card,
)

log = logging.getLogger(__name__)


def _verb(request: SlackRequest, word: str) -> str | None:
    """"export" / "exporter" / "delete" / "supprimer" (any language's name) -> the subcommand."""
    keys = {verb: f"privacy.commands.{verb}.name" for verb in ("export", "delete")}
    return match_word(word, catalog_words(request.services.catalog, keys))


async def privacy(request: SlackRequest) -> None:
    caller = await request.ensure_caller()
    services = request.services
    verb = _verb(request, request.args.strip().split(" ")[0] if request.args.strip() else "")
    if verb == "export":
        exported = await run(services, caller, export_member_data, write=False)
        notifier = services.notifiers["slack"]
        try:
            sent = await notifier.dm(exported.community_external_id, caller.user_id, exported.card,
                                     Attachment(exported.filename, exported.content))
        except BUGS:
            raise
        except Exception:  # Slack failed (the upload, a 5xx): nothing half-sent, the member told to retry
            log.warning("export of member %s not sent", caller.member_id, exc_info=True)
            await request.reply(request.t("privacy.export.failed"))
            return
        await request.reply(request.t("privacy.export.dm_sent" if sent else "privacy.export.dm_closed"))
    elif verb == "delete":
        await request.reply(confirm_card(services.catalog, caller))
    else:
        await request.reply(request.t("privacy.slack.usage"))


async def clicked(request: SlackRequest, router: SlackRouter) -> None:
    assert request.match is not None
    caller = await request.ensure_caller()
    services = request.services
    member_id = int(request.match["member"])
    if request.match["verb"] == "cancel":
        await request.reply(cancelled_card(services.catalog, caller, member_id), replace=True)
        return
    ensure_own(caller, member_id)
    await request.reply(working_card(services.catalog, caller), replace=True)
    done = (await run(services, caller, delete_my_data, member_id)).value
    if done is None:
        raise RuntimeError("privacy deletion failed (logged above); a retry resumes where it stopped")
    # Whatever shows or holds the member's data catches up now (the runtime republishes their App Home).
    await router.member_data_deleted(request, caller.community_id, member_id)
    await request.reply(done, replace=True)


def register(router: SlackRouter) -> None:
    router.need_scope("files:write", "files.uploadV2: a member's data export, as a JSON file in their DM")
    router.subcommand("privacy", privacy)
    router.action(_ids.DELETE, functools.partial(clicked, router=router))
