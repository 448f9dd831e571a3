"""every routed custom_id, forged (unknown ids, huge ids), clicked in a guild and in a DM."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from tests.e2e.conftest import DiscordHarness
from tests.fakes.discord_payloads import FakeChannel, FakeUser, message_payload

SAMPLES = {"id": "999999999", "member": "999999999", "page": "1", "token": "0123456789abcdef",
           "trade": "999999999", "channel": "C1", "message": "999999999"}


def sample(pattern: str, value: str | None = None) -> str:
    text = pattern
    if text.startswith("(?:") and text.endswith(")"):
        text = text[3:-1]
    def named(m: re.Match[str]) -> str:
        name, body = m.group(1), m.group(2)
        if value is not None and name in ("id", "member", "trade"):
            return value
        if name in SAMPLES and "|" not in body:
            if name == "token" and "{8}" in body:
                return "0123abcd"
            return SAMPLES[name]
        return body.split("|")[0].strip("()")
    text = re.sub(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)", named, text)
    text = re.sub(r"\(\?:(:?)\(\?P.*?\)\)\?", "", text)  # optional parts dropped
    text = re.sub(r"\(\?::[^)]*\)\?", "", text)
    text = text.replace("\\.", ".")
    text = re.sub(r"\[12\]", "1", text)
    return text


def dm_message(h: DiscordHarness, user: FakeUser) -> dict[str, Any]:
    existing = next((c for c in h.fake.channels.values() if c.type == 1 and c.recipient is user), None)
    channel = existing or h.fake.channels_add(FakeChannel(name="", guild_id=None, type=1, recipient=user))
    message = message_payload(channel=channel, channel_id=channel.id, author=h.fake.bot_user, body={})
    h.fake.messages[int(message["id"])] = message
    return message


def guild_message(h: DiscordHarness) -> dict[str, Any]:
    channel = h.guild.default_channel
    message = message_payload(channel=channel, channel_id=channel.id, author=h.fake.bot_user, body={})
    h.fake.messages[int(message["id"])] = message
    return message


async def send(h: DiscordHarness, kind: str, custom_id: str, user: FakeUser, message: dict[str, Any],
               in_dm: bool) -> Any:
    if kind == "action":
        return await h.fake.click(message, custom_id, user, timeout=4)
    if kind == "select":
        return await h.fake.choose(message, custom_id, ["1"], user, timeout=4)
    if in_dm:
        channel = h.fake.channels[int(message["channel_id"])]
        fields = [{"type": 1, "components": [{"type": 4, "custom_id": "text", "value": "x"}]}]
        payload = h.fake._interaction_payload(5, None, user, None, channel,
                                              {"custom_id": custom_id, "components": fields})
        payload["message"] = message
        return await h.fake._send_interaction(payload, None, True, 4)
    return await h.fake.submit_modal(h.guild, user, custom_id, {"text": "x", "note": "x", "toml": "x"},
                                     message=message, timeout=4)


@pytest.mark.parametrize("where", ["guild", "dm"])
@pytest.mark.parametrize("value", ["999999999", "0"])
async def test_forged_custom_ids_get_a_localized_answer(
    discord_harness: DiscordHarness, caplog: pytest.LogCaptureFixture, where: str, value: str
) -> None:
    h = discord_harness
    await h.fake.invoke_slash(h.guild, h.member, "help")
    router = h.bot.router
    routes = [("action", p) for p, _ in router.actions] + [("select", p) for p, _ in router.selects] + [
        ("modal", p) for p, _ in router.modals]
    unexpected = h.t("fr", "errors.unexpected", error_id="XX").split("XX")[0]
    failures = []
    for kind, pattern in routes:
        custom_id = sample(pattern.pattern, value)
        assert pattern.fullmatch(custom_id), (pattern.pattern, custom_id)
        message = dm_message(h, h.member) if where == "dm" else guild_message(h)
        caplog.clear()
        caplog.set_level(logging.WARNING)
        try:
            answer = await send(h, kind, custom_id, h.member, message, where == "dm")
        except TimeoutError:
            failures.append((custom_id, "no answer"))
            continue
        texts = [*answer.all_texts(), *[e.get("description") or "" for e in answer.embeds]]
        errors = [r.getMessage()[:300] for r in caplog.records if r.levelno >= logging.ERROR]
        if errors or any(unexpected in t for t in texts):
            failures.append((custom_id, "unexpected", errors[:1]))
        elif answer.callbacks[0].get("type") in (4, 5) and not answer.ephemeral:
            failures.append((custom_id, "public", answer.content[:80]))
    assert not failures, "\n".join(map(str, failures))
