"""A kept DM naming another member (`about`) is deleted with that member's data, never sent after it.

And every caller of `send_dm` says whom its card names: `about` is a required keyword, checked here
on the signature and on every call in the source (a call site no test runs is still caught).
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from sqlalchemy import delete

from bot import outbox
from bot.cards import Card
from bot.clock import FrozenClock
from bot.services import Services
from cogs.privacy._privacy import delete_member_data
from storage.models import Member
from tests.bot.outbox_support import community_of, kept, retry_for
from tests.fakes.callers import make_caller
from tests.fakes.notifier import FlakyNotifier

ROOT = Path(__file__).resolve().parents[2]


def _about_zoe() -> Card:
    return Card(title="Zoé Quintard a répondu à votre demande", text="Voir la réponse de Zoé Quintard")


async def test_a_kept_dm_naming_a_member_is_deleted_with_her_data_and_never_sent(
    services: Services, flaky: FlakyNotifier, clock: FrozenClock
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    zoe = await make_caller(services, "U2", name="Zoé Quintard")
    community = await community_of(services, alice.community_id)
    flaky.failing_dms.add("U1")
    assert await outbox.send_dm(services, community, alice.member_id, "U1", _about_zoe(),
                                about=[zoe.member_id])
    assert await outbox.send_dm(services, community, alice.member_id, "U1", Card(title="Rappel"), about=())
    assert [j.payload.get("about") for j in await kept(services)] == [[zoe.member_id], None]

    await delete_member_data(services, zoe, zoe.member_id)

    assert [j.payload["card"]["title"] for j in await kept(services)] == ["Rappel"]  # hers went
    flaky.failing_dms.clear()
    await retry_for(services, clock)
    assert [d.card.title for d in flaky.dms] == ["Rappel"]  # the others' kept DMs still go


async def test_a_kept_dm_is_not_sent_once_a_member_it_names_is_gone(
    services: Services, flaky: FlakyNotifier, clock: FrozenClock
) -> None:
    """Even should a deletion path miss the outbox: the job checks them before sending, and drops it."""
    alice = await make_caller(services, "U1", name="Alice")
    zoe = await make_caller(services, "U2", name="Zoé Quintard")
    flaky.failing_dms.add("U1")
    await outbox.send_dm(services, await community_of(services, alice.community_id), alice.member_id, "U1",
                         _about_zoe(), about=(zoe.member_id,))
    async with services.db.transaction() as session:
        await session.execute(delete(Member).where(Member.id == zoe.member_id))
    flaky.failing_dms.clear()
    await retry_for(services, clock)
    [job] = await kept(services)
    assert flaky.dms == [] and "card" not in job.payload


async def test_a_dm_naming_a_member_already_gone_is_not_kept(
    services: Services, flaky: FlakyNotifier
) -> None:
    """Drawn before her deletion, failing after it: not kept with her name (and nothing to retry)."""
    alice = await make_caller(services, "U1", name="Alice")
    zoe = await make_caller(services, "U2", name="Zoé Quintard")
    community = await community_of(services, alice.community_id)
    await delete_member_data(services, zoe, zoe.member_id)
    flaky.failing_dms.add("U1")
    told = await outbox.send_dm(services, community, alice.member_id, "U1", _about_zoe(),
                                about=(zoe.member_id,))
    assert told is True and await kept(services) == []


async def test_the_recipient_is_not_about_herself(services: Services, flaky: FlakyNotifier) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    flaky.failing_dms.add("U1")
    await outbox.send_dm(services, await community_of(services, alice.community_id), alice.member_id, "U1",
                         Card(title="Pour Alice"), about=(alice.member_id,))
    [job] = await kept(services)
    assert "about" not in job.payload


# -- the guard: every caller decides whom its DM names ----------------------------------------------


def test_about_is_a_required_keyword_of_send_dm() -> None:
    about = inspect.signature(outbox.send_dm).parameters["about"]
    assert about.kind is inspect.Parameter.KEYWORD_ONLY and about.default is inspect.Parameter.empty


def _calls_without_about(path: Path) -> list[str]:
    missing = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name != "send_dm":
            continue
        keywords = {k.arg for k in node.keywords}  # None: a **mapping, which may hold it
        if "about" not in keywords and None not in keywords:
            missing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return missing


def test_every_send_dm_call_says_whom_its_card_names() -> None:
    """`about=[ids]`, or `about=()` for a card naming nobody but its reader: a new call must decide."""
    sources = [p for folder in ("bot", "cogs") for p in sorted((ROOT / folder).rglob("*.py"))]
    calls = sum("send_dm(" in p.read_text(encoding="utf-8") for p in sources)
    assert calls >= 8, "the scan found too few callers: has send_dm moved?"
    assert [where for p in sources for where in _calls_without_about(p)] == []
