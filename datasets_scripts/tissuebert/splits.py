"""
Splits of samples. `group_split` (the default) keeps every augmentation group in one split and stratifies by
tissue; `random_split` splits samples regardless of groups (what leaked in the design notes; kept for the
leakage diagnostic).
"""

import numpy as np

SPLIT_NAMES = ("train", "validation", "test")
SPLIT_FRACTIONS = (0.7, 0.15, 0.15)


def group_split(labels, groups, fractions=SPLIT_FRACTIONS, seed: int = 0) -> dict:
    """
    {split: sorted sample indices}. Per tissue, its groups are shuffled and dealt to the splits so that each split
    gets about its fraction of the tissue's samples (a tissue with >= 3 groups gets at least one in each split).
    A group whose samples carry different tissues is an error (an augmented copy must keep its source's label).
    """
    labels, groups = np.asarray(labels), np.asarray(groups)
    if abs(sum(fractions) - 1) > 1e-6 or len(fractions) != len(SPLIT_NAMES):
        raise ValueError(f"fractions must be three numbers summing to 1, got {fractions}")
    group_label = {}
    for group, label in zip(groups, labels):
        if group_label.setdefault(group, label) != label:
            raise ValueError(f"augmentation group {group!r} holds samples of two tissues ({group_label[group]} and {label})")
    rng = np.random.default_rng(seed)
    members = {g: np.flatnonzero(groups == g) for g in group_label}
    assigned = {name: [] for name in SPLIT_NAMES}
    for label in sorted(set(labels.tolist())):
        tissue_groups = [g for g in sorted(members) if group_label[g] == label]
        tissue_groups = [tissue_groups[i] for i in rng.permutation(len(tissue_groups))]
        total = sum(len(members[g]) for g in tissue_groups)
        counts = {name: 0 for name in SPLIT_NAMES}
        for k, group in enumerate(tissue_groups):
            if k < len(SPLIT_NAMES) and len(tissue_groups) >= len(SPLIT_NAMES):
                name = SPLIT_NAMES[(k + 2) % 3]  # first a test group, then validation, then train
            else:
                name = max(SPLIT_NAMES, key=lambda n: fractions[SPLIT_NAMES.index(n)] * total - counts[n])
            counts[name] += len(members[group])
            assigned[name].extend(members[group].tolist())
    return {name: np.array(sorted(rows), dtype=np.int64) for name, rows in assigned.items()}


def random_split(num_samples: int, fractions=SPLIT_FRACTIONS, seed: int = 0) -> dict:
    """{split: sorted sample indices}, samples shuffled and cut by fraction (ignores groups: it leaks)."""
    order = np.random.default_rng(seed).permutation(num_samples)
    cuts = np.cumsum([int(round(f * num_samples)) for f in fractions[:-1]])
    return {name: np.sort(part) for name, part in zip(SPLIT_NAMES, np.split(order, cuts))}


def leaked_groups(groups, splits: dict) -> dict:
    """{group: [splits it appears in]} for every group found in more than one split."""
    seen = {}
    for name, rows in splits.items():
        for i in rows:
            seen.setdefault(groups[i], set()).add(name)
    return {g: sorted(names) for g, names in seen.items() if len(names) > 1}
