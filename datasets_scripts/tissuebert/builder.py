"""
`load_samples` (embedded generator or a file) -> `SampleTable`; `build_sample_dataset` / `build_region_dataset`
-> `datasets.DatasetDict` (train / validation / test, group-aware).
"""

from typing import Optional

import numpy as np
from datasets import Dataset, DatasetDict, Features, Sequence, Value

from .generator import generate_atlas
from .readers import SampleTable, read_samples
from .splits import SPLIT_NAMES, group_split


def atlas_table(atlas, progress: bool = True) -> SampleTable:
    """The embedded atlas as a `SampleTable` (region means computed from its generated calls)."""
    means, coverage = atlas.region_features(progress=progress)
    return SampleTable(
        filenames=list(atlas.filenames), tissues=atlas.tissues, tissue_index=atlas.tissue_index.copy(),
        groups=list(atlas.group), subtypes=list(atlas.subtype), means=means, coverage=coverage,
        region_names=list(atlas.region_names), source=f"embedded atlas (seed {atlas.seed})",
        region_cpg_ranges=atlas.region_cpg_ranges, metadata_index=atlas.tissue_index.copy(),
        file_labels=atlas.tissue_index.copy(), dna_tokens=atlas.dna_tokens, methylation=atlas.methylation)


def load_samples(data: Optional[str] = None, *, size: str = "demo", seed: int = 0, metadata: Optional[str] = None,
                 regions_bed: Optional[str] = None, num_regions: Optional[int] = None, progress: bool = True) -> SampleTable:
    """
    `data=None`: the embedded atlas at `size` (with `num_regions` regions instead of the size's, if given);
    otherwise any format `readers.read_samples` reads.
    """
    if data is None:
        return atlas_table(generate_atlas(size, seed, num_regions), progress)
    return read_samples(data, metadata=metadata, regions_bed=regions_bed, progress=progress)


def split_table(table: SampleTable, seed: int = 0) -> dict:
    """The group-aware split of `table` (`splits.group_split`)."""
    return group_split(table.tissue_index, table.groups, seed=seed)


SAMPLE_FEATURES = Features({
    "filename": Value("string"), "tissue": Value("string"), "label": Value("int64"), "group": Value("string"),
    "region_means": Sequence(Value("float32")), "region_coverage": Sequence(Value("float32")),
})


def build_sample_dataset(table: SampleTable, splits: dict) -> DatasetDict:
    """One row per sample: its region means (NaN = missing) and coverage, for the sample-level models."""
    def rows(index):
        return {"filename": [table.filenames[i] for i in index], "tissue": [table.tissues[table.tissue_index[i]] for i in index],
                "label": table.tissue_index[index].tolist(), "group": [table.groups[i] for i in index],
                "region_means": table.means[index], "region_coverage": table.coverage[index]}

    return DatasetDict({name: Dataset.from_dict(rows(splits[name]), features=SAMPLE_FEATURES) for name in SPLIT_NAMES})


def region_examples(table: SampleTable, index, regions_per_sample: int, seed: int = 0) -> dict:
    """`regions_per_sample` random regions of every sample in `index`, each labelled with its sample's tissue."""
    if table.methylation is None or table.dna_tokens is None:
        raise ValueError(f"{table.source}: the region-level model needs per-position DNA tokens and methylation states "
                         "(npz folder, HDF5 or the embedded atlas), not region means only")
    rng = np.random.default_rng(seed)
    ids, states, labels = [], [], []
    for i in index:
        chosen = rng.choice(table.num_regions, size=min(regions_per_sample, table.num_regions), replace=False)
        ids.append(table.dna_tokens[chosen])
        states.append(table.methylation(int(i))[chosen])
        labels.append(np.full(len(chosen), table.tissue_index[i]))
    return {"input_ids": np.concatenate(ids).astype(np.int64), "methylation": np.concatenate(states).astype(np.int64),
            "label": np.concatenate(labels)}


def build_region_dataset(table: SampleTable, splits: dict, regions_per_sample: int = 64, seed: int = 0) -> DatasetDict:
    """One row per (sample, region): the original design's training examples, with the sample's label."""
    return DatasetDict({
        name: Dataset.from_dict(region_examples(table, splits[name], regions_per_sample, seed + k))
        for k, name in enumerate(SPLIT_NAMES)
    })
