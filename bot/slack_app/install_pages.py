"""What an admin sees back from Slack's consent screen when the install did not happen (distribution).

Bolt's own failure page says "Oops, Something Went Wrong!" in English for every reason, even for an
admin who pressed Cancel, and links to a root-relative /slack/install that a reverse-proxy prefix breaks.
Ours says in plain words what happened (cancelled, link expired, another browser, anything else), in
every language of the catalogs since the browser's is unknown, with a link to start again built from
`slack.request_url` (its prefix kept). A successful install keeps Bolt's "Thank you!" page.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.response import BoltResponse

from bot.config import SLACK_EVENTS_PATH, SUPPORTED_LOCALES

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services import Services

# Bolt's failure reasons (and Slack's `error` parameter) -> the catalog key saying it in plain words.
REASONS = {
    "access_denied": "slack.install_cancelled",  # the admin pressed Cancel on the consent screen
    "invalid_state": "slack.install_expired",  # the state is 10 minutes old, or was used already
    "invalid_browser": "slack.install_other_browser",  # no state cookie: another browser, or blocked
}
REASON_MAX = 100  # characters of an unexpected reason echoed on the page (it comes from the URL)


def install_url(settings: Settings, install_path: str) -> str:
    """Where to start an install again: `slack.request_url` with /slack/events -> `install_path`.

    Without a request URL, a link relative to the redirect page (…/slack/oauth_redirect), which keeps
    any prefix as well.
    """
    request_url = settings.slack.request_url
    if request_url is None:
        return install_path.rsplit("/", 1)[-1]
    parts = urlsplit(str(request_url))
    path = parts.path.removesuffix(SLACK_EVENTS_PATH) + install_path
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def failure_page(services: Services, reason: str, link: str) -> str:
    """A small HTML page: what happened and a link to start again, in every language, default first."""
    default = services.settings.community.locale
    sections = []
    for locale in dict.fromkeys([default, *SUPPORTED_LOCALES]):
        key = REASONS.get(reason, "slack.install_failed")
        told = services.t(locale, key, reason=reason[:REASON_MAX])
        title, again = services.t(locale, "slack.install_title"), services.t(locale, "slack.install_again")
        sections.append(
            f'<section lang="{locale}">\n<h1>{html.escape(title)}</h1>\n<p>{html.escape(told)}</p>\n'
            f'<p><a href="{html.escape(link)}">{html.escape(again)}</a></p>\n</section>'
        )
    return (
        f'<!DOCTYPE html>\n<html lang="{default}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(services.t(default, 'slack.install_title'))}</title>\n"
        "<style>body { font-family: sans-serif; max-width: 40em; margin: 2em auto; padding: 0 1em; }"
        " section + section { border-top: 1px solid #ccc; margin-top: 2em; }</style>\n"
        "</head>\n<body>\n" + "\n".join(sections) + "\n</body>\n</html>\n"
    )


def callback_options(services: Services, install_path: str) -> AsyncCallbackOptions:
    """Bolt's OAuth callback handlers: ours on failure, Bolt's "Thank you!" page on success."""
    link = install_url(services.settings, install_path)

    async def success(args: AsyncSuccessArgs) -> BoltResponse:
        return await args.default.success(args)

    async def failure(args: AsyncFailureArgs) -> BoltResponse:
        return BoltResponse(
            status=args.suggested_status_code,
            headers={"Content-Type": "text/html; charset=utf-8",
                     # Forget the install's state cookie, as Bolt's page does: the next try sets a new one.
                     "Set-Cookie": args.settings.state_utils.build_set_cookie_for_deletion(),
                     "Cache-Control": "no-store"},
            body=failure_page(services, str(args.reason), link),
        )

    return AsyncCallbackOptions(success=success, failure=failure)
