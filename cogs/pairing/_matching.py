"""A maximum matching of a graph, grown from a given matching (Edmonds' blossom algorithm).

Used by the grouping on the graph of fresh pairs (never met, not avoided): its size is the most pairs
a round can have without a repeat. Written here (about 80 lines, the classic formulation of the
algorithm) rather than a dependency such as networkx imported by every process for one function.
O(V³) in the worst case; grown from a greedy matching that is almost perfect, only its few free
vertices are searched from (1,000 members, half the pairs fresh: 0.4 s CPU, mostly building the
neighbour lists).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence


def maximum_matching(
    order: Sequence[int], adjacent: Callable[[int], Iterable[int]], start: Mapping[int, int] | None = None
) -> dict[int, int]:
    """A maximum matching (each matched vertex -> its partner) of the graph on `order`.

    `adjacent(v)` gives v's neighbours (outside `order` ignored), in the order they are preferred;
    `start` is a matching to grow (its pairs must be edges). Free vertices are searched from in `order`,
    so that the same inputs give the same matching.
    """
    n = len(order)
    index = {m: i for i, m in enumerate(order)}
    g = [[index[v] for v in adjacent(m) if v in index and v != m] for m in order]
    match = [-1] * n
    start = start or {}
    for a, b in start.items():
        if a in index and b in index and start.get(b) == a:
            match[index[a]] = index[b]
    parent = [-1] * n
    base = list(range(n))

    def lca(a: int, b: int) -> int:
        seen = [False] * n
        while True:
            a = base[a]
            seen[a] = True
            if match[a] == -1:
                break
            a = parent[match[a]]
        while True:
            b = base[b]
            if seen[b]:
                return b
            b = parent[match[b]]

    def mark(v: int, b: int, child: int, blossom: list[bool]) -> None:
        while base[v] != b:
            blossom[base[v]] = blossom[base[match[v]]] = True
            parent[v] = child
            child = match[v]
            v = parent[match[v]]

    def find_path(root: int) -> int:
        used = [False] * n
        parent[:] = [-1] * n
        base[:] = range(n)
        used[root] = True
        queue = [root]
        head = 0
        while head < len(queue):
            v = queue[head]
            head += 1
            for to in g[v]:
                if base[v] == base[to] or match[v] == to:
                    continue
                if to == root or (match[to] != -1 and parent[match[to]] != -1):
                    cur = lca(v, to)
                    blossom = [False] * n
                    mark(v, cur, to, blossom)
                    mark(to, cur, v, blossom)
                    for i in range(n):
                        if blossom[base[i]]:
                            base[i] = cur
                            if not used[i]:
                                used[i] = True
                                queue.append(i)
                elif parent[to] == -1:
                    parent[to] = v
                    if match[to] == -1:
                        return to
                    used[match[to]] = True
                    queue.append(match[to])
        return -1

    for root in range(n):
        if match[root] == -1 and g[root]:
            v = find_path(root)
            while v != -1:
                pv = parent[v]
                ppv = match[pv]
                match[v], match[pv] = pv, v
                v = ppv
    return {order[i]: order[match[i]] for i in range(n) if match[i] != -1}
