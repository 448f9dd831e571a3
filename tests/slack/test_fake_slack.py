"""The fake Slack answers slack_sdk's real client the way Slack does (the notifier tests rely on it)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import BOT_TOKEN, FakeSlack


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    fake.add_user("UCAMILLE", "camille", locale="fr-FR", is_owner=True)
    yield fake
    await fake.stop()


@pytest.fixture
async def client(fake: FakeSlack) -> AsyncIterator[AsyncWebClient]:
    async with aiohttp.ClientSession() as session:
        yield AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_base_url, session=session)


async def test_tokens_users_and_messages(fake: FakeSlack, client: AsyncWebClient) -> None:
    assert (await client.auth_test())["team_id"] == fake.team_id
    other = AsyncWebClient(token="xoxb-other", base_url=fake.api_base_url, session=client.session)
    with pytest.raises(SlackApiError, match="invalid_auth"):
        await other.auth_test()
    user = (await client.users_info(user="UCAMILLE", include_locale=True))["user"]
    assert (user["locale"], user["is_owner"], user["is_admin"]) == ("fr-FR", True, False)
    assert "locale" not in (await client.users_info(user="UCAMILLE"))["user"]

    posted = await client.chat_postMessage(channel="CTRADE", text="hi", blocks=[{"type": "divider"}])
    assert fake.calls_to("chat.postMessage")[0].args["blocks"] == [{"type": "divider"}]
    await client.chat_update(channel="CTRADE", ts=posted["ts"], text="edited")
    assert fake.messages[("CTRADE", posted["ts"])]["text"] == "edited"
    await client.chat_delete(channel="CTRADE", ts=posted["ts"])
    with pytest.raises(SlackApiError, match="message_not_found"):
        await client.chat_delete(channel="CTRADE", ts=posted["ts"])
    fake.missing_channels.add("CGONE")
    with pytest.raises(SlackApiError, match="channel_not_found"):
        await client.chat_postMessage(channel="CGONE", text="x")
    with pytest.raises(SlackApiError, match="channel_not_found"):
        await client.conversations_info(channel="CGONE")
    assert (await client.conversations_info(channel="CTRADE"))["channel"]["is_member"] is True
    await client.chat_postEphemeral(channel="CTRADE", user="UCAMILLE", text="psst")


async def test_dms_views_and_file_uploads(fake: FakeSlack, client: AsyncWebClient) -> None:
    dm = (await client.conversations_open(users="UCAMILLE"))["channel"]["id"]
    assert dm == "DUCAMILLE"
    view = {"type": "modal", "title": {"type": "plain_text", "text": "t"}, "blocks": []}
    opened = (await client.views_open(trigger_id="1.trigger", view=view))["view"]
    await client.views_update(view_id=opened["id"], view=view)
    await client.views_publish(user_id="UCAMILLE", view={"type": "home", "blocks": []})
    assert [c.method for c in fake.calls][-3:] == ["views.open", "views.update", "views.publish"]

    result = await client.files_upload_v2(channel=dm, content=b'{"member": 1}', filename="export.json",
                                          title="Export")
    assert result["files"][0]["title"] == "Export"
    [file_id] = fake.uploads
    assert fake.uploads[file_id] == b'{"member": 1}'
    complete = fake.calls_to("files.completeUploadExternal")[0]
    assert complete.args["channel_id"] == dm
