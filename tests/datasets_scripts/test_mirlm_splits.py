import numpy as np
import pytest

from datasets_scripts.mirlm.splits import family_disjoint_split, family_groups


def test_family_groups_join_seeds_through_annotated_families():
    seeds = ["AAAAAAA", "CCCCCCC", "GGGGGGG", "AAAAAAA", "TTTTTTT"]
    families = ["fam1", "fam1", "unknown", "", None]
    groups = family_groups(seeds, families)
    assert groups[0] == groups[1] == groups[3] == "AAAAAAA"  # CCCCCCC joined through fam1
    assert groups[2] == "GGGGGGG" and groups[4] == "TTTTTTT"  # unknown families join nothing
    assert family_groups(seeds) == seeds
    with pytest.raises(ValueError, match="5 seeds but 2"):
        family_groups(seeds, ["a", "b"])


def test_split_is_disjoint_complete_deterministic_and_close_to_fractions():
    rng = np.random.default_rng(0)
    groups = [f"fam{int(i)}" for i in rng.integers(0, 300, size=3000)]
    split = family_disjoint_split(groups, (0.8, 0.1, 0.1), seed=3)
    assert sorted(np.concatenate(list(split.values())).tolist()) == list(range(3000))
    members = {name: {groups[i] for i in idx} for name, idx in split.items()}
    assert not members["train"] & members["test"] and not members["train"] & members["validation"]
    assert not members["validation"] & members["test"]
    sizes = {name: len(idx) / 3000 for name, idx in split.items()}
    assert abs(sizes["train"] - 0.8) < 0.02 and abs(sizes["test"] - 0.1) < 0.02
    again = family_disjoint_split(groups, (0.8, 0.1, 0.1), seed=3)
    assert all(np.array_equal(split[k], again[k]) for k in split)
    other = family_disjoint_split(groups, (0.8, 0.1, 0.1), seed=4)
    assert not np.array_equal(split["test"], other["test"])


def test_forced_groups_and_small_inputs():
    groups = ["a", "a", "b", "c", "d"]
    split = family_disjoint_split(groups, forced={"test": ["a"]})
    assert split["test"].tolist()[:2] == [0, 1]
    three = family_disjoint_split(["x", "y", "z"])
    assert all(len(idx) == 1 for idx in three.values())  # every split gets a group
    with pytest.raises(ValueError, match="summing to 1"):
        family_disjoint_split(groups, (0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="unknown split"):
        family_disjoint_split(groups, forced={"dev": ["a"]})
