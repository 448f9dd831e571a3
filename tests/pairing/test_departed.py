"""Who left, as the Discord notifier tells: Unknown Member or Unknown User; anything unsure keeps them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import aiohttp
import discord

from bot.discord_bot.notifier import DiscordNotifier


def http_error(kind: type[discord.HTTPException], status: int, code: int) -> discord.HTTPException:
    response = SimpleNamespace(status=status, reason="x")
    return kind(response, {"code": code, "message": "x"})


async def test_only_an_unknown_member_or_user_counts_as_gone() -> None:
    answers: dict[str, BaseException | None] = {
        "1": None,  # still a member
        "2": http_error(discord.NotFound, 404, 10007),  # Unknown Member: left or removed
        "3": http_error(discord.NotFound, 404, 10013),  # Unknown User: account deleted
        "4": http_error(discord.HTTPException, 500, 0),  # Discord unwell: not a reason to drop them
        "5": aiohttp.ClientConnectionError("reset"),
        "6": http_error(discord.NotFound, 404, 10004),  # Unknown Guild: not about the member
    }
    asked: list[tuple[str, str]] = []

    async def get_member(guild_id: str, user_id: str) -> dict[str, Any]:
        asked.append((guild_id, user_id))
        error = answers[user_id]
        if error is not None:
            raise error
        return {"user": {"id": user_id}}

    notifier = DiscordNotifier(SimpleNamespace(http=SimpleNamespace(get_member=get_member)))  # type: ignore[arg-type]
    gone = await notifier.departed("42", ["1", "2", "3", "4", "5", "6", "2", "not-a-snowflake"])
    assert gone == {"2", "3"}
    assert sorted(u for _, u in asked) == ["1", "2", "3", "4", "5", "6"]  # once each; a bad id not sent
    assert {g for g, _ in asked} == {"42"}
