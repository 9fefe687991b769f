"""
miRNA-family-disjoint splitting.

A miRNA family is its seed (nucleotides 2-8): two miRNAs with the same seed pick the same canonical sites,
so a model evaluated on a seed it saw in training is measured on memorisation, not on the pairing rule.
Rows are grouped so that every seed (and every annotated family, e.g. miRBench's `noncodingRNA_fam`, which
can join several seeds) lands in exactly one split. Assignment is deterministic given `seed`.
"""

from typing import Hashable, Iterable, Mapping, Optional, Sequence

import numpy as np

SPLIT_NAMES = ("train", "validation", "test")
UNKNOWN_FAMILIES = frozenset({"", "unknown", "nan", "none", "na"})


def family_groups(seeds: Sequence[str], families: Optional[Sequence[Optional[str]]] = None) -> list:
    """
    One group label per row: rows sharing a seed, or sharing an annotated family, are in the same group
    (connected components, union-find). Family values such as "" / "unknown" / None are ignored.
    The label of a group is its lexicographically smallest seed, so it is stable across runs.
    """
    if families is not None and len(families) != len(seeds):
        raise ValueError(f"got {len(seeds)} seeds but {len(families)} family labels")
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for i, s in enumerate(seeds):
        find(("seed", s))
        fam = None if families is None else families[i]
        if fam is not None and str(fam).strip().lower() not in UNKNOWN_FAMILIES:
            union(("seed", s), ("family", str(fam)))
    # Name each component by its smallest seed.
    names = {}
    for s in set(seeds):
        root = find(("seed", s))
        names[root] = min(names.get(root, s), s)
    return [names[find(("seed", s))] for s in seeds]


def family_disjoint_split(
    groups: Sequence[Hashable],
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    forced: Optional[Mapping[str, Iterable[Hashable]]] = None,
    names: Sequence[str] = SPLIT_NAMES,
) -> dict:
    """
    Assign whole groups to splits so each split gets about `fractions` of the rows.

    Groups are visited in a seeded random order and each goes to the split furthest below its target
    (relative deficit), which fills every split once there are at least as many groups as splits.
    `forced` pins groups to a split first (e.g. a few real miRNA families into "test").
    Returns {split name: sorted row indices}.
    """
    if len(fractions) != len(names) or any(f <= 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f"fractions must be {len(names)} positive numbers summing to 1, got {tuple(fractions)}")
    groups = list(groups)
    if not groups:
        raise ValueError("cannot split an empty dataset")
    rows_of = {}
    for i, g in enumerate(groups):
        rows_of.setdefault(g, []).append(i)
    target = np.asarray(fractions, dtype=float) * len(groups)
    filled = np.zeros(len(names))
    assigned = {name: [] for name in names}

    def put(g, k):
        assigned[names[k]].extend(rows_of.pop(g))
        filled[k] = len(assigned[names[k]])

    for split, pinned in (forced or {}).items():
        if split not in names:
            raise ValueError(f"unknown split {split!r} in forced; expected one of {tuple(names)}")
        for g in pinned:
            if g in rows_of:
                put(g, names.index(split))
    order = sorted(rows_of, key=repr)
    rng = np.random.default_rng(seed)
    for j in rng.permutation(len(order)):
        put(order[j], int(np.argmax(1.0 - filled / target)))
    return {name: np.asarray(sorted(rows), dtype=np.int64) for name, rows in assigned.items()}
