"""milmol data: embedded real molecules with a simulated conformer-level labelling rule, EUOS25 / SMILES readers,
cached RDKit featurisation, scaffold splits and the collator."""

from .builder import build_milmol_dataset, data_source, embedded_molecules, make_featurizer, prevalence
from .collator import MILMolDataCollator, aux_statistics
from .featurize import featurize_cached
from .labels import simulate_labels
from .splits import balanced_scaffold_split, murcko_scaffold, random_split, scaffold_folds, scaffold_split

__all__ = [
    "MILMolDataCollator", "aux_statistics", "balanced_scaffold_split", "build_milmol_dataset", "data_source", "embedded_molecules",
    "featurize_cached", "make_featurizer", "murcko_scaffold", "prevalence", "random_split", "scaffold_folds",
    "scaffold_split", "simulate_labels",
]
