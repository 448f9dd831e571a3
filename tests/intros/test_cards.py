from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.i18n import Catalog
from bot.posting import SyncResult
from cogs.intros._cards import intro_card, outcome_text, problems_text, profile_card
from cogs.intros._profile import ProfileView

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 26)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load([ROOT / "bot" / "locales", ROOT / "cogs" / "intros" / "locales"])


def view(**changes: object) -> ProfileView:
    base = {
        "id": 7,
        "community_id": 1,
        "member_id": 3,
        "user_id": "U1",
        "display_name": "Alice",
        "trades": ((1, "Rédaction web", None),),
        "sectors": (),
        "skills": (("seo", "SEO"),),
        "city": "",
        "work_mode": "remote",
        "languages": ("fr", "en"),
        "rate_min": None,
        "rate_max": None,
        "currency": "EUR",
        "availability": "from_date",
        "available_from": date(2027, 1, 4),
        "links": (),
        "bio": "@everyone <!channel>",
        "opt_matching": True,
        "opt_pairing": False,
        "opt_directory": True,
        "opt_leaderboards": True,
        "last_posted_at": None,
        "updated_at": datetime(2026, 11, 26, 10, tzinfo=UTC),
    }
    base.update(changes)
    return ProfileView(**base)  # type: ignore[arg-type]


def test_intro_card_in_french_keeps_user_text_plain_and_skips_empty_fields(catalog: Catalog) -> None:
    card = intro_card(catalog, "fr", view(), TODAY)
    assert card.title == "👋 Alice"
    assert card.text == "@everyone <!channel>"  # escaping is the renderers' job
    fields = {f.name: f.value for f in card.fields}
    assert fields == {
        "Métiers": "Rédaction web",
        "Disponibilité": "Disponible à partir du 4 janvier 2027",
        "Où": "À distance",
        "Compétences": "SEO",
        "Langues": "Français, Anglais",
    }
    assert card.footer == "Profil mis à jour le 26 novembre 2026"
    assert card.actions == ()


def test_a_reached_date_reads_available(catalog: Catalog) -> None:
    card = intro_card(catalog, "en", view(available_from=TODAY), TODAY)
    assert {f.name: f.value for f in card.fields}["Availability"] == "Available now"


def test_rate_and_city(catalog: Catalog) -> None:
    card = intro_card(catalog, "en", view(rate_min=400, rate_max=600, city="Lyon", work_mode="hybrid"), TODAY)
    fields = {f.name: f.value for f in card.fields}
    assert fields["Daily rate"] == "€400–€600 / day"
    assert fields["Where"] == "Lyon · Hybrid"


def test_own_profile_card_shows_choices_and_buttons(catalog: Catalog) -> None:
    card = profile_card(catalog, "en", view(), TODAY, own=True)
    assert [a.id for a in card.actions] == [
        "intros:edit:7",
        "intros:avail:7:available",
        "intros:avail:7:busy",
    ]
    assert card.fields[-1].value.splitlines() == [
        "Suggest me for collaborations: Yes",
        "Pair me for coffee chats: No",
        "List me in the directory: Yes",
        "Show me on leaderboards: Yes",
    ]
    assert profile_card(catalog, "en", view(), TODAY, own=False).actions == ()
    opted_out = profile_card(catalog, "fr", view(opt_leaderboards=False), TODAY, own=True)
    assert opted_out.fields[-1].value.splitlines()[-1] == "M’afficher dans les classements : Non"


@pytest.mark.parametrize(
    ("locale", "heading"),
    [("fr", "Votre profil n’a pas été enregistré"), ("en", "Your profile was not saved")],
)
def test_problems_text(catalog: Catalog, locale: str, heading: str) -> None:
    problems = {
        "bio": ("intros.problems.bio_too_long", {"max": 1000, "length": 1200}),
        "trades": ("intros.problems.trades_count", {"min": 1, "max": 3}),
    }
    lines = problems_text(catalog, locale, problems).splitlines()
    assert lines[0].startswith(heading)
    assert "1000" in lines[1] and "1200" in lines[1]
    assert len(lines) == 3


def test_outcome_text_tells_what_was_held(catalog: Catalog) -> None:
    result = SyncResult(edited=["C1"], held=["C2"], failed=["C3"])
    text = outcome_text(catalog, "en", result, created=False, next_post=date(2026, 12, 3))
    assert text.splitlines() == [
        catalog.t("en", "intros.saved.updated"),
        catalog.t("en", "intros.saved.edited", count=1),
        "Not posted in 1 new channel: new intro cards can be posted once every few days, next from"
        " December 3, 2026. Run the command again then.",
        catalog.t("en", "intros.saved.failed", count=1),
    ]
    nowhere = outcome_text(catalog, "fr", SyncResult(), created=True, next_post=None)
    assert catalog.t("fr", "intros.saved.nowhere") in nowhere


def test_catalogs_have_the_same_keys_and_placeholders(catalog: Catalog) -> None:
    from bot.i18n import placeholders

    fr = {k: v for k, v in catalog.messages["fr"].items() if k.startswith("intros.")}
    en = {k: v for k, v in catalog.messages["en"].items() if k.startswith("intros.")}
    assert set(fr) == set(en)
    assert [k for k in fr if placeholders(fr[k]) != placeholders(en[k])] == []


def test_footer_date_is_the_community_day(catalog: Catalog) -> None:
    late = view(updated_at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    assert intro_card(catalog, "fr", late, TODAY, timezone="Europe/Paris").footer.endswith(" 1 décembre 2026")
    assert intro_card(catalog, "fr", late, TODAY).footer.endswith(" 30 novembre 2026")
