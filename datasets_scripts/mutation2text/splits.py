"""
Protein-disjoint splits: every row of a wild type (grouped by `protein_id`, and by identical sequence across ids)
lands in one split, so no test protein is seen in training. Deterministic given `seed`.
"""

from datasets_scripts.grouping import SPLIT_NAMES, connected_components, take_until_split


def protein_groups(protein_ids: list, wild_types: list) -> list:
    """A group label per row: rows sharing a protein id or a wild-type sequence share a group (its smallest id)."""
    components = connected_components([("id", pid), ("seq", sequence)] for pid, sequence in zip(protein_ids, wild_types))
    smallest_id = {}
    for component, pid in zip(components, protein_ids):
        smallest_id[component] = min(smallest_id.get(component, pid), pid)
    return [str(smallest_id[c]) for c in components]


def protein_disjoint_split(groups: list, fractions=(0.8, 0.1, 0.1), seed: int = 0) -> dict:
    """{split: row indices}: whole groups, shuffled; test, then validation, take groups up to their share of rows."""
    return take_until_split(groups, fractions, seed)
