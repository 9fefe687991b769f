"""TissueBERT data: embedded atlas generator, real-format readers and writers, group-aware splits, collator, builders."""

from .builder import atlas_table, build_region_dataset, build_sample_dataset, load_samples, region_examples, split_table
from .collator import TissueBERTDataCollator
from .generator import SIZES, SUBTYPES, MethylationAtlas, generate_atlas
from .readers import SampleTable, detect_format, read_beta_folder, read_beta_table, read_hdf5, read_metadata, read_npz_folder, read_samples
from .splits import SPLIT_NAMES, group_split, leaked_groups, random_split
from .writers import write_beta_folder, write_beta_table, write_hdf5, write_metadata, write_npz_folder, write_region_bed

__all__ = [
    "SIZES", "SPLIT_NAMES", "SUBTYPES", "MethylationAtlas", "SampleTable", "TissueBERTDataCollator", "atlas_table",
    "build_region_dataset", "build_sample_dataset", "detect_format", "generate_atlas", "group_split", "leaked_groups",
    "load_samples", "random_split", "read_beta_folder", "read_beta_table", "read_hdf5", "read_metadata",
    "read_npz_folder", "read_samples", "region_examples", "split_table", "write_beta_folder", "write_beta_table",
    "write_hdf5", "write_metadata", "write_npz_folder", "write_region_bed",
]
