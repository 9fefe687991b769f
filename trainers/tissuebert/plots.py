"""TissueBERT figures: confusion matrices, accuracy against missing regions, region attention."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from trainers.plots import save_figure  # noqa: E402


def plot_confusion(matrices: dict, tissues, path) -> Path:
    """Row-normalised confusion matrices side by side, e.g. {"TissueBERT": m, "logistic regression": b}."""
    fig, axes = plt.subplots(1, len(matrices), figsize=(6.2 * len(matrices), 5.6), squeeze=False)
    for ax, (title, matrix) in zip(axes[0], matrices.items()):
        matrix = np.asarray(matrix, dtype=float)
        normalised = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
        ax.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
        accuracy = np.trace(matrix) / max(matrix.sum(), 1)
        ax.set(title=f"{title} (accuracy {accuracy:.3f})", xlabel="predicted", ylabel="true",
               xticks=range(len(tissues)), yticks=range(len(tissues)))
        ax.set_xticklabels(tissues, rotation=90, fontsize=6)
        ax.set_yticklabels(tissues, fontsize=6)
    return save_figure(fig, path)


def plot_missing_curve(curves: dict, path) -> Path:
    """Accuracy against the fraction of regions hidden, one line per model: {name: [(fraction, accuracy), ...]}."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name, points in curves.items():
        ax.plot(*zip(*points), "o-", label=name)
    ax.set(xlabel="fraction of regions missing", ylabel="test accuracy", ylim=(0, 1.02), title="robustness to missing regions")
    ax.legend()
    return save_figure(fig, path)


def plot_region_attention(attention: np.ndarray, labels, tissues, path, top: int = 40) -> Path:
    """Mean attention of each tissue's test samples over the `top` most attended regions (heatmap)."""
    labels = np.asarray(labels)
    present = sorted(set(labels.tolist()))
    per_tissue = np.stack([attention[labels == t].mean(axis=0) for t in present])
    regions = np.argsort(-per_tissue.max(axis=0))[:top]
    fig, ax = plt.subplots(figsize=(9, 5))
    image = ax.imshow(per_tissue[:, regions], aspect="auto", cmap="viridis")
    ax.set(xlabel="region (most attended first)", title="region attention by tissue (test samples)",
           yticks=range(len(present)), xticks=range(len(regions)))
    ax.set_yticklabels([tissues[t] for t in present], fontsize=6)
    ax.set_xticklabels([str(r) for r in regions], rotation=90, fontsize=5)
    fig.colorbar(image, ax=ax)
    return save_figure(fig, path)


CURVE_TITLES = {"cfdna": "cfDNA-like (>= 80% blood)", "mixtures": "mixture"}


def plot_depth_curve(curves: dict, folder, metric: str, ylabel: str, baseline_name: str) -> dict:
    """
    One figure per curve of a depth sweep, {name: [{"depth", "model": {metric}, <baseline key>: {metric}}]}: the
    model and the baseline against the read depth (array-like samples at the right). Returns {plot name: path}.
    """
    plots = {}
    for name, points in curves.items():
        if not points:
            continue
        baseline_key = next(k for k in points[0] if k not in ("depth", "model"))
        fig, ax = plt.subplots(figsize=(5, 3.5))
        x = np.arange(len(points))
        ax.plot(x, [p["model"][metric] for p in points], "o-", label="TissueBERT")
        ax.plot(x, [p[baseline_key][metric] for p in points], "s--", label=baseline_name)
        ax.set(xticks=x, xlabel="mean read depth per CpG", ylabel=ylabel,
               title=f"held-out simulated {CURVE_TITLES.get(name, name)} samples")
        ax.set_xticklabels([p["depth"] for p in points])
        ax.legend()
        plots[f"depth_{name.replace('-', '_')}"] = save_figure(fig, Path(folder) / f"depth_{name.replace('-', '_')}.png")
    return plots
