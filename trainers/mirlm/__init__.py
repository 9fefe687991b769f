"""mirLM evaluation: seed-match baseline, metrics, figures."""

from .baseline import SITE_SCORES, SeedMatchBaseline
from .metrics import flatten_metrics, mirlm_metrics
from .plots import plot_ism, plot_position_weights, plot_pr_curves

__all__ = [
    "SITE_SCORES",
    "SeedMatchBaseline",
    "flatten_metrics",
    "mirlm_metrics",
    "plot_ism",
    "plot_position_weights",
    "plot_pr_curves",
]
