"""Tissue classification metrics: accuracy, macro-F1, top-3 accuracy, confusion matrix."""

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score


def tissue_metrics(labels, probabilities, num_labels: int) -> dict:
    """Metrics of `probabilities` (n, num_labels) against integer `labels` (n,)."""
    labels = np.asarray(labels, dtype=np.int64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.shape != (labels.shape[0], num_labels):
        raise ValueError(f"probabilities {probabilities.shape} do not match {labels.shape[0]} labels x {num_labels} classes")
    predicted = probabilities.argmax(axis=1)
    top3 = np.argsort(-probabilities, axis=1)[:, :3]
    present = np.unique(labels)  # macro-F1 over the tissues the split contains
    return {
        "accuracy": float((predicted == labels).mean()),
        "macro_f1": float(f1_score(labels, predicted, labels=present, average="macro", zero_division=0)),
        "top3_accuracy": float((top3 == labels[:, None]).any(axis=1).mean()),
        "n": int(labels.shape[0]),
    }


def confusion(labels, predicted, num_labels: int) -> np.ndarray:
    return confusion_matrix(labels, predicted, labels=np.arange(num_labels))


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def compute_trainer_metrics(prediction, num_labels: int) -> dict:
    """Trainer `compute_metrics`: the logits of the validation split -> accuracy, macro-F1, top-3 accuracy."""
    logits = prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
    metrics = tissue_metrics(prediction.label_ids, softmax(np.asarray(logits, dtype=np.float64)), num_labels)
    metrics.pop("n")
    return metrics


def compute_mixture_metrics(prediction) -> dict:
    """Trainer `compute_metrics` of the mixture model: mean absolute error of the proportions on the validation split."""
    proportions = prediction.predictions[1] if isinstance(prediction.predictions, tuple) else prediction.predictions
    return {"mae": float(np.abs(np.asarray(proportions, dtype=np.float64) - np.asarray(prediction.label_ids)).mean())}
