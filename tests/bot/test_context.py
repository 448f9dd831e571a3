"""The caller's language: taken from the platform, remembered on the member row for later DMs."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.cards import Card
from bot.context import Caller, Origin
from bot.notifier import Attachment, PostRef
from bot.services import Services
from cogs.config._context import run
from cogs.config._moderation import remove_post
from storage.models import Member, Post

GUILD = "900000000000000001"


async def _call(services: Services, user: str, locale: str | None, *, admin: bool = False,
                platform: str = "discord") -> Caller:
    return await services.caller(Origin(
        platform=platform, community_external_id=GUILD, community_name="Collectif",
        user_id=user, display_name=f"User {user}", user_locale=locale, community_locale="fr",
        is_platform_admin=admin,
    ))


async def _stored_locale(services: Services, caller: Caller) -> str | None:
    async with services.db.transaction() as session:
        member = await session.get(Member, caller.member_id)
        assert member is not None
        return member.locale


@pytest.mark.parametrize(("given", "stored"), [("en-US", "en"), ("en-GB", "en"), ("fr", "fr"),
                                               ("fr_FR", "fr"), ("de", None), (None, None)])
async def test_first_contact_stores_the_supported_short_form(services, given, stored):
    caller = await _call(services, "u1", given)
    assert await _stored_locale(services, caller) == stored
    assert caller.locale == (stored or "fr")  # else the community's
    assert caller.community_locale == "fr"


async def test_the_last_known_language_is_kept_when_the_platform_does_not_say(services):
    first = await _call(services, "u1", "en-US")
    silent = await _call(services, "u1", None, platform="discord")  # e.g. a Slack profile not fetched
    unsupported = await _call(services, "u1", "pt-BR")
    assert first.member_id == silent.member_id == unsupported.member_id
    assert silent.locale == unsupported.locale == "en"
    assert await _stored_locale(services, unsupported) == "en"

    switched = await _call(services, "u1", "fr")
    assert switched.locale == "fr"  # at once; stored after the answer
    await services.settle()
    assert await _stored_locale(services, switched) == "fr"


@dataclass
class DMs:
    platform: str = "discord"
    sent: list[tuple[str, Card]] = field(default_factory=list)

    async def post(self, community_external_id: str, channel_id: str, card: Card) -> PostRef | None:
        return None

    async def edit(self, community_external_id: str, ref: PostRef, card: Card) -> bool:
        return True

    async def delete(self, community_external_id: str, ref: PostRef) -> bool:
        return True

    async def dm(self, community_external_id: str, user_id: str, card: Card,
                 attachment: Attachment | None = None) -> PostRef | None:
        self.sent.append((user_id, card))
        return PostRef("dm", "1")


@pytest.mark.parametrize(("author_locale", "title"), [
    ("en-GB", "Your post was removed"),
    (None, None),  # language never seen: the community's (French)
])
async def test_a_dm_sent_later_goes_out_in_the_members_language(services, author_locale, title):
    dms = DMs()
    services.notifiers["discord"] = dms
    author = await _call(services, "author", author_locale)
    moderator = await _call(services, "mod", "fr", admin=True)
    async with services.db.transaction() as session:
        session.add(Post(community_id=author.community_id, member_id=author.member_id, feature="intros",
                         object_id=1, channel_id="10", message_id="20", posted_at=services.clock.now()))

    await run(services, moderator, remove_post, "10", "20", "spam")

    [(user, card)] = dms.sent
    assert user == "author"
    expected = title or services.t("fr", "config.removed.title")
    assert card.title == expected
    assert expected != services.t("en" if title is None else "fr", "config.removed.title")
