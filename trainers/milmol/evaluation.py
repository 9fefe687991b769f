"""Held-out evaluation of milmol: predictions with attention, metrics next to the baselines, attention export."""

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader

from datasets_scripts.milmol import MILMolDataCollator
from trainers.milmol.metrics import task_metrics, top_conformer_hits


@torch.no_grad()
def predict_split(model, split, batch_size: int = 128) -> dict:
    """probs (M, T), logits, aux_abs / aux_fluo (original units), attention (M, T, N), conformer_mask (M, N)."""
    model.eval()
    loader = DataLoader(split, batch_size=batch_size, collate_fn=MILMolDataCollator(with_targets=False))
    parts = {"logits": [], "aux_abs": [], "aux_fluo": [], "attention": [], "conformer_mask": []}
    for batch in loader:
        out = model(**batch)
        parts["logits"].append(out.logits.float().numpy())
        parts["aux_abs"].append(out.aux_abs.float().numpy())
        parts["aux_fluo"].append(out.aux_fluo.float().numpy())
        parts["attention"].append(out.conformer_attention.float().numpy())
        parts["conformer_mask"].append(batch["conformer_mask"].numpy())
    result = {k: np.concatenate(v) for k, v in parts.items()}
    config = model.config
    result["aux_abs"] = result["aux_abs"] * np.asarray(config.aux_abs_std) + np.asarray(config.aux_abs_mean)
    result["aux_fluo"] = result["aux_fluo"] * np.asarray(config.aux_fluo_std) + np.asarray(config.aux_fluo_mean)
    result["probs"] = 1.0 / (1.0 + np.exp(-result["logits"].astype(np.float64)))
    return result


def model_metrics(prediction: dict, split, task_names) -> dict:
    """Task metrics, the auxiliary MAE, and the top-conformer hit rate where the split knows the responsible conformer."""
    labels = np.asarray(split["labels"], dtype=np.float64)
    metrics = task_metrics(labels, prediction["probs"], task_names)
    aux = np.asarray(split["aux_abs"], dtype=np.float64)
    present = ~np.isnan(aux)
    if present.any():
        metrics["aux_abs_mae"] = float(np.abs(prediction["aux_abs"] - np.nan_to_num(aux))[present].mean())
    if "responsible_mask" in split.column_names:
        metrics.update(top_conformer_hits(prediction["attention"], prediction["conformer_mask"],
                                          np.asarray(split["responsible_mask"]), np.asarray(split["responsible_conformer"]),
                                          labels, np.asarray(split["conformer_dependent"], dtype=bool),
                                          np.asarray(split["dependent_tasks"], dtype=bool)))
    return metrics


def export_attention(prediction: dict, split, task_names, path) -> Path:
    """
    "Leaderboard attention": one Parquet row per (molecule, task, conformer) with the attention weight, the task
    probability, whether it is the molecule's most-attended conformer for the task, and (embedded data) whether
    the labelling rule made the conformer responsible (a label-changing contact) and its closest-contact conformer.
    """
    rows = {"id": [], "smiles": [], "task": [], "conformer": [], "attention": [], "probability": [], "is_top": []}
    extra = "responsible_mask" in split.column_names
    if extra:
        rows.update({"responsible": [], "responsible_conformer": []})
    ids, smiles = split["id"], split["smiles"]
    responsible_mask = np.asarray(split["responsible_mask"]) if extra else None
    responsible = split["responsible_conformer"] if extra else None
    for i in range(len(ids)):
        valid = np.flatnonzero(prediction["conformer_mask"][i])
        for t, task in enumerate(task_names):
            weights = prediction["attention"][i, t, valid]
            top = valid[int(np.argmax(weights))]
            for c, w in zip(valid, weights):
                rows["id"].append(ids[i]), rows["smiles"].append(smiles[i]), rows["task"].append(task)
                rows["conformer"].append(int(c)), rows["attention"].append(float(w))
                rows["probability"].append(float(prediction["probs"][i, t])), rows["is_top"].append(bool(c == top))
                if extra:
                    rows["responsible"].append(bool(responsible_mask[i, c])), rows["responsible_conformer"].append(int(responsible[i]))
    path = Path(path)
    pd.DataFrame(rows).to_parquet(path, index=False)
    return path
