"""An import renaming or rebinding a trade: the intro cards already posted follow, as after the commands.

`/config trade rename` refreshes the cards showing the trade; an import renaming it (by case) or binding
it to another channel must too, or the cards keep the old name, or stay out of the new channel.
"""

from __future__ import annotations

from bot.services import Services
from cogs.config._context import run as config_run
from cogs.config._transfer import export_settings, import_settings
from cogs.intros._publish import register_jobs
from tests.config.conftest import NamedDirectory
from tests.config.test_trade_cards import _moderator, _names, _trades_field
from tests.fakes.notifier import RecordingNotifier
from tests.intros.conftest import alice, notifier  # noqa: F401  (fixtures)
from tests.intros.test_publish import configure, submit


class _ById(NamedDirectory):
    """Channels typed by id are this server's ("C-T3", "C-NEW")."""

    async def channel(self, ref: str) -> str | None:
        return ref.strip() or None


async def _import(services: Services, edit) -> None:
    mod = await _moderator(services)
    exported = await config_run(services, mod, export_settings, write=False)
    await config_run(services, mod, import_settings, edit(exported.content.decode()), directory=_ById({}))
    await services.scheduler.run_due()


async def test_an_import_renaming_a_trade_by_case_edits_its_intro_cards(
    services: Services, notifier: RecordingNotifier, alice  # noqa: F811
) -> None:
    register_jobs(services)
    trades = await configure(services, alice)
    await submit(services, alice)  # trades[2] and trades[3]
    old = (await _names(services))[trades[2]]
    posted = len(notifier.posts)

    await _import(services, lambda text: text.replace(f'"{old}"', f'"{old.upper()}"'))

    assert (await _names(services))[trades[2]] == old.upper()
    for channel in ("C-INTRO", f"C-T{trades[2]}", f"C-T{trades[3]}"):
        assert old.upper() in _trades_field(notifier, channel), channel
    assert len(notifier.posts) == posted  # edited in place


async def test_an_import_binding_a_trade_to_another_channel_moves_its_intro_card(
    services: Services, notifier: RecordingNotifier, alice  # noqa: F811
) -> None:
    register_jobs(services)
    trades = await configure(services, alice)
    await submit(services, alice)  # trades[2] and trades[3]
    name = (await _names(services))[trades[3]]

    await _import(services, lambda text: text.replace(f'"C-T{trades[3]}"', '"C-NEW"'))

    assert name in _trades_field(notifier, "C-NEW")
