"""The interaction ids of afterworks, written once for both platforms (Discord custom_id, Slack action_id)."""

RSVP = r"afterworks:rsvp:(?P<id>[0-9]{1,9}):(?P<answer>going|maybe|cant)"
CALENDAR = r"afterworks:ics:(?P<id>[0-9]{1,9})"  # "Add to calendar": the .ics file
EDIT = r"afterworks:edit:(?P<id>[0-9]{1,9})"  # organizer or moderator: the form again
CANCEL = r"afterworks:cancel:(?P<id>[0-9]{1,9})"  # organizer or moderator
# Discord: "Post it" under what the form understood; the token names that summary's draft, so that
# "Post it" under an older summary never posts a newer one (a message from before tokens: none).
CONFIRM = r"afterworks:confirm(?::(?P<token>[0-9a-f]{8}))?"
FORM = r"afterworks:form"  # the Slack form (callback_id)
CONFIRM_VIEW = r"afterworks:confirm_view"  # the Slack confirmation step (callback_id)
EDIT_FORM = r"afterworks:edit_form:(?P<id>[0-9]{1,9})"  # the edit form (Discord modal, Slack view)
END_SERIES = r"afterworks:end:(?P<id>[0-9]{1,9})"  # organizer or moderator: no new date of the series
VOTE = r"afterworks:vote:(?P<id>[0-9]{1,9})"  # a date poll's slot: tick it, or take the tick back
PICK = r"afterworks:pick:(?P<id>[0-9]{1,9})"  # organizer or moderator: this slot becomes the afterwork
POLL_FORM = r"afterworks:poll_form"  # the Slack poll form (callback_id)
