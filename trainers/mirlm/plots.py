"""
Evaluation figures for mirLM (PNG, rendered by matplotlib's Agg through the object API: no pyplot, no
global backend switch, safe in headless runs). Functions take plain arrays so they work on model outputs,
baseline outputs or saved predictions alike; each returns the path it wrote.

* `plot_pr_curves`: precision-recall curves, model vs baseline (AP in the legend).
* `plot_position_weights`: heatmap of per-position MIL weights (pos_weights) over example positives and
  negatives, true seed sites outlined — peaked over the site in positives, flat in negatives.
* `plot_ism`: in-silico mutagenesis map, (L, 4) change of binding probability for every substitution.
"""

from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from sklearn.metrics import average_precision_score, precision_recall_curve

ISM_BASES = "ACGT"


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path


def plot_pr_curves(labels: Sequence[int], scores: Mapping[str, Sequence[float]], path, title: str = "mirLM test split") -> Path:
    """One precision-recall curve per named score array (e.g. {"mirLM": probs, "seed-match": baseline})."""
    labels = np.asarray(labels)
    if labels.min() == labels.max():
        raise ValueError("precision-recall curves need both positive and negative labels")
    many = len(scores) > 4  # e.g. a test file's published predictors: legend outside, best first, distinct colours
    fig = Figure(figsize=(8 if many else 5, 4.5))
    ax = fig.subplots()
    ranked = {name: average_precision_score(labels, np.asarray(values, dtype=float)) for name, values in scores.items()}
    first = next(iter(scores))  # the model: drawn bold (black when there are many)
    for i, name in enumerate(sorted(scores, key=lambda n: -ranked[n]) if many else scores):
        precision, recall, _ = precision_recall_curve(labels, np.asarray(scores[name], dtype=float))
        colour = ("black" if name == first else colormaps["tab20"](i % 20)) if many else None
        ax.step(recall, precision, where="post", lw=2.2 if name == first else 1.0, color=colour, label=f"{name} (AP {ranked[name]:.3f})")
    ax.axhline(labels.mean(), color="grey", lw=0.8, ls=":", label=f"chance ({labels.mean():.2f})")
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02), title=title)
    if many:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8)
    else:
        ax.legend(loc="lower left", fontsize=8)
    return _save(fig, path)


def plot_position_weights(
    weights: Sequence[Sequence[float]],
    labels: Sequence[int],
    path,
    site_spans: Optional[Sequence[tuple]] = None,
    row_names: Optional[Sequence[str]] = None,
    title: str = "MIL position weights",
) -> Path:
    """
    One row per example (positives first), columns = mRNA nucleotides (nt coordinates, no [MRNA_CLS]).
    `weights` may be ragged (one array per example); padding is blank. `site_spans` = (start, end)
    inclusive or (-1, -1); true sites get a box.
    """
    labels = np.asarray(labels)
    if len(weights) != len(labels) or not len(labels):
        raise ValueError(f"need one weight row per label, got {len(weights)} rows and {len(labels)} labels")
    order = np.argsort(-labels, kind="stable")
    width = max(len(w) for w in weights)
    grid = np.full((len(order), width), np.nan)
    for r, i in enumerate(order):
        grid[r, : len(weights[i])] = np.asarray(weights[i], dtype=float)
    fig = Figure(figsize=(min(2 + width / 25, 16), 1 + 0.32 * len(order)))
    ax = fig.subplots()
    image = ax.imshow(np.ma.masked_invalid(grid), aspect="auto", cmap="viridis", interpolation="nearest")
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01, label="weight")
    for r, i in enumerate(order):
        if site_spans is not None and site_spans[i][0] >= 0:
            start, end = site_spans[i]
            ax.add_patch(Rectangle((start - 0.5, r - 0.5), end - start + 1, 1, fill=False, ec="red", lw=1.2))
    names = [row_names[i] if row_names is not None else f"#{i}" for i in order]
    ax.set_yticks(range(len(order)), [f"{'+' if labels[i] else '-'} {n}" for i, n in zip(order, names)], fontsize=7)
    ax.set(xlabel="mRNA position (nt)", title=title + " (red: true seed site)")
    return _save(fig, path)


def plot_ism(delta, sequence: str, path, site_span: Optional[tuple] = None, title: str = "in-silico mutagenesis") -> Path:
    """
    `delta[i, b]` = change of binding probability when position i is mutated to ISM_BASES[b] (0 for the
    reference base). Diverging colours centred at 0; x ticks are the reference sequence.
    """
    delta = np.asarray(delta, dtype=float)
    if delta.ndim != 2 or delta.shape != (len(sequence), len(ISM_BASES)):
        raise ValueError(f"delta must have shape ({len(sequence)}, {len(ISM_BASES)}), got {delta.shape}")
    limit = float(np.nanmax(np.abs(delta))) or 1.0
    fig = Figure(figsize=(min(2 + len(sequence) / 6, 24), 2.6))
    ax = fig.subplots()
    image = ax.imshow(delta.T, aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01, label="Δ P(binding)")
    step = max(1, len(sequence) // 120)
    ax.set_xticks(range(0, len(sequence), step), list(sequence[::step]), fontsize=6 if step == 1 else 7)
    ax.set_yticks(range(len(ISM_BASES)), list(ISM_BASES))
    if site_span is not None and site_span[0] >= 0:
        ax.add_patch(Rectangle((site_span[0] - 0.5, -0.5), site_span[1] - site_span[0] + 1, len(ISM_BASES),
                               fill=False, ec="black", lw=1.5))
    ax.set(xlabel="mRNA position" + (f" (every {step} nt)" if step > 1 else ""), ylabel="mutated to", title=title)
    return _save(fig, path)
