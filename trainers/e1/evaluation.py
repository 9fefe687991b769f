"""Per-protein residue probabilities of a model on a split (with or without homolog context) and held-out reports."""

import numpy as np
import torch
from tqdm.auto import tqdm

from datasets_scripts.e1.batching import row_tokens, token_budget_batches
from datasets_scripts.e1.collator import E1ContrastiveCollator, label_column
from trainers.e1.baseline import baseline_scores
from trainers.e1.metrics import best_f1_threshold, binding_metrics


@torch.no_grad()
def predict_split(model, tokenizer, split, num_context: int, batch_size: int = 16, progress: bool = False,
                  max_tokens_per_batch: int = 0) -> tuple:
    """
    (probabilities, labels): lists with one (length, ions) array per protein, in split order. Batches of
    `batch_size` proteins, or with `max_tokens_per_batch` packed by that token budget.
    """
    model.eval()
    ions = list(model.config.ions)
    collate = E1ContrastiveCollator.for_evaluation(tokenizer, ions, num_context=num_context)
    device = next(model.parameters()).device
    rows = [split[i] for i in range(len(split))]
    if max_tokens_per_batch:
        lengths = [row_tokens(r["sequence"], r["homologs"], num_context) for r in rows]
        batches = token_budget_batches(lengths, max_tokens_per_batch, names=[r.get("id") for r in rows])
    else:
        batches = [list(range(start, min(start + batch_size, len(rows)))) for start in range(0, len(rows), batch_size)]
    probabilities, labels = [None] * len(rows), [None] * len(rows)
    for indices in tqdm(batches, desc="predict", disable=not progress):
        chunk = [rows[i] for i in indices]
        batch = collate(chunk)
        inputs = {k: batch[k][:, 0].to(device) for k in ("input_ids", "sequence_ids", "within_seq_position_ids",
                                                          "global_position_ids", "attention_mask")}
        logits = model(**inputs).binding_logits.float().cpu()  # (B, L, ions)
        mask = batch["label_mask"][:, 0]
        for i, (index, row) in enumerate(zip(indices, chunk)):
            probabilities[index] = torch.sigmoid(logits[i][mask[i]]).numpy()
            labels[index] = np.stack([np.asarray(row[label_column(ion)]) for ion in ions], axis=1)
    return probabilities, labels


def choose_thresholds(labels: np.ndarray, scores: np.ndarray, ions: list) -> dict:
    """Per ion, the best-F1 threshold on labelled residues."""
    out = {}
    for j, ion in enumerate(ions):
        known = labels[:, j] != -100
        out[ion] = best_f1_threshold(labels[known, j].astype(int), scores[known, j])
    return out


def held_out_report(model, tokenizer, split, num_context: int, thresholds: dict, batch_size: int = 16,
                    max_tokens_per_batch: int = 0, window_lr=None) -> dict:
    """
    Model (with context), single-sequence ablation and motif-regex baseline on `split`, plus the raw predictions;
    with `window_lr` (a fitted `WindowLogisticBaseline`) also that classic per-residue classifier at its thresholds.
    """
    ions = list(model.config.ions)
    probs, labels = predict_split(model, tokenizer, split, num_context, batch_size, progress=True, max_tokens_per_batch=max_tokens_per_batch)
    single, _ = predict_split(model, tokenizer, split, 0, batch_size, progress=True, max_tokens_per_batch=max_tokens_per_batch)
    baseline = baseline_scores(split["sequence"], ions)
    y = np.concatenate(labels)
    report = {
        "split": "test",
        "model": {**binding_metrics(y, np.concatenate(probs), ions, thresholds), "n": len(split), "num_context": num_context},
        "single_sequence": {**binding_metrics(y, np.concatenate(single), ions, thresholds), "n": len(split), "num_context": 0},
        "baseline": {**binding_metrics(y, np.concatenate(baseline), ions, {ion: 0.5 for ion in ions}), "n": len(split)},
    }
    predictions = {"probs": probs, "single": single, "baseline": baseline, "labels": labels}
    if window_lr is not None:
        lr = window_lr.predict(split["sequence"])
        report["window_lr"] = {**binding_metrics(y, np.concatenate(lr), ions, window_lr.thresholds), "n": len(split),
                               **window_lr.description()}
        predictions["window_lr"] = lr
    return report, predictions
