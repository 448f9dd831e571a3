"""Introductions: member profiles, intro cards in the trade channels, availability."""

from bot.features import CommandSpec, Feature, PrivacyHook, ShowsRows
from cogs.intros._profile import delete_member, export_member
from cogs.intros._publish import REPUBLISH, on_start, settings_changed

# A renamed trade or sector: the cards edited in place. A merged trade: the cards published again, so
# they move to the other trade's channel, without spending the member's repost allowance (the member
# did nothing).
_RENAMED = (("edit", True),)
_MERGED = (("claim", False),)

FEATURE = Feature(
    name="intros",
    package=__name__,
    commands=(
        CommandSpec("intro", "intros"),
        CommandSpec("profile", "intros", slack_usage="[@member]"),
        CommandSpec("availability", "intros", slack_usage="[available | busy | YYYY-MM-DD]"),
    ),
    privacy=PrivacyHook(
        tables=("profiles", "profile_trades", "profile_skills", "profile_sectors", "profile_links"),
        export=export_member,
        delete=delete_member,
    ),
    discord_extension="cogs.intros._discord",
    slack_listeners="cogs.intros._slack",
    models="cogs.intros.models",
    shows=(
        ShowsRows("trades", "profile_trades.trade_id", "profile_trades.profile_id", REPUBLISH, "profile_id",
                  on_rename=_RENAMED, on_merge=_MERGED),
        ShowsRows("sectors", "profile_sectors.sector_id", "profile_sectors.profile_id", REPUBLISH,
                  "profile_id", on_rename=_RENAMED, on_merge=_MERGED),
    ),
    on_start=on_start,  # the job that retries intro cards the platform failed to post
    on_settings_changed=settings_changed,  # "available from" turns at the new time zone's midnight
)
