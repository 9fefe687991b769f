"""TissueBERT data: embedded atlas generator, real-format readers and writers, group-aware splits, collator, builders."""

from .arrays import BetaMatrix, composition_from_name, read_array_matrix, read_beta_matrix, read_series_matrix
from .builder import (atlas_table, build_region_dataset, build_sample_dataset, load_samples, load_train_file, reference_atlas,
                      region_examples, split_table)
from .collator import TissueBERTDataCollator
from .generator import SIZES, SUBTYPES, MethylationAtlas, generate_atlas
from .simulate import MOSS_BLOOD, SimulationConfig, at_depth, simulate_samples
from .readers import SampleTable, detect_format, read_beta_folder, read_beta_table, read_hdf5, read_metadata, read_npz_folder, read_samples
from .splits import SPLIT_NAMES, group_split, leaked_groups, random_split
from .writers import write_beta_folder, write_beta_table, write_hdf5, write_metadata, write_npz_folder, write_region_bed

__all__ = [
    "BetaMatrix", "MOSS_BLOOD", "SimulationConfig", "at_depth", "composition_from_name", "load_train_file",
    "read_array_matrix", "read_beta_matrix", "read_series_matrix", "reference_atlas", "simulate_samples",
    "SIZES", "SPLIT_NAMES", "SUBTYPES", "MethylationAtlas", "SampleTable", "TissueBERTDataCollator", "atlas_table",
    "build_region_dataset", "build_sample_dataset", "detect_format", "generate_atlas", "group_split", "leaked_groups",
    "load_samples", "random_split", "read_beta_folder", "read_beta_table", "read_hdf5", "read_metadata",
    "read_npz_folder", "read_samples", "region_examples", "split_table", "write_beta_folder", "write_beta_table",
    "write_hdf5", "write_metadata", "write_npz_folder", "write_region_bed",
]
