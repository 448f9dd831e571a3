"""Files a member attaches to a slash command option, read by the bot while they last.

Discord marks a command's attachments ephemeral: removed after a while, their signed CDN URL
expiring too. What must last (a request's file, posted again with its card) or be read (a settings
file to import) is downloaded at once, after the interaction is deferred (a download may take longer
than Discord's 3 seconds), and bounded in size.
"""

from __future__ import annotations

import asyncio

import aiohttp
import discord

# What a failed download raises: Discord's CDN refusing or failing (HTTPException), the network.
DOWNLOAD_FAILED: tuple[type[BaseException], ...] = (discord.HTTPException, aiohttp.ClientError,
                                                    asyncio.TimeoutError)


async def download(file: discord.Attachment, max_bytes: int) -> bytes | None:
    """The file's bytes; None when it is larger than `max_bytes`, as Discord declares it or as read.

    A platform failure raises one of DOWNLOAD_FAILED (the caller tells the member to try again).
    """
    if file.size > max_bytes:
        return None
    data = await file.read()
    return None if len(data) > max_bytes else data
