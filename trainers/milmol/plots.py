"""milmol figures: per-task precision-recall curves (model vs baselines) and conformer-attention heatmaps."""

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import average_precision_score, precision_recall_curve


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path


def plot_pr_curves(labels: np.ndarray, scores: dict, task_names, path) -> Path:
    """One panel per task: a precision-recall curve per named score matrix (M, T); tasks without positives are skipped."""
    fig = Figure(figsize=(4 * len(task_names), 3.6))
    axes = fig.subplots(1, len(task_names))
    for t, (ax, task) in enumerate(zip(np.atleast_1d(axes), task_names)):
        present = ~np.isnan(labels[:, t])
        y = labels[present, t]
        if not 0 < y.sum() < len(y):
            ax.set_title(f"{task}\n(no positives)")
            continue
        for name, values in scores.items():
            s = np.asarray(values)[present, t]
            precision, recall, _ = precision_recall_curve(y, s)
            ax.step(recall, precision, where="post", label=f"{name} ({average_precision_score(y, s):.2f})")
        ax.axhline(y.mean(), color="grey", lw=0.8, ls=":")
        ax.set(xlabel="recall", ylabel="precision", title=f"{task} ({int(y.sum())} pos)", ylim=(0, 1.02))
        ax.legend(fontsize=7, title="AP", title_fontsize=7)
    return _save(fig, path)


def plot_attention(attention: np.ndarray, conformer_mask: np.ndarray, names, task_names, path, responsible_mask=None) -> Path:
    """Heatmap per example molecule: tasks x conformers attention; the rule's responsible conformers marked with *."""
    fig = Figure(figsize=(3.4 * len(names), 2.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(names)))
    for ax, i, name in zip(axes, range(len(names)), names):
        n = int(conformer_mask[i].sum())
        ax.imshow(attention[i, :, :n], vmin=0, vmax=1, cmap="viridis", aspect="auto")
        ax.set_yticks(range(len(task_names)), [t.replace("Fluorescence", "Fl").replace("Transmittance", "T") for t in task_names], fontsize=7)
        labels = [f"{c}*" if responsible_mask is not None and responsible_mask[i][c] else str(c) for c in range(n)]
        ax.set_xticks(range(n), labels, fontsize=7)
        ax.set_title(name[:28], fontsize=8)
        ax.set_xlabel("conformer (* responsible)", fontsize=7)
    return _save(fig, path)
