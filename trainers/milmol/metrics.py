"""milmol metrics: per-task AP and ROC AUC, macro AP, worst-task AP, the HPO score, the top-conformer hit rate."""

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


def task_metrics(labels: np.ndarray, scores: np.ndarray, task_names, sample_weight=None) -> dict:
    """
    labels (M, T) 0/1 with NaN = missing, scores (M, T). Per task: ap_<task>, roc_auc_<task>, n_pos_<task>; then
    macro_ap (mean AP), min_ap (worst-task AP), macro_roc_auc, min_roc_auc (worst-task ROC AUC, the EUOS25
    challenge's metric is the ROC AUC), over the tasks with both classes present (a task
    without positives or negatives in the split has no AP: it is reported as None and left out of the means).
    `sample_weight` (M,): weighted AP / ROC AUC (e.g. inverse sampling probabilities of the sampled mode).
    """
    labels, scores = np.asarray(labels, dtype=np.float64), np.asarray(scores, dtype=np.float64)
    out, aps, aucs = {"n": int(len(labels))}, [], []
    for t, task in enumerate(task_names):
        present = ~np.isnan(labels[:, t])
        y, s = labels[present, t], scores[present, t]
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)[present]
        out[f"n_pos_{task}"] = int(y.sum())
        if 0 < y.sum() < len(y):
            out[f"ap_{task}"] = float(average_precision_score(y, s, sample_weight=w))
            out[f"roc_auc_{task}"] = float(roc_auc_score(y, s, sample_weight=w))
            aps.append(out[f"ap_{task}"])
            aucs.append(out[f"roc_auc_{task}"])
        else:
            out[f"ap_{task}"] = out[f"roc_auc_{task}"] = None
    out["macro_ap"] = float(np.mean(aps)) if aps else None
    out["min_ap"] = float(np.min(aps)) if aps else None
    out["macro_roc_auc"] = float(np.mean(aucs)) if aucs else None
    out["min_roc_auc"] = float(np.min(aucs)) if aucs else None
    return out


def hpo_score(metrics: dict, min_w: float, prefix: str = "") -> float:
    """The seed's fold score: (1 - min_w) * macro_ap + min_w * min_ap (0 when undefined)."""
    macro, worst = metrics.get(f"{prefix}macro_ap"), metrics.get(f"{prefix}min_ap")
    if macro is None or worst is None:
        return 0.0
    return (1.0 - min_w) * macro + min_w * worst


def top_conformer_hits(attention: np.ndarray, conformer_mask: np.ndarray, responsible_mask: np.ndarray,
                       responsible: np.ndarray, labels: np.ndarray, dependent: np.ndarray,
                       dependent_tasks: np.ndarray = None) -> dict:
    """
    Over the (molecule, task) pairs whose label rests on the conformers (`dependent_tasks` True, positive or negative:
    a contact can add a band or quench one; without `dependent_tasks`, the positive pairs) of a molecule whose bag is
    mixed (`dependent`: some conformers responsible, some not): how often the task's most-attended conformer is a
    responsible one, how often it is exactly `responsible` (the closest contact), and the chance level of the first
    (the responsible fraction of the molecule's conformers).
    """
    hits, exact, chance, count = 0, 0, 0.0, 0
    for i in np.flatnonzero(dependent):
        valid = conformer_mask[i].astype(bool)
        for t in range(labels.shape[1]):
            if (labels[i, t] != 1) if dependent_tasks is None else not dependent_tasks[i, t]:
                continue
            top = int(np.argmax(np.where(valid, attention[i, t], -np.inf)))
            hits += int(responsible_mask[i, top] == 1)
            exact += int(top == responsible[i])
            chance += responsible_mask[i][valid].mean()
            count += 1
    if not count:
        return {"top_conformer_hit_rate": None, "top_conformer_exact_rate": None, "top_conformer_chance": None, "top_conformer_pairs": 0}
    return {"top_conformer_hit_rate": hits / count, "top_conformer_exact_rate": exact / count,
            "top_conformer_chance": chance / count, "top_conformer_pairs": count}
