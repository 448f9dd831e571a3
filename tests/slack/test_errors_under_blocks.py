"""A form's problems go under blocks the form has: Slack shows nothing under an unknown block_id."""

from __future__ import annotations

from bot.slack_app.errors import _under_blocks

FORM = {"view": {"blocks": [
    {"type": "section", "block_id": "intro"},
    {"type": "input", "block_id": "title"},
    {"type": "input", "block_id": "link"},
]}}


def test_a_problem_of_a_block_the_form_lacks_goes_under_its_first_input() -> None:
    assert _under_blocks(FORM, {"upload": "a", "link": "b"}) == {"title": "a", "link": "b"}
    assert _under_blocks(FORM, {"upload": "a", "title": "b"}) == {"title": "a\nb"}


def test_without_the_forms_blocks_problems_are_kept_as_named() -> None:
    assert _under_blocks({"view": {"blocks": []}}, {"upload": "a"}) == {"upload": "a"}
