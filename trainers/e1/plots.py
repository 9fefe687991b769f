"""E1 plots: precision-recall curves per ion (model, single-sequence ablation, baseline) and diagnostics curves."""

from pathlib import Path

import matplotlib
import numpy as np
from sklearn.metrics import precision_recall_curve

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from trainers.plots import save_figure  # noqa: E402


def plot_pr_curves(labels: np.ndarray, scores: dict, ions: list, path, title: str = "held-out residues") -> Path:
    """labels (residues, ions); scores {name: (residues, ions)}. One panel per ion; recall 0.7 (HRA) marked."""
    fig, axes = plt.subplots(1, len(ions), figsize=(3.6 * len(ions), 3.3), squeeze=False)
    for j, (ion, ax) in enumerate(zip(ions, axes[0])):
        known = labels[:, j] != -100
        y = labels[known, j]
        if y.size and 0 < y.sum() < y.size:
            for name, s in scores.items():
                precision, recall, _ = precision_recall_curve(y, s[known, j])
                ax.plot(recall, precision, label=name)
        ax.axvline(0.7, color="grey", lw=0.8, ls="--")
        ax.set(xlabel="recall", ylabel="precision", title=f"{ion} ({int(y.sum())} binding residues)", xlim=(0, 1), ylim=(0, 1.02))
    axes[0][0].legend(fontsize=8, loc="lower left")
    fig.suptitle(title)
    return save_figure(fig, path, dpi=110)


def plot_diagnostics(log_history: list, path) -> Path:
    """Loss components and prototype diagnostics against the step."""
    names = ("loss_contrastive", "loss_prototype", "loss_bce", "loss_mlm")
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for name in names:
        points = [(e["step"], e[name]) for e in log_history if name in e]
        if points:
            axes[0].plot(*zip(*points), label=name.removeprefix("loss_"))
    axes[0].set(xlabel="step", ylabel="loss", title="loss components")
    axes[0].legend(fontsize=8)
    for name in ("pull_mask_ratio", "sim_pos", "sim_neg"):
        points = [(e["step"], e[name]) for e in log_history if name in e]
        if points:
            axes[1].plot(*zip(*points), label=name)
    axes[1].set(xlabel="step", title="prototype diagnostics")
    axes[1].legend(fontsize=8)
    return save_figure(fig, path, dpi=110)
