"""`TissueBERTTrainer`: the Hugging Face Trainer with TissueBERT's collator, labels and metrics."""

from functools import partial

from datasets_scripts.tissuebert import TissueBERTDataCollator
from trainers.base import FamilyTrainer
from trainers.tissuebert.metrics import compute_mixture_metrics, compute_trainer_metrics


class TissueBERTTrainer(FamilyTrainer):
    """
    Trainer for every TissueBERT model kind. Beyond the stock Trainer it collates sample rows (region means) or
    region rows (DNA tokens + states) with `TissueBERTDataCollator`, keeps the dataset's extra columns away from
    the model, and reports accuracy / macro-F1 / top-3 accuracy at every evaluation (`eval_accuracy`, ...), or for the mixture
    model the mean absolute error of the proportions (`eval_mae`).
    """

    def __init__(self, model=None, args=None, **kwargs):
        kwargs.setdefault("data_collator", TissueBERTDataCollator())
        if model is not None and model.config.model_kind == "mixture":
            kwargs.setdefault("compute_metrics", compute_mixture_metrics)  # eval_mae of the proportions
        elif model is not None:
            kwargs.setdefault("compute_metrics", partial(compute_trainer_metrics, num_labels=model.config.num_labels))
        super().__init__(model, args, **kwargs)
