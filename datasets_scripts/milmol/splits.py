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


def rare_positive_sample(labels, size: int, seed: int = 0, rare_prevalence: float = 0.05) -> tuple:
    """
    The documented sampled mode: `size` row indices (sorted) that keep every positive of each task whose prevalence
    is under `rare_prevalence` and fill the rest uniformly at random (`seed`) from the other rows, and a summary.
    The rare tasks' prevalence in the sample is therefore higher than in the whole set (the summary says by how
    much), and the other molecules drawn with them are no longer a uniform sample of each class. The summary's
    "inverse_probability_weight" (row -> 1 / its chance of being drawn: 1 for a kept positive, 1 / fill probability
    for the others) restores the whole set's distribution: metrics weighted by it estimate what the whole set
    would give. With the same seed a smaller sample is
    a subset of a larger one, so the feature cache of one serves the other.
    """
    labels = np.asarray(labels, dtype=np.float64)
    n = len(labels)
    prevalence = np.nan_to_num(np.nanmean(labels, axis=0), nan=0.0)
    rare = [t for t in range(labels.shape[1]) if prevalence[t] < rare_prevalence]
    keep = np.flatnonzero((labels[:, rare] == 1).any(axis=1)) if rare else np.array([], dtype=np.int64)
    if size < len(keep):
        raise ValueError(f"a sample of {size} molecules cannot keep the {len(keep)} positives of the rare tasks; ask for more")
    others = np.setdiff1d(np.arange(n), keep)
    filled = np.random.default_rng(seed).permutation(others)[: min(size, n) - len(keep)]  # nested: a smaller sample is inside a larger one
    indices = np.sort(np.concatenate([keep, filled])).tolist()
    fill_probability = len(filled) / len(others) if len(others) else 1.0
    summary = {"molecules": len(indices), "of": n, "seed": seed, "rare_prevalence_below": rare_prevalence,
               "rare_positives_kept": int(len(keep)), "fill_probability": fill_probability,
               "inverse_probability_weight": {int(i): 1.0 for i in keep} | {int(i): 1.0 / fill_probability for i in filled},
               "prevalence_all": prevalence.round(5).tolist(),
               "prevalence_sample": np.nan_to_num(np.nanmean(labels[indices], axis=0), nan=0.0).round(5).tolist()}
    return indices, summary
