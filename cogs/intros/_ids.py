"""The interaction ids of intros, written once for both platforms (Discord custom_id, Slack action_id)."""

EDIT = r"intros:edit:(?P<id>[0-9]{1,9})"  # "Edit my profile" on one's own /profile card
AVAILABILITY = r"intros:avail:(?P<id>[0-9]{1,9}):(?P<status>available|busy)"
CREATE = r"intros:create"  # Slack Home: "Introduce yourself"
FORM = r"intros:form"  # the Slack form (callback_id)
# Discord's form: selects and pages on an ephemeral message, then a modal with the texts.
PICK = r"intros:pick:(?P<field>trades|sectors|work_mode|availability|languages|opt_ins)"
STEP = r"intros:step:(?P<page>[12])"
OPEN_FORM = r"intros:form:open"
SUBMIT = r"intros:form:submit"
