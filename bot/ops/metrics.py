"""Counters and histograms in the Prometheus text format, without a client library.

A handful of counters and histograms kept in dicts, rendered on demand by `render()`. Written here
rather than taken from prometheus-client: the exposition format is a few lines of text, and the
bot keeps its import time and memory small (measured: this module adds no dependency and well
under 1 MB for every label set the bot produces).

Label values are bounded: features and commands come from the registry (bot/features.py) or from
the first two words of an interaction id that match `[a-z_]`, never from user text or numeric ids.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import aiohttp

# Seconds. An interaction's answer is due within 3 s on both platforms.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0, 600.0)
OUTCOMES = ("ok", "refused", "error")
_WORD = re.compile(r"[a-z][a-z_-]{0,31}")
MAX_LABEL_SETS = 2000  # per metric: a bug producing unbounded label values cannot eat the memory

Labels = tuple[tuple[str, str], ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Labels, extra: Labels = ()) -> str:
    pairs = (*labels, *extra)
    if not pairs:
        return ""
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in pairs) + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


@dataclass
class Counter:
    name: str
    help: str
    values: dict[Labels, float] = field(default_factory=dict)

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        if key not in self.values and len(self.values) >= MAX_LABEL_SETS:
            key = tuple((name, "other") for name, _ in key)
        self.values[key] = self.values.get(key, 0.0) + amount

    def get(self, **labels: str) -> float:
        return self.values.get(tuple(sorted(labels.items())), 0.0)

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} counter"
        for labels, value in sorted(self.values.items()):
            yield f"{self.name}{_labels(labels)} {_number(value)}"


@dataclass
class Histogram:
    name: str
    help: str
    buckets: Sequence[float] = LATENCY_BUCKETS
    series: dict[Labels, list[float]] = field(default_factory=dict)  # bucket counts..., sum, count

    def observe(self, value: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        row = self.series.get(key)
        if row is None:
            if len(self.series) >= MAX_LABEL_SETS:
                key = tuple((name, "other") for name, _ in key)
            row = self.series.setdefault(key, [0.0] * (len(self.buckets) + 2))
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                row[i] += 1
        row[-2] += value
        row[-1] += 1

    def count(self, **labels: str) -> int:
        row = self.series.get(tuple(sorted(labels.items())))
        return int(row[-1]) if row else 0

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} histogram"
        for labels, row in sorted(self.series.items()):
            for bound, value in zip(self.buckets, row, strict=False):
                yield f"{self.name}_bucket{_labels(labels, (('le', _number(bound)),))} {_number(value)}"
            yield f"{self.name}_bucket{_labels(labels, (('le', '+Inf'),))} {_number(row[-1])}"
            yield f"{self.name}_sum{_labels(labels)} {_number(row[-2])}"
            yield f"{self.name}_count{_labels(labels)} {_number(row[-1])}"


def gauge(name: str, help_text: str, values: Mapping[Labels, float] | float) -> list[str]:
    """A gauge's lines, from a value or values by label set (measured at scrape time)."""
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    if not isinstance(values, Mapping):
        values = {(): values}
    lines += [f"{name}{_labels(labels)} {_number(value)}" for labels, value in sorted(values.items())]
    return lines


class Metrics:
    """What this process counted since it started; `services.metrics`."""

    def __init__(self) -> None:
        self.started = time.time()
        self.interactions = Counter(
            "collectif_interactions_total",
            "Interactions handled (slash commands, buttons, forms, events), by platform, feature, "
            "command and outcome (ok, refused: the member was told why, error: unexpected).",
        )
        self.latency = Histogram(
            "collectif_interaction_seconds",
            "Time from an interaction's arrival to the end of its handler, by platform and feature.",
        )
        self.jobs = Counter(
            "collectif_jobs_run_total",
            "Timed jobs this process ran, by kind and outcome (done, retry, failed).",
        )
        self.job_seconds = Histogram(
            "collectif_job_seconds", "How long a timed job's handler took, by kind.", JOB_BUCKETS
        )
        self.job_delay = Histogram(
            "collectif_job_delay_seconds", "How late a timed job started after its due time.", JOB_BUCKETS
        )
        self.api = Counter(
            "collectif_platform_api_responses_total",
            "Discord and Slack API answers, by platform and status class (2xx, 4xx, 5xx, 429).",
        )
        self.api_errors = Counter(
            "collectif_platform_api_errors_total",
            "Discord and Slack API calls that failed (status >= 400 or no answer), by platform and kind.",
        )
        self.rate_limited = Counter(
            "collectif_platform_rate_limited_total",
            "Discord and Slack API answers 429 (rate limited; the call is retried after Retry-After).",
        )

    # -- interactions ------------------------------------------------------------------------------

    def interaction(self, platform: str, feature: str, command: str, outcome: str, seconds: float) -> None:
        self.interactions.inc(platform=platform, feature=feature, command=command, outcome=outcome)
        self.latency.observe(seconds, platform=platform, feature=feature)

    # -- jobs --------------------------------------------------------------------------------------

    def job(self, kind: str, outcome: str, seconds: float, delay: float) -> None:
        """Called by the scheduler after each attempt (bot.scheduler.Scheduler.observer)."""
        kind = kind if _WORD.fullmatch(kind.replace(".", "_").replace(":", "_")) else "other"
        self.jobs.inc(kind=kind, outcome=outcome)
        self.job_seconds.observe(seconds, kind=kind)
        self.job_delay.observe(max(delay, 0.0), kind=kind)

    # -- platform APIs -----------------------------------------------------------------------------

    def api_response(self, platform: str, status: int) -> None:
        if status == 429:
            self.rate_limited.inc(platform=platform)
            klass = "429"
        else:
            klass = f"{status // 100}xx"
        self.api.inc(platform=platform, status=klass)
        if status >= 400:
            self.api_errors.inc(platform=platform, kind=klass)

    def api_failure(self, platform: str, error: BaseException) -> None:
        self.api_errors.inc(platform=platform, kind=type(error).__name__[:40])

    def trace_config(self, platform: str) -> aiohttp.TraceConfig:
        """An aiohttp trace counting every API answer of a client session (Discord's, Slack's)."""
        trace = aiohttp.TraceConfig()

        async def on_end(_session: Any, _context: SimpleNamespace, params: Any) -> None:
            self.api_response(platform, params.response.status)

        async def on_error(_session: Any, _context: SimpleNamespace, params: Any) -> None:
            self.api_failure(platform, params.exception)

        trace.on_request_end.append(on_end)
        trace.on_request_exception.append(on_error)
        return trace

    # -- exposition --------------------------------------------------------------------------------

    def render(self, gauges: Iterable[str] = ()) -> str:
        lines: list[str] = []
        for metric in (self.interactions, self.latency, self.jobs, self.job_seconds, self.job_delay,
                       self.api, self.api_errors, self.rate_limited):
            lines.extend(metric.render())
        lines.extend(gauges)
        return "\n".join(lines) + "\n"


def label_word(value: str | None, default: str = "other") -> str:
    """A label value from an id's word: lower-case letters and underscores, else `default`."""
    return value if value and _WORD.fullmatch(value) else default


def from_custom_id(custom_id: str, features: Iterable[str]) -> tuple[str, str]:
    """(feature, verb) of an interaction id written `<feature>:<verb>:…` (bot.features: ids)."""
    head, _, rest = custom_id.partition(":")
    if head not in set(features):
        return "other", "other"
    return head, label_word(rest.partition(":")[0], "component")


def resident_memory_bytes() -> int | None:
    """The resident set size of this process (Linux /proc), None elsewhere."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    import resource

    return pages * resource.getpagesize()
