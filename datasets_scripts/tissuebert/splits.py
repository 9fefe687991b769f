"""
Splits of samples. `group_split` (the default) keeps every augmentation group in one split and stratifies by
tissue; `random_split` splits samples regardless of groups (what leaked in the design notes; kept for the
leakage diagnostic).
"""

import numpy as np

from datasets_scripts.grouping import SPLIT_NAMES, stratified_group_split

SPLIT_FRACTIONS = (0.7, 0.15, 0.15)


def group_split(labels, groups, fractions=SPLIT_FRACTIONS, seed: int = 0) -> dict:
    """
    {split: sorted sample indices} (`grouping.stratified_group_split`). Per tissue, its augmentation groups are
    shuffled and dealt so that each split gets about its fraction of the tissue's samples (a tissue with >= 3 groups
    gets at least one in each split). A group whose samples carry different tissues is an error (an augmented copy
    must keep its source's label).
    """
    return stratified_group_split(labels, groups, fractions, seed)


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
