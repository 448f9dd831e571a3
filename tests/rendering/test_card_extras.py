"""Selects, dates and files on cards: what each platform shows, within its limits, for any input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cards import Action, Attachment, Card, Field, Option, Select, plain_when, when
from bot.rendering.discord import CardSelect, render_card, render_files
from bot.rendering.slack import fallback_text, render_blocks
from tests.rendering.test_discord_render import assert_within_limits, texts
from tests.rendering.test_slack_render import check_limits, mrkdwn_texts

AT = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)  # 19:00 in Paris
UNIX = int(AT.timestamp())


def options(n: int, *, default: int | None = None) -> tuple[Option, ...]:
    return tuple(Option(f"v{i}", f"Choix {i}", f"détail {i}", default=i == default) for i in range(n))


def test_a_select_is_a_discord_select_row_before_the_buttons() -> None:
    card = Card(
        title="Équipe",
        selects=(Select("mission:pick:42", options(3, default=1), placeholder="Qui ?", max_values=2),),
        actions=(Action("mission:close:42", "Clore"),),
    )
    _, view = render_card(card)
    assert view is not None
    rows = view.to_components()
    [select] = rows[0]["components"]
    assert (select["type"], select["custom_id"], select["placeholder"]) == (3, "mission:pick:42", "Qui ?")
    assert (select["min_values"], select["max_values"]) == (1, 2)
    assert [(o["value"], o["label"], o["description"], o["default"]) for o in select["options"]] == [
        ("v0", "Choix 0", "détail 0", False), ("v1", "Choix 1", "détail 1", True),
        ("v2", "Choix 2", "détail 2", False)]
    assert [c["custom_id"] for c in rows[1]["components"]] == ["mission:close:42"]
    assert not any(isinstance(c, CardSelect) and c.is_dispatchable() for c in view.children)


def test_a_select_is_a_slack_static_select_with_its_default() -> None:
    card = Card(title="x", selects=(Select("pairing:day:7", options(3, default=2), placeholder="Jour"),))
    [_, actions] = render_blocks(card)
    [element] = actions["elements"]
    assert element["type"] == "static_select"
    assert element["action_id"] == "pairing:day:7"
    assert element["placeholder"]["text"] == "Jour"
    assert element["initial_option"] == element["options"][2]
    assert element["options"][0] == {
        "text": {"type": "plain_text", "text": "Choix 0", "emoji": True}, "value": "v0",
        "description": {"type": "plain_text", "text": "détail 0", "emoji": True}}
    check_limits([actions])


def test_a_multi_select_on_slack_caps_the_choices_at_the_options() -> None:
    card = Card(title="x", selects=(Select("match:team:1", options(3, default=0), max_values=10),))
    element = render_blocks(card)[-1]["elements"][0]
    assert (element["type"], element["max_selected_items"]) == ("multi_static_select", 3)
    assert element["initial_options"] == [element["options"][0]]


@pytest.mark.parametrize("count", [1, 3])
def test_a_select_that_may_be_left_empty_is_a_slack_multi_select_even_with_one_option(count: int) -> None:
    """A static_select can never be cleared (and sends `selected_option`): a list of one person to tick
    and untick (min_values=0) is a multi_static_select of at most that many."""
    card = Card(title="x", selects=(Select("pooling:paid:1:0", options(count, default=0), min_values=0,
                                           max_values=count),))
    element = render_blocks(card)[-1]["elements"][0]
    assert (element["type"], element["max_selected_items"]) == ("multi_static_select", count)
    assert element["initial_options"] == [element["options"][0]]
    assert "initial_option" not in element
    check_limits(render_blocks(card))


def test_a_select_of_one_required_choice_stays_a_slack_static_select() -> None:
    card = Card(title="x", selects=(Select("pairing:day:7", options(1)),))
    element = render_blocks(card)[-1]["elements"][0]
    assert element["type"] == "static_select" and "max_selected_items" not in element


def test_too_many_options_keep_the_first_each_platform_allows() -> None:
    card = Card(title="x", selects=(Select("probe:pick", options(130), max_values=40),))
    _, view = render_card(card)
    assert view is not None
    select = view.to_components()[0]["components"][0]
    assert (len(select["options"]), select["max_values"]) == (25, 25)
    element = render_blocks(card)[-1]["elements"][0]
    assert (len(element["options"]), element["max_selected_items"]) == (100, 40)


def test_selects_and_buttons_share_five_discord_rows() -> None:
    selects = tuple(Select(f"probe:pick:{i}", options(2)) for i in range(4))
    actions = tuple(Action(f"probe:ping:{i}", str(i)) for i in range(12))
    _, view = render_card(Card(title="x", selects=selects, actions=actions))
    assert view is not None
    rows = view.to_components()
    assert [len(r["components"]) for r in rows] == [1, 1, 1, 1, 5]
    six = tuple(Select(f"probe:pick:{i}", options(2)) for i in range(6))
    _, view = render_card(Card(title="x", selects=six))
    assert view is not None and len(view.to_components()) == 5


@pytest.mark.parametrize("bad", [
    lambda: Select("Not An Id", options(1)),
    lambda: Select("probe:pick", ()),
    lambda: Select("probe:pick", options(2), min_values=2, max_values=1),
    lambda: Select("probe:" + "x" * 100, options(1)),
    lambda: Option("v" * 101, "label"),
    lambda: Option("", "label"),
])
def test_a_malformed_select_is_refused_where_it_is_built(bad) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        bad()


def test_dates_use_discord_timestamps_where_discord_renders_them() -> None:
    card = Card(
        title=f"Afterwork {when(AT, 'date')}",
        text=f"Rendez-vous {when(AT)} ({when(AT, 'relative')})",
        fields=(Field(f"Début {when(AT, 'time')}", when(AT, "short")),),
        footer=f"Créé {when(AT)}",
    )
    embed, _ = render_card(card)
    assert embed.description == f"Rendez-vous <t:{UNIX}:F> (<t:{UNIX}:R>)"
    assert embed.fields[0].value == f"<t:{UNIX}:f>"
    # titles, field names and footers show markdown as is: UTC text there
    assert embed.title == "Afterwork 2026-12-04"
    assert embed.fields[0].name == "Début 18:00 UTC"
    assert embed.footer.text == "Créé 2026-12-04 18:00 UTC"


def test_dates_use_slack_date_markup_with_a_utc_fallback() -> None:
    card = Card(title=f"Afterwork {when(AT, 'date')}", text=f"<!here> {when(AT)} · {when(AT, 'relative')}",
                fields=(Field("Début", when(AT, "time"), inline=True),))
    blocks = render_blocks(card)
    assert blocks[0]["text"]["text"] == "Afterwork 2026-12-04"
    assert blocks[1]["text"]["text"] == (
        f"&lt;!here&gt; <!date^{UNIX}^{{date_long_pretty}} {{time}}|2026-12-04 18:00 UTC>"
        f" · <!date^{UNIX}^{{ago}}|2026-12-04 18:00 UTC>")
    assert blocks[2]["fields"][0]["text"] == f"*Début*\n<!date^{UNIX}^{{time}}|18:00 UTC>"
    assert fallback_text(card) == (
        "Afterwork 2026-12-04\n&lt;!here&gt; 2026-12-04 18:00 UTC · 2026-12-04 18:00 UTC")
    check_limits(blocks)


def test_a_date_told_its_zone_and_language_falls_back_to_them_and_says_relative_dates_once() -> None:
    """What notifications show (Slack's `text`, Discord's titles): the community's hour in the message's
    language, never "2026-12-04 18:00 UTC (2026-12-04 18:00 UTC)"."""
    paris = {"locale": "fr", "timezone": "Europe/Paris"}
    card = Card(title=f"Afterwork {when(AT, 'date', **paris)}",
                text=f"Rendez-vous {when(AT, **paris)} ({when(AT, 'relative', **paris)})",
                footer=f"Début {when(AT, 'time', **paris)}")
    text = fallback_text(card)
    assert text.startswith("Afterwork 4 décembre 2026\nRendez-vous vendredi 4 décembre 2026, 19:00 (")
    assert "UTC" not in text and text.count("2026") == 2, text  # the relative part is "dans …" / "il y a …"
    assert f"<!date^{UNIX}^{{time}}|19:00>" in render_blocks(card)[-1]["elements"][0]["text"]
    embed, _ = render_card(card)
    assert (embed.title, embed.footer.text) == ("Afterwork 4 décembre 2026", "Début 19:00")
    assert embed.description == f"Rendez-vous <t:{UNIX}:F> (<t:{UNIX}:R>)"  # Discord shows its own


def test_the_plain_text_of_a_relative_date_counts_from_when_it_is_sent() -> None:
    assert plain_when(UNIX, "relative", "fr", "Europe/Paris", now=AT - timedelta(days=3)) == "dans 3 jours"
    assert plain_when(UNIX, "relative", "en", "Europe/Paris", now=AT + timedelta(hours=2)) == "2 hours ago"
    assert plain_when(UNIX, "short", "en", "America/New_York") == "Dec 4, 2026, 1:00\u202fPM"
    assert plain_when(UNIX, "full", "fr", "Nowhere/Atlantis") == "2026-12-04 18:00 UTC"  # not a zone
    assert plain_when(UNIX, "full") == "2026-12-04 18:00 UTC"


def test_a_date_in_any_zone_is_the_same_instant() -> None:
    paris = AT.astimezone(timezone(timedelta(hours=1)))
    assert when(paris) == when(AT)
    with pytest.raises(ValueError):
        when(datetime(2026, 12, 4, 19, 0))


def test_a_long_text_full_of_dates_never_cuts_a_date_in_half() -> None:
    text = " ".join(when(AT + timedelta(days=i)) for i in range(400))
    embed, _ = render_card(Card(title="x", text=text, fields=(Field("f", text),)))
    for shown in (embed.description or "", embed.fields[0].value or ""):
        assert shown.endswith("…")
        assert all(piece.startswith("<t:") and piece.endswith(":F>") for piece in shown[:-1].split())
    blocks = render_blocks(Card(title="x", text=text, fields=(Field("f", text, inline=True),)))
    check_limits(blocks)
    assert sum(t.count("<!date^") for t in mrkdwn_texts(blocks)) > 40


def test_attachments_become_discord_files() -> None:
    card = Card(title="x", attachments=tuple(Attachment(f"e{i}.ics", b"BEGIN:VCALENDAR", "text/calendar")
                                             for i in range(12)))
    files = render_files(card.attachments)
    assert [f.filename for f in files] == [f"e{i}.ics" for i in range(10)]
    assert files[0].fp.read() == b"BEGIN:VCALENDAR"


whens = st.builds(when, st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1),
                                     timezones=st.just(UTC)),
                  st.sampled_from(["full", "short", "date", "time", "relative"]))
rich_texts = st.lists(st.one_of(texts(300), whens), max_size=40).map("".join)
selects = st.builds(
    Select,
    st.integers(min_value=0, max_value=10**6).map(lambda n: f"probe:pick:{n}"),
    st.lists(st.builds(Option, st.text(min_size=1, max_size=100).filter(str.strip), texts(300), texts(300),
                       st.booleans()), min_size=1, max_size=130).map(tuple),
    texts(400),
    st.just(0),
    st.integers(min_value=1, max_value=200),
)
cards = st.builds(
    Card,
    title=rich_texts,
    text=rich_texts,
    fields=st.lists(st.builds(Field, rich_texts, rich_texts, st.booleans()), max_size=30).map(tuple),
    footer=rich_texts,
    selects=st.lists(selects, max_size=7).map(tuple),
    actions=st.lists(st.builds(Action, st.integers(0, 10**6).map(lambda n: f"probe:ping:{n}"), texts(100)),
                     max_size=30).map(tuple),
)


@settings(max_examples=60, deadline=None)
@given(cards)
def test_any_card_with_dates_and_selects_stays_within_both_platforms_limits(card: Card) -> None:
    embed, view = render_card(card)
    assert_within_limits(embed, view)
    check_limits(render_blocks(card))
