"""The interaction ids of missions, written once for both platforms (Discord custom_id, Slack action_id)."""

import re

INTEREST = r"missions:interest:(?P<id>[0-9]{1,9})"  # "I'm interested": opens the note form
NOTE = r"missions:note:(?P<id>[0-9]{1,9})"  # the note form (Discord modal / Slack callback_id)
WITHDRAW = r"missions:withdraw:(?P<id>[0-9]{1,9})"
# Author only; a page of 25 candidates (a Discord select's most), the first without a page.
CANDIDATES = r"missions:candidates:(?P<id>[0-9]{1,9})(?::(?P<page>[0-9]{1,4}))?"
# The author's choice on a page, and the candidacies that page showed (first-last, in applying order):
# the choice changes those only, whoever withdrew or applied since (an older select has no range).
SELECT = (
    r"missions:select:(?P<id>[0-9]{1,9})(?::(?P<page>[0-9]{1,4}))?"
    r"(?::(?P<first>[0-9]{1,9})-(?P<last>[0-9]{1,9}))?"
)
CONFIRM = r"missions:confirm:(?P<id>[0-9]{1,9})"
EDIT = r"missions:edit:(?P<id>[0-9]{1,9})"
CLOSE = r"missions:close:(?P<id>[0-9]{1,9})"  # asks for the outcome
CLOSE_AS = r"missions:closeas:(?P<id>[0-9]{1,9}):(?P<outcome>won|lost|cancelled)"
EXTEND = r"missions:extend:(?P<id>[0-9]{1,9})"  # from the expiry warning
SUGGEST = r"missions:suggest:(?P<id>[0-9]{1,9})"  # author only: matching's team for the mission
INVITE = r"missions:invite:(?P<id>[0-9]{1,9})"  # author only: DM the suggested team
DECLINE = r"missions:decline:(?P<id>[0-9]{1,9})"  # an invited member: "Not for me"
# Paging buttons of cards shown before stored searches existed (still answered: buttons survive upgrades).
LIST = r"missions:list:(?P<page>[0-9]{1,4}):(?P<scope>all|mine|candidate):(?P<trade>[0-9]{1,9})"
# Previous / Next of /missions: the page, the stored search's token and where the page starts
# (cogs.missions._search.Cursor: after or before a mission; a button of an older version has none).
PAGE = r"missions:page:(?P<page>[0-9]{1,4}):(?P<token>[0-9a-f]{16})(?::(?P<cursor>[ab][01]-[0-9]{1,9}))?"
FORM = r"missions:form"  # the Slack form (callback_id)
# Discord's form: selects on an ephemeral message, then two modals.
PICK = r"missions:pick:(?P<field>trades|pack|work_mode|source|sector|fee|behalf)"
OPEN_TEXTS = r"missions:form:texts"
OPEN_DETAILS = r"missions:form:details"
# The modals name the mission they edit: submitted after the draft expired, the text is kept on it.
SUBMIT_TEXTS = r"missions:form:submit_texts(?::(?P<id>[0-9]{1,9}))?"
SUBMIT_DETAILS = r"missions:form:submit_details(?::(?P<id>[0-9]{1,9}))?"
PUBLISH = r"missions:form:publish"
STEP = r"missions:step:(?P<page>[12])"


def page_number(match: re.Match[str] | None) -> int:
    """The `page` of a CANDIDATES or SELECT id: 0 (the first) when it has none."""
    return int(match["page"]) if match is not None and match["page"] else 0


def shown_range(match: re.Match[str] | None) -> tuple[int, int] | None:
    """The (first, last) candidacy ids a SELECT id carries; None for an older select without them."""
    return (int(match["first"]), int(match["last"])) if match is not None and match["first"] else None
