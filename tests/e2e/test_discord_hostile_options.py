"""Every free-text slash option, hostile values; answers must be localized, ephemeral, short."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.e2e.conftest import DiscordHarness

HOSTILE = {
    "long": "é" * 6000,
    "everyone": "@everyone @here <@&1> <@1> <#1> <t:0:R>",
    "link": "[clique](javascript:alert(1)) ||x||",
    "rtl": "\u202eevil\u202c مرحبا 🧑🏽‍💻",
}


def walk(options: list[dict[str, Any]], path: list[str]) -> list[tuple[list[str], list[dict[str, Any]]]]:
    out = []
    subs = [o for o in options if o["type"] in (1, 2)]
    if not subs:
        return [(path, options)]
    for sub in subs:
        out += walk(sub.get("options") or [], [*path, sub["name"]])
    return out


def default(option: dict[str, Any]) -> Any:
    if option.get("choices"):
        return option["choices"][0]["value"]
    return {3: "x", 4: max(1, option.get("min_value", 1)), 5: False}.get(option["type"])


def cases(h: DiscordHarness) -> list[tuple[str, dict[str, Any], str]]:
    found = []
    for command in h.fake.commands.get(None) or []:
        if command.get("type", 1) != 1:
            continue
        for path, options in walk(command.get("options") or [], [command["name"]]):
            free = [o for o in options if o["type"] == 3 and not o.get("choices")]
            required = {o["name"]: default(o) for o in options if o.get("required")}
            if any(v is None for v in required.values()):
                continue  # needs a user / channel / attachment
            for option in free:
                for label, value in HOSTILE.items():
                    limit = option.get("max_length", 6000)
                    typed = value[:limit]
                    found.append((" ".join(path), {**required, option["name"]: typed}, label))
    return found


async def test_every_free_text_option_gets_a_localized_short_answer(
    discord_harness: DiscordHarness, caplog: pytest.LogCaptureFixture
) -> None:
    h = discord_harness
    caplog.set_level(logging.ERROR)
    unexpected = h.t("fr", "errors.unexpected", error_id="XX").split("XX")[0]
    failures = []
    for name, options, label in cases(h):
        if name.startswith(("config import", "privacy delete")):
            continue
        caplog.clear()
        try:
            answer = await h.fake.invoke_slash(h.guild, h.moderator, name, options, timeout=4)
        except TimeoutError:
            failures.append((name, label, list(options), "no answer"))
            continue
        texts = [answer.content, *[e.get("description") or "" for e in answer.embeds]]
        if not answer.callbacks or answer.response_type not in (4, 5, 9):
            failures.append((name, label, "type", answer.callbacks[:1]))
        elif answer.response_type != 9 and not answer.ephemeral:
            failures.append((name, label, "public answer", answer.content[:80]))
        elif any(unexpected in t for t in texts) or [r for r in caplog.records if r.levelno >= logging.ERROR]:
            failures.append((name, label, "unexpected", answer.content[:200],
                             [r.getMessage()[:200] for r in caplog.records]))
        elif "errors.generic" in answer.content or h.t("fr", "errors.generic") == answer.content:
            failures.append((name, label, "generic", answer.content[:200]))
    assert not failures, "\n".join(map(str, failures))
