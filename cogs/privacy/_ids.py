"""The interaction ids of privacy, written once for both platforms."""

# The answer to "Delete all my data?": only for the member it was shown to.
DELETE = r"privacy:(?P<verb>confirm|cancel):(?P<member>[0-9]{1,9})"
