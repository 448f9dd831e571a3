"""Peer feedback: ask the trade for a critique, answer in a thread, credit helpful answers with kudos."""

from bot.features import CommandSpec, Feature, HeldIds, PrivacyHook
from cogs.feedback._feedback import on_start, settings_changed
from cogs.feedback._settings import NUDGE_DELAY
from cogs.feedback._store import delete_member, export_member

FEATURE = Feature(
    name="feedback",
    package=__name__,
    commands=(
        CommandSpec("feedback", "feedback"),
        CommandSpec("kudos", "feedback", slack_usage="[@member | top]"),
    ),
    privacy=PrivacyHook(
        tables=("feedback_requests", "feedback_answers", "feedback_kudos", "feedback_kudos_months"),
        export=export_member,
        delete=delete_member,
    ),
    discord_extension="cogs.feedback._discord",
    slack_listeners="cogs.feedback._slack",
    models="cogs.feedback.models",
    # /kudos top's counts per month and trade: a merge adds both trades' kudos together.
    held_ids=(HeldIds("feedback_kudos_months", "trade_key", "trades", adds=("n",)),),
    settings=(NUDGE_DELAY,),
    discord_permissions=(
        ("create_public_threads", "each feedback request gets a thread for its answers"),
        ("send_messages_in_threads", "answers are posted in the request's thread"),
        ("attach_files", "a file attached to /feedback is posted with the request's card"),
    ),
    on_start=on_start,  # the nudge, due-date and privacy clean-up jobs
    on_settings_changed=settings_changed,  # a due-date DM to come moves to 09:00 in the new time zone
)
