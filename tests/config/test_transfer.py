"""/config export and import: a setup copied between servers; a bad file changes nothing and says why."""

from __future__ import annotations

import tomllib

import pytest
from sqlalchemy import select

from bot.errors import InvalidInput
from cogs.config._context import run
from cogs.config._packs import packs
from cogs.config._settings import set_setting
from cogs.config._trades import add_trade, bind_trade, remove_trade
from cogs.config._transfer import export_settings, import_settings
from cogs.intros.models import Profile, ProfileTrade
from storage.communities import sectors, trades
from storage.models import Community, Trade
from storage.settings import get_settings
from tests.config.conftest import DEV, INTROS, MODLOG, NamedDirectory, directory_a, make_caller, snapshot

B_INTROS, B_DEV, B_MODLOG = "110000000000000001", "110000000000000003", "110000000000000002"


def directory_b() -> NamedDirectory:
    return NamedDirectory(
        {B_INTROS: "presentations", B_MODLOG: "modlog", B_DEV: "dev"}, {"310000000000000001": "Modos"}
    )


async def _state(services, caller):
    async with services.db.transaction() as s:
        row = await get_settings(s, caller.community_id)
        community = await s.get(Community, caller.community_id)
        return {
            "channels": (row.intro_channel_id, row.modlog_channel_id),
            "locale": community.locale,
            "timezone": community.timezone,
            "reminders": row.reminder_offsets_minutes,
            "limits": (row.missions_per_week, row.intro_repost_days),
            "role": row.moderator_role_id,
            "trades": [(t.name, t.channel_id) for t in await trades(s, caller.community_id)],
            "sectors": [x.name for x in await sectors(s, caller.community_id)],
            "packs": await packs(s, caller.community_id, community.locale),
        }


async def test_export_then_import_in_another_server(config_services, mod, mod_b):
    a = directory_a()
    await run(config_services, mod, set_setting, "channel.intros", INTROS, directory=a)
    await run(config_services, mod, set_setting, "channel.modlog", MODLOG, directory=a)
    await run(config_services, mod, set_setting, "reminders", "2d, 1h30", directory=a)
    await run(config_services, mod, set_setting, "timezone", "America/Montreal")
    await run(config_services, mod, set_setting, "moderators.role", "@Modos", directory=a)
    await run(config_services, mod, add_trade, "Illustration")
    await run(config_services, mod, remove_trade, "Conseil")
    await run(config_services, mod, bind_trade, "Développement", "#dev", directory=a)
    exported = await run(config_services, mod, export_settings, directory=a)
    data = tomllib.loads(exported.content.decode())
    # By name, for another server; on Discord with the id beside (two channels may share a name).
    assert data["channels"]["intros"] == f"#presentations ({INTROS})"
    assert data["reminders"] == ["2d", "1h30m"]
    assert data["moderators"] == {"role": "@Modos (300000000000000001)"}
    assert {"name": "Développement", "channel": f"#dev ({DEV})"} in data["trades"]
    assert exported.filename == "collectif-guild-1.toml"

    card = await run(
        config_services, mod_b, import_settings, exported.content.decode(), directory=directory_b()
    )
    assert card.title == "Settings imported"
    mine, theirs = await _state(config_services, mod), await _state(config_services, mod_b)
    assert theirs["channels"] == (B_INTROS, B_MODLOG)
    assert theirs["role"] == "310000000000000001"
    assert ("Développement", B_DEV) in theirs["trades"]
    for key in ("locale", "timezone", "reminders", "limits", "sectors", "packs"):
        assert theirs[key] == mine[key], key
    assert [n for n, _ in theirs["trades"]] == [n for n, _ in mine["trades"]]


async def test_import_keeps_trades_members_use_and_leaves_missing_keys_alone(config_services, mod, member):
    async with config_services.db.transaction() as s:
        profile = Profile(community_id=mod.community_id, member_id=member.member_id)
        s.add(profile)
        await s.flush()
        trade_id = await s.scalar(
            select(Trade.id).where(Trade.community_id == mod.community_id, Trade.key == "conseil")
        )
        s.add(ProfileTrade(community_id=mod.community_id, profile_id=profile.id, trade_id=trade_id))
    before = await _state(config_services, mod)
    card = await run(
        config_services, mod, import_settings, 'trades = [{name = "Développement"}, {name = "Poterie"}]'
    )
    after = await _state(config_services, mod)
    assert [n for n, _ in after["trades"]] == ["Développement", "Poterie", "Conseil"]
    assert "Conseil" in card.text  # kept: a member uses it
    assert after["timezone"] == before["timezone"] and after["sectors"] == before["sectors"]


MALFORMED = [
    ("locale = ", "le fichier n’est pas du TOML valide"),
    ('colour = "blue"', "colour : clé inconnue"),
    ('locale = "de"', "locale : « de » n’est pas une langue prise en charge"),
    ('timezone = "Mars/Olympus"', "timezone : « Mars/Olympus » n’est pas un fuseau horaire"),
    ('reminders = ["1m"]', "reminders : chaque rappel doit être entre 5 minutes et 14 jours avant"),
    ('[channels]\nintros = "#nowhere"', "channels.intros : salon inconnu « #nowhere »"),
    ('[channels]\nlobby = "#dev"', "channels.lobby : clé inconnue"),
    ("[limits]\nmissions_per_week = 500", "limits.missions_per_week : un nombre entier entre 1 et 50"),
    ('[moderators]\nusers = ["U1"]', "moderators.users : clé inconnue"),  # a Slack key in Discord
    (f'trades = [{{name = "{"x" * 51}"}}]', "trades[0] : le nom fait 51 caractères"),
    ('trades = [{name = "Dev"}, {name = "DEV"}]', "trades[1] : « DEV » existe déjà"),
    ('sectors = "Mode"', "sectors : une liste est attendue"),
    (
        'packs = [{name = "Livre", trades = ["Illustration"]}]',
        "packs[0].trades[0] : le pack cite « Illustration »",
    ),
    (
        'trades = [{name = "Dev"}]\npacks = [{name = "P", trades = ["Développement"]}]',
        "packs[0].trades[0] : le pack cite « Développement »",
    ),  # not among the file's trades
    ("format = 2", "format : format non pris en charge"),
]


@pytest.mark.parametrize(("text", "message"), MALFORMED)
async def test_a_bad_file_changes_nothing_and_says_what_is_wrong(config_services, mod, text, message):
    good_part = "purge_grace_days = 10\n"
    before = await snapshot(config_services)
    with pytest.raises(InvalidInput) as caught:
        await run(config_services, mod, import_settings, good_part + text, directory=directory_a())
    texts = [config_services.t("fr", k, **p) for k, p in caught.value.problems.values()]
    assert any(message in t for t in texts), texts
    assert await snapshot(config_services) == before


async def test_all_problems_are_listed_at_once(config_services, mod):
    with pytest.raises(InvalidInput) as caught:
        await run(config_services, mod, import_settings, 'locale = "de"\ntimezone = "x"\nfoo = 1')
    assert set(caught.value.problems) == {"locale", "timezone", "foo"}


async def test_an_exported_file_reimports_unchanged(config_services, mod):
    exported = await run(config_services, mod, export_settings, directory=directory_a())
    before = await _state(config_services, mod)
    await run(config_services, mod, import_settings, exported.content.decode(), directory=directory_a())
    assert await _state(config_services, mod) == before


async def test_slack_export_has_slack_moderators(config_services):
    admin = await make_caller(config_services, "UADMIN", guild="T1", platform="slack")
    await run(config_services, admin, set_setting, "moderators.users", "U1 U2")
    data = tomllib.loads((await run(config_services, admin, export_settings)).content.decode())
    assert data["moderators"] == {"users": ["U1", "U2"], "usergroup": ""}
    other = await make_caller(config_services, "UADMIN", guild="T2", platform="slack")
    await run(config_services, other, import_settings, '[moderators]\nusers = ["U3"]\nusergroup = "S1"')
    async with config_services.db.transaction() as s:
        row = await get_settings(s, other.community_id)
    assert (row.moderator_user_ids, row.moderator_usergroup_id) == (["U3"], "S1")


async def test_a_pack_losing_its_only_trade_goes_with_it_and_the_export_reimports(config_services, mod):
    """The pack "Livre" had only "Illustration": removed with it, and said (never exported `trades = []`)."""
    from cogs.config._audit import history
    from cogs.config._packs import set_pack

    await run(config_services, mod, add_trade, "Illustration")
    await run(config_services, mod, set_pack, "Livre", "Illustration")
    card = await run(config_services, mod, remove_trade, "Illustration")  # no member uses it
    assert "Pack supprimé aussi, car il n’avait plus aucun métier : Livre." in card.text
    logged = await run(config_services, mod, history)
    assert "Pack supprimé (Livre) : Illustration → —" in logged.fields[0].value
    exported = await run(config_services, mod, export_settings, directory=directory_a())
    assert "Livre" not in exported.content.decode()
    before = await _state(config_services, mod)
    await run(config_services, mod, import_settings, exported.content.decode(), directory=directory_a())
    assert await _state(config_services, mod) == before


@pytest.mark.parametrize("kind", ["trades", "sectors"])
async def test_an_import_never_leaves_more_than_the_forms_offer(config_services, mod, member, kind):
    """25 in the file, and "Conseil" (or "Mode") is kept because a member uses it: 26. Refused, naming it."""
    from cogs.config._trades import MAX_PER_KIND
    from tests.config.test_trades import _profile

    used = "Conseil" if kind == "trades" else "Mode"
    await _profile(config_services, member, *([[used], []] if kind == "trades" else [[], [used]]))
    names = [f"Nom {i:02}" for i in range(MAX_PER_KIND)]
    entries = [f'{{name = "{n}"}}' for n in names] if kind == "trades" else [f'"{n}"' for n in names]
    before = await snapshot(config_services)
    with pytest.raises(InvalidInput) as caught:
        await run(config_services, mod, import_settings, f"{kind} = [{', '.join(entries)}]\n")
    [(key, params)] = caught.value.problems.values()
    said = config_services.t("fr", key, **params)
    what = "métiers" if kind == "trades" else "secteurs"
    assert said.startswith(f"{kind} : le fichier compte 25 {what}, et ceux-ci seraient gardés"), said
    assert f"utilisent : {used} ; cela ferait plus de 25 {what}" in said, said
    assert await snapshot(config_services) == before
    await run(config_services, mod, import_settings, f"{kind} = [{', '.join(entries[1:])}]\n")  # 24 + 1 fit


async def test_a_trade_added_while_an_import_writes_its_own_is_counted(any_db, clock, settings, monkeypatch):
    """The file's 25 fit; a trade another moderator added meanwhile was counted without the import's,
    and both were kept: on PostgreSQL 26 trades, past what a Discord menu shows. The add now waits for
    the import, then is refused."""
    import asyncio

    from bot.config import Secrets
    from bot.services import Services
    from cogs.config import _transfer
    from tests.races import Meanwhile

    services = Services.build(settings, Secrets(), clock=clock, db=any_db)
    first = await make_caller(services, "mod-1")
    second = await make_caller(services, "mod-2")
    for n in range(21 - len(await _trade_names(services, first))):
        await run(services, first, add_trade, f"Métier {n}")
    names = await _trade_names(services, first)
    assert len(names) == 21
    text = "trades = [" + ", ".join(f'{{name = "{n}"}}' for n in [*names, "A", "B", "C", "D"]) + "]\n"
    original, meanwhile = _transfer._insert, Meanwhile()

    async def insert_after_another_add(ctx, kind, name, position, channel):  # the import's first new one
        if name == "A":
            await meanwhile.run(run(services, second, add_trade, "Podcast"))
        await original(ctx, kind, name, position, channel)

    monkeypatch.setattr(_transfer, "_insert", insert_after_another_add)
    [imported] = await asyncio.gather(run(services, first, import_settings, text), return_exceptions=True)
    [added] = await meanwhile.settle()
    assert not isinstance(imported, Exception), imported
    assert isinstance(added, InvalidInput), added
    assert added.problems["name"][0] == "config.errors.too_many_trades"
    assert await _trade_names(services, first) == [*names, "A", "B", "C", "D"]
    await services.scheduler.stop()


async def test_a_time_zone_change_while_an_import_runs_is_no_deadlock(any_db, clock, settings, monkeypatch):
    """The import holds the community's row, then writes the settings' row; a time zone change wrote the
    settings' row, then waited for the community's: on PostgreSQL a deadlock, and the import answered with
    an unexpected error. The change now takes the community's row first: it waits for the import, then
    applies."""
    import asyncio

    from bot.config import Secrets
    from bot.services import Services
    from cogs.config import _transfer
    from tests.races import Meanwhile

    services = Services.build(settings, Secrets(), clock=clock, db=any_db)
    first = await make_caller(services, "mod-1")
    second = await make_caller(services, "mod-2")
    original, meanwhile = _transfer._read, Meanwhile()

    async def read_after_a_time_zone_change(ctx, text):  # the community's row is held already
        await meanwhile.run(run(services, second, set_setting, "timezone", "America/Montreal"))
        return await original(ctx, text)

    monkeypatch.setattr(_transfer, "_read", read_after_a_time_zone_change)
    [imported] = await asyncio.gather(run(services, first, import_settings, 'reminders = ["1h"]\n'),
                                      return_exceptions=True)
    [changed] = await meanwhile.settle()
    await services.scheduler.stop()
    assert not isinstance(imported, Exception), repr(imported)
    assert imported.title == "Réglages importés"
    assert not isinstance(changed, Exception), repr(changed)
    state = await _state(services, first)
    assert (state["reminders"], state["timezone"]) == ([60], "America/Montreal")  # both kept


async def _trade_names(services, caller) -> list[str]:
    async with services.db.transaction() as session:
        return [t.name for t in await trades(session, caller.community_id)]


async def test_an_import_records_each_change_as_the_single_commands_do(config_services, mod):
    """Which trades, sectors, packs and channels it added, renamed, bound and removed: not a count only."""
    from cogs.config._audit import history
    from cogs.config.models import AuditEntry

    await run(config_services, mod, bind_trade, "Conseil", "#dev", directory=directory_a())
    async with config_services.db.transaction() as s:
        kept = [t.name for t in await trades(s, mod.community_id) if t.name not in ("Traduction", "Conseil")]
    text = "\n".join([
        "trades = [" + ", ".join(f'{{name = "{n}"}}' for n in kept)
        + ', {name = "conseil"}, {name = "Illustration", channel = "#presentations"}]',
        'sectors = ["Mode", "Luxe"]',
        'packs = [{name = "Livre", trades = ["Illustration", "Rédaction web"]}]',
    ])
    await run(config_services, mod, import_settings, text, directory=directory_a())
    async with config_services.db.transaction() as s:
        entries = list(await s.scalars(select(AuditEntry).where(AuditEntry.community_id == mod.community_id)))
        sector_names = [x.name for x in await sectors(s, mod.community_id)]
    done = {(e.setting, e.target, e.old_value, e.new_value) for e in entries}
    assert {
        ("trade.remove", "Traduction", "Traduction", ""),
        ("trade.rename", "Conseil", "Conseil", "conseil"),
        ("trade.channel", "conseil", DEV, ""),  # the file binds it to no channel
        ("trade.add", "Illustration", "", "Illustration"),
        ("trade.channel", "Illustration", "", INTROS),
        ("sector.add", "Luxe", "", "Luxe"),
        ("pack.set", "Livre", "", "Illustration, Rédaction web"),
    } <= done, done
    removed_sectors = {e.target for e in entries if e.setting == "sector.remove"}
    assert removed_sectors and not removed_sectors & set(sector_names)
    packs_removed = {e.target for e in entries if e.setting == "pack.remove"}
    assert packs_removed == {"Site vitrine", "Identité visuelle"}
    card = await run(config_services, mod, history, limit=50)
    assert any("Métier supprimé (Traduction)" in f.value for f in card.fields)


async def test_a_channel_is_found_by_the_id_beside_its_name_in_its_own_server_else_by_its_name(
    config_services, mod
):
    """Files of earlier versions name channels and roles only: they import as before."""
    a = directory_a()
    await run(config_services, mod, import_settings, f'[channels]\nintros = "#dev ({INTROS})"', directory=a)
    await run(config_services, mod, import_settings, '[channels]\nmodlog = "#modlog"', directory=a)
    await run(config_services, mod, import_settings, f'[channels]\nfeedback = "#dev ({B_DEV})"', directory=a)
    await run(config_services, mod, import_settings, '[moderators]\nrole = "@Modos"', directory=a)
    async with config_services.db.transaction() as s:
        row = await get_settings(s, mod.community_id)
    assert (row.intro_channel_id, row.modlog_channel_id, row.feedback_channel_id) == (INTROS, MODLOG, DEV)
    assert row.moderator_role_id == "300000000000000001"
