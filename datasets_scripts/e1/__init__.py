"""
E1 metal-binding data: embedded generator, real-format readers, family-disjoint splits and folds, collator.
`build_e1_dataset` (which needs `datasets`) lives in `datasets_scripts.e1.builder`; the rest imports light.
"""

from .collator import E1ContrastiveCollator, label_column
from .generator import IONS, SIZES, generate_proteins
from .motifs import motif_scores
from .readers import attach_a3m, read_biolip, read_label_fasta, read_label_fastas
from .splits import family_disjoint_split, family_folds, homology_groups

__all__ = [
    "IONS", "SIZES", "E1ContrastiveCollator", "attach_a3m", "family_disjoint_split", "family_folds",
    "generate_proteins", "homology_groups", "label_column", "motif_scores", "read_biolip", "read_label_fasta",
    "read_label_fastas",
]
