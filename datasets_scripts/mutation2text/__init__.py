"""mutation2text data: embedded generator (motifs + amino-acid properties), real-format readers, protein-disjoint
splits, collator, builder (+ the preprocess / split commands)."""

from .builder import FEATURES, build_mutation2text_dataset, build_split_files, preprocess, read_any, split
from .collator import Mutation2TextDataCollator
from .generator import SIZES, describe, generate_splits
from .motifs import Motif, find_motifs, motif_hit
from .properties import EFFECTS, describe_residue, is_destabilizing, property_changes
from .readers import COLUMNS, TEXT_COLUMNS, iter_mutadescribe_csv, read_jsonl, read_mutadescribe_csv, read_table
from .splits import SPLIT_NAMES, protein_disjoint_split, protein_groups

__all__ = [
    "COLUMNS", "EFFECTS", "FEATURES", "SIZES", "SPLIT_NAMES", "TEXT_COLUMNS", "Motif", "Mutation2TextDataCollator",
    "build_mutation2text_dataset", "build_split_files", "describe", "describe_residue", "find_motifs", "generate_splits",
    "is_destabilizing", "iter_mutadescribe_csv", "motif_hit", "preprocess", "property_changes", "protein_disjoint_split", "protein_groups",
    "read_any", "read_jsonl", "read_mutadescribe_csv", "read_table", "split",
]
