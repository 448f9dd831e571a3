"""What pooling registers when the bot starts: its scheduler job kinds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.pooling import _payments, _pools, _rota

if TYPE_CHECKING:
    from bot.services import Services


def register_jobs(services: Services) -> None:
    _pools.register_jobs(services)
    _payments.register_jobs(services)
    _rota.register_jobs(services)


async def on_start(services: Services) -> None:
    register_jobs(services)
