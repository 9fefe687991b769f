"""mirLM data: embedded generator, real-format readers, family-disjoint splits, collator, builder."""

from .builder import FEATURES, build_mirlm_dataset
from .collator import MirLMDataCollator
from .generator import SIZES, generate_splits, load_human_mirnas
from .readers import detect_format, read_fasta, read_mirbench_tsv, read_mirformer_csv, read_table, read_targetnet_tsv
from .splits import family_disjoint_split, family_groups

__all__ = [
    "FEATURES",
    "SIZES",
    "MirLMDataCollator",
    "build_mirlm_dataset",
    "detect_format",
    "family_disjoint_split",
    "family_groups",
    "generate_splits",
    "load_human_mirnas",
    "read_fasta",
    "read_mirbench_tsv",
    "read_mirformer_csv",
    "read_table",
    "read_targetnet_tsv",
]
