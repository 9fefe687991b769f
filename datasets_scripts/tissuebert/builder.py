"""
`load_samples` (embedded generator or a file) -> `SampleTable`; `load_train_file` (an Illumina beta matrix or GEO
series matrix: labelled samples, or a reference atlas to simulate from) -> `SampleTable`; `build_sample_dataset` /
`build_region_dataset` -> `datasets.DatasetDict` (train / validation / test, group-aware).
"""

from typing import Optional

import numpy as np
from datasets import Dataset, DatasetDict, Features, Sequence, Value

from .arrays import BetaMatrix, read_array_matrix
from .generator import generate_atlas
from .readers import SampleTable, _table, read_metadata, read_samples
from .simulate import SimulationConfig, simulate_samples
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


def reference_atlas(path, tissue_columns=None) -> BetaMatrix:
    """A reference atlas file (probe x cell type beta values), restricted to `tissue_columns` if given."""
    atlas = read_array_matrix(path)
    if tissue_columns:
        atlas = atlas.select(list(tissue_columns))
    if len(atlas.samples) < 2:
        raise ValueError(f"{atlas.source}: a reference atlas needs at least two cell-type columns; it has {atlas.samples}")
    incomplete = int(np.isnan(atlas.values).any(axis=1).sum())
    if incomplete:
        raise ValueError(f"{atlas.source}: {incomplete:,} probe(s) lack a value for some cell type; a reference atlas to "
                         "simulate from must be complete")
    return atlas


def load_train_file(path, *, simulate: Optional[int] = None, simulation: Optional[SimulationConfig] = None,
                    tissue_columns=None, metadata=None, seed: int = 0) -> tuple:
    """
    `(table, atlas)` from an Illumina beta matrix or GEO series matrix. With `simulate=N` the file is a reference
    atlas (one column per cell type: the labels are the column names) and the table is N samples simulated from
    it (`simulate.simulate_samples`); `atlas` is the `BetaMatrix` (the mixture model's reference). Without it the
    columns are samples, labelled by `metadata` (filename = column name, tissue), and `atlas` is None.
    """
    if simulate is not None:
        atlas = reference_atlas(path, tissue_columns)
        table = simulate_samples(atlas.values, atlas.samples, simulate, simulation or SimulationConfig(), seed=seed,
                                 region_names=atlas.probes, source=atlas.source)
        return table, atlas
    matrix = read_array_matrix(path)
    if metadata is None:
        raise ValueError(f"{matrix.source}: its columns {matrix.samples[:10]}{' ...' if len(matrix.samples) > 10 else ''} "
                         "are not labelled: give --metadata (filename = column name, tissue), or --simulate N to read "
                         "them as a reference atlas of cell types")
    meta = read_metadata(metadata)
    missing = [f for f in meta["filename"] if f not in matrix.samples]
    if missing:
        raise ValueError(f"{matrix.source}: column(s) {missing[:5]} named in {metadata} are not in the file; its columns "
                         f"are {matrix.samples[:20]}")
    unlabelled = [c for c in matrix.samples if c not in meta["filename"]]
    if unlabelled:
        raise ValueError(f"{matrix.source}: column(s) {unlabelled[:5]} have no row in {metadata}; label or remove them")
    means = matrix.select(meta["filename"]).values.T
    return _table(meta, means, (~np.isnan(means)).astype(np.float32), matrix.probes, matrix.source), None


def split_table(table: SampleTable, seed: int = 0) -> dict:
    """The group-aware split of `table` (`splits.group_split`)."""
    return group_split(table.tissue_index, table.groups, seed=seed)


SAMPLE_FEATURES = Features({
    "filename": Value("string"), "tissue": Value("string"), "label": Value("int64"), "group": Value("string"),
    "region_means": Sequence(Value("float32")), "region_coverage": Sequence(Value("float32")),
})


def build_sample_dataset(table: SampleTable, splits: dict, proportions: bool = False) -> DatasetDict:
    """
    One row per sample: its region means (NaN = missing) and coverage, for the sample-level models; with
    `proportions`, also its composition (the mixture model's labels; simulated tables only).
    """
    if proportions and table.proportions is None:
        raise ValueError(f"{table.source}: the mixture model trains on samples of known composition; simulate them from a "
                         "reference atlas (--train_file ATLAS --simulate N)")
    features = Features({**SAMPLE_FEATURES, "proportions": Sequence(Value("float32"))}) if proportions else SAMPLE_FEATURES

    def rows(index):
        row = {"filename": [table.filenames[i] for i in index], "tissue": [table.tissues[table.tissue_index[i]] for i in index],
               "label": table.tissue_index[index].tolist(), "group": [table.groups[i] for i in index],
               "region_means": table.means[index], "region_coverage": table.coverage[index]}
        if proportions:
            row["proportions"] = table.proportions[index]
        return row

    return DatasetDict({name: Dataset.from_dict(rows(splits[name]), features=features) for name in SPLIT_NAMES})


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
