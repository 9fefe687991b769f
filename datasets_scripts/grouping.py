"""
Grouping and group-disjoint splitting, shared by every family's `splits.py`.

A family says what makes two rows one group (a miRNA seed or family, a protein family or shared 12-mer, a
Bemis–Murcko scaffold, a protein id or sequence, an augmentation group); this module joins rows into groups
(union-find, once) and deals whole groups to splits or folds, so no group is in two of them.

The dealing strategies below are the ones each family's published splits were made with; they are kept as they
are so those splits stay identical (tests/datasets_scripts/test_grouping.py holds their digests). sklearn's
`GroupKFold` / `StratifiedGroupKFold` were compared and give none of these folds (GroupKFold orders equal-sized
groups by group label, not by seed; StratifiedGroupKFold balances label ratios, not sizes), so they are not used.
"""

from typing import Hashable, Iterable, Mapping, Optional, Sequence

import numpy as np

SPLIT_NAMES = ("train", "validation", "test")


def connected_components(keys_per_row: Iterable[Iterable[Hashable]]) -> list:
    """
    A component per row: rows sharing any key are one component (union-find over rows). A component is named by
    its first row (the smallest row index), so the names do not depend on the order keys are joined in.
    """
    parent, first_row_of_key = [], {}

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for row, keys in enumerate(keys_per_row):
        parent.append(row)
        for key in keys:
            other = first_row_of_key.setdefault(key, row)
            a, b = find(row), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)  # the root is always the component's smallest row
    return [find(i) for i in range(len(parent))]


def group_members(groups: Iterable[Hashable]) -> dict:
    """{group: [row indices]}, groups in order of first appearance."""
    members = {}
    for row, group in enumerate(groups):
        members.setdefault(group, []).append(row)
    return members


def check_fractions(fractions: Sequence[float], names: Sequence[str] = SPLIT_NAMES, positive: bool = False) -> None:
    """A clear ValueError unless `fractions` are len(names) non-negative (or positive) numbers summing to 1."""
    low_ok = all(f > 0 for f in fractions) if positive else all(f >= 0 for f in fractions)
    if len(fractions) != len(names) or not low_ok or abs(sum(fractions) - 1) > 1e-6:
        kind = "positive" if positive else "non-negative"
        raise ValueError(f"fractions must be {len(names)} {kind} numbers summing to 1 (for {', '.join(names)}), got {tuple(fractions)}")


def shuffled(items: Sequence, rng: np.random.Generator) -> list:
    """`items` in the order of one `rng.permutation`."""
    return [items[i] for i in rng.permutation(len(items))]


def deficit_split(groups: Sequence[Hashable], fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0,
                  forced: Optional[Mapping[str, Iterable[Hashable]]] = None, names: Sequence[str] = SPLIT_NAMES) -> dict:
    """
    {split: sorted row indices (int64)}. Groups are visited in a seeded random order and each goes to the split
    furthest below its target share of rows (relative deficit), which fills every split once there are at least as
    many groups as splits. `forced` pins groups to a split first. (mirlm)
    """
    check_fractions(fractions, names, positive=True)
    groups = list(groups)
    if not groups:
        raise ValueError("cannot split an empty dataset")
    rows_of = group_members(groups)
    target = np.asarray(fractions, dtype=float) * len(groups)
    filled = np.zeros(len(names))
    assigned = {name: [] for name in names}

    def put(group, k):
        assigned[names[k]].extend(rows_of.pop(group))
        filled[k] = len(assigned[names[k]])

    for split, pinned in (forced or {}).items():
        if split not in names:
            raise ValueError(f"unknown split {split!r} in forced; expected one of {tuple(names)}")
        for group in pinned:
            if group in rows_of:
                put(group, names.index(split))
    for group in shuffled(sorted(rows_of, key=repr), np.random.default_rng(seed)):
        put(group, int(np.argmax(1.0 - filled / target)))
    return {name: np.asarray(sorted(rows), dtype=np.int64) for name, rows in assigned.items()}


def cumulative_split(groups: Sequence[Hashable], fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0) -> dict:
    """
    {split: sorted row indices}. Groups (sorted, then shuffled) are laid end to end and each goes to the split
    whose share of the running row count holds the group's midpoint. (e1)
    """
    check_fractions(fractions)
    members = group_members(groups)
    order = shuffled(sorted(members), np.random.default_rng(seed))
    total, bounds = len(groups), np.cumsum(fractions) / np.sum(fractions)
    out, taken = {name: [] for name in SPLIT_NAMES}, 0
    for group in order:
        split = SPLIT_NAMES[min(int(np.searchsorted(bounds, (taken + 0.5 * len(members[group])) / total)), 2)]
        out[split].extend(members[group])
        taken += len(members[group])
    if any(not rows for rows in out.values()):
        raise ValueError(f"too few groups ({len(order)}) for a train/validation/test split")
    return {name: sorted(rows) for name, rows in out.items()}


def take_until_split(groups: Sequence[Hashable], fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0) -> dict:
    """
    {split: sorted row indices}. From the shuffled groups, test and then validation take groups until they hold
    their share of rows (at least one group each); train takes the rest. (mutation2text)
    """
    check_fractions(fractions)
    members = group_members(groups)
    if len(members) < len(SPLIT_NAMES):
        raise ValueError(f"need at least {len(SPLIT_NAMES)} distinct groups to split, got {len(members)}")
    queue, out = shuffled(sorted(members), np.random.default_rng(seed)), {name: [] for name in SPLIT_NAMES}
    for split, share in (("test", fractions[2]), ("validation", fractions[1])):
        while len(queue) > 1 and (not out[split] or len(out[split]) < share * len(groups)):
            out[split] += members[queue.pop()]
    for group in queue:
        out["train"] += members[group]
    return {name: sorted(rows) for name, rows in out.items()}


def capacity_split(groups: Sequence[Hashable], fractions: Sequence[float] = (0.7, 0.15, 0.15), seed: int = 0) -> dict:
    """
    {split: sorted row indices}. Groups larger than half of the larger held-out split go to train (the held-out
    splits test rare groups); the rest, shuffled, fill test and then validation up to their share of rows, and
    what does not fit goes to train. (milmol's scaffold split)
    """
    check_fractions(fractions)
    n = len(groups)
    members = list(group_members(groups).values())
    targets = {"validation": fractions[1] * n, "test": fractions[2] * n}
    half = max(targets.values()) / 2
    small = [g for g in members if len(g) <= half]
    out = {"train": [i for g in members if len(g) > half for i in g], "validation": [], "test": []}
    for group in shuffled(small, np.random.default_rng(seed)):
        for name in ("test", "validation"):
            if len(out[name]) + len(group) <= targets[name]:
                out[name] += group
                break
        else:
            out["train"] += group
    return {name: sorted(rows) for name, rows in out.items()}


def stratified_group_split(labels: Sequence, groups: Sequence[Hashable], fractions: Sequence[float] = (0.7, 0.15, 0.15),
                           seed: int = 0) -> dict:
    """
    {split: sorted row indices (int64)}. Per label, its groups are shuffled and dealt so that each split gets about
    its share of the label's rows (a label with >= 3 groups gets one in each split: test, validation, train first,
    then each group to the split furthest below its share). A group holding two labels is an error. (tissuebert)
    """
    check_fractions(fractions)
    labels, groups = np.asarray(labels), np.asarray(groups)
    group_label = {}
    for group, label in zip(groups, labels):
        if group_label.setdefault(group, label) != label:
            raise ValueError(f"group {str(group)!r} holds rows of two labels ({group_label[group]} and {label})")
    rng = np.random.default_rng(seed)
    members = {g: np.flatnonzero(groups == g) for g in group_label}
    assigned = {name: [] for name in SPLIT_NAMES}
    for label in sorted(set(labels.tolist())):
        label_groups = shuffled([g for g in sorted(members) if group_label[g] == label], rng)
        total = sum(len(members[g]) for g in label_groups)
        counts = {name: 0 for name in SPLIT_NAMES}
        for k, group in enumerate(label_groups):
            if k < len(SPLIT_NAMES) and len(label_groups) >= len(SPLIT_NAMES):
                name = SPLIT_NAMES[(k + 2) % 3]  # first a test group, then validation, then train
            else:
                name = max(SPLIT_NAMES, key=lambda n: fractions[SPLIT_NAMES.index(n)] * total - counts[n])
            counts[name] += len(members[group])
            assigned[name].extend(members[group].tolist())
    return {name: np.array(sorted(rows), dtype=np.int64) for name, rows in assigned.items()}


def smallest_fold_first(ordered_groups: Sequence[Sequence[int]], k: int) -> list:
    """k folds (lists of row indices): groups, in the given order, each into the fold with the fewest rows so far."""
    if k < 2:
        raise ValueError(f"cross-validation needs k >= 2 folds, got {k}")
    if len(ordered_groups) < k:
        raise ValueError(f"{len(ordered_groups)} groups cannot fill {k} group-disjoint folds")
    folds = [[] for _ in range(k)]
    for group in ordered_groups:
        min(folds, key=len).extend(group)  # min returns the first of equal folds, as argmin does
    return folds
