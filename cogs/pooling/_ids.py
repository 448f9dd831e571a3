"""The interaction ids of pooling, written once for both platforms (Discord custom_id, Slack action_id)."""

JOIN = r"pooling:join:(?P<id>[0-9]{1,18})"
LEAVE = r"pooling:leave:(?P<id>[0-9]{1,18})"
CLOSE = r"pooling:close:(?P<id>[0-9]{1,18})"  # organizer or moderator: decide now (minimum reached)
CANCEL = r"pooling:cancel:(?P<id>[0-9]{1,18})"  # organizer or moderator
FORM = r"pooling:form"  # the Slack form (callback_id)
