"""milmol data: embedded real molecules with a simulated conformer-level labelling rule, EUOS25 / SMILES readers,
cached RDKit featurisation, scaffold splits, the rare-positive sampled mode and the collator."""

from .builder import (build_milmol_dataset, build_summary, data_source, embedded_molecules, featurisation_report,
                      make_featurizer, prevalence)
from .collator import MILMolDataCollator, aux_statistics
from .featurize import featurize_cached
from .labels import simulate_labels
from .readers import read_euos25_task_files, read_molecules, read_smiles_table, task_of_file
from .splits import (balanced_scaffold_split, murcko_scaffold, random_split, rare_positive_sample, scaffold_folds,
                     scaffold_split)

__all__ = [
    "MILMolDataCollator", "aux_statistics", "balanced_scaffold_split", "build_milmol_dataset", "build_summary", "data_source",
    "embedded_molecules", "featurisation_report", "featurize_cached", "make_featurizer", "murcko_scaffold", "prevalence",
    "random_split", "rare_positive_sample", "read_euos25_task_files", "read_molecules", "read_smiles_table", "scaffold_folds",
    "scaffold_split", "simulate_labels", "task_of_file",
]
