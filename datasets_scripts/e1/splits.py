"""
Family-disjoint splits and K folds: a protein family (the generator's `family`, or for real data proteins joined
by a shared exact 12-mer, a cheap stand-in for sequence clustering) lands in exactly one split or fold.
"""

from collections import defaultdict

import numpy as np

SPLIT_NAMES = ("train", "validation", "test")
KMER = 12


def homology_groups(sequences: list, families: list) -> list:
    """One group label per protein: union of the given families and of proteins sharing an exact 12-mer."""
    parent = list(range(len(sequences)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a, b):
        parent[find(a)] = find(b)

    first = {}
    for i, family in enumerate(families):
        union(i, first.setdefault(("family", family), i))
    for i, sequence in enumerate(sequences):
        for k in range(len(sequence) - KMER + 1):
            union(i, first.setdefault(sequence[k: k + KMER], i))
    return [str(find(i)) for i in range(len(sequences))]


def _shuffled_groups(groups: list, seed: int) -> tuple:
    members = defaultdict(list)
    for i, group in enumerate(groups):
        members[group].append(i)
    names = sorted(members)
    np.random.default_rng(seed).shuffle(names)
    return names, members


def family_disjoint_split(groups: list, fractions=(0.8, 0.1, 0.1), seed: int = 0) -> dict:
    """{split: row indices}, whole groups per split, sizes close to `fractions` of the rows."""
    names, members = _shuffled_groups(groups, seed)
    total, bounds = len(groups), np.cumsum(fractions) / np.sum(fractions)
    out, taken = {name: [] for name in SPLIT_NAMES}, 0
    for name in names:
        split = SPLIT_NAMES[min(int(np.searchsorted(bounds, (taken + 0.5 * len(members[name])) / total)), 2)]
        out[split].extend(members[name])
        taken += len(members[name])
    if any(not rows for rows in out.values()):
        raise ValueError(f"too few families ({len(names)}) for a train/validation/test split")
    return {name: sorted(rows) for name, rows in out.items()}


def family_folds(groups: list, k: int, seed: int = 0) -> list:
    """Fold index per row: groups dealt to the currently smallest fold (largest groups first)."""
    if k < 2:
        raise ValueError(f"cross-validation needs k >= 2 folds, got {k}")
    names, members = _shuffled_groups(groups, seed)
    if len(names) < k:
        raise ValueError(f"{len(names)} families cannot fill {k} family-disjoint folds")
    sizes, fold = [0] * k, [0] * len(groups)
    for name in sorted(names, key=lambda n: -len(members[n])):
        target = int(np.argmin(sizes))
        for i in members[name]:
            fold[i] = target
        sizes[target] += len(members[name])
    return fold
