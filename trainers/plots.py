"""Plots every family's training writes: loss and evaluation curves from the Trainer's log history."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_training_curves(log_history: list, path, metric: str = "eval_loss") -> Path:
    """Training loss and `metric` against the step, from `trainer.state.log_history`."""
    train = [(e["step"], e["loss"]) for e in log_history if "loss" in e and "step" in e]
    evals = [(e["step"], e[metric]) for e in log_history if metric in e]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    if train:
        axes[0].plot(*zip(*train), label="train loss")
    if any(name == "eval_loss" for e in log_history for name in e):
        axes[0].plot(*zip(*[(e["step"], e["eval_loss"]) for e in log_history if "eval_loss" in e]), "o-", label="validation loss")
    axes[0].set(xlabel="step", ylabel="loss", title="loss")
    axes[0].legend()
    if evals:
        axes[1].plot(*zip(*evals), "o-", color="tab:green")
    axes[1].set(xlabel="step", ylabel=metric, title=f"validation {metric.removeprefix('eval_')}")
    return save_figure(fig, path)


def save_figure(fig, path, dpi: int = 120) -> Path:
    """Lay `fig` out tightly, write it to `path` and close it; returns the path."""
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
