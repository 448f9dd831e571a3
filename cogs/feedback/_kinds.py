"""The kinds of feedback a member may ask for, each with the short checklist reviewers rate (1 to 5)."""

from __future__ import annotations

# kind -> its checklist items; names are catalog keys `feedback.kinds.<kind>` and `feedback.items.<item>`.
KINDS: dict[str, tuple[str, ...]] = {
    "design": ("hierarchy", "readability", "brand_fit"),
    "copy": ("clarity", "tone", "call_to_action"),
    "code": ("correctness", "maintainability", "security"),
    "seo": ("keywords", "structure", "performance"),
    "portfolio": ("selection", "presentation", "positioning"),
    "quote": ("scope", "pricing", "terms"),
    "pitch": ("story", "value", "ask"),
    "other": ("overall", "strengths", "next_steps"),
}
RATING_MIN, RATING_MAX = 1, 5


def checklist(kind: str) -> tuple[str, ...]:
    return KINDS.get(kind, ())
