"""The Slack Web API client: retries for rate limits, outages and dropped connections; safe error codes.

slack_sdk retries only connection errors by default; a 429 (`ratelimited`, with `Retry-After`) or a
500/503 then fails at once. Bolt copies the base client's `retry_handlers` into every per-request
client (`AsyncApp._init_context`), so installing them on the client given to `AsyncApp` covers the
notifier and every listener alike.
"""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

RATE_LIMIT_RETRIES = 2  # each waits Retry-After (+ up to 1 s of jitter, slack_sdk's)
SERVER_ERROR_RETRIES = 2  # 500 / 503, after 0.5 s then 1 s (slack_sdk's backoff)
CONNECTION_RETRIES = 1


def retry_handlers() -> list[AsyncRetryHandler]:
    """New handlers for one client (they keep no state between calls, but each client owns its list)."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES),
        AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        AsyncServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES),
    ]


def build_client(token: str | None, base_url: str, session: aiohttp.ClientSession | None) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=base_url, session=session, retry_handlers=retry_handlers())


def without_waiting(client: AsyncWebClient) -> AsyncWebClient:
    """The same client that never sleeps before a retry: for look-ups that may be skipped.

    A user's profile is asked for before a form is acknowledged; waiting out a Retry-After there
    would cost the 3 s Slack gives us, whereas going on without the profile only costs its locale.
    """
    return AsyncWebClient(
        token=client.token, base_url=client.base_url, timeout=client.timeout, ssl=client.ssl,
        proxy=client.proxy, session=client.session, trust_env_in_session=client.trust_env_in_session,
        headers=dict(client.headers), team_id=client.default_params.get("team_id"), logger=client.logger,
        retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES)],
    )


def error_code(exc: BaseException) -> str:
    """Slack's error code (`channel_not_found`…), or what went wrong instead: never raises.

    A SlackApiError's response is not always a dict-like: a non-JSON body (a proxy's text/plain 500)
    leaves a str in it, and an unreadable JSON body the raw aiohttp response.
    """
    if isinstance(exc, SlackApiError):
        response = exc.response
        data = response if isinstance(response, dict) else getattr(response, "data", None)
        if isinstance(data, dict) and data.get("error"):
            return str(data["error"])
        status = getattr(response, "status_code", None) or getattr(response, "status", None)
        return f"http_{status}" if status else "unreadable_response"
    return type(exc).__name__
