"""The feedback cards as a French or English reader sees them: thanks, counts and months in words."""

from __future__ import annotations

from collections import Counter
from datetime import date
from types import SimpleNamespace

import pytest

from bot.features import load_features, locale_folders
from bot.i18n import Catalog
from cogs.feedback._cards import due_card, kudos_card, thanks_card, top_card


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(locale_folders(load_features()))


def closed(reviewers: tuple[str, ...], anonymous: int, former: int = 0) -> SimpleNamespace:
    """The attributes thanks_card reads of a RequestView."""
    return SimpleNamespace(reviewers=reviewers, anonymous_answers=anonymous, former_answers=former,
                           title="Mon portfolio")


@pytest.mark.parametrize(("reviewers", "anonymous", "fr", "en"), [
    (("Ada",), 0, "Merci à Ada pour son avis !", "Thanks to Ada for their feedback!"),
    (("Ada", "Bob"), 0, "Merci à Ada, Bob pour leurs avis !", "Thanks to Ada, Bob for their feedback!"),
    ((), 1, "Merci à 1 relecteur·rice anonyme pour son avis !",
     "Thanks to 1 anonymous reviewer for their feedback!"),
    ((), 2, "Merci aux 2 relecteur·rices anonymes pour leurs avis !",
     "Thanks to 2 anonymous reviewers for their feedback!"),
    (("Ada",), 1, "Merci à Ada et à 1 relecteur·rice anonyme pour leurs avis !",
     "Thanks to Ada and 1 anonymous reviewer for their feedback!"),
    (("Ada",), 3, "Merci à Ada et aux 3 relecteur·rices anonymes pour leurs avis !",
     "Thanks to Ada and 3 anonymous reviewers for their feedback!"),
])
def test_closing_thanks_the_named_and_the_anonymous_reviewers(catalog, reviewers, anonymous, fr, en):
    """Never "et à 0 relecteur·rice(s) anonyme(s)", never "Merci à — et à 2 …"."""
    assert thanks_card(catalog, "fr", closed(reviewers, anonymous)).text == fr  # type: ignore[arg-type]
    assert thanks_card(catalog, "en", closed(reviewers, anonymous)).text == en  # type: ignore[arg-type]


def test_the_due_reminder_counts_answers_with_plural_forms(catalog):
    def text(locale: str, answers: int) -> str:
        view = SimpleNamespace(id=1, title="Logo", answers=answers)
        return due_card(catalog, locale, view).text  # type: ignore[arg-type]

    assert text("fr", 0).startswith("0 réponse pour l’instant.")
    assert text("fr", 1).startswith("1 réponse pour l’instant.")
    assert text("fr", 2).startswith("2 réponses pour l’instant.")
    assert text("en", 1).startswith("1 answer so far.")
    assert text("en", 0).startswith("0 answers so far.")


def test_top_reviewers_name_the_month_in_words(catalog):
    november = date(2026, 11, 1)
    assert top_card(catalog, "fr", november, []).title.endswith("utiles, novembre 2026")
    assert top_card(catalog, "en", november, []).title == "🏆 Most helpful reviewers, November 2026"


def test_kudos_lines_name_months_in_words_with_each_language_s_colon(catalog):
    def fields(locale: str) -> dict[str, str]:
        kinds = Counter({"design": 2, "writing": 1})
        card = kudos_card(catalog, locale, "Ada", 3, kinds, [(date(2026, 11, 1), 3)])
        return {f.name: f.value for f in card.fields}

    fr, en = fields("fr"), fields("en")
    assert fr["Par mois"] == "novembre 2026 : 3"
    assert fr["Par type"].split("\n")[0] == f"{catalog.t('fr', 'feedback.kinds.design')} : 2"
    assert en["By month"] == "November 2026: 3"
    assert en["By kind"].split("\n")[0] == f"{catalog.t('en', 'feedback.kinds.design')}: 2"
