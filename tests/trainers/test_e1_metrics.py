"""E1 metrics: HRA against a hand-computed PR curve, thresholds, per-ion means; the motif-regex baseline."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from trainers.e1.baseline import baseline_scores
from trainers.e1.metrics import best_f1_threshold, binding_metrics, high_recall_area, ion_metrics


def test_hra_of_a_perfect_ranking_is_its_maximum():
    labels = np.array([0, 1, 0, 1, 1, 0])
    assert high_recall_area(labels, labels * 0.9 + 0.05) == pytest.approx(0.3)
    assert high_recall_area(labels, labels * 0.9 + 0.05, 0.8) == pytest.approx(0.2)


def test_hra_by_hand():
    # ranking pos, neg, pos, neg, pos -> best precision per recall: 1/3 -> 1, 2/3 -> 2/3, 1 -> 3/5
    labels = np.array([1, 0, 1, 0, 1])
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    at_07 = 2 / 3 + (0.7 - 2 / 3) / (1 / 3) * (3 / 5 - 2 / 3)  # linear between (2/3, 2/3) and (1, 3/5)
    assert high_recall_area(labels, scores) == pytest.approx(0.3 * (at_07 + 0.6) / 2)


def test_threshold_f1_mcc_and_unknown_labels():
    labels = np.array([1, 1, 0, 0, -100, 0])
    scores = np.array([0.9, 0.4, 0.3, 0.8, 0.99, 0.1])
    m = ion_metrics(labels, scores, threshold=0.5)
    assert m["n_residues"] == 5 and m["n_positive"] == 2
    assert m["precision"] == pytest.approx(0.5) and m["recall"] == pytest.approx(0.5) and m["f1"] == pytest.approx(0.5)
    assert m["auprc"] == pytest.approx(average_precision_score([1, 1, 0, 0, 0], [0.9, 0.4, 0.3, 0.8, 0.1]))
    assert best_f1_threshold(np.array([1, 1, 0, 0, 0]), np.array([0.9, 0.4, 0.3, 0.8, 0.1])) == pytest.approx(0.4)


def test_means_over_ions():
    labels = np.array([[1, 0], [0, 1], [0, 0], [1, -100]])
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.1, 0.3], [0.8, 0.9]])
    m = binding_metrics(labels, scores, ["ZN", "CA"], {"ZN": 0.5, "CA": 0.5})
    assert m["auprc"] == pytest.approx((m["auprc_zn"] + m["auprc_ca"]) / 2)
    assert m["per_ion"]["CA"]["n_residues"] == 3


def test_motif_regex_baseline_marks_coordinating_positions():
    sequence = "AAFACAACAAAFAAAAALAAHAAAHAA" + "DKDGDGTIDFEE"
    scores = baseline_scores([sequence], ["ZN", "CA", "MG"])[0]
    assert np.flatnonzero(scores[:, 0]).tolist() == [4, 7, 20, 24]
    assert np.flatnonzero(scores[:, 1]).tolist() == [27 + i for i in (0, 2, 4, 6, 8, 11)]
