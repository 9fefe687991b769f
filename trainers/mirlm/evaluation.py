"""
Held-out evaluation of mirLM next to the seed-match baseline: threshold on validation, metrics on test
(`evaluate_mirlm`), or every row of an external test file next to the file's other predictors (`evaluate_file`).
"""

import csv
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from tqdm.auto import tqdm

from datasets_scripts.mirlm import MirLMDataCollator
from datasets_scripts.mirlm.builder import read_rows, to_dataset
from modeling.mirlm.modeling_mirlm import best_spans
from modeling.mirlm.sites_mirlm import classify_span
from trainers.mirlm.baseline import SeedMatchBaseline
from trainers.mirlm.comparison import canonical_pointing_accuracy, comparison_table, predictor_columns, read_raw_rows
from trainers.mirlm.metrics import mirlm_metrics


@torch.no_grad()
def predict_rows(model, tokenizer, rows, batch_size: int = 64, desc: str = "predict") -> dict:
    """
    Run the model over dataset rows (mrna, mirna, ...). Returns numpy arrays in nucleotide coordinates:
    probs, pred_start, pred_end, pointer (argmax of pos_weights) and the per-nt `pos_weights` (a list).
    """
    model.eval()
    device = next(model.parameters()).device
    collate = MirLMDataCollator(tokenizer, padding="longest", pad_to_multiple_of=8)
    out = {"probs": [], "pred_start": [], "pred_end": [], "pointer": [], "pos_weights": []}
    for begin in tqdm(range(0, len(rows), batch_size), desc=desc, unit="batch", leave=False):
        batch = rows[begin : begin + batch_size]
        batch = [dict(zip(batch, values)) for values in zip(*batch.values())] if isinstance(batch, dict) else batch
        inputs = collate(batch)
        for key in ("labels", "start_positions", "end_positions"):
            inputs.pop(key, None)
        result = model(**{k: v.to(device) for k, v in inputs.items()})
        start, end = best_spans(result.start_logits.float(), result.end_logits.float(), model.config.mirna_max_len)
        weights = result.pos_weights.float().cpu().numpy()
        out["probs"].append(torch.sigmoid(result.binding_logit.float()).cpu().numpy())
        out["pred_start"].append(start.cpu().numpy() - 1)
        out["pred_end"].append(end.cpu().numpy() - 1)
        out["pointer"].append(weights.argmax(axis=1) - 1)
        out["pos_weights"].extend(w[1 : len(row["mrna"]) + 1] for w, row in zip(weights, batch))
    return {k: (v if k == "pos_weights" else np.concatenate(v)) for k, v in out.items()}


def choose_threshold(labels: np.ndarray, probs: np.ndarray) -> float:
    """The probability threshold with the best accuracy (midpoint between neighbouring scores)."""
    order = np.argsort(probs)
    sorted_probs, sorted_labels = probs[order], labels[order]
    # Predicting positive from index i on: correct = negatives before i + positives from i.
    negatives_before = np.concatenate([[0], np.cumsum(sorted_labels == 0)])
    positives_from = np.concatenate([np.cumsum((sorted_labels == 1)[::-1])[::-1], [0]])
    best = int(np.argmax(negatives_before + positives_from))
    if best == 0:
        return float(sorted_probs[0]) / 2
    if best == len(probs):
        return float(sorted_probs[-1] + 1) / 2
    return float(sorted_probs[best - 1] + sorted_probs[best]) / 2


def _metrics(rows, probs, threshold, pred_start=None, pred_end=None, pointer=None) -> dict:
    return mirlm_metrics(
        rows["label"], probs, threshold, site_types=rows["site_type"],
        true_start=rows["site_start"], true_end=rows["site_end"],
        pred_start=pred_start, pred_end=pred_end, pointer=pointer,
    )


def evaluate_mirlm(model, tokenizer, splits, batch_size: int = 64, threshold: Optional[float] = None) -> dict:
    """
    Evaluate on `splits["test"]`, model next to `SeedMatchBaseline`. The model's decision threshold is chosen on
    `splits["validation"]` (best accuracy) unless given, and written to `model.config.decision_threshold`.
    Returns {"model": metrics, "baseline": metrics, "threshold": t, "predictions": arrays for plots}.
    """
    if threshold is None:
        validation = splits["validation"]
        threshold = choose_threshold(np.asarray(validation["label"]), predict_rows(model, tokenizer, validation, batch_size, "validation")["probs"])
    model.config.decision_threshold = threshold
    test = splits["test"]
    predictions = predict_rows(model, tokenizer, test, batch_size, "test")
    baseline = SeedMatchBaseline()
    baseline_predictions = baseline.predict(test["mrna"], test["mirna"])
    return {
        "split": "test",
        "num_examples": len(test),
        "threshold": threshold,
        "baseline_name": baseline.name,
        "model": _metrics(test, predictions["probs"], threshold, predictions["pred_start"], predictions["pred_end"], predictions["pointer"]),
        "baseline": baseline.evaluate(test),
        "predictions": {**predictions, "baseline_scores": baseline_predictions["scores"]},
    }


def compare_on_file(path, labels, probs, baseline_scores, compare_columns=None, lines=None) -> dict:
    """
    mirLM, the seed-match baseline and every other predictor of the file `path` (see `comparison.predictor_columns`)
    on the same rows (`lines`: the file lines of the scored rows): {"file", "n", "table": [...], "scores": {...}}.
    """
    others = predictor_columns(path, lines, compare_columns)
    scores = {"mirLM": np.asarray(probs), "seed-match baseline": np.asarray(baseline_scores), **others}
    return {"file": str(path), "n": len(labels), "table": comparison_table(labels, scores), "scores": scores}


def evaluate_file(model, tokenizer, path, *, compare_columns=None, skipped=None, batch_size: int = 64) -> dict:
    """
    Score every row of the labelled file `path` (an external test set: nothing is split off or chosen on it) at the
    model's stored decision threshold, next to the baseline and the file's other predictors.
    Returns the report of `evaluate_mirlm` plus "comparison", "canonical_pointing" and "rows" (the columns read).
    """
    columns = read_rows(path, max_mirna_nt=model.config.mirna_max_len, skipped=skipped)
    rows = to_dataset(columns)
    threshold = model.config.decision_threshold
    predictions = predict_rows(model, tokenizer, rows, batch_size, "score")
    baseline = SeedMatchBaseline()
    baseline_predictions = baseline.predict(rows["mrna"], rows["mirna"])
    comparison = compare_on_file(path, rows["label"], predictions["probs"], baseline_predictions["scores"],
                                 compare_columns, columns["line"])
    return {
        "split": f"all rows of {Path(path).name}",
        "num_examples": len(rows),
        "threshold": threshold,
        "baseline_name": baseline.name,
        "model": _metrics(rows, predictions["probs"], threshold, predictions["pred_start"], predictions["pred_end"], predictions["pointer"]),
        "baseline": baseline.evaluate(rows),
        "canonical_pointing": canonical_pointing_accuracy(rows["label"], rows["mrna"], rows["mirna"], predictions["pointer"]),
        "comparison": comparison,
        "predictions": {**predictions, "baseline_scores": baseline_predictions["scores"]},
        "rows": columns,
    }


def write_predictions(path, report: dict, source) -> Path:
    """Per-row TSV: the input file's columns, then binding_probability, binds and the predicted site (0-based, inclusive)."""
    header, raw = read_raw_rows(source)
    rows, predictions = report["rows"], report["predictions"]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(header + ["binding_probability", "binds", "site_start", "site_end", "site_sequence", "site_type",
                                  "pointer", "seed_match_score"])
        for i, line in enumerate(rows["line"]):
            mrna, mirna = rows["mrna"][i], rows["mirna"][i]
            start, end = int(predictions["pred_start"][i]), int(predictions["pred_end"][i])
            valid = 0 <= start <= end < len(mrna)
            probability = float(predictions["probs"][i])
            writer.writerow([raw[line].get(c, "") for c in header] + [
                repr(probability), int(probability >= report["threshold"]), start if valid else -1, end if valid else -1,
                mrna[start : end + 1] if valid else "", classify_span(mrna, mirna, start, end) if valid else "",
                int(predictions["pointer"][i]), f"{predictions['baseline_scores'][i]:.2f}"])
    return Path(path)
