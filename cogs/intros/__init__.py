"""Introductions: member profiles, intro cards in the trade channels, availability."""

from bot.features import CommandSpec, Feature, PrivacyHook
from cogs.intros._profile import delete_member, export_member
from cogs.intros._publish import on_start

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
    on_start=on_start,  # the job that retries intro cards the platform failed to post
)
