"""Per-protein residue probabilities of a model on a split (with or without homolog context) and held-out reports."""

import numpy as np
import torch
from tqdm.auto import tqdm

from datasets_scripts.e1.collator import E1ContrastiveCollator, label_column
from trainers.e1.baseline import baseline_scores
from trainers.e1.metrics import best_f1_threshold, binding_metrics


@torch.no_grad()
def predict_split(model, tokenizer, split, num_context: int, batch_size: int = 16, progress: bool = False) -> tuple:
    """(probabilities, labels): lists with one (length, ions) array per protein, in split order."""
    model.eval()
    ions = list(model.config.ions)
    collate = E1ContrastiveCollator.for_evaluation(tokenizer, ions, num_context=num_context)
    device = next(model.parameters()).device
    probabilities, labels = [], []
    rows = [split[i] for i in range(len(split))]
    for start in tqdm(range(0, len(rows), batch_size), desc="predict", disable=not progress):
        chunk = rows[start: start + batch_size]
        batch = collate(chunk)
        inputs = {k: batch[k][:, 0].to(device) for k in ("input_ids", "sequence_ids", "within_seq_position_ids",
                                                          "global_position_ids", "attention_mask")}
        logits = model(**inputs).binding_logits.float().cpu()  # (B, L, ions)
        mask = batch["label_mask"][:, 0]
        for i, row in enumerate(chunk):
            probabilities.append(torch.sigmoid(logits[i][mask[i]]).numpy())
            labels.append(np.stack([np.asarray(row[label_column(ion)]) for ion in ions], axis=1))
    return probabilities, labels


def choose_thresholds(labels: np.ndarray, scores: np.ndarray, ions: list) -> dict:
    """Per ion, the best-F1 threshold on labelled residues."""
    out = {}
    for j, ion in enumerate(ions):
        known = labels[:, j] != -100
        out[ion] = best_f1_threshold(labels[known, j].astype(int), scores[known, j])
    return out


def held_out_report(model, tokenizer, split, num_context: int, thresholds: dict, batch_size: int = 16) -> dict:
    """Model (with context), single-sequence ablation and motif-regex baseline on `split`, plus the raw predictions."""
    ions = list(model.config.ions)
    probs, labels = predict_split(model, tokenizer, split, num_context, batch_size, progress=True)
    single, _ = predict_split(model, tokenizer, split, 0, batch_size, progress=True)
    baseline = baseline_scores(split["sequence"], ions)
    y = np.concatenate(labels)
    report = {
        "split": "test",
        "model": {**binding_metrics(y, np.concatenate(probs), ions, thresholds), "n": len(split), "num_context": num_context},
        "single_sequence": {**binding_metrics(y, np.concatenate(single), ions, thresholds), "n": len(split), "num_context": 0},
        "baseline": {**binding_metrics(y, np.concatenate(baseline), ions, {ion: 0.5 for ion in ions}), "n": len(split)},
    }
    return report, {"probs": probs, "single": single, "baseline": baseline, "labels": labels}
