"""Who meets whom in a round: a pure function of the roster, the whole history, the avoid lists and a seed.

The rules, in order of weight:
1. a "don't pair me with" (either way) is never broken: such a member is rather left out of the round;
2. a pair that already met is repeated only when no fresh partner can be found (each past meeting of
   the pair costs `REPEAT`, so a pair that met twice is worse than one that met once);
3. different trades together when the community prefers it (`SAME_TRADE` per pair sharing a trade);
4. an odd count makes one trio (groups of three: as many trios as the count allows, the rest pairs),
   and the trio goes to people who were in trios least often.

How: the members with the fewest fresh partners choose first (greedy, ties broken by the seed). When
that leaves someone without a fresh partner, the pairs are made a maximum matching of the graph of
fresh pairs (Edmonds' blossom algorithm, `_matching.py`, grown from the greedy pairs, different trades
tried first), so a repeat happens only when no grouping of the roster avoids it; the members left
over are paired among themselves. Local repairs then swap partners between two pairs, or rotate among
three, whenever that lowers the cost (fewer repeats first, then same trades). For an odd count, when
the usual trio repeats someone, a fresh trio whose removal leaves a perfect fresh matching is searched
(else the trio member whose absence pairs the others best). Exact matching is for rosters up to
`EXACT_MAX` members: above, greedy and repairs alone (a roster that large has not met most of itself;
5,000 members with 20 rounds of history repeat nobody, benchmarks/pairing.py). A few seeded restarts
keep the cheapest result. Same inputs and seed, same groups.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from cogs.pairing._matching import maximum_matching

REPEAT = 1000
SAME_TRADE = 1
TRIO_AGAIN = 10
RESTARTS = 3
TRIO_WORK = 750_000  # odd counts: n² x the matchings tried in search of a better trio
EXACT_MAX = 1000  # above, greedy + repairs only (see benchmarks/pairing.py)
# Groups of three: trios are chosen greedily, which may repeat a meeting or leave someone out that
# another grouping avoids; up to this many members, every grouping is searched instead.
EXACT_TRIOS_MAX = 12
_ROTATE_WHEN_BAD_AT_MOST = 40  # rotations cost O(degree²) per bad pair: only for the last few


@dataclass(frozen=True)
class Candidate:
    member_id: int
    trades: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Rules:
    group_size: int = 2  # 2, or 3
    prefer_cross_trade: bool = True


@dataclass(frozen=True)
class Grouping:
    groups: tuple[tuple[int, ...], ...]
    unpaired: tuple[int, ...] = ()  # nobody could be put with them without breaking an avoid list
    cost: int = 0


def pair_key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def pairs_of(group: Sequence[int]) -> list[tuple[int, int]]:
    return [pair_key(group[i], group[j]) for i in range(len(group)) for j in range(i + 1, len(group))]


def trio_count(size: int, count: int) -> int:
    """How many trios `count` members make: size 2, one for an odd count; size 3, as many as fit."""
    if count < 2:
        return 0
    if size == 2:
        return count % 2
    pairs = {0: 0, 1: 2, 2: 1}[count % 3]
    if count < 2 * pairs:  # 4 -> two pairs, 1 -> nothing
        return 0
    return (count - 2 * pairs) // 3


@dataclass
class _Costs:
    met: Mapping[tuple[int, int], int]
    avoid: set[tuple[int, int]]
    trades: dict[int, frozenset[int]]
    cross: bool
    partners: dict[int, set[int]] = field(default_factory=dict)  # met or avoided: not a fresh partner

    def __post_init__(self) -> None:
        for a, b in (*self.met, *self.avoid):
            if a in self.trades and b in self.trades:
                self.partners.setdefault(a, set()).add(b)
                self.partners.setdefault(b, set()).add(a)

    def __call__(self, a: int, b: int) -> int | None:
        """The cost of putting a and b together; None when an avoid list forbids it."""
        key = (a, b) if a < b else (b, a)
        if key in self.avoid:
            return None
        value = REPEAT * self.met.get(key, 0)
        if self.cross and self.trades[a] & self.trades[b]:
            value += SAME_TRADE
        return value

    def same_trade(self, a: int, b: int) -> bool:
        """A pair the community would rather not make when it prefers different trades."""
        return self.cross and bool(self.trades[a] & self.trades[b])

    def fresh(self, u: int, pool: Iterable[int]) -> list[int]:
        """U's partners in `pool` who never met u and are not avoided."""
        taken = self.partners.get(u, set())
        return [v for v in pool if v != u and v not in taken]

    def fresh_count(self, u: int, pool: set[int]) -> int:
        return len(pool) - 1 - len(self.partners.get(u, set()) & pool)


def make_groups(
    candidates: Iterable[Candidate],
    *,
    met: Mapping[tuple[int, int], int],
    avoid: Iterable[tuple[int, int]] = (),
    trios: Mapping[int, int] | None = None,
    rules: Rules = Rules(),
    seed: int = 0,
) -> Grouping:
    """Groups for one round (see the module docstring).

    `met` counts past meetings by `pair_key`; `avoid` holds pairs in any order; `trios` counts each
    member's past trios.
    """
    people = sorted({c.member_id: c for c in candidates}.values(), key=lambda c: c.member_id)
    if len(people) < 2:
        return Grouping((), tuple(c.member_id for c in people))
    costs = _Costs(
        met, {pair_key(*p) for p in avoid}, {c.member_id: c.trades for c in people}, rules.prefer_cross_trade
    )
    best: Grouping | None = None
    for attempt in range(RESTARTS):
        found = _attempt(people, costs, trios or {}, rules, random.Random(f"{seed}:{attempt}"))
        if best is None or (len(found.unpaired), found.cost) < (len(best.unpaired), best.cost):
            best = found
    assert best is not None
    if rules.group_size == 3 and (best.cost >= REPEAT or best.unpaired) and len(people) <= EXACT_TRIOS_MAX:
        exact = _exact_trios([c.member_id for c in people], costs, trios or {})
        if exact is not None and (len(exact[1]), exact[2]) < (len(best.unpaired), best.cost):
            groups, left, total = exact
            best = Grouping(tuple(sorted(tuple(sorted(g)) for g in groups)), tuple(sorted(left)), total)
    return best


def _attempt(
    people: list[Candidate], costs: _Costs, trios: Mapping[int, int], rules: Rules, rng: random.Random
) -> Grouping:
    ids = [c.member_id for c in people]
    rng.shuffle(ids)
    rank = {m: i for i, m in enumerate(ids)}
    k = trio_count(rules.group_size, len(ids))
    # Trio members first chosen among those who were in trios least (the seed breaks ties).
    extras = sorted(ids, key=lambda m: (trios.get(m, 0), rank[m]))[:k] if k else []
    pool = [m for m in ids if m not in set(extras)]
    pairs, leftover = _match(pool, costs, rank)
    groups: list[list[int]] = [list(p) for p in pairs]
    left = list(leftover)
    for extra in extras + list(leftover):
        if extra in leftover:
            left.remove(extra)
        best: tuple[int, int] | None = None
        for i, group in enumerate(groups):
            if len(group) != 2:
                continue
            a, b = group
            ca, cb = costs(extra, a), costs(extra, b)
            if ca is None or cb is None:
                continue
            score = ca + cb + TRIO_AGAIN * (trios.get(a, 0) + trios.get(b, 0))
            if best is None or score < best[0]:
                best = (score, i)
        if best is None:
            left.append(extra)
        else:
            groups[best[1]].append(extra)
    total = sum(costs(a, b) or 0 for g in groups for a, b in pairs_of(g))
    if total >= REPEAT and k == 1 and rules.group_size == 2 and not left and len(ids) <= EXACT_MAX:
        better = _trio_round(ids, costs, rank, trios, [g for g in groups if len(g) == 2])
        cost = None if better is None else sum(costs(a, b) or 0 for g in better for a, b in pairs_of(g))
        if better is not None and cost is not None and cost < total:
            groups, total = better, cost
    ordered = tuple(sorted(tuple(sorted(g)) for g in groups))
    return Grouping(ordered, tuple(sorted(left)), total)


def _exact_trios(
    ids: list[int], costs: _Costs, trios: Mapping[int, int]
) -> tuple[list[list[int]], list[int], int] | None:
    """Every grouping of a small roster into trios (the rest pairs, `trio_count`'s shape), the best.

    Best: fewest members left out (only when avoid lists leave no other way), then fewest repeats
    and same-trade pairs, then trios to those who were in them least. Branch and bound on that order.
    """
    best: list[tuple[tuple[int, int, int], list[list[int]], list[int]]] = []

    def shape_ok(groups: list[list[int]]) -> bool:
        grouped = sum(len(g) for g in groups)
        return sum(len(g) == 3 for g in groups) == trio_count(3, grouped)

    def search(rest: list[int], groups: list[list[int]], left: list[int], cost: int, again: int) -> None:
        if best and (len(left), cost, again) >= best[0][0]:
            return
        if not rest:
            if shape_ok(groups):
                best[:] = [((len(left), cost, again), [list(g) for g in groups], list(left))]
            return
        first, others = rest[0], rest[1:]
        for i, b in enumerate(others):
            ab = costs(first, b)
            if ab is None:
                continue
            groups.append([first, b])
            search(others[:i] + others[i + 1:], groups, left, cost + ab, again)
            groups.pop()
            for j in range(i + 1, len(others)):
                c = others[j]
                ac, bc = costs(first, c), costs(b, c)
                if ac is None or bc is None:
                    continue
                groups.append([first, b, c])
                trio_again = TRIO_AGAIN * (trios.get(first, 0) + trios.get(b, 0) + trios.get(c, 0))
                search(others[:i] + others[i + 1:j] + others[j + 1:], groups, left, cost + ab + ac + bc,
                       again + trio_again)
                groups.pop()
        left.append(first)
        search(others, groups, left, cost, again)
        left.pop()

    search(ids, [], [], 0, 0)
    if not best:
        return None
    _, groups, left = best[0]
    return groups, left, best[0][0][1]


def _greedy(order: list[int], costs: _Costs) -> tuple[list[list[int]], list[int]]:
    """Each member in `order` takes the cheapest partner still free (the first zero-cost one)."""
    remaining = list(order)
    partner: dict[int, int] = {}
    for u in order:
        if u in partner:
            continue
        remaining.remove(u)
        best: int | None = None
        best_v = -1
        for v in remaining:
            c = costs(u, v)
            if c is None:
                continue
            if best is None or c < best:
                best, best_v = c, v
                if c == 0:
                    break
        if best is not None:
            partner[u], partner[best_v] = best_v, u
            remaining.remove(best_v)
    position = {u: i for i, u in enumerate(order)}
    pairs = [[u, partner[u]] for u in order if u in partner and position[u] < position[partner[u]]]
    return pairs, [u for u in order if u not in partner]


def _match(pool: list[int], costs: _Costs, rank: Mapping[int, int]) -> tuple[list[list[int]], list[int]]:
    """Pairs over `pool`: greedy (fewest fresh partners first), made maximum on fresh pairs, then repairs."""
    members = set(pool)
    degree = {u: costs.fresh_count(u, members) for u in pool}
    order = sorted(pool, key=lambda u: (degree[u], rank[u]))
    pairs, leftover = _greedy(order, costs)
    pairs, leftover = _place_leftovers(pairs, leftover, costs)
    if len(pool) // 2 - _fresh_count(pairs, costs) <= _ROTATE_WHEN_BAD_AT_MOST:
        _repair(pairs, costs, members)  # a few repeats: repairs usually undo them, cheaper than matching
    fresh = {p[0]: p[1] for p in pairs if (costs(*p) or 0) < REPEAT}
    if len(fresh) < len(pool) // 2 and len(pool) <= EXACT_MAX:  # someone repeats: may it be avoided?
        fresh.update({b: a for a, b in list(fresh.items())})
        grown = _fresh_matching(order, costs, members, fresh)
        if len(grown) > len(fresh):
            position = {u: i for i, u in enumerate(order)}
            pairs = [[u, grown[u]] for u in order if u in grown and position[u] < position[grown[u]]]
            more, leftover = _greedy([u for u in order if u not in grown], costs)
            pairs += more
            pairs, leftover = _place_leftovers(pairs, leftover, costs)
    _repair(pairs, costs, members)
    return pairs, leftover


def _fresh_count(pairs: list[list[int]], costs: _Costs) -> int:
    return sum(1 for a, b in pairs if (costs(a, b) or 0) < REPEAT)


def _fresh_matching(
    order: list[int], costs: _Costs, members: set[int], start: Mapping[int, int]
) -> dict[int, int]:
    """The most pairs of `members` who never met (nor avoid each other), grown from `start`."""
    position = {u: i for i, u in enumerate(order)}

    def adjacent(u: int) -> list[int]:  # different trades first, then the choosing order
        return sorted(costs.fresh(u, members), key=lambda v: (costs.same_trade(u, v), position[v]))

    return maximum_matching(order, adjacent, start)


def _trio_round(
    ids: list[int],
    costs: _Costs,
    rank: Mapping[int, int],
    trios: Mapping[int, int],
    duos: list[list[int]],
) -> list[list[int]] | None:
    """An odd count of pairs, searched harder when the usual way repeated someone.

    First a repeat-free grouping when one exists: a trio of three who never met, whose removal leaves
    a perfect matching of fresh pairs (trios tried fewest past trios first, then by the seed). Else,
    for each possible trio member x, a maximum fresh matching of the others with x put into the
    cheapest group: the cheapest of these, its pairs then repaired. `duos`, the pairs found the usual
    way, start the matchings. Each of the two searches grows at most TRIO_WORK / n² matchings (300
    for 50 members, one for 1,000: each costs about n² steps; measured worst, 999 members half of
    whose pairs met, no `duos`: 1.2 s CPU).
    """
    members = set(ids)
    order = sorted(ids, key=lambda u: rank[u])
    position = {u: i for i, u in enumerate(order)}
    near = {
        u: sorted(costs.fresh(u, members), key=lambda v: (costs.same_trade(u, v), position[v])) for u in order
    }
    known = {a: b for a, b in duos if (costs(a, b) or 0) < REPEAT}
    full = maximum_matching(order, near.__getitem__, {**known, **{b: a for a, b in known.items()}})
    candidates = sorted(ids, key=lambda m: (trios.get(m, 0), rank[m]))
    budget = max(1, TRIO_WORK // len(ids) ** 2)
    if len(full) >= len(ids) - 1:  # (n - 1) / 2 fresh pairs: maybe no repeat at all
        found = _fresh_trio(order, near, full, candidates, trios, rank, budget)
        if found is not None:
            pairs, trio = found
            _repair(pairs, costs, {m for p in pairs for m in p})
            return [*pairs, trio]
    best: tuple[int, list[list[int]]] | None = None
    for x in candidates:
        rest = [u for u in order if u != x]
        start = {u: v for u, v in full.items() if x not in (u, v)}
        if len(start) < len(rest) - 1:
            budget -= 1
            if budget < 0:
                break
            start = maximum_matching(rest, near.__getitem__, start)
        pairs = [[u, start[u]] for u in rest if u in start and position[u] < position[start[u]]]
        more, left = _greedy([u for u in rest if u not in start], costs)
        if left:
            continue
        pairs += more
        placed: tuple[int, int] | None = None
        for i, (a, b) in enumerate(pairs):
            ca, cb = costs(x, a), costs(x, b)
            if ca is not None and cb is not None and (placed is None or ca + cb < placed[0]):
                placed = (ca + cb, i)
        if placed is None:
            continue
        pairs[placed[1]] = [*pairs[placed[1]], x]
        total = sum(costs(a, b) or 0 for g in pairs for a, b in pairs_of(g))
        if best is None or total < best[0]:
            best = (total, pairs)
    if best is None:
        return None
    groups = best[1]
    duos = [g for g in groups if len(g) == 2]
    _repair(duos, costs, {m for g in duos for m in g})
    return [*duos, *(g for g in groups if len(g) == 3)]


def _fresh_trio(
    order: list[int],
    near: Mapping[int, list[int]],
    full: Mapping[int, int],
    candidates: list[int],
    trios: Mapping[int, int],
    rank: Mapping[int, int],
    budget: int,
) -> tuple[list[list[int]], list[int]] | None:
    """(The pairs, the trio) with no repeat, found within `budget` matchings, or None.

    A trio of three who never met, whose removal leaves a perfect matching of fresh pairs.
    """
    position = {u: i for i, u in enumerate(order)}
    fresh_sets = {u: set(vs) for u, vs in near.items()}
    for x in candidates:
        mates = sorted(near[x], key=lambda m: (trios.get(m, 0), rank[m]))
        for i, a in enumerate(mates):
            for b in mates[i + 1 :]:
                if b not in fresh_sets[a]:
                    continue
                trio = (x, a, b)
                rest = [u for u in order if u not in trio]
                start = {u: v for u, v in full.items() if u not in trio and v not in trio}
                if len(start) < len(rest):
                    budget -= 1
                    if budget < 0:
                        return None
                    start = maximum_matching(rest, near.__getitem__, start)
                if len(start) == len(rest):
                    return [[u, start[u]] for u in rest if position[u] < position[start[u]]], [x, a, b]
    return None


def _place_leftovers(
    pairs: list[list[int]], leftover: list[int], costs: _Costs
) -> tuple[list[list[int]], list[int]]:
    """Two members left out by avoid lists may still fit by breaking one pair: (x, a) and (y, b)."""
    while len(leftover) >= 2:
        found = _split_for(pairs, leftover, costs)
        if found is None:
            break
        x, y = found
        leftover = [m for m in leftover if m not in (x, y)]
    return pairs, leftover


def _split_for(pairs: list[list[int]], leftover: list[int], costs: _Costs) -> tuple[int, int] | None:
    for n, x in enumerate(leftover):
        for y in leftover[n + 1 :]:
            for pair in pairs:
                a, b = pair
                for p, q in ((a, b), (b, a)):
                    if costs(x, p) is not None and costs(y, q) is not None:
                        pair[:] = [x, p]
                        pairs.append([y, q])
                        return x, y
    return None


def _cost(costs: _Costs, *pairs: tuple[int, int]) -> int | None:
    total = 0
    for a, b in pairs:
        c = costs(a, b)
        if c is None:
            return None
        total += c
    return total


def _repair(pairs: list[list[int]], costs: _Costs, members: set[int]) -> None:
    """Swap partners between two pairs, or rotate among three, while the total cost goes down."""
    where = {m: i for i, p in enumerate(pairs) for m in p}
    improved = True
    passes = 0
    while improved and passes < 20:
        improved, passes = False, passes + 1
        bad = [i for i, (a, b) in enumerate(pairs) if (costs(a, b) or 0) > 0]
        for i in bad:
            a, b = pairs[i]
            now_i = costs(a, b) or 0
            if now_i == 0:
                continue
            for j, (c, d) in enumerate(pairs):
                if j == i:
                    continue
                before = now_i + (costs(c, d) or 0)
                for x, y in (((a, c), (b, d)), ((a, d), (b, c))):
                    after = _cost(costs, x, y)
                    if after is not None and after < before:
                        pairs[i], pairs[j] = list(x), list(y)
                        for k in (i, j):
                            for m in pairs[k]:
                                where[m] = k
                        improved = True
                        break
                if improved:
                    break
            if improved:
                break
        if improved or len(bad) > _ROTATE_WHEN_BAD_AT_MOST:
            continue
        improved = _rotate(pairs, costs, members, where, bad)


def _rotate(
    pairs: list[list[int]], costs: _Costs, members: set[int], where: dict[int, int], bad: list[int]
) -> bool:
    """(a,b) (c,d) (e,f) -> (a,c) (d,e) (f,b) when cheaper: an alternating path two swaps cannot find."""
    for i in bad:
        for a, b in (pairs[i], pairs[i][::-1]):
            before_i = costs(a, b) or 0
            for c in costs.fresh(a, members):
                j = where.get(c)  # None: left out of every pair (everyone it may meet avoids it)
                if j is None or j == i:
                    continue
                d = pairs[j][1] if pairs[j][0] == c else pairs[j][0]
                for e in costs.fresh(d, members):
                    k = where.get(e)
                    if k is None or k in (i, j):
                        continue
                    f = pairs[k][1] if pairs[k][0] == e else pairs[k][0]
                    after = _cost(costs, (a, c), (d, e), (f, b))
                    before = before_i + (costs(c, d) or 0) + (costs(e, f) or 0)
                    if after is not None and after < before:
                        pairs[i], pairs[j], pairs[k] = [a, c], [d, e], [f, b]
                        for n in (i, j, k):
                            for m in pairs[n]:
                                where[m] = n
                        return True
    return False
