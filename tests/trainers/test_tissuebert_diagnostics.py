"""The diagnostics find what they are for: label mismatches, leakage, separability."""
import numpy as np

from datasets_scripts.tissuebert import atlas_table, generate_atlas
from trainers.tissuebert.diagnostics import label_consistency, variance_ratio


def test_label_mismatches_are_found():
    table = atlas_table(generate_atlas("tiny", seed=0), progress=False)
    assert label_consistency(table)["consistent"]
    table.file_labels = table.file_labels.copy()
    table.file_labels[[2, 5]] = (table.file_labels[[2, 5]] + 1) % 22
    table.filenames = list(table.filenames)
    table.filenames[7] = "file_007_NotATissue.npz"
    found = label_consistency(table)
    assert not found["consistent"]
    assert found["checks"]["samples whose file label differs from the metadata tissue_index"] == 2
    assert found["checks"]["samples whose file name names another tissue"] == 1


def test_variance_ratio_separates_signal_from_noise():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 25)
    signal = labels[:, None] * 0.2 + rng.normal(0, 0.05, (100, 3))
    noise = rng.normal(0.5, 0.05, (100, 3))
    overall, per_region = variance_ratio(np.concatenate([signal, noise], axis=1).astype(np.float32), labels)
    assert (per_region[:3] > 10).all() and (per_region[3:] < 0.2).all()
    assert 1 < overall < per_region[:3].min()
