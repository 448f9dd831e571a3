"""The feedback feature's cases for tests/test_tenant_isolation.py (registry: tests/tenant.py)."""

from __future__ import annotations

from bot.errors import UserError
from bot.services import Services
from bot.usecase import run
from cogs.feedback._feedback import answer_form, close_request, mark_helpful, submit_answer, who_wrote
from cogs.feedback._validation import AnswerForm, RequestForm
from storage.settings import get_settings
from tests.tenant import Case, World

CASES = [
    Case(
        "feedback: Give feedback on a request id",
        "b_feedback_request",
        lambda s, c, i: run(s, c, answer_form, i, False, write=False),
        covers=("feedback:answer:42", "feedback:answer:42:anon"),
    ),
    Case(
        "feedback: answer form of a request id",
        "b_feedback_request",
        lambda s, c, i: run(s, c, submit_answer, i, False, AnswerForm(text="ok")),
        covers=("feedback:reply:42", "feedback:reply:42:anon"),
    ),
    Case(
        "feedback: Close a request id",
        "b_feedback_request",
        lambda s, c, i: run(s, c, close_request, i),
        covers=("feedback:close:42",),
    ),
    Case(
        "feedback: Helpful on an answer id",
        "b_feedback_answer",
        lambda s, c, i: run(s, c, mark_helpful, i),
        covers=("feedback:helpful:42",),
    ),
    Case(
        "feedback: who wrote an answer id",
        "b_feedback_answer",
        lambda s, c, i: run(s, c, who_wrote, i, write=False),
        covers=("feedback:who:42",),
        error=UserError,
    ),
]


async def seed(services: Services, world: World) -> None:
    """B asks in its feedback channel and B's other member answers."""
    from cogs.feedback._feedback import ask

    async with services.db.transaction() as session:
        (await get_settings(session, world.b.community_id)).feedback_channel_id = "C-B-FEEDBACK"
    form = RequestForm(title="Logo", links="https://b.example", kind="design")
    if "discord" not in services.notifiers and "slack" not in services.notifiers:
        from tests.fakes.notifier import RecordingNotifier

        services.notifiers[world.b.platform] = RecordingNotifier(platform=world.b.platform)
    asked = await run(services, world.b, ask, form)
    answered = await run(
        services, world.b_other, submit_answer, asked.request_id, False, AnswerForm(text="Bien")
    )
    world.ids.update(b_feedback_request=asked.request_id, b_feedback_answer=answered.answer_id)
