"""Interaction ids of peer feedback, written once for both platforms (Discord custom_id, Slack action_id)."""

# "Give feedback" on a request card; `:anon` when the reviewer chose to answer anonymously.
ANSWER = r"feedback:answer:(?P<id>[0-9]{1,9})(?::(?P<anon>anon))?"
# The answer form (Discord modal custom_id, Slack callback_id), for one request.
REPLY = r"feedback:reply:(?P<id>[0-9]{1,9})(?::(?P<anon>anon))?"
HELPFUL = r"feedback:helpful:(?P<id>[0-9]{1,9})"  # on an answer: the requester gives its reviewer a kudos
CLOSE = r"feedback:close:(?P<id>[0-9]{1,9})"  # on the card and in the due-date DM
WHO = r"feedback:who:(?P<id>[0-9]{1,9})"  # moderators: who wrote an anonymous answer
ASK_FORM = r"feedback:ask"  # the Slack request form (callback_id)
