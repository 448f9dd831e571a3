"""The interaction ids of pooling, written once for both platforms (Discord custom_id, Slack action_id)."""

import re

JOIN = r"pooling:join:(?P<id>[0-9]{1,9})"
LEAVE = r"pooling:leave:(?P<id>[0-9]{1,9})"
CLOSE = r"pooling:close:(?P<id>[0-9]{1,9})"  # organizer or moderator: decide now (minimum reached)
CANCEL = r"pooling:cancel:(?P<id>[0-9]{1,9})"  # organizer or moderator
PAYMENTS = r"pooling:payments:(?P<id>[0-9]{1,9}):(?P<page>[0-9]{1,2})"  # organizer: who has paid (private)
# The select ticking who has paid, and the participants that page showed (first-last join order): the
# choice changes those only, whoever left the list since (an older select has no range).
PAID = r"pooling:paid:(?P<id>[0-9]{1,9}):(?P<page>[0-9]{1,2})(?::(?P<first>[0-9]{1,9})-(?P<last>[0-9]{1,9}))?"
REMIND = r"pooling:remind:(?P<id>[0-9]{1,9})"  # organizer: the one reminder to those who have not paid
TASK_JOIN = r"pooling:task_join:(?P<id>[0-9]{1,9})"  # Volunteer for a rota task
TASK_STOP = r"pooling:task_stop:(?P<id>[0-9]{1,9})"  # Stop volunteering
TASK_DONE = r"pooling:task_done:(?P<id>[0-9]{1,9})"  # the holder of a turn: Done
TASK_CANT = r"pooling:task_cant:(?P<id>[0-9]{1,9})"  # the holder of a turn: Can't this time
FORM = r"pooling:form"  # the Slack form (callback_id)
TASK_FORM = r"pooling:task_form"  # the Slack form of a new rota task (callback_id)


def shown_range(match: re.Match[str] | None) -> tuple[int, int] | None:
    """The (first, last) join positions a PAID id carries; None for an older select without them."""
    return (int(match["first"]), int(match["last"])) if match is not None and match["first"] else None
