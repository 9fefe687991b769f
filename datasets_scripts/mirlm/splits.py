"""
miRNA-family-disjoint splitting.

A miRNA family is its seed (nucleotides 2-8): two miRNAs with the same seed pick the same canonical sites,
so a model evaluated on a seed it saw in training is measured on memorisation, not on the pairing rule.
Rows are grouped so that every seed (and every annotated family, e.g. miRBench's `noncodingRNA_fam`, which
can join several seeds) lands in exactly one split. Assignment is deterministic given `seed`.
"""

from typing import Hashable, Iterable, Mapping, Optional, Sequence

from datasets_scripts.grouping import SPLIT_NAMES, connected_components, deficit_split

UNKNOWN_FAMILIES = frozenset({"", "unknown", "nan", "none", "na"})


def family_groups(seeds: Sequence[str], families: Optional[Sequence[Optional[str]]] = None) -> list:
    """
    One group label per row: rows sharing a seed, or sharing an annotated family, are in the same group
    (connected components). Family values such as "" / "unknown" / None are ignored.
    The label of a group is its lexicographically smallest seed, so it is stable across runs.
    """
    if families is not None and len(families) != len(seeds):
        raise ValueError(f"got {len(seeds)} seeds but {len(families)} family labels")

    def keys(i):
        family = None if families is None else families[i]
        known = family is not None and str(family).strip().lower() not in UNKNOWN_FAMILIES
        return [("seed", seeds[i])] + ([("family", str(family))] if known else [])

    components = connected_components(keys(i) for i in range(len(seeds)))
    smallest_seed = {}
    for component, seed in zip(components, seeds):
        smallest_seed[component] = min(smallest_seed.get(component, seed), seed)
    return [smallest_seed[c] for c in components]


def family_disjoint_split(
    groups: Sequence[Hashable],
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    forced: Optional[Mapping[str, Iterable[Hashable]]] = None,
    names: Sequence[str] = SPLIT_NAMES,
) -> dict:
    """
    Whole families to splits, each split about `fractions` of the rows (`grouping.deficit_split`); `forced` pins
    groups to a split first (e.g. a few real miRNA families into "test"). Returns {split name: sorted row indices}.
    """
    return deficit_split(groups, fractions, seed, forced, names)
