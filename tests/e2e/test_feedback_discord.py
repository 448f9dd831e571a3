"""/feedback, the answer form, Helpful, /kudos and Close on Discord, through the real bot and fake Discord."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from cogs.feedback.models import FeedbackRequest, Kudos
from storage.models import Community
from storage.settings import get_settings
from tests.e2e.conftest import DiscordHarness

MODAL = 9


async def configure(h: DiscordHarness) -> str:
    channel = str(h.guild.channel("général").id)
    async with h.services.db.transaction() as session:
        cid = await session.scalar(select(Community.id).where(Community.external_id == str(h.guild.id)))
        assert cid is not None
        (await get_settings(session, cid)).feedback_channel_id = channel
    return channel


def cards(h: DiscordHarness, channel_id: str) -> list[dict[str, Any]]:
    return [m for m in h.fake.channel_messages(int(channel_id)) if m.get("embeds")]


OPTIONS = {
    "title": "Logo @everyone",
    "kind": "design",
    "link": "https://camille.example/logo.png",
    "question": "Lisible en petit ?",
    "anonymous": True,
}


async def test_request_answers_helpful_kudos_and_close(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    channel = await configure(h)
    asked = await h.fake.invoke_slash(h.guild, h.member, "feedback", OPTIONS, locale="fr")
    [note] = await asked.wait_followups(1)
    assert h.t("fr", "feedback.asked.posted", channel=channel) in note["content"]
    [card] = cards(h, channel)
    assert card["embeds"][0]["title"] == "🔎 Avis demandé : Logo @everyone"
    assert card["allowed_mentions"] == {"parse": []}
    thread = h.fake.channels[int(card["id"])]
    assert thread.is_thread
    request_id = card["components"][0]["components"][0]["custom_id"].rsplit(":", 1)[1]

    opened = await h.fake.click(card, f"feedback:answer:{request_id}", h.moderator, locale="fr")
    assert opened.response_type == MODAL
    assert [c["components"][0]["custom_id"] for c in opened.data["components"]][:2] == [
        "text",
        "rating_hierarchy",
    ]
    sent = await h.fake.submit_modal(
        h.guild,
        h.moderator,
        f"feedback:reply:{request_id}:anon",
        {"text": "La typo est trop fine.", "rating_hierarchy": "4"},
        message=card,
    )
    [thanks] = await sent.wait_followups(1)
    assert thanks["content"] == h.t("fr", "feedback.answered.sent")
    [answer] = cards(h, str(thread.id))
    assert answer["embeds"][0]["title"] == "💬 Avis de un·e pair anonyme"
    assert "Dominique" not in str(answer["embeds"])
    await h.fake.wait_for_request(lambda r: r.method == "POST" and "Nouvel avis" in str(r.body))
    assert any("Nouvel avis" in str(m) for m in h.fake.dm_messages(h.member))

    helpful_id = next(
        c["custom_id"]
        for row in answer["components"]
        for c in row["components"]
        if c["custom_id"].startswith("feedback:helpful:")
    )
    refused = await h.fake.click(answer, helpful_id, h.moderator, locale="fr")
    assert h.t("fr", "feedback.errors.only_requester_helpful") in str(await refused.wait_followups(1))
    given = await h.fake.click(answer, helpful_id, h.member, locale="fr")
    assert "Kudos" in str(await given.wait_followups(1))
    async with h.services.db.transaction() as session:
        assert await session.scalar(select(func.count(Kudos.id))) == 1

    shown = await h.fake.invoke_slash(h.guild, h.member, "kudos", {"member": h.moderator}, locale="fr")
    assert shown.embeds[0]["description"] == "1 kudos pour des avis utiles"

    closed = await h.fake.click(card, f"feedback:close:{request_id}", h.member, locale="fr")
    await closed.wait_followups(1)
    assert thread.archived
    async with h.services.db.transaction() as session:
        assert await session.scalar(select(FeedbackRequest.state)) == "closed"


async def test_refusals_answer_in_french_and_save_nothing(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    await configure(h)
    bad = await h.fake.invoke_slash(
        h.guild,
        h.member,
        "feedback",
        {**OPTIONS, "link": "javascript:alert(1)", "due": "2020-01-01"},
        locale="fr",
    )
    assert bad.ephemeral
    assert h.t("fr", "feedback.problems.link_scheme", link="javascript:alert(1)") in bad.content
    assert h.t("fr", "feedback.problems.due_past") in bad.content
    for _ in range(3):
        ok = await h.fake.invoke_slash(h.guild, h.member, "feedback", OPTIONS, locale="fr")
        await ok.wait_followups(1)
    limited = await h.fake.invoke_slash(h.guild, h.member, "feedback", OPTIONS, locale="fr")
    assert "30 novembre 2026" in limited.content
    async with h.services.db.transaction() as session:
        assert await session.scalar(select(func.count(FeedbackRequest.id))) == 3
