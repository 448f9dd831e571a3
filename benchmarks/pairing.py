"""Pairing quality and speed: `make_groups` beside a naive random pairing on the same rosters.

Run: `.venv/bin/python -m benchmarks.pairing [--seed 1] [--big 5000]`.
Targets (issue 13): 50 members x 49 rounds, 0 avoidable repeats (random repeats about 36 % of pairs);
50 x 20 rounds with 10 % churn per round, 0 avoidable repeats; 5,000 members with 20 rounds of
history, a round computed in <= 1 s with 0 avoidable repeats. Each round is timed on the wall clock
and on this process's CPU time; the 1 s target is checked on the CPU time, which the other processes
of a shared machine do not inflate.

Each algorithm keeps its own history (as the bot would): the rosters are the same, the `met` counts
are each one's own. Pairs group size 2, "prefer different trades" on, members in 8 trades (20 for
5,000), trio counts passed as the bot passes them, no "don't pair me with" lists. A *repeat* is a
pair (a trio counts its three pairs) who had met in an earlier round.

How "avoidable" is counted, round by round, given that round's history: avoidable repeats =
repeats in the round - the fewest repeats any grouping of that roster could have had. The fewest is
found exactly, only for rounds that do repeat:
- Dirac's theorem first: when every member has at least n/2 fresh partners (n/2 + 2 for an odd
  count, which first takes out one fresh triangle, found by search), the graph of fresh pairs has a
  Hamiltonian cycle, hence a repeat-free grouping: the fewest is 0. This is what decides the
  5,000-member rounds and the early rounds.
- Otherwise, an even count: a maximum matching of the fresh-pair graph (Edmonds' blossom algorithm,
  below), the fewest = n/2 - its size (the unmatched members can always be paired among themselves,
  with repeats, as nobody is avoided).
- Otherwise, an odd count (one trio): exhaustive over the trio: the fewest = min over every trio T
  of (repeated pairs in T) + ((n - 3)/2 - maximum matching of the fresh graph without T), stopping
  at 0; only for n <= 80 (beyond, the round is printed as "not checked").
A repeat that was unavoidable in its round may still be the grouping's own doing (earlier rounds
that painted it into a corner): for 50 x 49, a round-robin schedule meets everyone once in 49
rounds, so every repeat there could have been avoided with hindsight; those are printed apart.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from cogs.pairing._grouping import Candidate, Grouping, Rules, make_groups, pairs_of
from cogs.pairing._matching import maximum_matching

Met = dict[tuple[int, int], int]


# --- the fewest possible repeats -------------------------------------------------------------------


def max_matching(nodes: Sequence[int], adj: dict[int, set[int]]) -> int:
    """Size of a maximum matching of the graph `adj` on `nodes`.

    The grouping's own Edmonds' blossom algorithm (cogs/pairing/_matching.py), which
    tests/pairing/test_grouping.py checks against brute force on random graphs.
    """
    return len(maximum_matching(nodes, lambda m: adj.get(m, ()))) // 2


def fresh_graph(ids: Sequence[int], met: Met) -> dict[int, set[int]]:
    members = set(ids)
    adj = {m: members - {m} for m in ids}
    for a, b in met:
        if a in members and b in members:
            adj[a].discard(b)
            adj[b].discard(a)
    return adj


def fewest_repeats(ids: Sequence[int], met: Met) -> int | None:
    """The fewest repeated pairs any grouping (pairs, one trio for an odd count) of `ids` can have."""
    n = len(ids)
    members = set(ids)
    seen = dict.fromkeys(ids, 0)
    for a, b in met:
        if a in members and b in members:
            seen[a] += 1
            seen[b] += 1
    low = n - 1 - max(seen.values())  # the fewest fresh partners anyone has
    if low >= n / 2 + (2 if n % 2 else 0):
        # Dirac: a Hamiltonian cycle of fresh pairs, so a perfect matching; odd: any fresh pair (a, b)
        # has 2·low - (n - 2) > 0 common fresh partners, so a fresh trio, and the rest keeps
        # low - 3 >= (n - 3) / 2.
        return 0
    adj = fresh_graph(ids, met)
    if n % 2 == 0:
        return n // 2 - max_matching(ids, adj)
    if n > 80:
        return None
    best: int | None = None
    triangles = sorted(
        itertools.combinations(ids, 3), key=lambda t: sum(t[j] not in adj[t[i]] for i, j in _TRIO_PAIRS)
    )
    for trio in triangles:
        inside = sum(trio[j] not in adj[trio[i]] for i, j in _TRIO_PAIRS)
        if best is not None and inside >= best:
            break
        rest = [m for m in ids if m not in trio]
        value = inside + (n - 3) // 2 - max_matching(rest, adj)
        if best is None or value < best:
            best = value
        if best == 0:
            break
    return best


_TRIO_PAIRS = ((0, 1), (0, 2), (1, 2))


# --- the two algorithms ----------------------------------------------------------------------------


def naive(people: list[Candidate], rng: random.Random) -> tuple[tuple[int, ...], ...]:
    """Shuffle and pair neighbours; an odd count puts the last one into the last pair."""
    ids = [c.member_id for c in people]
    rng.shuffle(ids)
    groups = [ids[i : i + 2] for i in range(0, len(ids) - 1, 2)]
    if len(ids) % 2 and groups:
        groups[-1].append(ids[-1])
    return tuple(tuple(g) for g in groups)


@dataclass
class Tally:
    pairs: int = 0
    repeats: int = 0
    avoidable: int = 0
    unchecked: int = 0  # rounds whose fewest could not be computed
    rounds_repeating: list[int] = field(default_factory=list)
    detail: list[str] = field(default_factory=list)  # per repeating round: repeats / fewest possible
    seconds: list[float] = field(default_factory=list)  # wall clock
    cpu: list[float] = field(default_factory=list)  # this process's CPU time (steadier on a busy machine)
    met: Met = field(default_factory=dict)
    trios: dict[int, int] = field(default_factory=dict)

    def record(self, number: int, people: list[Candidate], groups: tuple[tuple[int, ...], ...]) -> None:
        ids = [c.member_id for c in people]
        assert sorted(m for g in groups for m in g) == sorted(ids), "everyone once"
        pairs = [p for g in groups for p in pairs_of(g)]
        repeats = sum(1 for p in pairs if self.met.get(p))
        self.pairs += len(pairs)
        self.repeats += repeats
        if repeats:
            self.rounds_repeating.append(number)
            fewest = fewest_repeats(ids, self.met)
            if fewest is None:
                self.unchecked += 1
            else:
                self.avoidable += repeats - fewest
            self.detail.append(f"round {number}: {repeats} repeated / fewest possible {fewest}")
        for p in pairs:
            self.met[p] = self.met.get(p, 0) + 1
        for g in groups:
            if len(g) == 3:
                for m in g:
                    self.trios[m] = self.trios.get(m, 0) + 1


def rosters(n: int, rounds: int, churn: float, trades: int, rng: random.Random) -> list[list[Candidate]]:
    """The roster of each round: `churn` of the members leave, about as many join (the count drifts)."""
    people = [Candidate(i, frozenset({rng.randrange(trades)})) for i in range(1, n + 1)]
    next_id = n + 1
    out = [people]
    for _ in range(rounds - 1):
        if churn:
            leave = round(churn * n)
            join = leave + rng.choice((-1, 0, 1)) + (n - len(people)) // 2
            gone = set(rng.sample([c.member_id for c in people], leave))
            people = [c for c in people if c.member_id not in gone]
            people += [Candidate(next_id + i, frozenset({rng.randrange(trades)})) for i in range(join)]
            next_id += join
        out.append(people)
    return out


def run(label: str, plan: list[list[Candidate]], seed: int) -> tuple[Tally, Tally]:
    ours, rand = Tally(), Tally()
    rng = random.Random(f"naive:{seed}")
    for number, people in enumerate(plan, start=1):
        started, cpu = time.perf_counter(), time.process_time()
        grouping: Grouping = make_groups(people, met=ours.met, trios=ours.trios, rules=Rules(),
                                         seed=seed * 1_000_003 + number)
        ours.seconds.append(time.perf_counter() - started)
        ours.cpu.append(time.process_time() - cpu)
        assert not grouping.unpaired
        ours.record(number, people, grouping.groups)
        started, cpu = time.perf_counter(), time.process_time()
        groups = naive(people, rng)
        rand.seconds.append(time.perf_counter() - started)
        rand.cpu.append(time.process_time() - cpu)
        rand.record(number, people, groups)
    sizes = sorted({len(p) for p in plan})
    print(f"\n{label}  (roster sizes {sizes[0]}–{sizes[-1]}, seed {seed})")
    print(f"  {'':22} {'make_groups':>24} {'naive random':>24}")
    for name, value in (
        ("pairs formed", lambda t: f"{t.pairs}"),
        ("repeated pairs", lambda t: f"{t.repeats} ({100 * t.repeats / t.pairs:.1f} %)"),
        ("avoidable repeats", lambda t: f"{t.avoidable}"
         + (f" ({t.unchecked} unchecked)" if t.unchecked else "")),
        ("rounds with a repeat", lambda t: f"{len(t.rounds_repeating)}"
         + (f" (from {t.rounds_repeating[0]})" if t.rounds_repeating else "")),
        ("round time median/max", lambda t: f"{1000 * statistics.median(t.seconds):.1f}/"
         f"{1000 * max(t.seconds):.1f} ms"),
        ("  CPU time median/max", lambda t: f"{1000 * statistics.median(t.cpu):.1f}/"
         f"{1000 * max(t.cpu):.1f} ms"),
    ):
        print(f"  {name:22} {value(ours):>24} {value(rand):>24}")
    for line in ours.detail:
        print(f"  make_groups {line}")
    return ours, rand


def main(seed: int, big: int) -> int:
    ok = True
    rng = random.Random(seed)
    ours, _ = run("50 members x 49 rounds", rosters(50, 49, 0.0, 8, rng), seed)
    ok &= ours.avoidable == 0 and not ours.unchecked
    if ours.repeats:
        print(f"  unavoidable in their round but not with hindsight (a round-robin has 0): "
              f"{ours.repeats - ours.avoidable}")
    ours, _ = run("50 members x 20 rounds, 10 % churn per round", rosters(50, 20, 0.1, 8, rng), seed)
    ok &= ours.avoidable == 0 and not ours.unchecked
    ours, _ = run(f"{big:,} members x 21 rounds (the last with 20 rounds of history)",
                  rosters(big, 21, 0.0, 20, rng), seed)
    last, cpu = ours.seconds[-1], ours.cpu[-1]
    print(f"  round 21 (20 rounds of history): {last:.2f} s, CPU {cpu:.2f} s (target <= 1 s, checked on"
          " the CPU time: the wall clock of a shared machine counts the other processes too)")
    ok &= ours.avoidable == 0 and not ours.unchecked and cpu <= 1.0
    print("\nOK" if ok else "\nTARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--big", type=int, default=5000, help="members of the large roster")
    args = parser.parse_args()
    raise SystemExit(main(args.seed, args.big))
