"""
Mixture evaluation: the NNLS baseline (the meth_atlas method: non-negative least squares of a sample's beta values
on the reference atlas, `scipy.optimize.nnls`, proportions normalised to sum 1, missing CpGs left out), the metrics
(mean absolute error of the proportions, minor tissues found), and the mixture model's predictions.
"""

import numpy as np
from scipy.optimize import nnls

from trainers.tissuebert.evaluation import sample_outputs

DETECTION_THRESHOLD = 0.01  # a tissue counts as found when its predicted share is at least 1%


def nnls_proportions(reference: np.ndarray, means: np.ndarray) -> np.ndarray:
    """(samples, tissues) NNLS proportions of `means` (samples, regions; NaN = missing) on `reference` (regions, tissues)."""
    reference = np.asarray(reference, dtype=np.float64)
    out = np.zeros((means.shape[0], reference.shape[1]))
    for i, row in enumerate(np.asarray(means, dtype=np.float64)):
        present = ~np.isnan(row)
        if not present.any():
            raise ValueError(f"sample {i}: no region with a value to deconvolve")
        coefficients, _ = nnls(reference[present], row[present])
        out[i] = coefficients / coefficients.sum() if coefficients.sum() > 0 else np.full(reference.shape[1], 1 / reference.shape[1])
    return out


def model_proportions(model, means: np.ndarray, coverage: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """(samples, tissues) proportions of a mixture model for region means (NaN = missing) and coverage."""
    return np.concatenate([out.proportions.float().cpu().numpy() for out in sample_outputs(model, means, coverage, batch_size)])


def minor_tissues(composition: np.ndarray, background) -> np.ndarray:
    """Boolean (samples, tissues): the true minor tissues, i.e. present and neither the largest nor `background`."""
    minor = composition > 0
    minor[np.arange(len(composition)), composition.argmax(axis=1)] = False
    minor[:, list(background)] = False
    return minor


def mixture_metrics(truth: np.ndarray, predicted: np.ndarray, background=(), threshold: float = DETECTION_THRESHOLD) -> dict:
    """
    mae: mean |predicted - true| over samples and tissues; max_error: the largest; minor_recall: the fraction of
    true minor tissues (`minor_tissues`) predicted >= `threshold`; false_tissues: tissues absent from a sample but
    predicted >= `threshold`, per sample.
    """
    truth, predicted = np.asarray(truth, dtype=np.float64), np.asarray(predicted, dtype=np.float64)
    if truth.shape != predicted.shape:
        raise ValueError(f"proportions {predicted.shape} do not match the truth {truth.shape}")
    minor = minor_tissues(truth, background)
    found = predicted >= threshold
    return {
        "mae": float(np.abs(predicted - truth).mean()),
        "max_error": float(np.abs(predicted - truth).max()),
        "minor_recall": float((found & minor).sum() / minor.sum()) if minor.any() else None,
        "false_tissues": float((found & (truth == 0)).sum(axis=1).mean()),
        "n": int(truth.shape[0]),
    }


def describe(proportions: np.ndarray, tissues, top: int = 4, floor: float = 0.005) -> str:
    """'Monocytes_EPIC 0.900, Breast 0.100': the largest shares (>= `floor`) of one sample."""
    order = np.argsort(-proportions, kind="stable")[:top]
    return ", ".join(f"{tissues[i]} {proportions[i]:.3f}" for i in order if proportions[i] >= floor)


def real_mixture_report(names, truth: np.ndarray, model_pred: np.ndarray, nnls_pred: np.ndarray, tissues,
                        threshold: float = DETECTION_THRESHOLD) -> dict:
    """Per real mixture and overall: MAE of model and NNLS, which true tissues each finds, what else each calls."""
    rows = []
    for i, name in enumerate(names):
        row = {"sample": name, "truth": describe(truth[i], tissues, top=len(tissues))}
        for who, pred in (("model", model_pred), ("nnls", nnls_pred)):
            present = truth[i] > 0
            row[who] = {"proportions": describe(pred[i], tissues), "mae": float(np.abs(pred[i] - truth[i]).mean()),
                        "found": [tissues[t] for t in np.flatnonzero(present & (pred[i] >= threshold))],
                        "missed": [tissues[t] for t in np.flatnonzero(present & (pred[i] < threshold))],
                        "false": [tissues[t] for t in np.flatnonzero(~present & (pred[i] >= threshold))]}
        rows.append(row)
    return {"samples": rows, "model": mixture_metrics(truth, model_pred, threshold=threshold),
            "nnls": mixture_metrics(truth, nnls_pred, threshold=threshold), "detection_threshold": threshold}
