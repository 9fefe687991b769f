"""
`mirlm_metrics`: binding classification + seed-site localisation metrics, overall and per site type.

Coordinates are nucleotide indices on the mRNA (0-based, inclusive ends); -1 means "no site" / "no
prediction". Token positions from the model are nucleotide index + 1 (`[MRNA_CLS]` at 0): convert first.

Keys: auroc, average_precision (sklearn), accuracy (at `threshold`), and over positives with a known site:
span_exact_match, span_overlap (Jaccard of the true and predicted intervals, 0 when nothing is predicted),
pointing_accuracy (the pointer, e.g. argmax of pos_weights, falls inside the true site); plus n.

`per_site_type[t]`: accuracy and span metrics on the rows of type t. AUROC/AP need both classes: when t
holds only one class (every generated type does), it is contrasted with all rows of the other class —
a positive type against all negatives ("how well are 6mer sites separated from non-targets"), a negative
type against all positives ("how well are near-mismatch decoys rejected"). Metrics that are undefined
for a subset (AUROC with one class in total, span metrics without positive sites) are omitted, not NaN,
so the dict stays JSON-serialisable.
"""

from typing import Optional, Sequence

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


def _ranking(labels: np.ndarray, probs: np.ndarray) -> dict:
    if labels.size == 0 or labels.min() == labels.max():
        return {}
    return {"auroc": float(roc_auc_score(labels, probs)), "average_precision": float(average_precision_score(labels, probs))}


def _spans(mask, true_start, true_end, pred_start, pred_end, pointer) -> dict:
    """Span metrics over rows in `mask` (positives with a known site)."""
    if not mask.any():
        return {}
    ts, te = true_start[mask], true_end[mask]
    out = {}
    if pred_start is not None:
        ps, pe = pred_start[mask], pred_end[mask]
        predicted = (ps >= 0) & (pe >= ps)
        inter = np.clip(np.minimum(te, pe) - np.maximum(ts, ps) + 1, 0, None)
        union = (te - ts + 1) + (pe - ps + 1) - inter
        jaccard = np.where(predicted, inter / np.maximum(union, 1), 0.0)
        out["span_exact_match"] = float(np.mean(predicted & (ps == ts) & (pe == te)))
        out["span_overlap"] = float(np.mean(jaccard))
    if pointer is not None:
        p = pointer[mask]
        out["pointing_accuracy"] = float(np.mean((p >= ts) & (p <= te)))
    return out


def mirlm_metrics(
    labels: Sequence[int],
    probs: Sequence[float],
    threshold: float = 0.5,
    site_types: Optional[Sequence[str]] = None,
    true_start: Optional[Sequence[int]] = None,
    true_end: Optional[Sequence[int]] = None,
    pred_start: Optional[Sequence[int]] = None,
    pred_end: Optional[Sequence[int]] = None,
    pointer: Optional[Sequence[int]] = None,
) -> dict:
    """Metrics dict (see module docstring). Span inputs are optional; without them span keys are absent."""
    labels = np.asarray(labels, dtype=np.int64)
    probs = np.asarray(probs, dtype=np.float64)
    if labels.shape != probs.shape or labels.ndim != 1:
        raise ValueError(f"labels and probs must be 1-D of equal length, got {labels.shape} and {probs.shape}")
    if labels.size and not np.isin(labels, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
    n = labels.size

    def as_array(values, what):
        if values is None:
            return None
        array = np.asarray(values, dtype=np.int64)
        if array.shape != (n,):
            raise ValueError(f"{what} must have one entry per row ({n}), got shape {array.shape}")
        return array

    true_start, true_end = as_array(true_start, "true_start"), as_array(true_end, "true_end")
    pred_start, pred_end = as_array(pred_start, "pred_start"), as_array(pred_end, "pred_end")
    pointer = as_array(pointer, "pointer")
    if (pred_start is None) != (pred_end is None):
        raise ValueError("give both pred_start and pred_end, or neither")
    has_site = (labels == 1) & (true_start >= 0) if true_start is not None else np.zeros(n, dtype=bool)
    correct = (probs >= threshold).astype(np.int64) == labels

    def block(rows: np.ndarray, ranking_rows: np.ndarray) -> dict:
        out = {"n": int(rows.sum())}
        if rows.any():
            out["accuracy"] = float(correct[rows].mean())
        out.update(_ranking(labels[ranking_rows], probs[ranking_rows]))
        if true_start is not None:
            out.update(_spans(rows & has_site, true_start, true_end, pred_start, pred_end, pointer))
        return out

    everything = np.ones(n, dtype=bool)
    metrics = block(everything, everything)
    if site_types is not None:
        types = np.asarray(site_types, dtype=object)
        if types.shape != (n,):
            raise ValueError(f"site_types must have one entry per row ({n}), got shape {types.shape}")
        metrics["per_site_type"] = {}
        for site_type in sorted(set(types.tolist())):
            rows = types == site_type
            classes = set(labels[rows].tolist())
            ranking_rows = rows if len(classes) == 2 else rows | (labels != next(iter(classes)))
            metrics["per_site_type"][site_type] = block(rows, ranking_rows)
    return metrics


def flatten_metrics(metrics: dict, prefix: str = "") -> dict:
    """{"per_site_type": {"8mer": {"auroc": x}}} -> {"per_site_type/8mer/auroc": x} for Trainer logging."""
    flat = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_metrics(value, name + "/"))
        else:
            flat[name] = value
    return flat
