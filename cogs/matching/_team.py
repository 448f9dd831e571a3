"""Team proposal, pure: who may fill each slot, how well (a documented weighted sum), the best team.

Nothing here touches the database or a platform: `propose(request, candidates)` is a function of
its arguments, so the same request on the same data gives the same team.

Score of a member for a slot (integers; higher is better):

    SKILL    x each requested skill the member has
  + AVAILABLE_NOW when available today, AVAILABLE_BY when only by the requested date
  + CITY when in the requested city, REMOTE when they work remotely and the request is remote
    (or for another city)
  + SECTOR when they have worked in the requested sector
  + RATE when their rate is within the budget (their maximum at or below it)
  + KUDOS  x kudos received for peer feedback, at most KUDOS_MAX of them
  - ROTATION x members they were proposed to within the rotation window (each requester counts
    once, however often they ask), at most ROTATION_MAX of them

Some things keep a member out of a slot whatever their score (`Blocker`): not available by the
date, rate above the budget, working on site only elsewhere. Those members are still shown, with
the reason, as the closest options of a slot nobody can fill.

The team is the best assignment of distinct members to slots (Hungarian method on the slots x
their best candidates): first as many slots filled as possible, then the highest total score,
then ties broken by a hash of the proposal's seed and the member, never by table order.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import NamedTuple

SKILL = 30
AVAILABLE_NOW = 10
AVAILABLE_BY = 5
CITY = 15
REMOTE = 10
SECTOR = 15
RATE = 10
KUDOS = 2
KUDOS_MAX = 5
ROTATION = 2
ROTATION_MAX = 10
ALTERNATIVES = 2
CLOSEST = 3

_TIE = 1000  # tie-break values are below this; a score point is worth _POINT
TIE_PRIME = 2_147_483_647  # 2**31 - 1: the tie-break's modulus (see tie_break)
TIE_M1, TIE_M2 = 1_103_515_245, 1_597_334_677
_POINT = 10 * _TIE  # six slots of tie-breaks stay below one score point
_FILLED = 10**12  # one more slot filled beats any score


class Blocker(StrEnum):
    """Why a member with the slot's trade cannot be proposed for it."""

    BUSY = "busy"  # busy, no date given
    LATER = "later"  # available only after the requested date
    RATE = "rate"  # rate above the budget
    ONSITE = "onsite"  # works on site only, not where the client is


class Candidate(NamedTuple):
    """What matching knows of an opted-in member (no name: the cards read those for the few shown).

    A named tuple: thousands are built per request, and a tuple is built several times faster.
    """

    member_id: int
    trade_ids: frozenset[int]
    skill_keys: frozenset[str] = frozenset()
    sector_ids: frozenset[int] = frozenset()
    city_key: str = ""
    work_mode: str = "remote"  # remote | onsite | hybrid
    availability: str = "available"  # available | from_date | busy
    available_from: date | None = None
    rate_min: int | None = None
    rate_max: int | None = None
    currency: str = "EUR"  # the rate's
    kudos: int = 0
    recent_proposals: int = 0


@dataclass(frozen=True)
class Request:
    """A resolved /match: slots are trade ids (a pack's, or typed), the rest optional."""

    slots: tuple[int, ...]
    today: date
    skill_keys: tuple[str, ...] = ()
    city_key: str = ""
    remote: bool = False
    available_by: date | None = None
    max_rate: int | None = None
    currency: str = "EUR"  # max_rate's: a /match budget is in euros
    sector_id: int | None = None
    requester_id: int | None = None
    include_requester: bool = False
    seed: int = 0

    @property
    def by(self) -> date:
        return self.available_by or self.today


@dataclass(frozen=True)
class Fit:
    """One member for one slot: the score, its terms (the *why*), and what keeps them out, if anything."""

    member_id: int
    score: int
    skills: tuple[str, ...] = ()  # requested skills they have
    available_now: bool = False
    available_from: date | None = None  # when available only from a date
    city: bool = False
    remote: bool = False
    sector: bool = False
    rate: bool = False  # within the budget
    kudos: int = 0
    recent_proposals: int = 0
    blockers: tuple[Blocker, ...] = ()
    tie: int = 0

    @property
    def eligible(self) -> bool:
        return not self.blockers

    @property
    def key(self) -> int:
        """Rank within a slot: score first, then the seeded tie-break."""
        return self.score * _POINT + self.tie


@dataclass(frozen=True)
class SlotProposal:
    """A slot's proposed member (None: nobody can fill it), the next alternatives, the closest options."""

    trade_id: int
    chosen: Fit | None
    alternatives: tuple[Fit, ...] = ()
    closest: tuple[Fit, ...] = ()  # when nobody can fill it: members of the trade kept out, and why
    requester: bool = False  # the requester fills it ("include me")


@dataclass(frozen=True)
class Team:
    slots: tuple[SlotProposal, ...]
    seed: int = 0

    @property
    def members(self) -> list[int]:
        return [s.chosen.member_id for s in self.slots if s.chosen is not None]

    @property
    def complete(self) -> bool:
        return all(s.chosen is not None for s in self.slots)

    @property
    def score(self) -> int:
        return sum(s.chosen.score for s in self.slots if s.chosen is not None)


def tie_break(seed: int, member_id: int) -> int:
    """A well-mixed value in [0, _TIE) for (seed, member): deterministic, independent of table order.

    Two multiply-mod-prime rounds with a shift-xor between: every intermediate stays below 2**63, so the
    database computes the very same value (`_store.shortlist`, `tie_sql`) in its 64-bit integers.
    """
    x = (seed % TIE_PRIME + member_id) % TIE_PRIME * TIE_M1 % TIE_PRIME
    x = (x ^ (x >> 15)) * TIE_M2 % TIE_PRIME
    return x % _TIE


def compared_rate(request: Request, c: Candidate) -> tuple[int, int, int] | None:
    """(lowest, highest, budget) when the member's rate is compared with the budget, else None.

    Only a rate in the budget's currency is: 45,000 JPY a day is not "above" a 500 € budget. A rate
    in another currency counts as unknown, as an unset one (no blocker, no bonus), rather than be
    converted at a rate nobody agreed on.
    """
    if request.max_rate is None or c.rate_min is None or c.currency != request.currency:
        return None
    return c.rate_min, c.rate_max if c.rate_max is not None else c.rate_min, request.max_rate


def fit(request: Request, c: Candidate, wanted: frozenset[str] | None = None) -> Fit:
    """How `c` fits `request` (the trade is checked by the caller: a fit is the same for every slot)."""
    wanted = frozenset(request.skill_keys) if wanted is None else wanted
    skills = tuple(k for k in request.skill_keys if k in c.skill_keys) if wanted & c.skill_keys else ()
    blockers: list[Blocker] = []
    now = later = False
    if c.availability == "busy":
        blockers.append(Blocker.BUSY)
    elif c.availability == "from_date" and c.available_from is not None and c.available_from > request.today:
        later = True
        if c.available_from > request.by:
            blockers.append(Blocker.LATER)
    else:
        now = True
    rate = False
    rates = compared_rate(request, c)
    if rates is not None:
        lowest, highest, budget = rates
        if lowest > budget:
            blockers.append(Blocker.RATE)
        rate = highest <= budget
    in_city = bool(request.city_key) and c.city_key == request.city_key
    works_remote = c.work_mode in ("remote", "hybrid")
    remote_fit = not in_city and works_remote and (request.remote or bool(request.city_key))
    if not in_city and not works_remote and (request.remote or request.city_key):
        blockers.append(Blocker.ONSITE)
    sector = request.sector_id is not None and request.sector_id in c.sector_ids
    kudos = min(c.kudos, KUDOS_MAX)
    rotation = min(c.recent_proposals, ROTATION_MAX)
    score = (
        SKILL * len(skills)
        + (AVAILABLE_NOW if now else AVAILABLE_BY if later and Blocker.LATER not in blockers else 0)
        + (CITY if in_city else 0)
        + (REMOTE if remote_fit else 0)
        + (SECTOR if sector else 0)
        + (RATE if rate else 0)
        + KUDOS * kudos
        - ROTATION * rotation
    )
    return Fit(
        member_id=c.member_id, score=score, skills=skills, available_now=now,
        available_from=c.available_from if later else None, city=in_city, remote=remote_fit,
        sector=sector, rate=rate, kudos=c.kudos, recent_proposals=c.recent_proposals,
        blockers=tuple(blockers), tie=tie_break(request.seed, c.member_id),
    )


def _quick(request: Request, c: Candidate, wanted: frozenset[str]) -> tuple[int, int]:
    """(score, number of blockers) as `fit` computes them, without building the explanation."""
    blocked = 0
    score = 0
    if wanted and c.skill_keys:
        score += SKILL * len(wanted & c.skill_keys)
    if c.availability == "busy":
        blocked += 1
    elif c.availability == "from_date" and c.available_from is not None and c.available_from > request.today:
        if c.available_from > request.by:
            blocked += 1
        else:
            score += AVAILABLE_BY
    else:
        score += AVAILABLE_NOW
    rates = compared_rate(request, c)
    if rates is not None:
        lowest, highest, budget = rates
        if lowest > budget:
            blocked += 1
        if highest <= budget:
            score += RATE
    if request.city_key or request.remote:
        if request.city_key and c.city_key == request.city_key:
            score += CITY
        elif c.work_mode == "onsite":
            blocked += 1
        else:
            score += REMOTE
    if request.sector_id is not None and request.sector_id in c.sector_ids:
        score += SECTOR
    score += KUDOS * min(c.kudos, KUDOS_MAX) - ROTATION * min(c.recent_proposals, ROTATION_MAX)
    return score, blocked


@dataclass
class _SlotPool:
    eligible: list[tuple[int, int, Candidate]] = field(default_factory=list)  # (key, -member id, c)
    blocked: list[tuple[int, int, int, Candidate]] = field(default_factory=list)  # (-blockers, key, -id, c)


def shortlist_size(width: int) -> int:
    """How many of a slot's eligible members `propose` keeps (the team takes at most `width` of them)."""
    return 2 * width + ALTERNATIVES


def propose(request: Request, candidates: Iterable[Candidate]) -> Team:
    """The best team for `request` among `candidates` (opted-in members of the community)."""
    slots = request.slots
    wanted = frozenset(request.skill_keys)
    slot_trades = set(slots)
    pools: dict[int, _SlotPool] = {t: _SlotPool() for t in slot_trades}
    own_slot: int | None = None
    requester_fit: Fit | None = None
    seed = request.seed
    for c in candidates:
        trades = c.trade_ids & slot_trades
        if not trades:
            continue
        if c.member_id == request.requester_id:
            if request.include_requester:
                own_slot = next((i for i, t in enumerate(slots) if t in c.trade_ids), None)
                requester_fit = fit(request, c, wanted)
            continue
        score, blocked = _quick(request, c, wanted)
        key = score * _POINT + tie_break(seed, c.member_id)
        for t in trades:
            if blocked:
                pools[t].blocked.append((-blocked, key, -c.member_id, c))
            else:
                pools[t].eligible.append((key, -c.member_id, c))
    width = len(slots)
    keep = shortlist_size(width)
    shortlisted: dict[int, list[Fit]] = {}
    closest_of: dict[int, list[Fit]] = {}
    for t, pool in pools.items():
        shortlisted[t] = [fit(request, c, wanted) for *_, c in heapq.nlargest(keep, pool.eligible)]
        closest_of[t] = [fit(request, c, wanted) for *_, c in heapq.nlargest(CLOSEST, pool.blocked)]
    open_slots = [i for i in range(len(slots)) if i != own_slot]
    # A slot's member in a best team is among its `width` best: the others can take only width-1.
    shortlists = {i: shortlisted[slots[i]][:width] for i in open_slots}
    chosen = _assign(open_slots, shortlists)
    taken = {f.member_id for f in chosen.values()}
    if requester_fit is not None:
        taken.add(requester_fit.member_id)
    result = []
    for i, trade in enumerate(slots):
        if i == own_slot:
            result.append(SlotProposal(trade, requester_fit, requester=True))
            continue
        pick = chosen.get(i)
        others = tuple(f for f in shortlisted[trade] if f.member_id not in taken)[:ALTERNATIVES]
        closest = tuple(closest_of[trade]) if pick is None else ()
        result.append(SlotProposal(trade, pick, others, closest))
    return Team(tuple(result), request.seed)


def _assign(slots: Sequence[int], shortlists: dict[int, list[Fit]]) -> dict[int, Fit]:
    """Slot index -> Fit maximising (slots filled, total score, tie-break), members distinct."""
    members: list[int] = []
    for i in slots:
        for f in shortlists[i]:
            if f.member_id not in members:
                members.append(f.member_id)
    if not members:
        return {}
    column = {m: j for j, m in enumerate(members)}
    n, m = len(slots), len(members) + len(slots)  # one "nobody" column per slot
    forbidden = _FILLED * 10
    cost = [[forbidden] * m for _ in range(n)]
    by_cell: dict[tuple[int, int], Fit] = {}
    for row, i in enumerate(slots):
        cost[row][len(members) + row] = 0
        for f in shortlists[i]:
            j = column[f.member_id]
            cost[row][j] = -(_FILLED + f.key)
            by_cell[row, j] = f
    assignment = hungarian(cost)
    return {slots[row]: by_cell[row, j] for row, j in enumerate(assignment) if (row, j) in by_cell}


def hungarian(cost: list[list[int]]) -> list[int]:
    """Minimum-cost assignment of each row to a distinct column (rows <= columns); column per row.

    The Kuhn-Munkres method with potentials, O(rows^2 x columns): for six slots and their best
    candidates, a few hundred steps (a numeric library would cost more to import than to run).
    """
    n, m = len(cost), len(cost[0])
    inf = 1 << 62  # integers throughout: costs are exact
    u = [0] * (n + 1)
    v = [0] * (m + 1)
    p = [0] * (m + 1)  # p[j]: row matched to column j (1-based, 0 = none)
    way = [0] * (m + 1)
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        minv = [inf] * (m + 1)
        used = [False] * (m + 1)
        while True:
            used[j0] = True
            i0, delta, j1 = p[j0], inf, 0
            row = cost[i0 - 1]
            for j in range(1, m + 1):
                if not used[j]:
                    cur = row[j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j], way[j] = cur, j0
                    if minv[j] < delta:
                        delta, j1 = minv[j], j
            for j in range(m + 1):
                if used[j]:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while True:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
            if j0 == 0:
                break
    result = [0] * n
    for j in range(1, m + 1):
        if p[j]:
            result[p[j] - 1] = j - 1
    return result
