"""Every autocomplete option, hostile typing; Discord takes 1-25 choices, names/values 1-100."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.e2e.conftest import DiscordHarness

TYPED = ["", "é" * 6000, "@everyone", "\u0000", "%", "_", "' OR 1=1 --", "ÉCOLE", "🧑🏽‍💻" * 50]


def autocompletes(h: DiscordHarness) -> list[tuple[str, dict[str, Any], str]]:
    found = []
    for command in h.fake.commands.get(None) or []:
        def walk(options: list[dict[str, Any]], path: list[str]) -> None:
            subs = [o for o in options if o["type"] in (1, 2)]
            for sub in subs:
                walk(sub.get("options") or [], [*path, sub["name"]])
            for option in options:
                if option.get("autocomplete"):
                    found.append((" ".join(path), option["name"]))
        walk(command.get("options") or [], [command["name"]])
    return found


async def test_every_autocomplete_answers_valid_choices(
    discord_harness: DiscordHarness, caplog: pytest.LogCaptureFixture
) -> None:
    h = discord_harness
    await h.fake.invoke_slash(h.guild, h.moderator, "config trade add", {"name": "x" * 50})
    await h.fake.invoke_slash(h.guild, h.moderator, "config sector add", {"name": "y" * 50})
    caplog.set_level(logging.ERROR)
    failures = []
    for name, option in autocompletes(h):
        for typed in TYPED:
            caplog.clear()
            try:
                answer = await h.fake.autocomplete(h.guild, h.moderator, name, {option: typed}, option,
                                                   timeout=3)
            except TimeoutError:
                failures.append((name, option, typed[:10], "no answer"))
                continue
            cb = answer.callback
            choices = (cb.get("data") or {}).get("choices")
            errors = [r.getMessage()[:200] for r in caplog.records]
            if cb.get("type") != 8 or choices is None or len(choices) > 25:
                failures.append((name, option, typed[:10], cb))
            elif any(not 1 <= len(c["name"]) <= 100 or len(str(c["value"])) > 100 or c["value"] == ""
                     for c in choices):
                failures.append((name, option, typed[:10], "bad choice", choices[:3]))
            elif errors:
                failures.append((name, option, typed[:10], errors))
    assert not failures, "\n".join(map(str, failures))
