"""What other features may use of introductions: skill tags and members' profiles.

The directory (and next matching and pairing) import from here or from `cogs.intros.models`; the
underscored modules behind it are private to `cogs.intros` (tests/test_boundaries.py checks it).

Skills:
- `skill_key(text)`: the folded form (case, accents, spacing) without synonyms.
- `normalize_skill(text, locale, known_keys)`: the key a tag is stored and searched under.
- `split_skills(text)`: the tags of a comma / semicolon / newline separated entry, as typed.
- `synonyms(locale)`: alias -> key, for completion; `VOCABULARY`: every key of the synonym tables.
- `suggest_skills(prefix, skills, locale=…)`: autocomplete over a community's (key, label) pairs.

Profiles:
- `get_profile(session, community_id, member_id)`: a member's `ProfileView` (NotFound without one).
- `view_profile(session, caller, member_id)`: the same, hidden ones (`can_see`) answering like missing ones.
- `known_skill_keys(session, community_id)`: the skill keys a community's profiles use.
"""

from cogs.intros._profile import ProfileView, can_see, get_profile, known_skill_keys, view_profile
from cogs.intros._skills import (
    MAX_SKILL_LENGTH,
    VOCABULARY,
    normalize_skill,
    skill_key,
    split_skills,
    suggest_skills,
    synonyms,
)

__all__ = [
    "MAX_SKILL_LENGTH",
    "VOCABULARY",
    "ProfileView",
    "can_see",
    "get_profile",
    "known_skill_keys",
    "normalize_skill",
    "skill_key",
    "split_skills",
    "suggest_skills",
    "synonyms",
    "view_profile",
]
