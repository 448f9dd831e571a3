"""At the platforms' limits: /tasks list with the rota used fully (MAX_TASKS tasks, names and
descriptions at their max).
"""

from __future__ import annotations

import pytest

from bot.rendering.discord import render_card
from bot.rendering.slack import render_blocks
from bot.services import Services
from bot.usecase import run
from cogs.pooling._rota import add_task, list_tasks
from cogs.pooling._rota_form import MAX_DESCRIPTION, MAX_NAME, MAX_TASKS, TaskForm
from cogs.pooling._start import register_jobs
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier

TRADES = "Développement, Design graphique, Rédaction web, Marketing & communication, Conseil"


@pytest.fixture
def notifier(services: Services) -> RecordingNotifier:
    recording = RecordingNotifier()
    services.notifiers["discord"] = recording
    register_jobs(services)
    return recording


async def test_tasks_card_on_discord_shows_every_task(
    services: Services, notifier: RecordingNotifier
) -> None:
    """20 tasks (MAX_TASKS) with 500-character descriptions and 5 trades: the embed passes 6,000
    characters, the renderer stops adding fields and says nothing; the tasks after the ~8th lose their
    cadence, next turn and holder, while their Volunteer buttons stay."""
    mod = await make_caller(services, "mod", moderator=True)
    names = [f"Tâche {i:02} " + "administrative " * 4 for i in range(MAX_TASKS)]
    for name in names:
        await run(
            services,
            mod,
            add_task,
            TaskForm(
                name=name.strip(),
                description="d" * MAX_DESCRIPTION,
                cadence="weekly",
                weekday="mon",
                trades=TRADES,
            ),
        )
    member = await make_caller(services, "member")
    card = await run(services, member, list_tasks, write=False)
    embed, view = render_card(card)
    shown = [f.name for f in embed.fields]
    missing = [n.strip() for n in names if n.strip() not in shown]
    buttons = len(view.children) if view else 0
    assert missing == [], (
        f"{len(missing)} of {MAX_TASKS} tasks missing from the embed ({buttons} buttons shown)"
    )


async def test_volunteer_buttons_of_two_long_task_names_can_be_told_apart(
    services: Services, notifier: RecordingNotifier
) -> None:
    """Task names may be 80 characters; "Volunteer: {name}" is cut to 80 (Discord) and 75 (Slack):
    two tasks named alike up to their end get identical buttons."""
    mod = await make_caller(services, "mod", moderator=True)
    stem = "Relancer les factures impayées des clients du collectif et archiver "
    names = [stem + "(France)", stem + "(Belgique)"]
    assert all(len(n) <= MAX_NAME for n in names)
    for name in names:
        await run(services, mod, add_task, TaskForm(name=name, cadence="weekly", weekday="mon"))
    member = await make_caller(services, "member", locale="fr")
    card = await run(services, member, list_tasks, write=False)
    _embed, view = render_card(card)
    discord_labels = [b.label for b in view.children] if view else []
    slack_labels = [
        e["text"]["text"] for b in render_blocks(card) if b["type"] == "actions" for e in b["elements"]
    ]
    assert len(set(discord_labels)) == 2 and len(set(slack_labels)) == 2, (
        f"identical Volunteer buttons: discord {discord_labels}, slack {slack_labels}"
    )
