"""TissueBERT training and evaluation: Trainer, logistic-regression baseline, metrics, plots, diagnostics, prediction."""

from .baseline import LogisticRegressionBaseline
from .metrics import compute_trainer_metrics, tissue_metrics

__all__ = ["LogisticRegressionBaseline", "compute_trainer_metrics", "tissue_metrics"]
