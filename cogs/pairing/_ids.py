"""Interaction ids of pairing, written once for both platforms (Discord custom_id, Slack action_id)."""

# "Pair me" / "Stop pairing me": on every pairing message. On a group's card and its check-in it names
# the group, which is how a click in a DM (no server there) finds its community.
OPT = r"pairing:opt:(?P<choice>in|out)(?::(?P<id>[0-9]{1,9}))?"
# The mid-cycle check-in of one group: We met / Not yet / We can't.
CHECKIN = r"pairing:met:(?P<id>[0-9]{1,9}):(?P<answer>met|not_yet|cannot)"
