"""What a member typed in the request and answer forms, checked before anything is saved.

Every problem is a catalog key under `feedback.problems.` with its values, by field, so that Slack
shows it under the field and Discord lists them all. Every text is bounded before it is parsed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import PurePath
from typing import Any

from bot.cards import Attachment
from bot.community_time import parse_date
from bot.errors import InvalidInput
from bot.formatting import format_date
from bot.text import web_link
from cogs.feedback._kinds import KINDS, RATING_MAX, RATING_MIN, checklist

MAX_TITLE = 100
MAX_QUESTION = 1000
MAX_ANSWER = 4000
MAX_LINKS = 3
MAX_LINK = 500
MAX_LINKS_TEXT = MAX_LINKS * (MAX_LINK + 2)
MAX_DUE_AHEAD = timedelta(days=365)  # a date wanted at most a year ahead (the due-date job is planned)
# Discord: a file attached to /feedback is posted again with the card (an interaction's attachment
# expires); Discord's smallest upload limit for a bot is above this.
MIB = 1024 * 1024
MAX_FILE_BYTES = 8 * MIB
MAX_FILE_NAME = 255
RATING_TEXTS = {str(n): n for n in range(RATING_MIN, RATING_MAX + 1)}
Problems = dict[str, tuple[str, dict[str, Any]]]


@dataclass
class RequestForm:
    """The request as typed (both platforms fill it): `where` is "", "feedback" or "trade:<id>"."""

    title: str = ""
    links: str = ""
    kind: str = ""
    question: str = ""
    where: str = ""
    due: str = ""
    anonymous: bool = False
    file: AttachedFile | None = None  # Discord: a file attached to the command


@dataclass(frozen=True)
class AttachedFile:
    """A file attached to /feedback (Discord), posted with the card so that it lasts as long as it.

    `content` is None until it is downloaded (after the interaction is deferred): the checks run
    before read its declared `size`.
    """

    name: str
    size: int
    content_type: str = "application/octet-stream"
    content: bytes | None = None


@dataclass(frozen=True)
class RequestData:
    title: str
    links: tuple[str, ...]
    kind: str
    question: str
    where: str
    due_on: date | None
    allow_anonymous: bool
    file_name: str | None = None
    file: Attachment | None = None  # the file to post with the card, once downloaded


@dataclass
class AnswerForm:
    text: str = ""
    ratings: dict[str, str] = field(default_factory=dict)  # checklist item -> "1".."5" or ""


def _problem(problems: Problems, name: str, key: str, **params: Any) -> None:
    problems.setdefault(name, (f"feedback.problems.{key}", params))


def valid_link(url: str) -> bool:
    """An http or https URL with a host, and no space: nothing else is shown as a link."""
    return len(url) <= MAX_LINK and web_link(url)


def split_links(text: str) -> list[str]:
    """The links of a field (one per line, or separated by spaces), bounded first."""
    if len(text) > MAX_LINKS_TEXT:
        return [text]  # refused as too long by the caller's checks
    return list(dict.fromkeys(text.split()))


def file_name(name: str) -> str:
    """The attached file's name as kept and posted: at most MAX_FILE_NAME characters, its extension kept."""
    suffix = "".join(PurePath(name[-32:]).suffix[:16].split())  # read from its end only
    name = " ".join(name[: 4 * MAX_FILE_NAME].split()) or "file"  # bounded before it is split
    if len(name) <= MAX_FILE_NAME:
        return name
    return name[: MAX_FILE_NAME - len(suffix)] + suffix


def file_too_big(size: int) -> InvalidInput:
    """The refusal of an attached file over MAX_FILE_BYTES (`size` in bytes)."""
    problems: Problems = {}
    _problem(problems, "file", "file_too_big", max=MAX_FILE_BYTES // MIB, size=-(-size // MIB))
    return InvalidInput(problems)


def _attached(form: RequestForm, problems: Problems) -> tuple[str | None, Attachment | None]:
    """The attached file's name and, once downloaded, the file itself; too big: a problem."""
    if form.file is None:
        return None, None
    size = len(form.file.content) if form.file.content is not None else form.file.size
    if size > MAX_FILE_BYTES:
        problems.update(file_too_big(size).problems)
        return None, None
    name = file_name(form.file.name)
    if form.file.content is None:
        return name, None
    return name, Attachment(name, form.file.content, form.file.content_type or "application/octet-stream")


def validate_request(form: RequestForm, today: date, locale: str) -> RequestData:
    """RequestData, or InvalidInput naming every field to fix (`today` is the community's)."""
    problems: Problems = {}
    title = " ".join(form.title.split())
    if not title:
        _problem(problems, "title", "title_empty")
    elif len(title) > MAX_TITLE:
        _problem(problems, "title", "title_too_long", max=MAX_TITLE, length=len(title))
    links = split_links(form.links)
    if len(form.links) > MAX_LINKS_TEXT or len(links) > MAX_LINKS:
        _problem(problems, "links", "links_count", max=MAX_LINKS)
    elif not links and form.file is None:
        _problem(problems, "links", "links_empty")
    else:
        for link in links:
            if not valid_link(link):
                _problem(problems, "links", "link_scheme", link=link[:60])
    attached_name, attached = _attached(form, problems)
    if form.kind not in KINDS:
        _problem(problems, "kind", "kind_unknown")
    question = form.question.strip()
    if len(question) > MAX_QUESTION:
        _problem(problems, "question", "question_too_long", max=MAX_QUESTION, length=len(question))
    due_on = None
    if form.due.strip():
        due_on = parse_date(form.due, today, locale)
        if due_on is None:
            _problem(problems, "due", "due_unreadable", text=form.due.strip()[:40])
        elif due_on < today:
            _problem(problems, "due", "due_past")
        elif due_on > today + MAX_DUE_AHEAD:  # and the due-date job, planned the day after, stays a date
            _problem(problems, "due", "due_too_far", date=format_date(today + MAX_DUE_AHEAD, locale))
    if problems:
        raise InvalidInput(problems)
    return RequestData(title, tuple(links), form.kind, question, form.where.strip(), due_on, form.anonymous,
                       attached_name, attached)


def validate_answer(form: AnswerForm, kind: str) -> tuple[str, dict[str, int]]:
    """The answer's text and ratings (item -> 1..5), or InvalidInput naming every field to fix."""
    problems: Problems = {}
    text = form.text.strip()
    if not text:
        _problem(problems, "text", "answer_empty")
    elif len(text) > MAX_ANSWER:
        _problem(problems, "text", "answer_too_long", max=MAX_ANSWER, length=len(text))
    items = checklist(kind)
    ratings: dict[str, int] = {}
    for item, typed in form.ratings.items():
        value = typed.strip()
        if not value:
            continue
        if item not in items:
            _problem(problems, f"rating_{item}", "rating_unknown")
        elif value not in RATING_TEXTS:
            _problem(problems, f"rating_{item}", "rating_range", low=RATING_MIN, high=RATING_MAX)
        else:
            ratings[item] = RATING_TEXTS[value]
    if problems:
        raise InvalidInput(problems)
    return text, ratings
