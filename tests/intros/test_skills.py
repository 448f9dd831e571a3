import pytest

from cogs.intros._skills import normalize_skill, skill_key, split_skills, suggest_skills


@pytest.mark.parametrize(
    ("typed", "locale", "key"),
    [
        ("  WordPress ", "fr", "wordpress"),
        ("Word Press", "en", "wordpress"),
        ("word-press", "fr", "wordpress"),
        ("Référencement", "fr", "seo"),
        ("referencement naturel", "fr", "seo"),
        ("S.E.O.", "fr", "seo"),
        ("SEO", "en", "seo"),
        ("rédaction", "fr", "copywriting"),
        ("Rédaction   Web", "fr", "copywriting"),
        ("Copywriting", "fr", "copywriting"),
        ("web writing", "en", "copywriting"),
        ("UI/UX", "en", "ux/ui design"),
        ("node js", "fr", "node.js"),
        ("Graphisme", "fr", "graphic design"),
        ("Graphic Design", "en", "graphic design"),
    ],
)
def test_synonyms_merge_equivalents(typed: str, locale: str, key: str) -> None:
    assert normalize_skill(typed, locale) == key


def test_case_accents_and_spacing_are_folded() -> None:
    assert skill_key("  Éco-Conception   Durable. ") == "eco-conception durable"
    assert normalize_skill("ÉCO-CONCEPTION", "fr") == normalize_skill("éco-conception", "fr")


def test_near_miss_finds_the_known_tag() -> None:
    assert normalize_skill("wordpres", "fr") == "wordpress"
    assert normalize_skill("photoshp", "en") == "photoshop"
    assert normalize_skill("tricotage", "fr", ["tricotages"]) == "tricotages"


def test_near_miss_leaves_distinct_and_short_tags_alone() -> None:
    assert normalize_skill("redux", "en", ["react"]) == "redux"
    assert normalize_skill("sass", "en", ["sas"]) == "sass"
    assert normalize_skill("brodeuse", "fr", ["broderie"]) == "brodeuse"


def test_known_community_key_wins_over_fuzzing() -> None:
    assert normalize_skill("Tricot", "fr", ["tricot", "tricots"]) == "tricot"


def test_blank_is_no_tag() -> None:
    assert normalize_skill("  -- ", "fr") == ""


def test_split_skills() -> None:
    assert split_skills("a, b;c\n\n d ,") == ["a", "b", "c", "d"]


def test_suggest_skills_prefix_word_and_alias() -> None:
    skills = [
        ("seo", "SEO"),
        ("wordpress", "WordPress"),
        ("project management", "Gestion de projet"),
        ("premiere pro", "Premiere Pro"),
        ("seo", "référencement"),
    ]
    assert suggest_skills("word", skills) == [("wordpress", "WordPress")]
    # the key starting with the prefix comes before a later word starting with it
    assert suggest_skills("pro", skills) == [
        ("project management", "Gestion de projet"),
        ("premiere pro", "Premiere Pro"),
    ]
    assert suggest_skills("réfé", skills, locale="fr") == [("seo", "SEO")]
    assert [k for k, _ in suggest_skills("", skills)] == [
        "project management",
        "premiere pro",
        "seo",
        "wordpress",
    ]


def test_suggest_skills_limit() -> None:
    skills = [(f"skill {i:02}", f"Skill {i:02}") for i in range(40)]
    assert len(suggest_skills("sk", skills)) == 25
    assert len(suggest_skills("sk", skills, limit=5)) == 5


def test_versions_are_not_typos() -> None:
    assert normalize_skill("php7", "en", ["php8"]) == "php7"
    assert normalize_skill("html5", "en", ["html"]) == "html5"


def test_a_typo_of_a_synonym_finds_its_key() -> None:
    assert normalize_skill("référencemnt", "fr") == "seo"
    assert normalize_skill("Référencemnt naturel", "fr") == "seo"
    assert normalize_skill("php7", "fr", ["php8"]) == "php7"


def test_c_sharp_is_not_the_c_language() -> None:
    """"C#" was stored under "c": a C# developer was found by skill:C (the review's probe)."""
    assert [skill_key(s) for s in ("C#", "c# ", "C#.", "F#", "Visual C#", "C++", "C")] == [
        "c#", "c#", "c#", "f#", "visual c#", "c++", "c"]
    assert normalize_skill("C#", "en", ["c"]) == "c#"


def test_a_sharp_not_after_a_letter_is_still_punctuation() -> None:
    """Only a language's "#" is kept: the keys of every other stored skill are unchanged."""
    assert [skill_key(s) for s in ("#hashtag", "Python #", "Python#", "#SEO#", "9#", "(React)")] == [
        "hashtag", "python", "python", "seo", "9", "react"]


@pytest.mark.parametrize(("community", "typed", "key"), [
    ("en", "Référencement", "seo"),
    ("en", "Rédaction web", "copywriting"),
    ("fr", "Web writing", "copywriting"),
    ("fr", "Brand identity", "branding"),
])
def test_an_equivalent_in_the_other_language_is_merged_too(community: str, typed: str, key: str) -> None:
    """« Référencement » in an English-speaking community was its own tag: skill:SEO missed her."""
    assert normalize_skill(typed, community) == key


def test_no_alias_names_two_keys_across_the_languages() -> None:
    """Merging the tables is safe only if no alias means one key in French and another in English."""
    from cogs.intros._skills import _COMMON, _EN, _FR, _compact

    seen: dict[str, str] = {}
    for table in (_COMMON, _FR, _EN):
        for alias, key in table.items():
            compact = _compact(skill_key(alias))
            assert seen.setdefault(compact, key) == key, (alias, seen[compact], key)
