"""
Per-residue binding metrics per ion: AUPRC, AUROC, HRA (high-recall PR area), F1 and MCC at a threshold, best-F1 thresholds.

HRA: the trapezoid area under the precision-recall curve (best precision per recall) over recall >= 0.7 (linear at
0.7), so its
maximum is 0.3; `hra_normalized` divides by 0.3. `hra80` is the same over recall >= 0.8 (maximum 0.2).
Labels are 0/1 with -100 for residues not annotated for an ion (ignored).
"""

import numpy as np
from sklearn.metrics import average_precision_score, matthews_corrcoef, precision_recall_curve, roc_auc_score


def high_recall_area(labels: np.ndarray, scores: np.ndarray, min_recall: float = 0.7) -> float:
    """Trapezoid area under the PR curve (best precision at each recall) over recall >= min_recall, linear at min_recall."""
    precision, recall, _ = precision_recall_curve(labels, scores)
    recalls = np.unique(recall)
    best = np.array([precision[recall == r].max() for r in recalls])
    at_min = float(np.interp(min_recall, recalls, best))
    keep = recalls > min_recall
    r = np.concatenate([[min_recall], recalls[keep]])
    p = np.concatenate([[at_min], best[keep]])
    return float(np.sum((r[1:] - r[:-1]) * (p[1:] + p[:-1]) / 2))


def best_f1_threshold(labels: np.ndarray, scores: np.ndarray) -> float:
    """The probability threshold with the highest F1 (0.5 when there are no positives)."""
    if labels.sum() == 0:
        return 0.5
    precision, recall, thresholds = precision_recall_curve(labels, scores)
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
    return float(thresholds[int(np.argmax(f1))])


def ion_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict:
    """Metrics of one ion on residues with a 0/1 label."""
    known = labels != -100
    y, s = labels[known].astype(int), scores[known].astype(np.float64)
    out = {"n_residues": int(y.size), "n_positive": int(y.sum()), "threshold": float(threshold)}
    if y.size == 0 or y.min() == y.max():
        return out
    predicted = s >= threshold
    tp = int((predicted & (y == 1)).sum())
    precision = tp / max(int(predicted.sum()), 1)
    recall = tp / int(y.sum())
    out.update({
        "auprc": float(average_precision_score(y, s)),
        "auroc": float(roc_auc_score(y, s)),
        "hra": high_recall_area(y, s, 0.7),
        "hra80": high_recall_area(y, s, 0.8),
        "f1": 2 * precision * recall / max(precision + recall, 1e-12),
        "mcc": float(matthews_corrcoef(y, predicted)),
        "precision": precision,
        "recall": recall,
    })
    out["hra_normalized"] = out["hra"] / 0.3
    return out


def binding_metrics(labels: np.ndarray, scores: np.ndarray, ions: list, thresholds: dict) -> dict:
    """
    labels, scores: (residues, ions). Per ion under `per_ion`, and at the top level the mean over ions of auprc,
    auroc, hra, hra_normalized, hra80, f1, mcc plus `auprc_<ion>` / `hra_<ion>` for the card.
    """
    per_ion = {ion: ion_metrics(labels[:, j], scores[:, j], thresholds.get(ion, 0.5)) for j, ion in enumerate(ions)}
    out = {"per_ion": per_ion}
    for key in ("auprc", "auroc", "hra", "hra_normalized", "hra80", "f1", "mcc"):
        values = [m[key] for m in per_ion.values() if key in m]
        if values:
            out[key] = float(np.mean(values))
    for ion, m in per_ion.items():
        for key in ("auprc", "auroc", "hra", "f1", "mcc"):
            if key in m:
                out[f"{key}_{ion.lower()}"] = m[key]
    return out
