"""The motif-regex baseline: a residue scores 1 for an ion when it is a coordinating position of one of its motifs."""

import numpy as np

from datasets_scripts.e1.motifs import motif_scores


def baseline_scores(sequences: list, ions: list) -> list:
    """Per protein, (length, ions) 0/1 scores of `motifs.PATTERNS`."""
    return [motif_scores(sequence.upper(), list(ions)) for sequence in sequences]


def concatenate(per_protein: list) -> np.ndarray:
    return np.concatenate(per_protein, axis=0) if per_protein else np.zeros((0, 0))
