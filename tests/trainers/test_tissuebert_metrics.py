"""Tissue metrics and the logistic-regression baseline."""
import numpy as np
import pytest

from datasets_scripts.tissuebert import atlas_table, generate_atlas, split_table
from trainers.tissuebert.baseline import LogisticRegressionBaseline
from trainers.tissuebert.evaluation import hide_regions
from trainers.tissuebert.metrics import confusion, tissue_metrics


def test_metrics_by_hand():
    labels = np.array([0, 1, 2, 2])
    probs = np.array([[0.9, 0.1, 0, 0], [0.6, 0.3, 0.1, 0], [0, 0, 1, 0], [0.5, 0.2, 0.3, 0]])
    m = tissue_metrics(labels, probs, 4)
    assert m["accuracy"] == 0.5 and m["top3_accuracy"] == 1.0 and m["n"] == 4
    # F1: class 0 (p=1/3... tp 1, fp 2 -> 0.5), class 1 (0), class 2 (tp 1, fn 1 -> 2/3); mean over present classes
    assert m["macro_f1"] == pytest.approx((0.5 + 0 + 2 / 3) / 3)
    assert confusion(labels, probs.argmax(1), 4)[2].tolist() == [1, 0, 1, 0]
    with pytest.raises(ValueError, match="do not match"):
        tissue_metrics(labels, probs[:, :3], 4)


def test_hide_regions_is_seeded_and_exact():
    means = np.random.default_rng(0).random((5, 100)).astype(np.float32)
    hidden = hide_regions(means, 0.3, seed=1)
    assert (np.isnan(hidden).sum(axis=1) == 30).all() and np.array_equal(hidden, hide_regions(means, 0.3, seed=1), equal_nan=True)
    assert not np.isnan(means).any()


def test_baseline_learns_the_atlas_and_handles_missing_regions():
    table = atlas_table(generate_atlas("demo", seed=0), progress=False)
    splits = split_table(table)
    baseline = LogisticRegressionBaseline(len(table.tissues)).fit(table.means[splits["train"]], table.tissue_index[splits["train"]])
    test = splits["test"]
    probs = baseline.predict_proba(table.means[test])
    assert probs.shape == (len(test), 22) and np.allclose(probs.sum(1), 1)
    accuracy = (probs.argmax(1) == table.tissue_index[test]).mean()
    assert accuracy > 0.7  # learnable from sample-level region means (chance: 0.045)
    assert (baseline.predict_proba(hide_regions(table.means[test], 0.3)).argmax(1) == table.tissue_index[test]).mean() > 0.5
