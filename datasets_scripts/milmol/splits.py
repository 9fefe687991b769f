"""Bemis–Murcko scaffold splits (default), random splits, and scaffold-grouped cross-validation folds."""

import numpy as np
from rdkit import Chem, RDLogger
from rdkit.Chem.Scaffolds import MurckoScaffold

from datasets_scripts.grouping import capacity_split, group_members, smallest_fold_first


def murcko_scaffold(smiles: str) -> str:
    """The Bemis–Murcko scaffold SMILES ('' for an acyclic molecule or one RDKit cannot read)."""
    RDLogger.DisableLog("rdApp.*")
    mol = Chem.MolFromSmiles(smiles or "")
    if mol is None:
        return ""
    return MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=False)


def scaffold_split(scaffolds, fractions=(0.7, 0.15, 0.15), seed: int = 0) -> dict:
    """
    {"train", "validation", "test"} -> row indices, no scaffold in two splits (`grouping.capacity_split`): scaffold
    groups larger than half of the held-out size go to train (as usual for scaffold splits: the held-out splits test
    rare scaffolds); the rest, shuffled with `seed`, fill validation and test up to their fractions.
    """
    return capacity_split(scaffolds, fractions, seed)


def balanced_scaffold_split(scaffolds, labels, fractions=(0.7, 0.15, 0.15), seed: int = 0, min_positives: int = 2,
                            min_share: float = 0.6, attempts: int = 200) -> dict:
    """
    `scaffold_split` with the first of `attempts` seeds (seed, seed + 1000, seed + 2000, ...: apart, so that nearby
    seeds never land on the same split) whose validation and test splits hold,
    of every task, at least `min_positives` positives and at least `min_share` of the positives the task's overall
    prevalence would give a split of that size (rare tasks would otherwise often have only a handful held out,
    since the positives of a rare task cluster in few scaffolds); the last attempt when none does.
    """
    labels = np.asarray(labels, dtype=np.float64)
    prevalence = np.nan_to_num(np.nanmean(labels, axis=0), nan=0.0) if len(labels) else np.zeros(labels.shape[1:])
    labels = np.nan_to_num(labels, nan=0.0)
    for attempt in range(attempts):
        split = scaffold_split(scaffolds, fractions, seed + 1000 * attempt)
        if all((labels[split[name]].sum(axis=0) >= np.maximum(min_positives, np.floor(min_share * prevalence * len(split[name])))).all()
               for name in ("validation", "test")):
            return split
    return split


def random_split(n: int, fractions=(0.7, 0.15, 0.15), seed: int = 0) -> dict:
    order = np.random.default_rng(seed).permutation(n)
    n_val, n_test = int(round(fractions[1] * n)), int(round(fractions[2] * n))
    return {"test": sorted(order[:n_test].tolist()), "validation": sorted(order[n_test : n_test + n_val].tolist()),
            "train": sorted(order[n_test + n_val :].tolist())}


def scaffold_folds(scaffolds, k: int = 3, seed: int = 0) -> list:
    """k (train indices, validation indices) pairs; each scaffold sits in exactly one validation fold."""
    groups = list(group_members(scaffolds).values())
    rng = np.random.default_rng(seed)
    order = sorted(range(len(groups)), key=lambda g: (-len(groups[g]), rng.random()))  # largest first, ties by seed
    everything = set(range(len(scaffolds)))
    return [(sorted(everything - set(fold)), sorted(fold)) for fold in smallest_fold_first([groups[g] for g in order], k)]
