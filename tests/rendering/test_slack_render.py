"""Cards to Block Kit: limits kept whatever the input, user text escaped, nothing fails."""

from __future__ import annotations

import html
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from bot.cards import Action, Card, Field
from bot.rendering.slack import (
    HOME_MAX_BLOCKS,
    escape,
    escaped_within,
    fallback_text,
    render_blocks,
    render_message,
)

DATE_MARKUP = re.compile(r"<!date\^-?[0-9]+\^[^|<>]*\|[0-9: A-Z-]*>")
PINGS = "hey <!channel> <!everyone> <!here> <@U123> <#C42> & more > less"


def mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[str]:
    found = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return found


def check_limits(blocks: list[dict[str, Any]], max_blocks: int = 50) -> None:
    assert len(blocks) <= max_blocks
    action_ids = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert len(action_ids) == len(set(action_ids))
    for block in blocks:
        Block.parse(block).validate_json()  # slack_sdk's own checks of the documented limits
        if block["type"] == "header":
            assert 0 < len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            if "text" in block:
                assert 0 < len(block["text"]["text"]) <= 3000
            if "fields" in block:
                assert 0 < len(block["fields"]) <= 10
                assert all(len(f["text"]) <= 2000 for f in block["fields"])
        if block["type"] == "actions":
            assert 0 < len(block["elements"]) <= 25
            assert all(len(e["text"]["text"]) <= 75 for e in block["elements"] if e["type"] == "button")
            for select in (e for e in block["elements"] if "select" in e["type"]):
                assert 1 <= len(select["options"]) <= 100
                assert all(len(o["text"]["text"]) <= 75 and len(o["value"]) <= 150 for o in select["options"])
    for text in mrkdwn_texts(blocks):
        text = DATE_MARKUP.sub("", text)  # the one markup let through: dates made with bot.cards.when
        assert "<!" not in text
        assert "<@" not in text
        assert "<#" not in text
        # every & starts a whole entity: truncation never cut one in half
        assert re.fullmatch(r"([^&]|&amp;|&lt;|&gt;)*", text), text[-20:]


def test_user_text_is_escaped_everywhere_it_could_ping() -> None:
    card = Card(
        title="Titre <!channel>",
        text=PINGS,
        fields=(Field("Nom <@U1>", PINGS, inline=True), Field("Bio", PINGS)),
        footer=PINGS,
        actions=(Action("help:show:1", "Voir <!here>"),),
    )
    blocks = render_blocks(card)
    check_limits(blocks)
    texts = mrkdwn_texts(blocks)
    assert texts
    assert all("&lt;!channel&gt;" in t for t in texts if "channel" in t)
    assert all(node["verbatim"] is True for b in blocks for node in _mrkdwn_nodes(b))
    assert "&lt;!channel&gt;" in fallback_text(card)


def _mrkdwn_nodes(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        own = [node] if node.get("type") == "mrkdwn" else []
        return own + [n for v in node.values() for n in _mrkdwn_nodes(v)]
    if isinstance(node, list):
        return [n for v in node for n in _mrkdwn_nodes(v)]
    return []


def test_a_simple_card_reads_as_expected() -> None:
    card = Card(
        title="Collectif — l’aide",
        text="Bonjour",
        fields=(Field("Pour tout le monde", "`/collectif aide` — Affiche les commandes"),),
        footer="Pied",
        actions=(Action("help:page:2", "Suivant", style="primary"),
                 Action("help:site:1", "Site", style="link", url="https://example.org/a?b=1&c=2")),
    )
    blocks = render_blocks(card)
    assert [b["type"] for b in blocks] == ["header", "section", "section", "context", "actions"]
    assert blocks[0]["text"]["text"] == "Collectif — l’aide"
    assert blocks[2]["text"]["text"] == "*Pour tout le monde*\n`/collectif aide` — Affiche les commandes"
    buttons = blocks[-1]["elements"]
    assert buttons[0] == {
        "type": "button", "action_id": "help:page:2", "value": "help:page:2", "style": "primary",
        "text": {"type": "plain_text", "text": "Suivant", "emoji": True},
    }
    assert buttons[1]["url"] == "https://example.org/a?b=1&c=2"
    assert render_message(card)["text"] == "Collectif — l’aide\nBonjour"


def test_long_text_is_split_into_sections_without_losing_it() -> None:
    text = "\n".join(f"ligne {i} & <b>" for i in range(600))
    blocks = render_blocks(Card(title="t", text=text))
    check_limits(blocks)
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert len(sections) > 1
    assert html.unescape("\n".join(sections)) == text


def test_one_huge_line_is_cut_at_character_boundaries() -> None:
    blocks = render_blocks(Card(title="t" * 400, text="&" * 10_000, footer="<" * 5000))
    check_limits(blocks)
    assert blocks[0]["text"]["text"].endswith("…")


def test_block_budget_keeps_the_buttons() -> None:
    fields = tuple(Field(f"f{i}", "x" * 2500) for i in range(80))
    actions = tuple(Action(f"feat:act:{i}", f"b{i}") for i in range(30))
    blocks = render_blocks(Card(title="t", fields=fields, footer="foot", actions=actions))
    check_limits(blocks)
    assert [b["type"] for b in blocks[-3:]] == ["context", "actions", "actions"]
    assert sum(len(b["elements"]) for b in blocks if b["type"] == "actions") == 30
    many = fields * 2
    assert len(render_blocks(Card(title="t", fields=many), max_blocks=HOME_MAX_BLOCKS)) == 100


def test_inline_fields_are_grouped_by_ten() -> None:
    fields = tuple(Field(f"n{i}", "v" * 3000, inline=True) for i in range(23))
    blocks = render_blocks(Card(title="t", fields=fields))
    check_limits(blocks)
    assert [len(b["fields"]) for b in blocks if "fields" in b] == [10, 10, 3]


def test_unsafe_links_and_duplicate_ids_are_dropped() -> None:
    card = Card(
        title="t",
        url="javascript:alert(1)",
        image_url="<!channel>",
        actions=(Action("a:b:1", "ok"), Action("a:b:1", "again"), Action("a:c:1", "x", url="ftp://x")),
    )
    blocks = render_blocks(card)
    assert [b["type"] for b in blocks] == ["header", "actions"]
    assert [e["action_id"] for e in blocks[1]["elements"]] == ["a:b:1"]


def test_escaping_helpers() -> None:
    assert escape("<!channel> & co") == "&lt;!channel&gt; &amp; co"
    assert escaped_within("ab&", 4) == "ab…"
    assert escaped_within("a&b", 10) == "a&amp;b"


def test_empty_card_renders_something_valid() -> None:
    blocks = render_blocks(Card(title=""))
    check_limits(blocks)
    assert fallback_text(Card(title="")) == "…"


text_st = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from("&<>\n*"),
    max_size=4000,
)


@settings(max_examples=60, deadline=None)
@given(
    title=text_st,
    text=text_st,
    fields=st.lists(st.tuples(text_st, text_st, st.booleans()), max_size=40),
    footer=text_st,
    labels=st.lists(text_st, max_size=60),
)
def test_any_card_stays_within_limits(title: str, text: str, fields: list[tuple[str, str, bool]],
                                      footer: str, labels: list[str]) -> None:
    card = Card(
        title=title,
        text=text,
        fields=tuple(Field(n, v, inline) for n, v, inline in fields),
        footer=footer,
        actions=tuple(Action(f"feat:verb:{i}", label) for i, label in enumerate(labels)),
    )
    check_limits(render_blocks(card))
    assert len(fallback_text(card)) <= 3000


def test_a_command_named_in_a_catalog_text_is_the_slack_invocation():
    """`{/taches ajouter}` in a catalog text reads "/collectif taches ajouter" everywhere on Slack."""
    from bot.i18n import Catalog

    catalog = Catalog({"fr": {"a": "Ajoutez-en avec {/taches ajouter} ou {/presentation}."}, "en": {}})
    text = catalog.t("fr", "a")
    card = Card(title=text, text=text, footer=text, fields=(Field(text, text),))
    shown = render_message(card)
    everything = str(shown)
    assert everything.count("/collectif taches ajouter") == 7  # fallback: title and text
    assert "\ue002" not in everything and "\ue003" not in everything
    assert shown["text"].startswith("Ajoutez-en avec /collectif taches ajouter ou /collectif presentation.")
    assert escaped_within(text, 3000) == escape(text) == (
        "Ajoutez-en avec /collectif taches ajouter ou /collectif presentation.")
