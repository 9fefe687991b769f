"""Group-aware splits keep every augmented copy with its source; the random split (the notes' bug) leaks."""
import numpy as np
import pytest

from datasets_scripts.tissuebert import (atlas_table, build_region_dataset, build_sample_dataset, generate_atlas,
                                         group_split, leaked_groups, random_split, split_table)


@pytest.fixture(scope="module")
def table():
    return atlas_table(generate_atlas("demo", seed=0), progress=False)


def test_group_split_never_leaks_and_covers_every_tissue(table):
    splits = split_table(table, seed=0)
    assert sorted(np.concatenate(list(splits.values())).tolist()) == list(range(table.num_samples))
    assert leaked_groups(table.groups, splits) == {}
    for name in splits:
        assert set(table.tissue_index[splits[name]]) == set(table.tissue_index)  # every tissue in every split
    sizes = {name: len(rows) / table.num_samples for name, rows in splits.items()}
    assert 0.6 < sizes["train"] < 0.8 and 0.1 < sizes["test"] < 0.25


def test_random_split_leaks(table):
    assert leaked_groups(table.groups, random_split(table.num_samples, seed=0))


def test_mixed_group_is_an_error():
    with pytest.raises(ValueError, match="holds rows of two labels"):
        group_split([0, 1], ["g", "g"])


def test_datasets(table):
    splits = split_table(table)
    samples = build_sample_dataset(table, splits)
    assert len(samples["train"][0]["region_means"]) == table.num_regions
    regions = build_region_dataset(table, {k: v[:3] for k, v in splits.items()}, regions_per_sample=5)
    row = regions["train"][0]
    assert len(row["input_ids"]) == 150 and set(row["methylation"]) <= {0, 1, 2}
    assert len(regions["test"]) == 15
