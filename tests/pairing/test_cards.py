"""The pairing cards as each language writes them: shares as percentages, counts with plural forms."""

from __future__ import annotations

import pytest

from bot.features import load_features, locale_folders
from bot.i18n import Catalog
from cogs.pairing._cards import stats_card
from cogs.pairing._store import Stats


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(locale_folders(load_features()))


def met(catalog: Catalog, locale: str, answered: int) -> str:
    card = stats_card(catalog, locale, Stats(rounds=1, per_round=[(1, 4)], groups=2, answered=answered, met=1,
                                             new_cross=1, never_paired=[]))
    return next(f.value for f in card.fields if f.name == catalog.t(locale, "pairing.stats.met"))


def test_the_share_of_groups_that_met_is_a_percentage_written_the_reader_s_way(catalog):
    assert met(catalog, "en", 2).startswith("50% (1 of 2;")
    assert met(catalog, "fr", 2).startswith("50\u00a0% (1 sur 2 ;")  # CLDR: a no-break space before %


def test_one_check_in_answer_is_singular(catalog):
    assert met(catalog, "fr", 1).endswith("; 1 réponse)")
    assert met(catalog, "fr", 2).endswith("; 2 réponses)")
    assert met(catalog, "en", 1).endswith("; 1 answered)")
