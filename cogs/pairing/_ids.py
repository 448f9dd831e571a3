"""Interaction ids of pairing, written once for both platforms (Discord custom_id, Slack action_id)."""

# "Pair me" / "Stop pairing me": on every pairing message; names no stored object.
OPT = r"pairing:opt:(?P<choice>in|out)"
# The mid-cycle check-in of one group: We met / Not yet / We can't.
CHECKIN = r"pairing:met:(?P<id>[0-9]{1,18}):(?P<answer>met|not_yet|cannot)"
