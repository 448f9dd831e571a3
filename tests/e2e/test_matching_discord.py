"""/match on Discord through the real bot and the fake Discord: proposal, DM invitations, private thread."""

from __future__ import annotations

from typing import Any

import pytest

from bot.discord_bot import notifier as discord_notifier
from tests.directory.factory import add_profile
from tests.e2e.conftest import DiscordHarness
from tests.e2e.test_discord_outage import fail_route
from tests.fakes.callers import make_caller
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import FakeUser

PRIVATE_THREAD = 12


async def seed(h: DiscordHarness, name: str, **profile: Any) -> FakeUser:
    user = h.fake.add_user(name, guild=h.guild)
    caller = await make_caller(h.services, str(user.id), guild=str(h.guild.id), community_name=h.guild.name,
                               name=name)
    async with h.services.db.transaction() as session:
        await add_profile(session, caller, **profile)
    return user


def only(messages: list[dict[str, Any]]) -> dict[str, Any]:
    [message] = messages
    return message


async def answered(interaction: FakeInteraction) -> FakeInteraction:
    if interaction.response_type == 5 and not interaction.followups:
        await interaction.wait_followups(1)
    return interaction


def texts_of(interaction: FakeInteraction) -> str:
    return "\n".join(interaction.all_texts())


async def press(h: DiscordHarness, message: dict[str, Any], label: str, user: FakeUser) -> FakeInteraction:
    """Click the button labelled with catalog key `label`; the answer, follow-up included."""
    return await answered(await h.fake.click(message, buttons(message)[h.t("fr", label)], user))


def buttons(message: dict[str, Any]) -> dict[str, str]:
    return {b["label"]: b["custom_id"] for row in message.get("components") or [] for b in row["components"]}


async def test_match_a_pack_then_invite_the_team(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    team = [await seed(h, "Wanda", trades=("Rédaction web",), skills=("WordPress",)),
            await seed(h, "Dora", trades=("Design graphique",)),
            await seed(h, "Sam", trades=("SEO / SEA",), skills=("WordPress", "SEO")),
            await seed(h, "Vic", trades=("Développement",), skills=("WordPress",))]
    await seed(h, "Bruno", trades=("Développement",), availability="busy")

    answer = await h.fake.invoke_slash(h.guild, h.member, "match",
                                       {"pack": "Site vitrine", "skills": "wordpress", "max_rate": "600",
                                        "note": "Boulangerie @everyone, début en janvier"})

    assert answer.ephemeral
    embed = answer.embeds[0]
    assert embed["title"] == h.t("fr", "matching.card.title", title="Site vitrine")
    assert [f["name"] for f in embed["fields"]] == [
        "Rédaction web : Wanda", "Design graphique : Dora", "SEO / SEA : Sam", "Développement : Vic"]
    assert h.t("fr", "matching.why.skills", value="wordpress") in embed["fields"][3]["value"]
    assert answer.data["allowed_mentions"] == {"parse": []}
    assert answer.original is not None
    invite = buttons(answer.original)[h.t("fr", "matching.card.invite")]
    assert invite.startswith("matching:invite:")

    await h.restart()  # the button survives a restart
    stranger = h.fake.add_user("Intrus", guild=h.guild)
    refused = await answered(await h.fake.click(answer.original, invite, stranger))
    assert h.t("fr", "matching.errors.not_yours") in texts_of(refused)

    clicked = await answered(await h.fake.click(answer.original, invite, h.member))
    assert h.t("fr", "matching.invite.sent", names="Wanda, Dora, Sam, Vic") in texts_of(clicked)
    assert not [c for c in h.fake.channels.values() if c.type == PRIVATE_THREAD]  # nobody answered yet
    again = await answered(await h.fake.click(answer.original, invite, h.member))
    assert h.t("fr", "matching.errors.already_invited") in texts_of(again)

    # Each member has a DM with Accept / Decline; a click in a DM has no guild_id.
    invitations = {u.name: only(h.fake.dm_messages(u)) for u in team}
    card = invitations["Vic"]
    assert card["embeds"][0]["title"] == h.t("fr", "matching.invitation.title", requester="Camille",
                                             title="Site vitrine")
    assert card["allowed_mentions"] == {"parse": []}
    assert "Boulangerie @everyone, début en janvier" in card["embeds"][0]["description"]
    accept = buttons(card)[h.t("fr", "matching.invitation.accept")]
    refused = await answered(await h.fake.click(card, accept, stranger))  # not the invitee
    assert h.t("fr", "errors.not_for_you") in texts_of(refused)
    refused = await answered(await h.fake.click(card, accept, team[0]))  # invited, but not to this one
    assert h.t("fr", "errors.not_for_you") in texts_of(refused)

    await h.restart()  # the DM buttons survive a restart too
    for user in team:
        done = await press(h, invitations[user.name], "matching.invitation.accept", user)
        assert h.t("fr", "matching.answered.accepted") in texts_of(done)
    twice = await answered(await h.fake.click(card, accept, team[3]))
    assert h.t("fr", "matching.answered.already_accepted") in texts_of(twice)

    [thread] = [c for c in h.fake.channels.values() if c.type == PRIVATE_THREAD]
    assert thread.members == [h.member.id, *(u.id for u in team)]
    [space_card] = h.fake.channel_messages(thread.id)
    assert space_card["embeds"][0]["title"] == h.t("fr", "matching.space.title", title="Site vitrine")
    told = h.fake.dm_messages(h.member)  # the requester heard each answer, then the space
    assert len(told) == 5
    assert "Wanda a accepté (Rédaction web)." in str(told[0]["embeds"][0])
    opened = h.t("fr", "matching.invite.opened", names="Wanda, Dora, Sam, Vic")
    assert told[-1]["embeds"][0]["title"] == opened


async def test_a_decline_in_a_dm_invites_the_next_alternative(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    vic = await seed(h, "Vic", trades=("Développement",), skills=("Python", "Django"))
    val = await seed(h, "Val", trades=("Développement",), skills=("Python",))
    answer = await h.fake.invoke_slash(h.guild, h.member, "match",
                                       {"trades": "Développement", "skills": "python, django"})
    assert answer.original is not None
    await press(h, answer.original, "matching.card.invite", h.member)
    declined = await press(h, only(h.fake.dm_messages(vic)), "matching.invitation.decline", vic)
    assert h.t("fr", "matching.answered.declined") in texts_of(declined)
    assert "Val" in str(only(h.fake.dm_messages(h.member))["embeds"][0])
    await press(h, only(h.fake.dm_messages(val)), "matching.invitation.accept", val)
    [thread] = [c for c in h.fake.channels.values() if c.type == PRIVATE_THREAD]
    assert thread.members == [h.member.id, val.id]


async def test_bad_input_is_explained_in_french(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    answer = await h.fake.invoke_slash(h.guild, h.member, "match",
                                       {"pack": "Plomberie", "max_rate": "beaucoup"})
    assert answer.ephemeral
    assert h.t("fr", "matching.errors.unknown_pack", value="Plomberie") in answer.content
    assert h.t("fr", "matching.errors.rate", value="beaucoup") in answer.content


async def test_a_slot_nobody_can_fill_shows_the_closest_options(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    await seed(h, "Sam", trades=("SEO / SEA",), availability="busy")
    answer = await h.fake.invoke_slash(h.guild, h.member, "match", {"trades": "SEO"})
    [field] = answer.embeds[0]["fields"]
    assert field["name"] == h.t("fr", "matching.card.slot_empty", trade="SEO / SEA")
    assert "Sam : occupé·e" in field["value"]
    assert answer.original is not None and not buttons(answer.original)


async def test_an_invitee_discord_failed_to_add_to_the_team_thread_for_a_moment_is_in_it(
    discord_harness: DiscordHarness, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Vic accepted the team; a 503 on adding him to its private thread must not leave him out of it for
    good: the notifier adds him on its retry (bot/discord_bot/notifier.py)."""
    h = discord_harness
    monkeypatch.setattr(discord_notifier, "ADD_RETRY_DELAYS", (0.01, 0.01))
    vic = await seed(h, "Vic", trades=("Développement",), skills=("Python",))
    failed = fail_route(h, "PUT", "thread-members", times=1,
                        when=lambda _r, groups: groups["uid"] == str(vic.id))
    answer = await h.fake.invoke_slash(h.guild, h.member, "match",
                                       {"trades": "Développement", "skills": "python"})
    assert answer.original is not None
    await press(h, answer.original, "matching.card.invite", h.member)

    await press(h, only(h.fake.dm_messages(vic)), "matching.invitation.accept", vic)

    [thread] = [c for c in h.fake.channels.values() if c.type == PRIVATE_THREAD]
    assert failed and vic.id in thread.members


async def test_the_team_card_discord_failed_to_post_in_the_thread_is_posted_later(
    discord_harness: DiscordHarness,
) -> None:
    """A 503 on the profiles card left the team's private thread empty for good (only logged), while
    Camille was told the space was open. The thread is kept, and a job posts the card once Discord is
    back, recorded as the team's (so that a member's data deletion still finds it)."""
    from datetime import timedelta

    from sqlalchemy import select

    from cogs.matching import FEATURE
    from storage.models import Post

    h = discord_harness
    assert FEATURE.on_start is not None
    await FEATURE.on_start(h.services)  # the feature's job kinds, as `collectif run` registers them
    failed = fail_route(h, "POST", r"/channels/(?P<cid>\d+)/messages", times=1,
                        when=lambda _r, groups: h.fake.channels[int(groups["cid"])].type == PRIVATE_THREAD)
    vic = await seed(h, "Vic", trades=("Développement",), skills=("Python",))
    answer = await h.fake.invoke_slash(h.guild, h.member, "match",
                                       {"trades": "Développement", "skills": "python"})
    assert answer.original is not None
    await press(h, answer.original, "matching.card.invite", h.member)
    await h.fake.wait_for_request(lambda r: r.method == "POST" and "matching:answer:" in str(r.body))
    await press(h, only(h.fake.dm_messages(vic)), "matching.invitation.accept", vic)
    opened = h.t("fr", "matching.invite.opened", names="Vic")  # told once the card was tried
    await h.fake.wait_for_request(lambda r: r.method == "POST" and opened in str(r.body))
    assert failed
    [thread] = [c for c in h.fake.channels.values() if c.type == PRIVATE_THREAD]
    assert h.fake.channel_messages(thread.id) == []
    for _ in range(2):
        h.services.clock.advance(timedelta(minutes=10))  # type: ignore[attr-defined]
        await h.services.scheduler.run_due()
    [card] = h.fake.channel_messages(thread.id)
    assert card["embeds"][0]["title"] == h.t("fr", "matching.space.title", title="Développement")
    assert "Vic" in str(card["embeds"][0]["fields"])
    assert [c for c in h.fake.channels.values() if c.type == PRIVATE_THREAD] == [thread]
    async with h.services.db.transaction() as session:
        [post] = list(await session.scalars(select(Post).where(Post.feature == "matching.space")))
    assert (post.channel_id, post.message_id, post.member_id) == (str(thread.id), card["id"], None)


def slow_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proposal takes 0.8 s to be stored (a slow disk, another process's write lock)."""
    import asyncio

    from cogs.matching import _store

    store_proposal = _store.store_proposal

    async def slow(*args: object, **kwargs: object) -> None:
        await asyncio.sleep(0.8)
        await store_proposal(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_store, "store_proposal", slow)


async def test_invite_clicked_before_its_proposal_is_stored_waits_for_it(
    discord_harness: DiscordHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proposal is stored after the answer went out (a slow disk, another process's write lock
    delay it): an Invite clicked meanwhile waits for it instead of saying it is gone."""


    h = discord_harness
    slow_store(monkeypatch)
    await seed(h, "Vic", trades=("Développement",), skills=("Python",))
    answer = await h.fake.invoke_slash(h.guild, h.member, "match", {"trades": "Développement"})
    assert answer.original is not None
    clicked = await answered(await h.fake.click(answer.original, buttons(answer.original)[
        h.t("fr", "matching.card.invite")], h.member, timeout=8))
    assert h.t("fr", "matching.invite.sent", names="Vic") in texts_of(clicked), texts_of(clicked)


async def test_a_team_asked_for_in_a_thread_gets_its_private_space_in_the_thread_s_channel(
    discord_harness: DiscordHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/match run in a thread (no missions channel set): the team's private thread was asked for inside
    that thread, which Discord refuses (400, 50024: no thread in a thread), so the requester was told it
    failed, and each Invite this team retried the same refused call. It opens in the thread's channel."""
    from tests.fakes.discord_payloads import DiscordError

    h = discord_harness
    fake = h.fake
    create_thread = fake._create_thread

    async def like_discord(r: Any, cid: str, mid: str | None = None) -> tuple[int, Any]:
        if fake._channel(cid).is_thread:
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        return await create_thread(r, cid, mid)

    routes = [(method, pattern, like_discord if handler == create_thread else handler)
              for method, pattern, handler in fake._routes]
    monkeypatch.setattr(fake, "_routes", routes)
    general = next(c for c in h.guild.channels if c.name == "général")
    thread = h.guild.add_channel("un fil", type=11, parent_id=general.id)
    thread.owner_id = h.member.id
    fake.channels_add(thread)
    vic = await seed(h, "Vic", trades=("Développement",))

    answer = await fake.invoke_slash(h.guild, h.member, "match", {"trades": "Développement"}, channel=thread)
    assert answer.original is not None
    await press(h, answer.original, "matching.card.invite", h.member)
    await press(h, only(fake.dm_messages(vic)), "matching.invitation.accept", vic)

    [space] = [c for c in fake.channels.values() if c.type == PRIVATE_THREAD]
    assert space.parent_id == general.id
    assert space.members == [h.member.id, vic.id]
    told = [m["embeds"][0]["title"] for m in fake.dm_messages(h.member) if m.get("embeds")]
    assert h.t("fr", "matching.invite.opened", names="Vic") in told
    assert h.t("fr", "matching.invite.failed") not in told


async def test_the_pack_autocomplete_offers_the_default_packs_until_they_are_written(
    discord_harness: DiscordHarness,
) -> None:
    """A new server: `/match pack:Site vitrine` works (the default packs), but typing in the pack option
    suggested nothing: the autocomplete read only the packs table, written on the first /config pack."""
    from sqlalchemy import delete, select

    from cogs.config._packs import ensure_default_packs
    from cogs.config.models import Pack
    from storage.models import Community, Trade

    h = discord_harness

    async def offered(typed: str) -> list[str]:
        answer = await h.fake.autocomplete(h.guild, h.member, "match", {"pack": typed}, "pack", timeout=3)
        return [c["value"] for c in (answer.callback.get("data") or {}).get("choices") or []]

    assert await offered("") == ["Site vitrine", "Identité visuelle"]
    assert await offered("ident") == ["Identité visuelle"]
    async with h.services.db.transaction() as session:
        cid = await session.scalar(select(Community.id).where(Community.external_id == str(h.guild.id)))
        assert cid is not None
        await session.execute(delete(Trade).where(  # a default pack none of whose trades exists: not offered
            Trade.community_id == cid, Trade.name.in_(("Design graphique", "Rédaction web", "Photographie"))))
    assert await offered("") == ["Site vitrine"]
    async with h.services.db.transaction() as session:
        await ensure_default_packs(session, cid, "fr")  # a first /config pack writes them
        await session.execute(delete(Pack).where(Pack.community_id == cid))  # then removes them all
    assert await offered("") == []  # a removed default pack does not come back


async def test_invite_clicked_in_another_process_before_its_proposal_is_stored_waits_for_it(
    discord_harness: DiscordHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes (HTTP behind a balancer, shards): the click reaches one that did not answer the
    /match, so it has nothing of its own to wait for: it looks for the fresh card's proposal."""

    from cogs.matching import _match

    h = discord_harness
    slow_store(monkeypatch)
    await seed(h, "Vic", trades=("Développement",), skills=("Python",))
    answer = await h.fake.invoke_slash(h.guild, h.member, "match", {"trades": "Développement"})
    assert answer.original is not None
    monkeypatch.setattr(_match, "_storing", {})  # what this process knows of it: nothing, as another's
    clicked = await answered(await h.fake.click(answer.original, buttons(answer.original)[
        h.t("fr", "matching.card.invite")], h.member, timeout=8))
    assert h.t("fr", "matching.invite.sent", names="Vic") in texts_of(clicked), texts_of(clicked)
