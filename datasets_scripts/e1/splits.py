"""
Family-disjoint splits and K folds: a protein family (the generator's `family`, or for real data proteins joined
by a shared exact 12-mer, a cheap stand-in for sequence clustering) lands in exactly one split or fold.
"""

import numpy as np

from datasets_scripts.grouping import SPLIT_NAMES, connected_components, cumulative_split, group_members, shuffled, smallest_fold_first

KMER = 12


def homology_groups(sequences: list, families: list) -> list:
    """One group label per protein: union of the given families and of proteins sharing an exact 12-mer."""
    keys = ([("family", family)] + [sequence[k: k + KMER] for k in range(len(sequence) - KMER + 1)]
            for family, sequence in zip(families, sequences))
    return [str(component) for component in connected_components(keys)]


def family_disjoint_split(groups: list, fractions=(0.8, 0.1, 0.1), seed: int = 0) -> dict:
    """{split: row indices}, whole groups per split, sizes close to `fractions` of the rows (`grouping.cumulative_split`)."""
    return cumulative_split(groups, fractions, seed)


def family_folds(groups: list, k: int, seed: int = 0) -> list:
    """Fold index per row: groups (shuffled, then largest first) dealt to the currently smallest fold."""
    members = group_members(groups)
    order = shuffled(sorted(members), np.random.default_rng(seed))
    folds = smallest_fold_first([members[g] for g in sorted(order, key=lambda g: -len(members[g]))], k)
    fold = [0] * len(groups)
    for index, rows in enumerate(folds):
        for i in rows:
            fold[i] = index
    return fold
