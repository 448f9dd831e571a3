"""The page an admin sees when a Slack install did not happen: its link keeps the reverse proxy's prefix."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

from bot.config import Settings, load_settings
from bot.i18n import Catalog
from bot.slack_app.install_pages import failure_page, install_url
from bot.slack_app.installations import INSTALL_PATH

if TYPE_CHECKING:
    from bot.services import Services

ROOT = Path(__file__).resolve().parents[2]


def settings_with(**env: str) -> Settings:
    loaded, _ = load_settings(env={f"COLLECTIF_{k.upper()}": v for k, v in env.items()})
    return loaded


def services(settings: Settings) -> Services:
    catalog = Catalog.load([ROOT / "bot" / "locales"])
    return cast("Services", SimpleNamespace(settings=settings, t=catalog.t))


def test_the_link_to_start_again_keeps_the_request_urls_prefix() -> None:
    behind_proxy = settings_with(slack__mode="http",
                                 slack__request_url="https://example.org/collectif/slack/events")
    assert install_url(behind_proxy, INSTALL_PATH) == "https://example.org/collectif/slack/install"
    # No request URL known: relative to the redirect page (…/slack/oauth_redirect), prefix kept too.
    assert install_url(settings_with(slack__mode="http"), INSTALL_PATH) == "install"


def test_the_page_says_it_in_every_language_default_first_and_escapes_what_it_echoes() -> None:
    english_first = services(settings_with(community__locale="en"))
    page = failure_page(english_first, 'bad"<b>', 'https://example.org/a"b/slack/install')
    english = page.index("The installation did not go through")
    french = page.index("L’installation n’a pas abouti")
    assert english < french
    assert "bad&quot;&lt;b&gt;" in page and "<b>" not in page
    assert 'href="https://example.org/a&quot;b/slack/install"' in page
    assert page.count('<section lang="') == 2
