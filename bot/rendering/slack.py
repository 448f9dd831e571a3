"""Cards rendered as Slack Block Kit: within Slack's limits, user text escaped so that it never pings.

Every mrkdwn text is escaped (& < >) and marked `verbatim`, so `<!channel>`, `<@U…>` or a bare
`@here` typed by a member shows as text instead of notifying anyone. plain_text objects (header,
button labels) are never parsed for mentions by Slack, so they stay unescaped. Long texts are split
into several sections or truncated; rendering never fails on size.

Dates from `bot.cards.when` become `<!date^UNIX^{date_long_pretty} {time}|2026-12-04 18:00 UTC>` in
mrkdwn (each reader sees their own zone; the plain text is what clients that cannot format it show)
and plain text in plain_text objects and the notification text: in the community's zone and the
message's language when `when()` was told them, else UTC. A date markup is never cut in half.
Commands named in catalog texts become what a member types in Slack, "/collectif intro"
(`bot.i18n.expand_commands`), in every text.
Selects go in the actions blocks before the buttons: `static_select`, or `multi_static_select`
when more than one option may be chosen.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.cards import WHEN, Action, Card, Field, Select, expand_when, utc_text, when_fallback
from bot.i18n import expand_commands

MAX_BLOCKS = 50  # per message; modals and the Home tab allow 100
HOME_MAX_BLOCKS = 100
HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
FIELDS_PER_SECTION = 10
CONTEXT_MAX = 3000
BUTTON_TEXT_MAX = 75
BUTTONS_PER_BLOCK = 25
ACTION_ID_MAX = 255
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
SELECT_OPTIONS_MAX = 100
PLACEHOLDER_MAX = 150
URL_MAX = 3000
ALT_TEXT_MAX = 2000
FALLBACK_MAX = 3000
ELLIPSIS = "…"

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_STYLES = {"primary": "primary", "success": "primary", "danger": "danger"}
_DATE_FORMATS = {
    "full": "{date_long_pretty} {time}",
    "short": "{date_short_pretty} {time}",
    "date": "{date_long_pretty}",
    "time": "{time}",
    "relative": "{ago}",
}

Block = dict[str, Any]


def date_markup(unix: int, style: str, fallback: str | None = None) -> str:
    """Slack's date markup; `fallback` (UTC text by default) is what clients that cannot format it show."""
    return f"<!date^{unix}^{_DATE_FORMATS[style]}|{fallback or utc_text(unix, style)}>"


def _atoms(text: str) -> Iterator[str]:
    """The escaped pieces of `text` that must not be split: a character or entity, or a whole date."""
    text = expand_commands(text, "slack")
    start = 0
    for match in WHEN.finditer(text):
        for char in text[start : match.start()]:
            yield _ESCAPES.get(char, char)
        yield date_markup(int(match[1]), match[2], when_fallback(match))
        start = match.end()
    for char in text[start:]:
        yield _ESCAPES.get(char, char)


def escape(text: str) -> str:
    """Slack's three control characters as entities: what remains cannot form a mention or a link.

    Dates made with `bot.cards.when` become Slack date markup, the only markup let through.
    """
    return "".join(_atoms(text))


def escaped_within(text: str, limit: int) -> str:
    """`text` escaped, cut (with an ellipsis) so the escaped result fits `limit`, never mid-entity."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    budget, size, out = limit - len(ELLIPSIS), 0, []
    for piece in _atoms(text):
        if size + len(piece) > budget:
            break
        out.append(piece)
        size += len(piece)
    return "".join(out) + ELLIPSIS


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)] + ELLIPSIS


def _split_escaped(line: str, limit: int) -> list[str]:
    """One line as escaped pieces of at most `limit` characters, never cutting an entity in half."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for piece in _atoms(line):
        if size + len(piece) > limit and current:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(piece)
        size += len(piece)
    if current:
        pieces.append("".join(current))
    return pieces


def _pack(text: str, limit: int) -> Iterator[str]:
    """Escaped chunks of at most `limit` characters, split between lines when possible."""
    chunk: list[str] = []
    size = 0
    for line in text.split("\n"):
        for piece in _split_escaped(line, limit) or [""]:
            extra = len(piece) + (1 if chunk else 0)
            if chunk and size + extra > limit:
                yield "\n".join(chunk)
                chunk, size, extra = [], 0, len(piece)
            chunk.append(piece)
            size += extra
    if any(chunk):
        yield "\n".join(chunk)


def mrkdwn(text: str) -> dict[str, Any]:
    """A mrkdwn text object for already-escaped text; verbatim so Slack adds no mention of its own."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": _cut(expand_when(expand_commands(text, "slack")), limit) or " ",
            "emoji": True}


def safe_url(url: str | None) -> str | None:
    """An http(s) URL fit for `<url|label>` markup, or None (anything else could smuggle markup)."""
    if not url or not url.startswith(("https://", "http://")) or len(url) > URL_MAX:
        return None
    if any(c in url for c in "<>| \n"):
        return None
    return url.replace("&", "&amp;")


def _sections(heading: str, text: str) -> list[Block]:
    """A titled text as one section, or several when it is longer than a section allows."""
    prefix = f"*{escaped_within(heading, 200)}*\n" if heading else ""
    chunks = list(_pack(text, SECTION_MAX - len(prefix))) or [""]
    blocks = []
    for index, chunk in enumerate(chunks):
        body = (prefix if index == 0 else "") + chunk
        if body.strip():
            blocks.append({"type": "section", "text": mrkdwn(body)})
    return blocks


def _field_text(field: Field) -> str:
    name = escaped_within(field.name, 300)
    value = escaped_within(field.value, FIELD_MAX - len(name) - 3)
    return f"*{name}*\n{value}" if name else value


def _field_blocks(fields: tuple[Field, ...]) -> list[Block]:
    blocks: list[Block] = []
    inline: list[dict[str, Any]] = []

    def flush() -> None:
        if inline:
            blocks.append({"type": "section", "fields": list(inline)})
            inline.clear()

    for field in fields:
        if not (field.name or field.value):
            continue
        if field.inline:
            inline.append(mrkdwn(_field_text(field)))
            if len(inline) == FIELDS_PER_SECTION:
                flush()
        else:
            flush()
            blocks.extend(_sections(field.name, field.value))
    flush()
    return blocks


def button(action: Action) -> Block | None:
    """A Block Kit button for an action, or None for a link button whose URL is unusable."""
    element: Block = {
        "type": "button",
        "action_id": action.id[:ACTION_ID_MAX],
        "text": plain(action.label, BUTTON_TEXT_MAX),
        "value": action.id,
    }
    if action.style in _STYLES:
        element["style"] = _STYLES[action.style]
    if action.url is not None:
        if not action.url.startswith(("https://", "http://")) or len(action.url) > URL_MAX:
            return None
        element["url"] = action.url
    return element


def select_element(select: Select) -> Block:
    """A Block Kit static select for a Select, multi when more than one option may be chosen.

    Multi as well when none may (`min_values=0`): a static_select can never be cleared, so a list of
    one name to tick could never be unticked.
    """
    options = [
        {
            "text": plain(o.label or o.value, OPTION_TEXT_MAX),
            "value": o.value[:OPTION_VALUE_MAX],
            **({"description": plain(o.description, OPTION_TEXT_MAX)} if o.description.strip() else {}),
        }
        for o in select.options[:SELECT_OPTIONS_MAX]
    ]
    chosen = [option for o, option in zip(select.options, options, strict=False) if o.default]
    element: Block = {"action_id": select.id[:ACTION_ID_MAX], "options": options}
    if select.placeholder.strip():
        element["placeholder"] = plain(select.placeholder, PLACEHOLDER_MAX)
    most = min(select.max_values, len(options))
    if most > 1 or select.min_values == 0:
        element.update(type="multi_static_select", max_selected_items=most)
        if chosen:
            element["initial_options"] = chosen[:most]
    else:
        element["type"] = "static_select"
        if chosen:
            element["initial_option"] = chosen[0]
    return element


def _action_blocks(actions: tuple[Action, ...], selects: tuple[Select, ...] = ()) -> list[Block]:
    seen: set[str] = set()
    elements = []
    for select in selects:
        if select.id in seen:
            continue
        seen.add(select.id)
        elements.append(select_element(select))
    for action in actions:
        element = button(action)
        if element is None or element["action_id"] in seen:  # Slack refuses duplicate action ids
            continue
        seen.add(element["action_id"])
        elements.append(element)
    return [
        {"type": "actions", "elements": elements[i : i + BUTTONS_PER_BLOCK]}
        for i in range(0, len(elements), BUTTONS_PER_BLOCK)
    ]


def render_blocks(card: Card, *, max_blocks: int = MAX_BLOCKS) -> list[Block]:
    """The card as Block Kit blocks: header, text, fields, link, image, footer, buttons (≤ max_blocks)."""
    body: list[Block] = []
    if card.title.strip():
        body.append({"type": "header", "text": plain(card.title, HEADER_MAX)})
    if card.text.strip():
        body.extend(_sections("", card.text))
    body.extend(_field_blocks(card.fields))
    url = safe_url(card.url)
    if url:
        body.append({"type": "context", "elements": [mrkdwn(f"<{url}>")]})
    image = safe_url(card.image_url)
    if image and card.image_url:
        body.append({"type": "image", "image_url": card.image_url,
                     "alt_text": _cut(card.title or "image", ALT_TEXT_MAX)})
    tail: list[Block] = []
    if card.footer.strip():
        tail.append({"type": "context", "elements": [mrkdwn(escaped_within(card.footer, CONTEXT_MAX))]})
    tail.extend(_action_blocks(card.actions, card.selects))
    tail = tail[: max(0, max_blocks - 1)]
    room = max_blocks - len(tail)
    if len(body) > room:  # keep the start of the card and its buttons; show that something was cut
        body = [*body[: max(0, room - 1)], {"type": "context", "elements": [mrkdwn(ELLIPSIS)]}][:room]
    return body + tail


def fallback_text(card: Card) -> str:
    """The message's top-level text: what notifications and screen readers show."""
    text = card.title if not card.text else f"{card.title}\n{card.text}"
    return escaped_within(expand_when(text).strip() or ELLIPSIS, FALLBACK_MAX)


def render_message(card: Card, *, max_blocks: int = MAX_BLOCKS) -> dict[str, Any]:
    """Keyword arguments for chat.postMessage / chat.update / respond: `text` and `blocks`."""
    return {"text": fallback_text(card), "blocks": render_blocks(card, max_blocks=max_blocks)}
