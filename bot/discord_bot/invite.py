"""The OAuth2 install URL with the bot + applications.commands scopes and the least permissions.

The permissions are the runtime's own (`RUNTIME_PERMISSIONS`) plus what each installed feature
declares (`Feature.discord_permissions`, with its reason); `permission_reasons` lists them for the
README and `collectif discord invite-url --explain`.
"""

from __future__ import annotations

from collections.abc import Iterable

import discord

from bot.features import Feature

SCOPES = ("bot", "applications.commands")

# What every feature relies on: posting and editing its cards. Not asked: Manage Messages (the bot
# only edits and deletes its own messages, which needs no permission), Mention Everyone (cards never
# ping), Manage Events (the creator of an event may edit and delete it), Administrator.
RUNTIME_PERMISSIONS: tuple[tuple[str, str], ...] = (
    ("view_channel", "see the channels it posts in (trades, intros, missions, afterworks…)"),
    ("send_messages", "post the cards (intros, missions, afterworks, feedback requests, purchases…)"),
    ("embed_links", "cards are embeds"),
    ("read_message_history", "edit its own earlier cards when something changes"),
)


def permission_reasons(features: Iterable[Feature]) -> dict[str, list[tuple[str, str]]]:
    """Each permission asked for -> [(who needs it: "runtime" or a feature name, why)], in ask order."""
    reasons: dict[str, list[tuple[str, str]]] = {}
    for flag, why in RUNTIME_PERMISSIONS:
        reasons.setdefault(flag, []).append(("runtime", why))
    for feature in features:
        for flag, why in feature.discord_permissions:
            if flag not in discord.Permissions.VALID_FLAGS:
                raise ValueError(f"feature {feature.name}: unknown Discord permission {flag!r}")
            reasons.setdefault(flag, []).append((feature.name, why))
    return reasons


def required_permissions(features: Iterable[Feature] | None = None) -> discord.Permissions:
    """What the installed features need, and nothing more (default: every registered feature)."""
    if features is None:
        from bot.features import load_features

        features = load_features()
    return discord.Permissions(**dict.fromkeys(permission_reasons(features), True))


def invite_url(application_id: int, features: Iterable[Feature] | None = None) -> str:
    """The URL a server admin opens to add Collectif to a server."""
    return discord.utils.oauth_url(application_id, permissions=required_permissions(features), scopes=SCOPES)
