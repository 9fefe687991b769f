"""
Class imbalance at the rates of real data (EUOS25: 164 positives in 68,972 molecules for one task): what the
sampler and the positive weight do together, and decision thresholds chosen on validation.

- `imbalance_check`: per task, the training prevalence, whether the sampler counts it rare, the share of positives
  the `WeightedRandomSampler` draws, the clipped `pos_weight` and, from both, the share of the classification
  loss weight that positives get (0.5 = balanced; near 1 the negatives are all but ignored).
- `choose_thresholds`: per task the probability threshold with the best F1 on the validation split.
- `threshold_report`: precision, recall and predicted-positive rate on a split at given thresholds (and at 0.5).
"""

import numpy as np
from sklearn.metrics import precision_recall_curve

from trainers.milmol.trainer import sample_weights


def imbalance_check(labels, config, rare_oversample_mult: float, rare_prev_thr: float, sample_weight_cap: float) -> dict:
    labels = np.asarray(labels, dtype=np.float64)
    weights = sample_weights(labels, rare_oversample_mult, rare_prev_thr, sample_weight_cap)
    report = {}
    for t, task in enumerate(config.task_names):
        present = ~np.isnan(labels[:, t])
        positive = present & (labels[:, t] == 1)
        drawn = float(weights[positive].sum() / weights[present].sum()) if present.any() else None
        pos_weight = min(config.pos_weight[t], config.posw_clip[t])
        report[task] = {
            "train_prevalence": float(positive.sum() / max(present.sum(), 1)), "rare": bool(positive.sum() / max(present.sum(), 1) < rare_prev_thr),
            "positive_share_drawn": drawn, "pos_weight_clipped": pos_weight, "gamma": config.gamma[t],
            "positive_share_of_loss_weight": None if drawn is None else drawn * pos_weight / (drawn * pos_weight + 1.0 - drawn),
        }
    return report


def choose_thresholds(labels, probs, task_names) -> list:
    """Per task, the threshold with the best F1 on these (validation) rows; 0.5 for a task without positives."""
    labels, probs = np.asarray(labels, dtype=np.float64), np.asarray(probs, dtype=np.float64)
    thresholds = []
    for t in range(len(task_names)):
        present = ~np.isnan(labels[:, t])
        y, p = labels[present, t], probs[present, t]
        if not 0 < y.sum() < len(y):
            thresholds.append(0.5)
            continue
        precision, recall, cut = precision_recall_curve(y, p)
        f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
        thresholds.append(float(cut[int(np.argmax(f1))]))
    return thresholds


def threshold_report(labels, probs, thresholds, task_names) -> dict:
    labels, probs = np.asarray(labels, dtype=np.float64), np.asarray(probs, dtype=np.float64)
    report = {}
    for t, task in enumerate(task_names):
        present = ~np.isnan(labels[:, t])
        y, p = labels[present, t] == 1, probs[present, t]
        entry = {"positives": int(y.sum()), "n": int(present.sum())}
        for name, cut in (("chosen", thresholds[t]), ("0.5", 0.5)):
            predicted = p >= cut
            hits = int((predicted & y).sum())
            entry[name] = {"threshold": float(cut), "predicted_positive_rate": float(predicted.mean()) if len(p) else None,
                           "precision": hits / int(predicted.sum()) if predicted.any() else None,
                           "recall": hits / int(y.sum()) if y.any() else None}
        report[task] = entry
    return report
