"""Cards to a Discord embed + view: within every limit whatever the input, never failing."""

from __future__ import annotations

import discord
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cards import Action, Card, Field
from bot.rendering.discord import (
    BUTTON_LABEL_MAX,
    DESCRIPTION_MAX,
    EMBED_TOTAL_MAX,
    FIELD_NAME_MAX,
    FIELD_VALUE_MAX,
    FIELDS_MAX,
    TITLE_MAX,
    CardButton,
    render_card,
)


def texts(max_size: int) -> st.SearchStrategy[str]:
    """Any length up to max_size (plain st.text stays short), made of a random piece repeated."""
    return st.builds(lambda piece, n: (piece * n)[:n], st.text(min_size=1, max_size=8),
                     st.integers(min_value=0, max_value=max_size))


ids = st.integers(min_value=0, max_value=10**6).map(lambda n: f"probe:ping:{n}")
actions = st.builds(Action, ids, texts(200), st.sampled_from(["primary", "secondary", "danger"]))
cards = st.builds(
    Card,
    title=texts(400),
    text=texts(9000),
    fields=st.lists(st.builds(Field, texts(400), texts(2000), st.booleans()), max_size=40).map(tuple),
    footer=texts(3000),
    actions=st.lists(actions, max_size=40).map(tuple),
)


def assert_within_limits(embed: discord.Embed, view: discord.ui.View | None) -> None:
    assert len(embed.title or "") <= TITLE_MAX
    assert len(embed.description or "") <= DESCRIPTION_MAX
    assert len(embed.fields) <= FIELDS_MAX
    for field in embed.fields:
        assert 1 <= len(field.name or "") <= FIELD_NAME_MAX
        assert 1 <= len(field.value or "") <= FIELD_VALUE_MAX
    assert len(embed) <= EMBED_TOTAL_MAX
    if view is not None:
        rows = view.to_components()
        assert len(rows) <= 5
        assert all(len(r["components"]) <= 5 for r in rows)
        custom_ids = [c["custom_id"] for r in rows for c in r["components"] if "custom_id" in c]
        assert len(custom_ids) == len(set(custom_ids))
        components = [c for r in rows for c in r["components"]]
        assert all(1 <= len(c["label"]) <= BUTTON_LABEL_MAX for c in components if c["type"] == 2)
        for select in (c for c in components if c["type"] == 3):
            assert len(select["custom_id"]) <= 100
            assert 1 <= len(select["options"]) <= 25
            assert len(select.get("placeholder") or "") <= 150
            assert 0 <= select["min_values"] <= select["max_values"] <= len(select["options"])
            assert all(1 <= len(o["label"]) <= 100 and len(o.get("description") or "") <= 100
                       for o in select["options"])


@settings(max_examples=150, deadline=None)
@given(cards)
def test_any_card_renders_within_discord_limits(card: Card) -> None:
    embed, view = render_card(card)
    assert_within_limits(embed, view)


async def test_a_huge_card_is_cut_not_refused() -> None:
    card = Card(
        title="T" * 1000,
        text="D" * 10_000,
        fields=tuple(Field(f"name {i}", "v" * 5000) for i in range(60)),
        footer="F" * 5000,
        actions=tuple(Action(f"probe:ping:{i}", f"button {i}") for i in range(40)),
    )
    embed, view = render_card(card)

    assert_within_limits(embed, view)
    assert embed.title is not None
    assert embed.title.endswith("…")
    assert embed.description is not None
    assert embed.description.endswith("…")
    assert view is not None
    assert len(view.children) == 25


async def test_a_small_card_is_shown_as_is() -> None:
    card = Card(
        title="Afterwork jeudi",
        text="Au Café des Freelances",
        fields=(Field("Lieu", "Lyon", inline=True), Field("Places", "")),
        footer="Collectif",
        url="https://example.org/a",
        color=0x2F855A,
        actions=(
            Action("afterwork:rsvp:42:going", "J’y vais", style="success"),
            Action("afterwork:ics:42", "Agenda", url="https://example.org/a.ics"),
        ),
    )
    embed, view = render_card(card)

    assert embed.to_dict()["title"] == "Afterwork jeudi"
    assert [(f.name, f.value, f.inline) for f in embed.fields] == [
        ("Lieu", "Lyon", True),
        ("Places", "\u200b", False),  # Discord refuses empty values
    ]
    assert embed.footer.text == "Collectif"
    assert embed.url == "https://example.org/a"
    assert embed.colour == discord.Colour(0x2F855A)
    assert view is not None
    assert view.timeout is None
    going, ics = view.children
    assert isinstance(going, CardButton)
    assert going.custom_id == "afterwork:rsvp:42:going"
    assert going.style is discord.ButtonStyle.success
    assert ics.url == "https://example.org/a.ics"
    assert ics.style is discord.ButtonStyle.link


async def test_card_buttons_are_not_kept_in_memory_per_message() -> None:
    # Clicks are routed by the DynamicItem templates the features register, not by stored views.
    _, view = render_card(Card(title="x", actions=(Action("probe:ping:1", "1"),)))
    assert view is not None
    assert not view.is_dispatchable()


async def test_a_card_without_actions_has_no_view() -> None:
    assert render_card(Card(title="x"))[1] is None


async def test_duplicate_action_ids_are_dropped() -> None:
    _, view = render_card(Card(title="x", actions=(Action("a:b:1", "one"), Action("a:b:1", "again"))))
    assert view is not None
    assert len(view.children) == 1


def test_only_http_urls_reach_discord() -> None:
    """Discord refuses a whole message whose embed or link button has another scheme (400)."""
    card = Card(
        title="t",
        url="javascript:alert(1)",
        image_url="ftp://files.example/a.png",
        actions=(Action("probe:ping", "go", url="javascript:alert(1)"),
                 Action("probe:pong", "ok", url="https://ok.example")),
    )
    embed, view = render_card(card)
    assert embed.url is None
    assert embed.image.url is None
    assert view is not None
    assert [b.url for b in view.children] == ["https://ok.example"]  # type: ignore[attr-defined]
    embed, _ = render_card(Card(title="t", url="https://ok.example", image_url="http://img.example/a.png"))
    assert (embed.url, embed.image.url) == ("https://ok.example", "http://img.example/a.png")


async def test_a_command_named_in_a_catalog_text_is_the_slash_command():
    """`{/taches ajouter}` in a catalog text reads "/taches ajouter" everywhere on Discord, command
    descriptions included."""
    from bot.discord_bot.translator import CatalogTranslator, keyed
    from bot.i18n import Catalog

    catalog = Catalog({"fr": {"a": "Ajoutez-en avec {/taches ajouter}."}, "en": {}})
    text = catalog.t("fr", "a")
    embed, _ = render_card(Card(title=text, text=text, footer=text, fields=(Field(text, text),)))
    shown = str(embed.to_dict())
    assert shown.count("Ajoutez-en avec /taches ajouter.") == 5 and "\ue002" not in shown
    translator = CatalogTranslator(catalog)
    translated = await translator.translate(keyed("a"), discord.Locale.french, None)  # type: ignore[arg-type]
    assert translated == "Ajoutez-en avec /taches ajouter."
