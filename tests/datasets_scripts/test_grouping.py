"""
The shared grouping module, and the published splits: every family's split of its embedded data is the one the code
gave before the families shared `datasets_scripts/grouping.py` (digests recorded with that code).
"""

import hashlib

import numpy as np
import pytest

from datasets_scripts.e1.generator import generate_proteins
from datasets_scripts.e1.splits import family_disjoint_split as e1_split, family_folds, homology_groups
from datasets_scripts.grouping import (capacity_split, check_fractions, connected_components, cumulative_split,
                                       deficit_split, group_members, smallest_fold_first, stratified_group_split,
                                       take_until_split)
from datasets_scripts.milmol.builder import embedded_molecules
from datasets_scripts.milmol.splits import balanced_scaffold_split, murcko_scaffold, random_split, scaffold_folds, scaffold_split
from datasets_scripts.mirlm.generator import SIZES, TEST_FAMILIES, generate_mirnas, load_human_mirnas
from datasets_scripts.mirlm.splits import family_disjoint_split as mirlm_split, family_groups
from datasets_scripts.mutation2text.generator import generate_splits
from datasets_scripts.mutation2text.splits import protein_disjoint_split, protein_groups
from datasets_scripts.tissuebert.builder import load_samples, split_table
from datasets_scripts.tissuebert.splits import random_split as tissuebert_random_split

PUBLISHED = {  # recorded with the code before datasets_scripts/grouping.py (sha1 of the sorted row indices, 16 hex digits)
    'mirlm_demo': {'train': '0575977a07aeef6a', 'validation': '39b0d73b0c2db996', 'test': '73852a7dcc162a6d'},
    'mirlm_groups': {'train': '62a962ef8951eac9', 'validation': '46c8050cb6e8184f', 'test': 'cc4ba64fdc57d0f9'},
    'e1_demo': {'train': '371661dd46be0148', 'validation': '82437c92609595f6', 'test': '677ba079512d521f'},
    'e1_folds': {'fold0': '6eb652408c1a0191', 'fold1': '2c75656f9a7d82eb', 'fold2': '657e6d0fa1efbd3f', 'fold3': '8f54b693b3959d59', 'fold4': '25b11417bae8b7d0'},
    'mutation2text_demo': {'train': '6a86638fc322fed0', 'validation': '415fe89fdef3f6d7', 'test': 'e50d6d553b902bd5'},
    'tissuebert_demo': {'train': '4ba8ca772b6282f1', 'validation': '50cf4282c84712f7', 'test': 'fd1c8b7dd4306a44'},
    'tissuebert_random': {'train': 'd10be0e70ee62357', 'validation': '4b49ccd70ae65632', 'test': '7e2acecc34336466'},
    'milmol_scaffold': {'train': '5cd2627fb9056782', 'validation': '143750c9048b850d', 'test': 'c1f624c4745f641c'},
    'milmol_balanced': {'train': '5cd2627fb9056782', 'validation': '143750c9048b850d', 'test': 'c1f624c4745f641c'},
    'milmol_balanced_rare': {'train': '451195aa5f598e98', 'validation': 'e36d11bb2438da47', 'test': 'e5200a3d9731b78f'},
    'milmol_random': {'test': '4b1ff7f51aacdbc7', 'validation': '484dcab19a0ee104', 'train': '19ebf77d0c04bd7e'},
    'milmol_folds': {'fold0': '0a0c94c28cf4b5a3', 'fold1': 'b24c937d08421c3e', 'fold2': 'e9d2650ff828a91c'},
}


def digest(rows) -> str:
    return hashlib.sha1(",".join(str(int(i)) for i in rows).encode()).hexdigest()[:16]


def embedded_splits():
    """{case: {split: row indices}} of every family's split functions on its embedded data."""
    out = {}
    real = load_human_mirnas()  # the miRNA pool as mirlm's generate_splits draws it
    pool_rng = np.random.default_rng(np.random.SeedSequence(0).spawn(4)[0])
    mirnas = real + generate_mirnas(SIZES["demo"].n_generated_mirnas, pool_rng, {m.family for m in real})
    forced = {"test": sorted({m.family for m in real if m.family_name in TEST_FAMILIES})}
    out["mirlm_demo"] = mirlm_split([m.family for m in mirnas], seed=0, forced=forced)
    groups = family_groups([m.family for m in mirnas], [m.family_name for m in mirnas])
    out["mirlm_groups"] = mirlm_split(groups, (0.8, 0.1, 0.1), seed=3)
    rows = generate_proteins("demo", 0)
    groups = homology_groups([r["sequence"] for r in rows], [r["family"] for r in rows])
    out["e1_demo"] = e1_split(groups, (0.7, 0.15, 0.15), seed=0)
    folds = family_folds(groups, 5, seed=0)
    out["e1_folds"] = {f"fold{k}": [i for i, f in enumerate(folds) if f == k] for k in range(5)}
    gen = generate_splits("demo", 0)
    ids = [p for s in ("train", "validation", "test") for p in gen[s]["protein_id"]]
    wts = [w for s in ("train", "validation", "test") for w in gen[s]["wild_type"]]
    out["mutation2text_demo"] = protein_disjoint_split(protein_groups(ids, wts), (0.8, 0.1, 0.1), 0)
    table = load_samples(size="demo", seed=0, progress=False)
    out["tissuebert_demo"] = split_table(table, seed=0)
    out["tissuebert_random"] = tissuebert_random_split(len(table.groups), seed=0)
    scaffolds = [murcko_scaffold(m[2]) for m in embedded_molecules("demo")]
    labels = (np.random.default_rng(0).random((len(scaffolds), 4)) < [0.3, 0.1, 0.05, 0.02]).astype(float)
    out["milmol_scaffold"] = scaffold_split(scaffolds, seed=0)
    out["milmol_balanced"] = balanced_scaffold_split(scaffolds, labels, seed=0)
    rare = (np.random.default_rng(1).random((len(scaffolds), 4)) < [0.5, 0.2, 0.02, 0.008]).astype(float)
    out["milmol_balanced_rare"] = balanced_scaffold_split(scaffolds, rare, seed=0, min_positives=3)
    out["milmol_random"] = random_split(len(scaffolds), seed=0)
    out["milmol_folds"] = {f"fold{k}": v for k, (_, v) in enumerate(scaffold_folds(scaffolds, 3, seed=0))}
    return out


def test_every_family_split_of_its_embedded_data_is_the_published_one():
    splits = embedded_splits()
    assert set(splits) == set(PUBLISHED)
    for case, parts in splits.items():
        assert {name: digest(rows) for name, rows in parts.items()} == PUBLISHED[case], case


def test_connected_components_join_rows_through_shared_keys_and_name_them_by_their_first_row():
    # rows 0-2 joined through "a" and "b" (0 and 2 only via row 1), 3 alone, 4 joins 3 late through "d"
    keys = [["a"], ["a", "b"], ["b"], ["c"], ["e", "c"]]
    assert connected_components(keys) == [0, 0, 0, 3, 3]
    # the names do not depend on which key joined a component first
    assert connected_components([["x"], ["y"], ["y", "x"]]) == [0, 0, 0]
    assert connected_components([]) == []


def test_group_members_keeps_first_appearance_order():
    assert group_members(["b", "a", "b", "c"]) == {"b": [0, 2], "a": [1], "c": [3]}


@pytest.mark.parametrize("split", [deficit_split, cumulative_split, take_until_split, capacity_split])
def test_every_strategy_keeps_groups_whole_and_covers_every_row(split):
    groups = [f"g{i % 37}" for i in range(400)]
    parts = split(groups, (0.7, 0.15, 0.15), seed=1)
    rows = sorted(i for part in parts.values() for i in part)
    assert rows == list(range(400))
    where = {}
    for name, part in parts.items():
        for i in part:
            assert where.setdefault(groups[i], name) == name
    assert all(len(part) > 0 for part in parts.values())


def test_stratified_group_split_keeps_groups_whole_and_puts_every_label_in_every_split():
    labels = [i % 3 for i in range(90)]
    groups = [f"{label}-{i // 9}" for i, label in enumerate(labels)]
    parts = stratified_group_split(labels, groups, seed=0)
    for part in parts.values():
        assert set(np.asarray(labels)[part]) == {0, 1, 2}
    assert sorted(np.concatenate(list(parts.values())).tolist()) == list(range(90))
    with pytest.raises(ValueError, match="holds rows of two labels"):
        stratified_group_split([0, 1], ["g", "g"])


def test_bad_fractions_and_folds_are_named():
    with pytest.raises(ValueError, match=r"3 non-negative numbers summing to 1 .*got \(0.5, 0.6, -0.1\)"):
        check_fractions((0.5, 0.6, -0.1))
    with pytest.raises(ValueError, match="positive"):
        deficit_split(["a", "b", "c"], (1.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="k >= 2"):
        smallest_fold_first([[0], [1]], 1)
    with pytest.raises(ValueError, match="2 groups cannot fill 3"):
        smallest_fold_first([[0], [1]], 3)
    with pytest.raises(ValueError, match="at least 3 distinct groups"):
        take_until_split(["a", "a", "b"])
