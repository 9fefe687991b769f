"""Protein-disjoint splits: grouping by id and by identical sequence, whole groups per split, determinism, errors."""

import pytest

from datasets_scripts.mutation2text.splits import protein_disjoint_split, protein_groups


def test_rows_sharing_an_id_or_a_sequence_share_a_group():
    ids = ["P1", "P1", "P2", "P3", "P4"]
    sequences = ["MKA", "MKA", "MKA", "MLV", "MCC"]  # P2 is P1's sequence under another id
    groups = protein_groups(ids, sequences)
    assert groups[0] == groups[1] == groups[2]
    assert len({groups[0], groups[3], groups[4]}) == 3


def test_splits_take_whole_proteins_and_are_deterministic():
    ids = [f"P{i // 3}" for i in range(60)]  # 20 proteins, 3 rows each
    sequences = [f"M{'A' * (i // 3 + 1)}" for i in range(60)]
    groups = protein_groups(ids, sequences)
    split = protein_disjoint_split(groups, (0.8, 0.1, 0.1), seed=1)
    assert sorted(sum(split.values(), [])) == list(range(60))
    proteins = {name: {groups[i] for i in rows} for name, rows in split.items()}
    assert not proteins["train"] & proteins["test"] and not proteins["train"] & proteins["validation"]
    assert not proteins["validation"] & proteins["test"]
    assert len(split["test"]) == 6 and len(split["validation"]) == 6
    assert split == protein_disjoint_split(groups, (0.8, 0.1, 0.1), seed=1)
    assert split != protein_disjoint_split(groups, (0.8, 0.1, 0.1), seed=2)


def test_split_errors():
    with pytest.raises(ValueError, match="at least 3 distinct groups"):
        protein_disjoint_split(["a", "a", "b"])
    with pytest.raises(ValueError, match="summing to 1"):
        protein_disjoint_split(["a", "b", "c"], (0.5, 0.2, 0.1))
