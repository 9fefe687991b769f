"""
Protein-disjoint splits: every row of a wild type (grouped by `protein_id`, and by identical sequence across ids)
lands in one split, so no test protein is seen in training. Deterministic given `seed`.
"""

import numpy as np

SPLIT_NAMES = ("train", "validation", "test")


def protein_groups(protein_ids: list, wild_types: list) -> list:
    """A group label per row: rows sharing a protein id or a wild-type sequence share a group (union-find)."""
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for pid, sequence in zip(protein_ids, wild_types):
        a, b = find(("id", pid)), find(("seq", sequence))
        if a != b:
            parent[max(a, b)] = min(a, b)
    return [str(find(("id", pid))[1]) for pid in protein_ids]


def protein_disjoint_split(groups: list, fractions=(0.8, 0.1, 0.1), seed: int = 0) -> dict:
    """{split: row indices}: whole groups, shuffled, assigned until each split reaches its fraction of rows."""
    if len(fractions) != 3 or abs(sum(fractions) - 1) > 1e-6 or min(fractions) < 0:
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {fractions}")
    names = sorted(set(groups))
    if len(names) < 3:
        raise ValueError(f"need at least 3 distinct proteins to split, got {len(names)}")
    order = np.random.default_rng(seed).permutation(len(names))
    rows = {}
    for i, group in enumerate(groups):
        rows.setdefault(group, []).append(i)
    # test, then validation, take shuffled proteins until they hold their share of rows (at least one protein
    # each); train takes the rest
    queue, out = [names[i] for i in order], {name: [] for name in SPLIT_NAMES}
    for split, share in (("test", fractions[2]), ("validation", fractions[1])):
        while len(queue) > 1 and (not out[split] or len(out[split]) < share * len(groups)):
            out[split] += rows[queue.pop()]
    for group in queue:
        out["train"] += rows[group]
    return {name: sorted(indices) for name, indices in out.items()}
