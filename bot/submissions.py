"""The same form submitted twice creates once: its key is claimed in the create's own transaction.

A double click on Slack's Submit, Slack sending a view_submission again, a form answered twice by a
flaky client: the same form reaches the bot twice, maybe at once, maybe in two processes. A create
use case taking a form receives the submission's key (Slack: the view's id, the same for every
submission of one opened modal; Discord: the token the form's message carries) and, once its object
is written, claims the key with one INSERT … ON CONFLICT DO NOTHING, settled by the database (on
PostgreSQL the second insert waits for the first transaction, then finds the key taken). The second
submission is refused with `errors.already_submitted`: its transaction rolls back, nothing of it is
posted, and the member is told the form was taken once (the first answer says where it went). Keys
are forgotten nightly after a day: Slack retries within seconds and a modal lives for hours at most.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import nightly
from bot.errors import UserError
from storage.models import FormSubmission
from storage.sql import dialect_insert

if TYPE_CHECKING:
    from bot.services import Services
    from bot.usecase import Context

KIND = "core.forget_submissions"
KEEP = timedelta(days=1)
KEY_MAX = 100


class AlreadySubmitted(UserError):
    """The form was submitted before, and created its object then."""

    key = "errors.already_submitted"


async def claim(ctx: Context, key: str | None, kind: str, object_id: int) -> None:
    """Claim the submission `key` for `object_id` (`kind`: what was created); raise when it was taken.

    No key (a slash command's options, a job): nothing to claim.
    """
    if not key:
        return
    result = await ctx.session.execute(
        dialect_insert(ctx.session, FormSubmission)
        .values(community_id=ctx.community_id, key=key[:KEY_MAX], kind=kind, object_id=object_id,
                created_at=ctx.clock.now())
        .on_conflict_do_nothing()
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise AlreadySubmitted()


async def submitted(services: Services, community_id: int, key: str) -> bool:
    """Whether the submission `key` created its object already (a form's button clicked again later)."""
    async with services.db.transaction(write=False) as session:
        found = await session.scalar(select(FormSubmission.id).where(
            FormSubmission.community_id == community_id, FormSubmission.key == key[:KEY_MAX]))
    return found is not None


async def forget(session: AsyncSession, now: datetime) -> int:
    """The keys older than a day (the nightly clean-up); how many went."""
    result = await session.execute(delete(FormSubmission).where(FormSubmission.created_at < now - KEEP))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def on_start(services: Services) -> None:
    """The nightly clean-up of old keys (started with the features' start hooks)."""
    await nightly.start(services, KIND, forget)
