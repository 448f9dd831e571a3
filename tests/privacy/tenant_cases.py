"""The privacy feature's cases for tests/test_tenant_isolation.py: deleting B's member (tests/tenant.py)."""

from __future__ import annotations

from cogs.privacy._privacy import cancelled_card, delete_member_data
from tests.tenant import Case, as_coroutine

CASES = [
    Case("privacy: delete confirmation of a member id", "b_member",
         lambda s, c, i: delete_member_data(s, c, i), covers=("privacy:confirm:42",)),
    Case("privacy: delete cancel of a member id", "b_member",
         lambda s, c, i: as_coroutine(cancelled_card(s.catalog, c, i)), covers=("privacy:cancel:42",)),
]
