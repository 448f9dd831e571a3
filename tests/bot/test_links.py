"""`bot.text.web_link`: the one check of every link field (profiles, missions, feedback, afterworks…)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.text import has_control_characters, web_link
from cogs.afterworks._form import read_where
from cogs.feedback._validation import valid_link as feedback_link
from cogs.pooling._form import read_link as pool_link

SHOWN = ["https://camille.example", "http://localhost:8080/plan", "https://évian.fr/salle",
         "HTTPS://Exemple.fr/a?b=c#d"]
REFUSED = [
    "https://www.paypal.com@evil.example/login",  # reads as paypal.com, opens evil.example
    "https://evil.example\\@www.paypal.com/",  # Python reads host paypal.com; browsers open evil.example
    "https://[salle-2/plan", "https://a]b.example", "http://[x]/plan",  # unreadable: no exception
    "javascript:alert(1)", "data:text/html,x", "ftp://files.example", "https://", "camille.example",
    "https://exa mple.com", "https://evil.example/\u202egnp.exe", "https://a\u200b.example",
    f"https://{'a' * 64}.example",  # a label longer than DNS allows
]


@pytest.mark.parametrize("url", SHOWN)
def test_a_plain_link_is_shown(url: str) -> None:
    assert web_link(url)


@pytest.mark.parametrize("url", REFUSED)
def test_a_disguised_or_unreadable_link_is_refused(url: str) -> None:
    assert not web_link(url)


@pytest.mark.parametrize("accepts", [
    pytest.param(feedback_link, id="feedback"),
    pytest.param(lambda u: not read_where(u)[2], id="afterworks"),
    pytest.param(lambda u: not pool_link(u)[1], id="pooling"),
])
def test_each_link_field_uses_it(accepts: Callable[[str], bool]) -> None:
    assert accepts("https://camille.example/portfolio")
    assert not any(accepts(url) for url in REFUSED if url.startswith(("http", "HTTP")))


@pytest.mark.parametrize("char", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067",
                                  "\u2068", "\u2069"])
def test_bidirectional_controls_are_refused_marks_are_not(char: str) -> None:
    assert has_control_characters(f"Apéro{char}")
    assert not has_control_characters("Apéro\u200e\u200f")  # left-to-right / right-to-left marks
