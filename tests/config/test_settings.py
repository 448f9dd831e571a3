"""Scalar settings: validated, audited, posted to the modlog, versioned so nothing is overwritten silently."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.errors import InvalidInput, UserError
from cogs.config._context import run
from cogs.config._settings import set_setting, update_settings
from cogs.config.models import AuditEntry
from storage.models import Community, Job
from storage.settings import get_settings
from tests.config.conftest import INTROS, MODLOG, NamedDirectory, directory_a, make_caller, snapshot
from tests.fakes.notifier import RecordingNotifier


async def _settings(services, caller):
    async with services.db.transaction() as s:
        return await get_settings(s, caller.community_id)


async def _audit(services, caller) -> list[AuditEntry]:
    async with services.db.transaction() as s:
        return list(
            await s.scalars(
                select(AuditEntry)
                .where(AuditEntry.community_id == caller.community_id)
                .order_by(AuditEntry.id)
            )
        )


async def test_setting_a_channel_is_stored_audited_and_versioned(config_services, mod, notifier):
    before = (await _settings(config_services, mod)).version
    card = await run(config_services, mod, set_setting, "channel.intros", f"<#{INTROS}>")
    row = await _settings(config_services, mod)
    assert row.intro_channel_id == INTROS
    assert row.version == before + 1
    assert "Salon des présentations" in card.fields[0].name
    [entry] = await _audit(config_services, mod)
    assert (entry.setting, entry.old_value, entry.new_value, entry.actor_name) == (
        "channel.intros",
        "",
        INTROS,
        "User mod-a",
    )
    assert entry.actor_member_id == mod.member_id
    assert notifier.posts == []  # no moderation log channel yet


async def test_changes_are_posted_to_the_moderation_log_in_the_community_language(
    config_services, mod, notifier
):
    await run(config_services, mod, set_setting, "channel.modlog", MODLOG)
    await run(config_services, mod, set_setting, "timezone", "america/montreal")
    assert [p[1] for p in notifier.posts] == [MODLOG, MODLOG]
    card = notifier.posts[-1][2]
    assert card.title == "Réglages de Collectif modifiés"
    assert "Fuseau horaire : Europe/Paris → America/Montreal" in card.text
    assert "User mod-a" in card.text


async def test_without_a_notifier_the_audit_row_is_kept(config_services, mod):
    await run(config_services, mod, set_setting, "channel.modlog", MODLOG)
    await run(config_services, mod, set_setting, "locale", "en")
    assert [e.setting for e in await _audit(config_services, mod)] == ["channel.modlog", "locale"]
    async with config_services.db.transaction() as s:
        assert (await s.get(Community, mod.community_id)).locale == "en"


@pytest.mark.parametrize(
    ("name", "raw", "column", "expected"),
    [
        ("locale", "EN", "locale", "en"),
        ("locale", "fr-FR", "locale", "fr"),
        ("timezone", "Europe/London", "timezone", "Europe/London"),
        ("reminders", "24h, 1h", "reminder_offsets_minutes", [1440, 60]),
        ("reminders", "24 h, 1 h", "reminder_offsets_minutes", [1440, 60]),
        ("reminders", "30m, 2d, 1h30", "reminder_offsets_minutes", [2880, 90, 30]),
        ("limit.missions_per_week", "5", "missions_per_week", 5),
        ("limit.feedback_per_week", 1, "feedback_per_week", 1),
        ("limit.intro_repost_days", "0", "intro_repost_days", 0),
        ("purge_grace_days", "7", "purge_grace_days", 7),
        ("moderators.role", "<@&300000000000000001>", "moderator_role_id", "300000000000000001"),
        ("channel.intros", "#presentations", "intro_channel_id", INTROS),
    ],
)
async def test_valid_values(config_services, mod, name, raw, column, expected):
    await run(config_services, mod, set_setting, name, raw, directory=directory_a())
    row = await _settings(config_services, mod)
    async with config_services.db.transaction() as s:
        community = await s.get(Community, mod.community_id)
    assert getattr(community if column in ("locale", "timezone") else row, column) == expected


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("channel.intros", "#nowhere", "salon inconnu « #nowhere »"),
        ("channel.intros", "not a channel", "salon inconnu"),
        ("locale", "de", "« de » n’est pas une langue prise en charge"),
        ("timezone", "Europe/Lyon", "« Europe/Lyon » n’est pas un fuseau horaire"),
        ("timezone", "", "n’est pas un fuseau horaire"),
        ("reminders", "2m", "entre 5 minutes et 14 jours"),
        ("reminders", "15d", "entre 5 minutes et 14 jours"),
        ("reminders", "1h, 2h, 3h, 4h, 5h, 6h", "5 rappels au plus"),
        ("reminders", "24", "a besoin d’une unité"),
        ("reminders", "24 lunes", "« lunes » dans « 24 lunes » n’est pas une unité"),
        ("reminders", "", "indiquez 1 à 5 délais"),
        ("limit.missions_per_week", "0", "entre 1 et 50"),
        ("limit.missions_per_week", "many", "entre 1 et 50"),
        ("purge_grace_days", "1000", "entre 1 et 365"),
        ("moderators.role", "@Nobody", "rôle inconnu"),
    ],
)
async def test_bad_values_are_refused_with_a_localized_reason_and_nothing_changes(
    config_services, mod, name, raw, message
):
    before = await snapshot(config_services)
    with pytest.raises(InvalidInput) as caught:
        await run(config_services, mod, set_setting, name, raw, directory=directory_a())
    [(key, params)] = caught.value.problems.values()
    text = config_services.t("fr", key, **params)
    assert message in text
    assert await snapshot(config_services) == before


async def test_platform_specific_settings_are_refused_elsewhere(config_services, mod):
    with pytest.raises(InvalidInput) as caught:
        await run(config_services, mod, set_setting, "moderators.users", "U123")
    [(key, _)] = caught.value.problems.values()
    assert key == "config.errors.unknown_setting"


async def test_same_value_changes_nothing(config_services, mod):
    await run(config_services, mod, set_setting, "timezone", "Europe/Paris")
    assert await _audit(config_services, mod) == []
    assert (await _settings(config_services, mod)).version == 1


async def test_the_modal_applies_all_fields_or_none(config_services):
    admin = await make_caller(config_services, "UADMIN", guild="T1", platform="slack")
    before = await snapshot(config_services)
    with pytest.raises(InvalidInput) as caught:
        await run(
            config_services,
            admin,
            update_settings,
            {"timezone": "Europe/Berlin", "reminders": "99d", "moderators.users": ["U1", "nope"]},
        )
    assert set(caught.value.problems) == {"reminders", "moderators.users"}
    assert await snapshot(config_services) == before
    version = (await _settings(config_services, admin)).version
    await run(
        config_services,
        admin,
        update_settings,
        {
            "timezone": "Europe/Berlin",
            "reminders": "2d, 1h",
            "moderators.users": ["U1", "<@U2|bob>"],
            "moderators.usergroup": "<!subteam^S123|mods>",
        },
        expected_version=version,
    )
    row = await _settings(config_services, admin)
    assert (row.reminder_offsets_minutes, row.moderator_user_ids, row.moderator_usergroup_id) == (
        [2880, 60],
        ["U1", "U2"],
        "S123",
    )
    assert row.version == version + 1  # one compare-and-set for the whole form


async def test_a_stale_form_is_refused_instead_of_overwriting(config_services, mod):
    seen = (await _settings(config_services, mod)).version
    await run(config_services, mod, update_settings, {"timezone": "Europe/London"}, expected_version=seen)
    with pytest.raises(UserError) as caught:
        await run(config_services, mod, update_settings, {"timezone": "Europe/Berlin"}, expected_version=seen)
    assert caught.value.key == "config.errors.conflict"
    async with config_services.db.transaction() as s:
        assert (await s.get(Community, mod.community_id)).timezone == "Europe/London"
    assert [e.new_value for e in await _audit(config_services, mod)] == ["Europe/London"]


async def test_two_moderators_changing_a_setting_at_once_never_overwrite_silently(any_db, clock, settings):
    from bot.config import Secrets
    from bot.services import Services

    services = Services.build(settings, Secrets(), clock=clock, db=any_db)
    first = await make_caller(services, "mod-1")
    second = await make_caller(services, "mod-2")
    seen = (await _settings(services, first)).version
    results = await asyncio.gather(
        run(services, first, update_settings, {"limit.missions_per_week": 4}, expected_version=seen),
        run(services, second, update_settings, {"limit.missions_per_week": 9}, expected_version=seen),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, UserError)]
    assert len(refused) == 1 and refused[0].key == "config.errors.conflict"
    row = await _settings(services, first)
    [entry] = await _audit(services, first)
    assert str(row.missions_per_week) == entry.new_value  # the stored value is the audited one
    assert row.version == seen + 1
    await services.scheduler.stop()


async def test_the_moderator_role_and_listed_members_make_moderators(config_services, mod):
    role = "300000000000000001"
    await run(config_services, mod, set_setting, "moderators.role", role, directory=directory_a())
    with_role = await make_caller(config_services, "someone", moderator=False, roles=(role,))
    without = await make_caller(config_services, "other", moderator=False, roles=("300000000000000099",))
    assert with_role.is_moderator and not without.is_moderator

    admin = await make_caller(config_services, "UADMIN", guild="T1", platform="slack")
    await run(
        config_services, admin, update_settings, {"moderators.users": "U7", "moderators.usergroup": "S9"}
    )
    assert (
        await make_caller(config_services, "U7", guild="T1", platform="slack", moderator=False)
    ).is_moderator
    in_group = await make_caller(
        config_services, "U8", guild="T1", platform="slack", moderator=False, roles=("S9",)
    )
    assert in_group.is_moderator
    assert not (
        await make_caller(config_services, "U9", guild="T1", platform="slack", moderator=False)
    ).is_moderator


async def test_members_of_the_slack_moderator_group_are_moderators(config_services):
    from cogs.config._settings import set_usergroup_members

    admin = await make_caller(config_services, "UADMIN", guild="T1", platform="slack")
    await run(config_services, admin, set_setting, "moderators.usergroup", "S1")
    async with config_services.db.transaction() as s:
        assert await set_usergroup_members(s, admin.community_id, "S1", ["U5", "U6"])
        assert not await set_usergroup_members(s, admin.community_id, "S2", ["U7"])  # not the group
    assert (
        await make_caller(config_services, "U5", guild="T1", platform="slack", moderator=False)
    ).is_moderator
    assert not (
        await make_caller(config_services, "U7", guild="T1", platform="slack", moderator=False)
    ).is_moderator
    await run(config_services, admin, set_setting, "moderators.usergroup", "none")
    assert not (
        await make_caller(config_services, "U5", guild="T1", platform="slack", moderator=False)
    ).is_moderator


class _GroupNotifier(RecordingNotifier):
    """Slack listing the moderators' group (U-MOD1 removed from it), or failing while `down`."""

    def __init__(self) -> None:
        super().__init__(platform="slack")
        self.down = True
        self.asked = 0

    async def usergroup_members(self, community_external_id: str, group: str) -> list[str] | None:
        self.asked += 1
        if self.down:
            raise TimeoutError("slack.com unreachable")
        return ["U-MOD2"]


async def _group_changed_while_slack_fails(services, slack: _GroupNotifier) -> int:
    """The moderators' group set and copied, then changed on Slack while Slack fails (refresh queued)."""
    from cogs.config._usergroup import queue_refresh, register_jobs

    services.notifiers["slack"] = slack
    await register_jobs(services)
    mod = await make_caller(services, "U-MOD1", guild="T1", platform="slack")
    async with services.db.transaction() as s:
        settings = await get_settings(s, mod.community_id)
        settings.moderator_usergroup_id = "S1"
        settings.moderator_usergroup_user_ids = ["U-MOD1", "U-MOD2"]
    await queue_refresh(services, mod.community_id)  # as refresh_usergroup does on subteam_members_changed
    return mod.community_id


async def _sweeps(services, clock, every: timedelta, count: int) -> None:
    for _ in range(count):
        clock.advance(every)
        await services.scheduler.run_due()


@pytest.mark.parametrize("outage", [timedelta(minutes=30), timedelta(hours=5)])
async def test_the_moderator_group_is_copied_again_after_a_slack_outage(config_services, clock, outage):
    """Before, the refresh job had the default retry (1, 2, 4, 8 minutes): failed after a quarter of an
    hour of outage, and a member removed from the group stayed a moderator until the group changed again."""
    slack = _GroupNotifier()
    community = await _group_changed_while_slack_fails(config_services, slack)
    await _sweeps(config_services, clock, timedelta(minutes=1), int(outage / timedelta(minutes=1)))
    slack.down = False
    await _sweeps(config_services, clock, timedelta(minutes=15), 3 * 4)
    async with config_services.db.transaction() as s:
        assert (await get_settings(s, community)).moderator_usergroup_user_ids == ["U-MOD2"], slack.asked


async def test_the_moderator_group_is_not_asked_for_ever_when_slack_keeps_failing(config_services, clock):
    """One chain of refreshes per community, given up after a day: an error that lasts is no outage."""
    from cogs.config._usergroup import REFRESH, queue_refresh

    slack = _GroupNotifier()
    community = await _group_changed_while_slack_fails(config_services, slack)
    clock.advance(timedelta(minutes=3))
    await queue_refresh(config_services, community)  # the group changed again: a second chain

    async def waiting() -> int:
        query = select(func.count()).where(Job.kind == REFRESH, Job.state == "pending")
        async with config_services.db.transaction() as s:
            return int(await s.scalar(query) or 0)

    await _sweeps(config_services, clock, timedelta(minutes=5), 4 * 12)
    assert await waiting() == 1  # the two chains went on as one
    await _sweeps(config_services, clock, timedelta(minutes=15), 2 * 24 * 4)
    assert await waiting() == 0
    assert slack.asked < 70, slack.asked  # five every two hours or so, for a day
    async with config_services.db.transaction() as s:
        assert (await get_settings(s, community)).moderator_usergroup_user_ids == ["U-MOD1", "U-MOD2"]


class _CountingDirectory(NamedDirectory):
    """Counts the channel lookups (on Slack each one is a conversations.info call)."""

    def __init__(self) -> None:
        super().__init__({INTROS: "presentations", MODLOG: "modlog"})
        self.lookups: list[str] = []

    async def channel(self, ref: str) -> str | None:
        self.lookups.append(ref)
        return await super().channel(ref)


async def test_the_form_does_not_look_up_the_channels_it_sends_back_unchanged(config_services, mod):
    await run(config_services, mod, set_setting, "channel.intros", INTROS, directory=directory_a())
    await run(config_services, mod, set_setting, "channel.modlog", MODLOG, directory=directory_a())
    directory = _CountingDirectory()
    card = await run(
        config_services,
        mod,
        update_settings,
        {"channel.intros": INTROS, "channel.modlog": MODLOG, "channel.missions": None, "timezone": "UTC"},
        directory=directory,
    )
    assert directory.lookups == []
    assert len(card.fields) == 1  # only the time zone changed
    await run(config_services, mod, update_settings, {"channel.intros": MODLOG}, directory=directory)
    assert directory.lookups == [MODLOG]
    assert (await _settings(config_services, mod)).intro_channel_id == MODLOG
