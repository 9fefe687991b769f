"""The figure of a run: mutation-fact accuracies of the model next to the baselines."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from trainers.plots import save_figure  # noqa: E402

FACTS = [("wild_type_accuracy", "wild-type\nresidue"), ("position_accuracy", "position"),
         ("mutant_accuracy", "mutant\nresidue"), ("effect_accuracy", "effect\nclass"), ("fact_accuracy", "all four")]


def plot_fact_accuracy(report: dict, path, labels: dict) -> Path:
    """Grouped bars: one group per fact, one bar per system in `labels` ({report key: legend name})."""
    systems = [name for name in labels if name in report]
    fig, ax = plt.subplots(figsize=(8, 3.4))
    width = 0.8 / max(len(systems), 1)
    for i, name in enumerate(systems):
        values = [report[name].get(key) or 0.0 for key, _ in FACTS]
        ax.bar([x + i * width for x in range(len(FACTS))], values, width, label=labels[name])
    ax.set_xticks([x + width * (len(systems) - 1) / 2 for x in range(len(FACTS))], [label for _, label in FACTS])
    ax.set(ylim=(0, 1.05), ylabel="accuracy", title="mutation facts named correctly (held-out proteins)")
    ax.legend(fontsize=8, loc="lower left")
    return save_figure(fig, path)
