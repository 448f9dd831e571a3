"""Missions: client missions shared with the trades they need, candidates, a team, staffed or expired."""

from bot.features import CommandSpec, Feature, HeldIds, PrivacyHook, ShowsRows
from cogs.missions._missions import CARDS_JOB, delete_member, export_member, kept_missions
from cogs.missions._publish import on_start, settings_changed
from cogs.missions._settings import SETTINGS

FEATURE = Feature(
    name="missions",
    package=__name__,
    commands=(
        CommandSpec("mission", "missions"),
        CommandSpec(
            "missions",
            "missions",
            slack_usage="[mine | candidate] [trade] [skill:…] [sector:…] [city:…] [mode:…] [rate:…] "
            "[start:…] [status:…]",
        ),
    ),
    privacy=PrivacyHook(
        tables=(
            "missions",
            "mission_trades",
            "mission_candidacies",
            "mission_allowances",
            "mission_invitations",
        ),
        export=export_member,
        delete=delete_member,
        keeps_posts=kept_missions,  # a mission with candidates outlives its author
    ),
    discord_extension="cogs.missions._discord",
    slack_listeners="cogs.missions._slack",
    models="cogs.missions.models",
    held_ids=(
        HeldIds("mission_candidacies", "trade_ids", "trades"),  # the mission's trades a candidate covers
        HeldIds("mission_searches", "filters", "trades", entry="trade_id", forget=True),
        HeldIds("mission_searches", "filters", "sectors", entry="sector_id", forget=True),
    ),
    # A renamed or merged trade or sector: the cards job edits the cards (a live mission's move to the
    # other trade's channel).
    shows=(
        ShowsRows("trades", "mission_trades.trade_id", "mission_trades.mission_id", CARDS_JOB, "mission_id"),
        ShowsRows("sectors", "missions.sector_id", "missions.id", CARDS_JOB, "mission_id"),
    ),
    settings=SETTINGS,
    on_start=on_start,  # the expiry warning and expiry jobs
    on_settings_changed=settings_changed,  # live missions expire at the new time zone's midnight
)
