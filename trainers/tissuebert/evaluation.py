"""Held-out evaluation of a TissueBERT model next to the logistic-regression baseline, with and without missing regions."""

import numpy as np
import torch

from datasets_scripts.tissuebert import region_examples
from trainers.tissuebert.baseline import LogisticRegressionBaseline
from trainers.tissuebert.metrics import confusion, softmax, tissue_metrics

MISSING_FRACTIONS = (0.0, 0.1, 0.3, 0.5, 0.7)
HEADLINE_MISSING = 0.3


def hide_regions(means: np.ndarray, fraction: float, seed: int = 0) -> np.ndarray:
    """A copy of `means` (S, N) with a random `fraction` of every sample's regions set missing (NaN), seeded."""
    rng = np.random.default_rng(seed)
    hidden = means.copy()
    count = int(round(fraction * means.shape[1]))
    for row in hidden:
        row[rng.choice(means.shape[1], size=count, replace=False)] = np.nan
    return hidden


@torch.no_grad()
def sample_outputs(model, means: np.ndarray, coverage: np.ndarray, batch_size: int = 64):
    """The outputs of a sample-level (or mixture) model, batch by batch, for region means (NaN = missing) and coverage."""
    model.eval()
    device = next(model.parameters()).device
    for begin in range(0, means.shape[0], batch_size):
        yield model(region_means=torch.as_tensor(means[begin : begin + batch_size], device=device),
                    region_coverage=torch.as_tensor(coverage[begin : begin + batch_size], device=device))


def predict_samples(model, means: np.ndarray, coverage: np.ndarray, batch_size: int = 64) -> tuple:
    """(probabilities (S, C), region attention (S, N) or None) of a sample-level model for region means (NaN = missing)."""
    probabilities, attention = [], []
    for out in sample_outputs(model, means, coverage, batch_size):
        probabilities.append(torch.softmax(out.logits.float(), dim=-1).cpu().numpy())
        if out.region_attention is not None:
            attention.append(out.region_attention.float().cpu().numpy())
    return np.concatenate(probabilities), (np.concatenate(attention) if attention else None)


@torch.no_grad()
def predict_regions(model, input_ids: np.ndarray, methylation: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Per-region log-probabilities (R, C) of the region-level model."""
    model.eval()
    device = next(model.parameters()).device
    out = []
    for begin in range(0, input_ids.shape[0], batch_size):
        logits = model(input_ids=torch.as_tensor(input_ids[begin : begin + batch_size], device=device),
                       methylation=torch.as_tensor(methylation[begin : begin + batch_size], device=device)).logits
        out.append(torch.log_softmax(logits.float(), dim=-1).cpu().numpy())
    return np.concatenate(out)


def fit_baseline(table, splits: dict, seed: int = 0) -> LogisticRegressionBaseline:
    """The baseline fitted on the training split's region means."""
    train = splits["train"]
    return LogisticRegressionBaseline(len(table.tissues), seed=seed).fit(table.means[train], table.tissue_index[train])


def evaluate_tissuebert(model, table, splits: dict, baseline=None, *, batch_size: int = 64, regions_per_sample: int = 64,
                        seed: int = 0) -> dict:
    """
    Test-split report: {"split", "model", "baseline", "confusion", "missing_curve", "predictions"}. Sample-level kinds
    are scored per sample, also with 30% of regions hidden (`accuracy_missing30`, `macro_f1_missing30`) and along
    `MISSING_FRACTIONS`. The region-level kind is scored per region (what it predicts) on `regions_per_sample`
    random regions of each test sample, plus `sample_vote_accuracy` (mean log-probability over those regions).
    """
    baseline = baseline or fit_baseline(table, splits, seed)
    test = splits["test"]
    labels, num_labels = table.tissue_index[test], len(table.tissues)
    means, coverage = table.means[test], table.coverage[test]
    base_probs = baseline.predict_proba(means)
    base = tissue_metrics(labels, base_probs, num_labels)
    report = {"split": "test", "model_kind": model.config.model_kind, "baseline": base,
              "confusion": {"baseline": confusion(labels, base_probs.argmax(1), num_labels).tolist()},
              "missing_curve": {"baseline": [], "model": []}, "predictions": {"labels": labels, "baseline": base_probs}}

    if model.config.model_kind == "region":
        examples = region_examples(table, test, regions_per_sample, seed=seed + 2)
        log_probs = predict_regions(model, examples["input_ids"], examples["methylation"], batch_size=4 * batch_size)
        report["model"] = tissue_metrics(examples["label"], np.exp(log_probs), num_labels)
        per_sample = log_probs.reshape(len(test), -1, num_labels).mean(axis=1)
        report["model"]["sample_vote_accuracy"] = float((per_sample.argmax(1) == labels).mean())
        report["model"]["regions_per_sample"] = regions_per_sample
        report["confusion"]["model"] = confusion(examples["label"], log_probs.argmax(1), num_labels).tolist()
        report["predictions"]["model"] = softmax(per_sample)
        return report

    probs, attention = predict_samples(model, means, coverage, batch_size)
    report["model"] = tissue_metrics(labels, probs, num_labels)
    report["confusion"]["model"] = confusion(labels, probs.argmax(1), num_labels).tolist()
    report["predictions"].update(model=probs, attention=attention)
    for fraction in MISSING_FRACTIONS:
        hidden = hide_regions(means, fraction, seed=seed + 1)
        model_m = tissue_metrics(labels, predict_samples(model, hidden, coverage, batch_size)[0], num_labels)
        base_m = tissue_metrics(labels, baseline.predict_proba(hidden), num_labels)
        report["missing_curve"]["model"].append((fraction, model_m["accuracy"]))
        report["missing_curve"]["baseline"].append((fraction, base_m["accuracy"]))
        if fraction == HEADLINE_MISSING:
            for who, values in (("model", model_m), ("baseline", base_m)):
                report[who]["accuracy_missing30"] = values["accuracy"]
                report[who]["macro_f1_missing30"] = values["macro_f1"]
    return report
