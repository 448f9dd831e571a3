"""One check for a typed (or sent back) whole number: bot.text.is_number.

str.isdigit() also takes "²" (a key of French keyboards), "٣" or full-width digits, which int() refuses:
the member got "unexpected error" instead of the field's answer, in five features one after the other.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.text import is_number

ROOT = Path(__file__).resolve().parent.parent
ISDIGIT = re.compile(r"\.isdigit\(\)")


@pytest.mark.parametrize("text", ["0", "12", "0042"])
def test_ascii_digits_are_numbers(text: str) -> None:
    assert is_number(text) and int(text) >= 0


@pytest.mark.parametrize("text", ["", "²", "1²", "٣", "１２", "-1", "1.5", " 1", "x"])
def test_anything_else_is_not(text: str) -> None:
    assert not is_number(text)


def test_no_source_file_asks_isdigit_alone() -> None:
    """A character-by-character check that also asks isascii() on its line is fine."""
    found = []
    for path in sorted(p for folder in ("bot", "cogs", "storage") for p in ROOT.glob(f"{folder}/**/*.py")):
        if path == ROOT / "bot" / "text.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            code = line.split("#", 1)[0]
            if ISDIGIT.search(code) and "isascii()" not in code:
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == [], "use bot.text.is_number:\n" + "\n".join(found)
