"""Every parser of user text runs in linear time on hostile input: none can freeze the event loop.

A regular expression with nested or adjacent quantifiers over the same characters backtracks
exponentially on a near-match (27 digits and a "!" froze the bot for 10 s). The parsers run in a child
process under a time limit, so a regression fails here, quickly, instead of hanging the suite.
`test_every_module_with_a_regex_is_listed` makes a new parser join the list.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PER_CALL_SECONDS = 0.25  # linear parsers take microseconds; a backtracking one takes seconds
TODAY = date(2026, 12, 1)


def _ignore_user_errors(parse: Callable[[str], object]) -> Callable[[str], object]:
    def run(text: str) -> object:
        from bot.errors import UserError
        from cogs.config._durations import OffsetError
        from cogs.config._settings import Bad

        try:
            return parse(text)
        except (UserError, OffsetError, Bad):
            return None

    return run


def parsers() -> dict[str, Callable[[str], object]]:
    """Every function that reads what a member or a moderator typed."""
    from bot.community_time import parse_date as community_date
    from bot.community_time import parse_datetime
    from bot.discord_bot.notifier import _short_location as event_location
    from bot.i18n import expand_commands
    from bot.log import redact_url_tokens
    from bot.rendering.discord import rich as discord_text
    from bot.slack_app.router import typed_values
    from bot.text import refuse_control_characters
    from bot.words import match_word
    from cogs.afterworks._form import AfterworkForm
    from cogs.afterworks._form import validate as afterwork_validate
    from cogs.afterworks._polls import PollForm, read_poll
    from cogs.afterworks._slack import CHANNEL_ID as AFTERWORK_CHANNEL
    from cogs.afterworks._slack import read_metadata as afterwork_metadata
    from cogs.config import _refs
    from cogs.config._durations import parse_offsets
    from cogs.config._trades import clean_name
    from cogs.directory._filters import parse_args, parse_available, parse_work_mode
    from cogs.feedback import _slack as feedback_slack
    from cogs.feedback._validation import AnswerForm, RequestForm, validate_answer, validate_request
    from cogs.intros._skills import normalize_skill, split_skills
    from cogs.intros._slack import MENTION
    from cogs.intros._validation import IntroForm, parse_date, parse_rate, validate
    from cogs.matching import _request as matching
    from cogs.missions._search import RATE as MISSION_RATE
    from cogs.missions._search import parse_list_args as mission_list_args
    from cogs.missions._slack import read_metadata as mission_metadata
    from cogs.missions._validation import MissionForm, parse_budget
    from cogs.missions._validation import validate as mission_validate
    from cogs.pooling._form import PoolForm
    from cogs.pooling._form import validate as pool_validate
    from cogs.pooling._rota_form import TaskForm, task_key, validate_task
    from cogs.pooling._slack import read_channel as pool_channel
    from storage.text import fold

    def afterwork_form(text: str) -> object:
        form = AfterworkForm(title=text, when=text, duration=text, kind=text, where=text, city=text,
                             capacity=text, description=text, cutoff=text, recurrence="weekly", until=text)
        return afterwork_validate(form, "Europe/Paris", datetime(2026, 12, 1, tzinfo=UTC), "fr")

    from bot.features import load_features, locale_folders
    from bot.i18n import Catalog

    catalog = Catalog.load(locale_folders(load_features()))

    def afterwork_poll(text: str) -> object:
        form = PollForm(title=text, slot1=text, slot2=text, slot3=text, slot4=text, slot5=text,
                        duration=text, kind=text, where=text, city=text, capacity=text, description=text)
        return read_poll(catalog, form, "Europe/Paris", datetime(2026, 12, 1, tzinfo=UTC), "fr")

    def pool_form(text: str) -> object:
        form = PoolForm(title=text, what=text, link=text, tiers=text, minimum=text, maximum=text,
                        deadline=text, where=text)
        return pool_validate(form, "Europe/Paris", datetime(2026, 12, 1, tzinfo=UTC), "fr")

    def task_form(text: str) -> object:
        form = TaskForm(name=text, description=text, cadence=text, weekday=text, trades=text,
                        trade_ids=[text])
        return validate_task(form, [(1, "Design"), (2, "Développement web")])

    def intro_form(text: str) -> object:
        form = IntroForm(skills=text, city=text, rate=text, links=text, bio=text,
                         availability="from_date", available_from=text)
        return validate(form, trade_ids=[1], sector_ids=[], today=TODAY, locale="fr",
                        known_skill_keys=("redaction web", "wordpress", "referencement"))

    def mission_form(text: str) -> object:
        form = MissionForm(trade_ids=[text], title=text, description=text, skills=text, budget=text,
                           link=text, start_date=text, duration=text, city=text, sector_id=text,
                           answer_by=text, source=text, fee=text, client_name=text, behalf=text)
        return mission_validate(form, trades={1: "Design"}, sectors=[1], today=TODAY, locale="fr")

    community_date("15 janvier", TODAY)  # loads dateparser's data once: a start-up cost, not a per-input one
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    words = {"busy": ("occupé·e", "indisponible"), "remote": ("à distance", "télétravail")}

    found = {
        "community date": lambda t: community_date(t, TODAY, "en"),
        "community date and time": lambda t: parse_datetime(t, "Europe/Paris", now, "fr"),
        "slack words": lambda t: match_word(t, words),
        "config reminders": parse_offsets,
        "config trade name": clean_name,
        "config channel": lambda t: (_refs.channel_id("discord", t), _refs.channel_id("slack", t)),
        "config role": lambda t: _refs.role_id("discord", t),
        "config slack user": _refs.slack_user_id,
        "config slack group": _refs.slack_usergroup_id,
        "config message link": lambda t: (_refs.message_link("discord", t), _refs.message_link("slack", t)),
        "intro rate": parse_rate,
        "intro date": lambda t: parse_date(t, TODAY),
        "intro skills": lambda t: [normalize_skill(s, "fr", ("wordpress",)) for s in split_skills(t)],
        "intro form": intro_form,
        "intro slack mention": lambda t: MENTION.match(t.strip().split()[0] if t.strip() else ""),
        "directory args": parse_args,
        "directory available": lambda t: parse_available(t, TODAY),
        "directory work mode": parse_work_mode,
        "control characters": lambda t: refuse_control_characters({"text": t}),
        "slack form values": lambda t: typed_values({"state": {"values": {"b": {"a": {"value": t}}}}}),
        "fold": fold,
        "feedback request": lambda t: validate_request(
            RequestForm(title=t, links=t, kind="design", question=t, due=t), TODAY, "fr"),
        "feedback answer": lambda t: validate_answer(AnswerForm(text=t, ratings={"hierarchy": t}),
                                                     "design"),
        "feedback slack mention": lambda t: feedback_slack.MENTION.match(t[:150]),
        "discord card text": lambda t: discord_text(t, 4096),
        "discord event location": event_location,
        "command markers": lambda t: (expand_commands(f"\ue002{t}", "slack"),
                                      expand_commands(f"\ue002/c {t}\ue002{t}\ue003", "discord")),
        "afterwork form": afterwork_form,
        "afterwork poll form": afterwork_poll,
        "afterwork slack metadata": lambda t: afterwork_metadata(t),
        "afterwork slack channel": lambda t: AFTERWORK_CHANNEL.fullmatch(t),
        "mission budget": parse_budget,
        "mission form": mission_form,
        "mission slack metadata": mission_metadata,
        "mission list args": mission_list_args,
        "mission rate filter": lambda t: MISSION_RATE.fullmatch(t),
        "matching args": matching.parse_args,
        "matching rate": matching.parse_rate,
        "matching date": lambda t: matching.parse_by(t, TODAY, "fr"),
        "pool form": pool_form,
        "pool slack metadata": pool_channel,
        "rota task form": task_form,
        "rota task name": task_key,
        # discord.py's DEBUG request lines carry the payload sent (a member's text among it).
        "log line token redaction": redact_url_tokens,
    }
    return {name: _ignore_user_errors(parse) for name, parse in found.items()}


# Modules whose regular expressions read no free text (ids the platforms make, our own action ids).
NOT_USER_TEXT = {"bot/cards.py", "bot/slack_app/router.py", "bot/discord_bot/router.py",
                 "bot/ops/metrics.py",  # metric label names, one bounded pattern
                 "bot/ops/backup.py",  # the names of files it wrote itself (fullmatch, no nesting)
                 "bot/modlog.py"}  # a catalog key prefix the bot wrote in a job's payload
LISTED = {
    "bot/text.py", "bot/community_time.py", "storage/text.py", "cogs/config/_durations.py",
    "cogs/config/_refs.py",
    "cogs/config/_trades.py",
    "cogs/intros/_validation.py", "cogs/intros/_skills.py", "cogs/intros/_slack.py",
    "cogs/missions/_validation.py", "cogs/missions/_slack.py", "cogs/missions/_search.py",
    "cogs/directory/_filters.py", "bot/rendering/discord.py", "bot/i18n.py", "bot/discord_bot/notifier.py",
    "cogs/afterworks/_slack.py",
    "cogs/feedback/_slack.py",
    "cogs/matching/_request.py",
    "cogs/pooling/_form.py", "cogs/pooling/_slack.py", "cogs/pooling/_rota_form.py",
    "bot/log.py",
}

_ATOMS = ("1", " ", "1 ", "1h", "h1", "a", "é", "-", "1-", ",", ":", "a:", "<@", "<#", "<@U1|",
          "x" * 7, "1 1", "\t", "\n", "\u00a0", "https://", "/", "1/", "@", "€")
_ENDINGS = ("", "!", "x", ":", ">", "\x00", "€€")


def hostile_inputs() -> Iterator[tuple[str, str]]:
    """(label, text): long repetitions of each atom with near-miss endings, at several lengths."""
    for atom in _ATOMS:
        for length in (30, 200, 1_000, 5_000):
            for ending in _ENDINGS:
                yield f"{atom!r}x{length}+{ending!r}", (atom * (length // len(atom) + 1))[:length] + ending


def _child() -> None:
    """Runs every parser on every input; prints a line before and after each call."""
    for name, parse in parsers().items():
        for label, text in hostile_inputs():
            print(json.dumps({"start": [name, label]}), flush=True)
            seconds = _timed(parse, text)
            if seconds > PER_CALL_SECONDS:  # a shared machine stalls now and then: the best of three
                seconds = min(seconds, _timed(parse, text), _timed(parse, text))
            print(json.dumps({"done": [name, label], "seconds": seconds}), flush=True)


def _timed(parse: Callable[[str], object], text: str) -> float:
    began = time.perf_counter()
    parse(text)
    return time.perf_counter() - began


def test_every_parser_is_linear_on_hostile_input() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", "from tests.test_user_text_parsers import _child; _child()"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        out, err = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    started = [line["start"] for line in lines if "start" in line]
    done = [line for line in lines if "done" in line]
    assert process.returncode == 0 and len(done) == len(started), (
        f"stuck or crashed in {started[-1] if started else '?'}: {err[-2000:]}")
    slow = [(line["done"], round(line["seconds"], 3)) for line in done if line["seconds"] > PER_CALL_SECONDS]
    assert slow == [], f"parsers slower than {PER_CALL_SECONDS}s on hostile input: {slow[:10]}"
    assert {name for name, _ in started} == set(parsers())


def test_every_module_with_a_regex_is_listed() -> None:
    """A new parser of user text joins `parsers()` (and LISTED) or says why it reads none."""
    compiles = re.compile(r"\bre\.(?:compile|match|fullmatch|search|split|sub|findall|finditer)\(")
    modules = {
        str(path.relative_to(ROOT))
        for folder in ("bot", "cogs", "storage")
        for path in (ROOT / folder).rglob("*.py")
        if compiles.search(path.read_text(encoding="utf-8"))
    }
    assert modules - LISTED - NOT_USER_TEXT == set()


@pytest.mark.parametrize(("text", "minutes"), [("24h, 1h", [1440, 60]), ("1h30", [90]),
                                               ("2 jours et 3 h", [2880, 180]), ("30 min", [30])])
def test_the_linear_offset_parser_still_reads_what_people_type(text: str, minutes: list[int]) -> None:
    from cogs.config._durations import parse_offsets

    assert parse_offsets(text) == minutes


@pytest.mark.parametrize(("text", "rate"), [
    ("400-600", (400, 600, "EUR")), ("1 200 à 1 500 €", (1200, 1500, "EUR")),
    ("500 USD", (500, 500, "USD")), ("400/600$", (400, 600, "USD")),
])
def test_the_linear_rate_parser_still_reads_what_people_type(text: str, rate: tuple[int, int, str]) -> None:
    from cogs.intros._validation import parse_rate

    assert parse_rate(text)[:3] == rate
