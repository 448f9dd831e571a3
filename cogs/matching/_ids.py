"""The interaction ids of matching, written once for both platforms (Discord custom_id, Slack action_id)."""

INVITE = r"matching:invite:(?P<token>[0-9a-f]{16})"  # "Invite this team" on a /match answer
