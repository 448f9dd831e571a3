"""Skill tags: normalized keys so that "Référencement", "seo" and "S.E.O." meet in the directory.

Public API (also used by the directory):

- `skill_key(text)`: the folded form (case, accents, spacing) without synonyms.
- `normalize_skill(text, locale, known_keys)`: the key a tag is stored and searched under: folded,
  merged through the synonym tables, then snapped to a close existing key ("wordpres" -> "wordpress").
- `suggest_skills(prefix, skills, locale=…)`: autocomplete over a community's (key, label) pairs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from storage.text import fold

MAX_SKILL_LENGTH = 50
_EDGE_PUNCTUATION = " \t.,;:!?*·•-_/'\"()[]{}#"
_EDGE_PUNCTUATION_BUT_SHARP = _EDGE_PUNCTUATION.replace("#", "")
# A one-letter name and its "#" at the end ("c#", "visual c#"); fixed width before "#+$": linear.
_SHARP_NAME = re.compile(r"(?:^|[^\w])[^\W\d_]#+$")
_COMPACT_DROP = re.compile(r"[\s.\-_/']+")
_DIGITS = re.compile(r"\D")
# Close enough to be a typo of a known tag, far enough apart for "react" / "redux" to stay distinct.
NEAR_MISS_CUTOFF = 0.88
NEAR_MISS_MIN_LENGTH = 5

# Aliases are written as people type them; they are compacted when the table is built, so
# "Word Press", "word-press" and "wordpress" all hit the same entry. Values are canonical keys.
_COMMON: dict[str, str] = {
    "seo": "seo",
    "s.e.o.": "seo",
    "search engine optimization": "seo",
    "sea": "sea",
    "google ads": "sea",
    "adwords": "sea",
    "sem": "sea",
    "wordpress": "wordpress",
    "wp": "wordpress",
    "woocommerce": "woocommerce",
    "shopify": "shopify",
    "webflow": "webflow",
    "javascript": "javascript",
    "js": "javascript",
    "typescript": "typescript",
    "ts": "typescript",
    "node.js": "node.js",
    "node": "node.js",
    "nodejs": "node.js",
    "react": "react",
    "reactjs": "react",
    "react.js": "react",
    "vue": "vue.js",
    "vuejs": "vue.js",
    "python": "python",
    "php": "php",
    "figma": "figma",
    "photoshop": "photoshop",
    "adobe photoshop": "photoshop",
    "illustrator": "illustrator",
    "adobe illustrator": "illustrator",
    "indesign": "indesign",
    "after effects": "after effects",
    "ae": "after effects",
    "premiere pro": "premiere pro",
    "ux": "ux design",
    "ux design": "ux design",
    "ui": "ui design",
    "ui design": "ui design",
    "ux/ui": "ux/ui design",
    "ui/ux": "ux/ui design",
    "ux ui": "ux/ui design",
    "ui ux": "ux/ui design",
    "community management": "community management",
    "social media": "social media",
    "email marketing": "emailing",
    "emailing": "emailing",
    "e-commerce": "e-commerce",
    "ecommerce": "e-commerce",
}

_FR: dict[str, str] = {
    "référencement": "seo",
    "référencement naturel": "seo",
    "référencement payant": "sea",
    "rédaction": "copywriting",
    "rédaction web": "copywriting",
    "rédaction seo": "copywriting",
    "copywriting": "copywriting",
    "conception-rédaction": "copywriting",
    "graphisme": "graphic design",
    "design graphique": "graphic design",
    "identité visuelle": "branding",
    "branding": "branding",
    "image de marque": "branding",
    "mise en page": "layout",
    "maquettage": "prototyping",
    "prototypage": "prototyping",
    "développement web": "web development",
    "dev web": "web development",
    "intégration web": "web integration",
    "intégration": "web integration",
    "photographie": "photography",
    "photo": "photography",
    "retouche photo": "photo editing",
    "montage vidéo": "video editing",
    "montage": "video editing",
    "motion design": "motion design",
    "animation": "motion design",
    "traduction": "translation",
    "relecture": "proofreading",
    "correction": "proofreading",
    "gestion de projet": "project management",
    "chef de projet": "project management",
    "réseaux sociaux": "social media",
    "gestion des réseaux sociaux": "community management",
    "stratégie de contenu": "content strategy",
    "marketing de contenu": "content marketing",
    "accessibilité": "accessibility",
    "formation": "training",
    "conseil": "consulting",
}

_EN: dict[str, str] = {
    "search engine marketing": "sea",
    "paid search": "sea",
    "copywriting": "copywriting",
    "web writing": "copywriting",
    "content writing": "copywriting",
    "writing": "copywriting",
    "graphic design": "graphic design",
    "graphics": "graphic design",
    "brand identity": "branding",
    "branding": "branding",
    "layout": "layout",
    "wireframing": "prototyping",
    "prototyping": "prototyping",
    "web development": "web development",
    "web dev": "web development",
    "front-end integration": "web integration",
    "photography": "photography",
    "photo editing": "photo editing",
    "retouching": "photo editing",
    "video editing": "video editing",
    "motion graphics": "motion design",
    "translation": "translation",
    "proofreading": "proofreading",
    "copy editing": "proofreading",
    "project management": "project management",
    "social media management": "community management",
    "content strategy": "content strategy",
    "content marketing": "content marketing",
    "accessibility": "accessibility",
    "a11y": "accessibility",
    "training": "training",
    "consulting": "consulting",
}


def skill_key(text: str) -> str:
    """The folded tag: "  Rédaction   Web. " -> "redaction web" (no synonyms applied).

    A "#" right after a one-letter name is part of it, not punctuation: "C#", "F#", "Visual C#" are
    languages of their own, not C ("+" is never stripped: "C++"). Elsewhere it stays punctuation, so
    that no other stored key changes ("#SEO#" is still "seo").
    """
    key = fold(text).lstrip(_EDGE_PUNCTUATION).rstrip(_EDGE_PUNCTUATION_BUT_SHARP)
    if _SHARP_NAME.search(key):
        return (key.rstrip("#") + "#")[:MAX_SKILL_LENGTH]
    return key.rstrip(_EDGE_PUNCTUATION)[:MAX_SKILL_LENGTH]


def _compact(key: str) -> str:
    return _COMPACT_DROP.sub("", key)


def compact_skill(key: str) -> str:
    """`key` without spaces, dots, hyphens, slashes: "data viz", "data-viz" and "dataviz" are one tag."""
    return _compact(key)


def _build(table: dict[str, str]) -> dict[str, str]:
    return {_compact(skill_key(alias)): canonical for alias, canonical in table.items()}


# One table for every community: members of a French-speaking community write "web writing", and
# an English-speaking one has members who write « Référencement ». No alias of one table names another
# key in the other (tests/intros/test_skills.py checks it), so merging them changes no existing key.
_SYNONYMS: dict[str, str] = {**_build(_COMMON), **_build(_FR), **_build(_EN)}
# Every canonical key is a valid target for a near miss, even before anyone in the community uses it.
VOCABULARY: frozenset[str] = frozenset(v for t in (_COMMON, _FR, _EN) for v in t.values())


def synonyms(locale: str) -> dict[str, str]:
    """The compacted alias -> canonical key table; the same for every locale (see _SYNONYMS).

    `locale` is kept for callers: a table of one language's own would plug in here.
    """
    return _SYNONYMS


def normalize_skill(text: str, locale: str, known_keys: Iterable[str] = ()) -> str:
    """The key a skill is stored and searched under; "" when `text` holds no tag.

    Order: fold case/accents/spacing; an alias of the synonym table (both languages) gives its canonical
    key; a key already used in the community (or in the vocabulary) wins as is; otherwise a close
    spelling of a known key or of an alias of the synonym table (rapidfuzz's normalized Indel ratio
    >= NEAR_MISS_CUTOFF, 5+ characters, same digits) is taken: "référencemnt" -> "seo".
    """
    key = skill_key(text)
    if not key:
        return ""
    compact = _compact(key)
    table = synonyms(locale)
    if compact in table:
        return table[compact]
    known = set(known_keys)
    candidates = known | VOCABULARY
    if key in candidates:
        return key
    by_compact = {_compact(k): k for k in candidates}
    if compact in by_compact:  # "word press" typed, "wordpress" known
        return by_compact[compact]
    if NEAR_MISS_MIN_LENGTH <= len(compact) <= MAX_SKILL_LENGTH:  # bounded: one pass per target
        # Versions are not typos: "php7" never becomes "php8", "html5" never "html".
        digits = _DIGITS.sub("", compact)
        # Aliases are targets too; a known key spelled like an alias wins over it.
        targets = {**{a: c for a, c in table.items() if len(a) >= NEAR_MISS_MIN_LENGTH}, **by_compact}
        same_digits = {t: k for t, k in targets.items() if _DIGITS.sub("", t) == digits}
        # Imported on the first near miss, not at start: rapidfuzz costs every process 2.5 MB of RSS
        # (measured), and most never meet a misspelt skill.
        from rapidfuzz import fuzz, process

        close = process.extractOne(
            compact, list(same_digits), scorer=fuzz.ratio, score_cutoff=NEAR_MISS_CUTOFF * 100
        )
        if close:
            return same_digits[close[0]]
    return key


def split_skills(text: str) -> list[str]:
    """The tags of a comma / semicolon / newline separated entry, blanks dropped, order kept."""
    return [part.strip() for part in re.split(r"[,;\n]+", text) if part.strip()]


def suggest_skills(
    prefix: str, skills: Iterable[tuple[str, str]], *, locale: str = "en", limit: int = 25
) -> list[tuple[str, str]]:
    """Autocomplete: the community's (key, label) skills matching what was typed so far.

    A skill matches when its key or label starts with the folded prefix, when a word of it does,
    or when the prefix is an alias of its key ("référ" finds "seo"). Keys starting with the
    prefix come first, then word matches, then alias matches; each group sorted by label.
    One entry per key; an empty prefix lists the first `limit` skills by label.
    """
    wanted = skill_key(prefix)
    compact = _compact(wanted)
    aliases = {
        canonical for alias, canonical in synonyms(locale).items() if compact and alias.startswith(compact)
    }
    ranked: dict[str, tuple[int, str, str]] = {}
    for key, label in skills:
        if key in ranked:
            continue
        folded_label = skill_key(label)
        if not wanted or key.startswith(wanted) or folded_label.startswith(wanted):
            rank = 0
        elif any(word.startswith(wanted) for word in re.split(r"[\s/\-.]+", f"{key} {folded_label}")):
            rank = 1
        elif key in aliases:
            rank = 2
        else:
            continue
        ranked[key] = (rank, folded_label, label)
    ordered = sorted(ranked.items(), key=lambda item: (item[1][0], item[1][1]))
    return [(key, label) for key, (_, _, label) in ordered[:limit]]
