"""Reading the afterwork form's fields one by one."""

from __future__ import annotations

import pytest

from cogs.afterworks._form import MAX_CAPACITY, read_capacity


@pytest.mark.parametrize("typed", ["²", "1²", "٣", "１２", "-3", "0"])
def test_seats_not_a_plain_number_get_the_fields_answer(typed: str) -> None:
    """"²" is a key of French keyboards: isdigit() took it and int() raised (an unexpected error)."""
    refused = {"capacity": ("afterworks.problems.capacity", {"max": MAX_CAPACITY})}
    assert read_capacity(typed) == (None, refused)


def test_seats_typed_with_spaces_are_read() -> None:
    assert read_capacity(" 1 2 ") == (12, {})
