"""Who is calling on Slack: users.info (locale, workspace admin) cached per user, turned into an Origin.

The profile is a nicety (the member's language, workspace-admin rights): whatever goes wrong while
asking Slack for it — an error code, a rate limit, an outage answering HTML, a dropped connection —
the request carries on without it, and the failure is remembered for a little while so that a
struggling Slack is not asked again on every request.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock
from bot.context import Origin
from bot.slack_app.client import error_code, without_waiting

log = logging.getLogger(__name__)

PROFILE_TTL = timedelta(minutes=5)
FAILURE_TTL = timedelta(seconds=30)  # retry soon after a failed lookup, without hammering the API
MAX_FAILURE_TTL = timedelta(minutes=5)  # however long a Retry-After asks for
MAX_PROFILES = 10_000
LOOKUP_SECONDS = 0.8  # users.info slower than this: carry on without the profile (cached as a failure)
CALLER_KEY = "collectif_caller"  # where the resolved caller waits in Bolt's context (for error messages)


@dataclass(frozen=True)
class SlackProfile:
    display_name: str
    locale: str | None  # "fr-FR", "en-US"…
    is_admin: bool  # workspace admin or owner


class People:
    """users.info with include_locale, one call per user every few minutes (admin rights and language)."""

    def __init__(self, clock: Clock, *, ttl: timedelta = PROFILE_TTL,
                 max_entries: int = MAX_PROFILES) -> None:
        self._clock = clock
        self._ttl = ttl
        self._max = max_entries
        self._cache: dict[tuple[str, str], tuple[datetime, SlackProfile | None]] = {}

    async def profile(self, client: AsyncWebClient, team_id: str, user_id: str) -> SlackProfile | None:
        """The user's profile, or None when Slack would not tell (then: no admin rights, default locale)."""
        entry = self._cache.get((team_id, user_id))
        now = self._clock.now()
        if entry is not None and entry[0] > now:
            return entry[1]
        try:
            async with asyncio.timeout(LOOKUP_SECONDS):  # a form's 3 s must not go on waiting for it
                response = await without_waiting(client).users_info(user=user_id, include_locale=True)
            profile: SlackProfile | None = _profile(response["user"])
            expires = now + self._ttl
        except Exception as exc:  # see the module docstring: never worth failing the request for
            log.warning("users.info failed for %s/%s: %s", team_id, user_id, error_code(exc))
            profile, expires = None, now + _failure_ttl(exc)
        self._cache.pop((team_id, user_id), None)
        if len(self._cache) >= self._max:
            self._cache.pop(next(iter(self._cache)))  # the oldest entry: dicts keep insertion order
        self._cache[(team_id, user_id)] = (expires, profile)
        return profile


async def shown_name(client: AsyncWebClient, user_id: str) -> str:
    """A workspace member's shown name (users.info), for someone chosen in a form; "" if Slack won't say."""
    try:
        async with asyncio.timeout(LOOKUP_SECONDS):
            response = await without_waiting(client).users_info(user=user_id)
        name = _profile(response["user"]).display_name
    except Exception as exc:  # a nicety, as the caller's profile: the save goes on without it
        log.warning("users.info failed for %s: %s", user_id, error_code(exc))
        return ""
    return "" if name == user_id else name


def _failure_ttl(exc: Exception) -> timedelta:
    """FAILURE_TTL, or longer when Slack said how long to wait (429 Retry-After)."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    try:
        retry_after = timedelta(seconds=float(headers.get("Retry-After", 0)))
    except (TypeError, ValueError):
        retry_after = timedelta(0)
    return min(max(FAILURE_TTL, retry_after), MAX_FAILURE_TTL)


def _profile(user: dict[str, Any]) -> SlackProfile:
    names = user.get("profile") or {}
    display = names.get("display_name") or names.get("real_name") or user.get("real_name") or user.get("name")
    return SlackProfile(
        display_name=str(display or user.get("id", "")),
        locale=user.get("locale"),
        is_admin=bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")),
    )


def team_of(body: dict[str, Any], context: dict[str, Any]) -> str:
    """The workspace: the community's external id (the enterprise id for org-wide installs)."""
    team = body.get("team")
    return str(
        context.get("team_id")
        or body.get("team_id")
        or (team.get("id") if isinstance(team, dict) else None)
        or context.get("enterprise_id")
        or ""
    )


def user_of(body: dict[str, Any], context: dict[str, Any]) -> str | None:
    user = body.get("user")
    found = (context.get("user_id") or body.get("user_id")
             or (user.get("id") if isinstance(user, dict) else None))
    return str(found) if found else None


def origin(body: dict[str, Any], context: dict[str, Any], profile: SlackProfile | None) -> Origin:
    team = body.get("team")
    user = body.get("user")
    fallback_name = body.get("user_name") or (user.get("name") if isinstance(user, dict) else None)
    return Origin(
        platform="slack",
        community_external_id=team_of(body, context),
        community_name=str(body.get("team_domain") or (team.get("domain") if isinstance(team, dict) else "")
                           or ""),
        user_id=user_of(body, context) or "",
        display_name=profile.display_name if profile else str(fallback_name or ""),
        user_locale=profile.locale if profile else None,
        community_locale=None,  # Slack has no workspace language: the configured default applies
        is_platform_admin=profile.is_admin if profile else False,
    )
