"""A Discord-only process does not load what only Slack, an HTTP server or PostgreSQL needs (issue 7).

Each of these was imported by every process once, for 9 MB of RSS together (benchmarks/memory.py):
slack_sdk (storage.models built the Slack tables with its stores), aiohttp.web (bot.ops.server),
SQLAlchemy's PostgreSQL dialect (storage.sql) and rapidfuzz (cogs.intros._skills). They are imported
where they are used; this checks, in a fresh interpreter, that no module-level import brings them back.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_LOADED = ("slack_sdk", "slack_bolt", "aiohttp.web", "sqlalchemy.dialects.postgresql", "rapidfuzz")

PROGRAM = f"""
import importlib, json, sys
import bot.cli, bot.runner, bot.discord_bot.runtime, bot.ops.server, storage.models, storage.sql
from bot.features import load_features
for feature in load_features():
    if feature.discord_extension:
        importlib.import_module(feature.discord_extension)
packages = {{"slack_sdk", "slack_bolt", "rapidfuzz"}}
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in packages or m in {NOT_LOADED!r})))
"""


def test_discord_only_modules_do_not_import_slack_http_server_postgresql_or_rapidfuzz() -> None:
    out = subprocess.run([sys.executable, "-c", PROGRAM], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
