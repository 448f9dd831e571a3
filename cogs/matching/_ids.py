"""The interaction ids of matching, written once for both platforms (Discord custom_id, Slack action_id)."""

INVITE = r"matching:invite:(?P<token>[0-9a-f]{16})"  # "Invite this team" on a /match answer
# Accept / Decline in an invited member's DM: the invitation's id (its community is found server-side)
ANSWER = r"matching:answer:(?P<id>[0-9]{1,9}):(?P<choice>accept|decline)"
