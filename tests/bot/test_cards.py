import pytest

from bot.cards import Action, action_id, truncate


def test_action_ids_follow_the_scheme():
    assert action_id("afterwork", "rsvp", 42, "going") == "afterwork:rsvp:42:going"
    Action(id="mission:interest:42", label="I'm in")
    for bad in ("nocolon", "Mission:x", "a:b:c d", "a:" + "b" * 120):
        with pytest.raises(ValueError, match="bad action id"):
            Action(id=bad, label="x")


@pytest.mark.parametrize(("text", "limit", "expected"), [("short", 10, "short"), ("abcdefghij", 5, "abcd…"),
                                                         ("abc", 3, "abc"), ("abcd", 1, "…")])
def test_truncate(text, limit, expected):
    assert truncate(text, limit) == expected
    assert len(truncate(text, limit)) <= limit
