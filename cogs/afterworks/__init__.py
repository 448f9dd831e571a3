"""Afterworks: events with natural dates, Going / Maybe / Can't with a waitlist, reminders, calendars."""

from bot.features import CommandSpec, Feature, PrivacyHook
from cogs.afterworks._polls import delete_member, export_member, on_start
from cogs.afterworks._publish import warm_date_reader

FEATURE = Feature(
    name="afterworks",
    package=__name__,
    commands=(
        CommandSpec("afterwork", "afterworks", slack_usage="[poll | dms on | off]"),
        CommandSpec("afterworks", "afterworks", slack_usage="[city]"),
    ),
    privacy=PrivacyHook(
        tables=(
            "afterworks",
            "afterwork_rsvps",
            "afterwork_deliveries",
            "afterwork_preferences",
            "afterwork_series",
            "afterwork_polls",
            "afterwork_poll_slots",
            "afterwork_poll_votes",
        ),
        export=export_member,
        delete=delete_member,
    ),
    discord_extension="cogs.afterworks._discord",
    slack_listeners="cogs.afterworks._slack",
    models="cogs.afterworks.models",
    discord_permissions=(
        ("create_events", "a native Discord scheduled event follows each afterwork (the creator may edit "
                          "and delete its own events, so Manage Events is not needed)"),
        ("attach_files", "Add to calendar answers with an .ics file"),
    ),
    on_start=on_start,  # reminder, sync and notice jobs
    # The date reader's first read loads its language data (220-245 ms): done once connected, so
    # neither READY nor the first organizer waits for it.
    warm_up=warm_date_reader,
)
