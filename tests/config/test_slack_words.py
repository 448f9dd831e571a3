"""`/collectif config salon|limite …` in words: refusals list the words that work, old words still read."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bot.errors import InvalidInput
from bot.features import load_features, locale_folders
from bot.i18n import Catalog
from cogs.config._settings import CHANNELS, LIMITS
from cogs.config._slack import _kind, _setting_command


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(locale_folders(load_features()))


def request(catalog: Catalog, locale: str = "fr") -> SimpleNamespace:
    """What `_setting_command` reads of a SlackRequest before it runs anything."""
    return SimpleNamespace(services=SimpleNamespace(catalog=catalog),
                           t=lambda key, **p: catalog.t(locale, key, **p))


@pytest.mark.parametrize(("verb", "rest", "listed"), [
    ("channel", "rien #C123", "présentations, missions, afterworks, avis, binômes, modération, achats"),
    ("limit", "rien 3", "missions, avis, présentations"),
])
async def test_an_unknown_channel_or_limit_lists_the_french_words(catalog, verb, rest, listed):
    """Not "intros, missions, afterworks, feedback, pairing, modlog" nor "missions_per_week, …"."""
    with pytest.raises(InvalidInput) as refused:
        await _setting_command(request(catalog), verb, rest)  # type: ignore[arg-type]
    [(key, params)] = refused.value.problems.values()
    assert catalog.t("fr", key, **params).endswith(f" : {listed}")


def test_the_feedback_feature_is_avis_in_french_and_the_former_retours_still_reads(catalog):
    """The feature is /avis in French; "retours", the word of earlier versions, still works."""
    asked = request(catalog)
    for word in ("avis", "retours", "feedback", "Avis"):
        assert _kind(asked, word, CHANNELS, "channels") == "feedback"  # type: ignore[arg-type]
        assert _kind(asked, word, LIMITS, "limits") == "feedback_per_week"  # type: ignore[arg-type]
    assert catalog.t("fr", "config.setting.channel.feedback") == "Salon des avis"
    assert "retours" not in catalog.t("fr", "config.slack.usage", command="/collectif")
