"""What other features may use of matching: the team proposal, pure, over the opted-in members.

The missions feature's **Suggest a team** imports from here (the underscored modules are private to
`cogs.matching`; tests/test_boundaries.py checks it).

- `Request`, `Team`, `SlotProposal`, `Fit`, `Blocker`: the proposal's terms (see `cogs.matching._team`).
- `propose_team(session, community_id, request, now, exclude=…)`: the best team of distinct opted-in
  members for `request`, members in `exclude` left out; each chosen `Fit` carries its *why*.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from cogs.matching._store import ROTATION_WINDOW, candidates
from cogs.matching._team import Blocker, Fit, Request, SlotProposal, Team, propose

__all__ = ["ROTATION_WINDOW", "Blocker", "Fit", "Request", "SlotProposal", "Team", "propose_team"]


async def propose_team(
    session: AsyncSession,
    community_id: int,
    request: Request,
    now: datetime,
    *,
    exclude: Collection[int] = (),
) -> Team:
    """The team matching proposes for `request` in this community (the requester only if included)."""
    found = await candidates(
        session, community_id, request.slots, request.skill_keys, request.sector_id, now,
        request.requester_id or 0,
    )
    left_out = set(exclude)
    return propose(request, [c for c in found if c.member_id not in left_out])
