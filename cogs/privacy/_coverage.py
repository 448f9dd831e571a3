"""Which tables hold people's data, and whether export/delete and community purge reach all of them.

Used by the test suite (tests/privacy/test_coverage.py) so that a feature adding a table with a
member column, but no privacy hook for it, fails the build with the table's name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import MetaData, Table

from bot.features import Feature

MEMBERS = "members"
COMMUNITIES = "communities"
# Columns that name a person without a foreign key (a raw platform id); such a table is personal too.
PERSON_COLUMNS = ("member_id", "user_id", "user_ids")
# Tables whose person columns are deliberately not a member's own data, with the reason.
NOT_PERSONAL: Mapping[str, str] = {
    "community_settings": "moderator ids are the community's configuration, changed by moderators",
    # Slack distribution (bot/slack_app/installations.py): a workspace's installation, deleted when it
    # uninstalls the app. `bot_user_id` is the app's own bot user, and `user_id` the Slack id of the
    # admin who installed it, which slack_sdk's store requires; no member data.
    "slack_bots": "the bot_user_id is the app's own bot user, not a person",
    "slack_installations": "the workspace's installation: the installing admin's Slack id (required by "
    "slack_sdk's store), deleted with the installation when the workspace uninstalls the app",
}


@dataclass(frozen=True)
class Personal:
    table: str
    why: str
    direct: bool  # names a person itself (vs. only through a parent row)


def _names_a_person(table: Table) -> str | None:
    for column in table.columns:
        if any(fk.column.table.name == MEMBERS for fk in column.foreign_keys):
            return f"column {column.name} refers to members"
        if column.name.endswith(PERSON_COLUMNS) or column.name == "platform_user_id":
            return f"column {column.name} names a person"
    return None


def personal_tables(metadata: MetaData, listed: Iterable[str] = ()) -> dict[str, Personal]:
    """Tables holding a person's data: directly (a member column), or through a parent row."""
    found: dict[str, Personal] = {}
    for table in metadata.tables.values():
        if table.name in NOT_PERSONAL:
            continue
        why = "listed as personal" if table.name in set(listed) else _names_a_person(table)
        if why:
            found[table.name] = Personal(table.name, why, direct=True)
    changed = True
    while changed:  # children of personal rows (a profile's skills) hold the same person's data
        changed = False
        for table in metadata.tables.values():
            if table.name in found or table.name in NOT_PERSONAL:
                continue
            parents = {fk.column.table.name for fk in table.foreign_keys} & (set(found) - {MEMBERS})
            if parents:
                found[table.name] = Personal(table.name, f"child of {sorted(parents)[0]}", direct=False)
                changed = True
    return found


def covered_tables(features: Iterable[Feature], core: Iterable[str]) -> dict[str, str]:
    """Table -> the feature whose privacy hook (or the privacy cog's core) exports and deletes it."""
    covered = dict.fromkeys(core, "privacy")
    for feature in features:
        if feature.privacy is not None:
            for name in feature.privacy.tables:
                covered.setdefault(name, feature.name)
    return covered


def uncovered(metadata: MetaData, features: Iterable[Feature], core: Iterable[str],
              listed: Iterable[str] = ()) -> list[str]:
    """Problems, one line each naming the table: personal tables no privacy hook covers.

    A child table (personal only through its parent) may instead be reached by deletion through
    an ON DELETE CASCADE foreign key to a covered parent; its export is then the parent hook's job.
    """
    covered = covered_tables(features, core)
    problems = []
    for name, personal in sorted(personal_tables(metadata, listed).items()):
        if name in covered:
            continue
        if not personal.direct and _cascades_from_covered(metadata.tables[name], covered):
            continue
        problems.append(f"table {name} ({personal.why}) is covered by no feature's PrivacyHook.tables")
    return problems


def _cascades_from_covered(table: Table, covered: Mapping[str, str]) -> bool:
    return any(
        fk.column.table.name in covered and (fk.ondelete or "").upper() == "CASCADE"
        for fk in table.foreign_keys
    )


def purge_gaps(metadata: MetaData) -> list[str]:
    """Problems that would leave rows behind (or block) when a community row is deleted.

    Every table with a community_id must cascade from communities; every foreign key to a
    community-owned table must cascade or set null, else the purge stops on it.
    """
    problems = []
    owned = {COMMUNITIES}
    for table in metadata.tables.values():
        if "community_id" not in table.columns:
            continue
        owned.add(table.name)
        fks = [fk for fk in table.columns["community_id"].foreign_keys if fk.column.table.name == COMMUNITIES]
        if not fks or (fks[0].ondelete or "").upper() != "CASCADE":
            problems.append(f"table {table.name}: community_id must reference communities ON DELETE CASCADE")
    for table in metadata.tables.values():
        for fk in table.foreign_keys:
            action = (fk.ondelete or "").upper()
            if fk.column.table.name == COMMUNITIES and fk.parent.name == "community_id":
                continue  # checked above
            if fk.column.table.name in owned and action not in ("CASCADE", "SET NULL"):
                problems.append(
                    f"table {table.name}: foreign key {fk.parent.name} -> {fk.column.table.name} "
                    "needs ON DELETE CASCADE or SET NULL"
                )
    return problems
