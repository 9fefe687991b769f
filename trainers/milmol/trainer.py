"""
`MILMolTrainer`: the Hugging Face Trainer with milmol's targets, rare-task oversampling, per-task metrics and a
cross-validated hyper-parameter-search objective.
"""

import numpy as np
import torch
from torch.utils.data import WeightedRandomSampler
from transformers import EvalPrediction

from trainers.base import FamilyTrainer
from trainers.milmol.metrics import hpo_score, task_metrics

LABEL_NAMES = ["labels", "label_weights", "aux_abs", "aux_abs_mask", "aux_fluo", "aux_fluo_mask"]


def sample_weights(labels: np.ndarray, rare_oversample_mult: float, rare_prev_thr: float, sample_weight_cap: float) -> np.ndarray:
    """
    The seed's sampler weights: a task is rare when its training prevalence is below `rare_prev_thr`; a molecule
    positive for a rare task gets weight 1 + `rare_oversample_mult`, others 1; weights are capped at
    `sample_weight_cap`.
    """
    labels = np.asarray(labels, dtype=np.float64)
    prevalence = np.nanmean(labels, axis=0)
    rare = prevalence < rare_prev_thr
    positive_rare = (np.nan_to_num(labels[:, rare], nan=0.0) == 1).any(axis=1) if rare.any() else np.zeros(len(labels), bool)
    weights = 1.0 + rare_oversample_mult * positive_rare
    return np.minimum(weights, sample_weight_cap)


def compute_trainer_metrics(prediction: EvalPrediction, task_names) -> dict:
    """Per-task AP / ROC AUC, macro and worst-task AP from Trainer's gathered logits and labels."""
    logits = prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
    labels = prediction.label_ids[0] if isinstance(prediction.label_ids, tuple) else prediction.label_ids
    metrics = task_metrics(labels, logits, task_names)
    return {k: v for k, v in metrics.items() if v is not None}


class MILMolTrainer(FamilyTrainer):
    """
    Trainer for `MILMolForPropertyPrediction`. Beyond the stock Trainer it
    - passes the targets (labels, label_weights, auxiliary targets and their masks) as label tensors;
    - draws training batches with `WeightedRandomSampler` from `sample_weights` (rare-task oversampling);
    - reports per-task AP, `eval_macro_ap`, `eval_min_ap` (use metric_for_best_model="macro_ap");
    - under `hyperparameter_search` with `cv_folds`, trains every trial on each (train, validation) fold and
      returns the mean fold score (1 - min_w) * macro_ap + min_w * min_ap; every evaluation is reported to the
      pruner (steps numbered across folds).
    """

    family_label_names = LABEL_NAMES

    def __init__(self, model=None, args=None, *, rare_oversample_mult: float = 0.0, rare_prev_thr: float = 0.05,
                 sample_weight_cap: float = 10.0, min_w: float = 0.3, cv_folds=None, task_names=None, **kwargs):
        task_names = task_names or (model.config.task_names if model is not None else None)
        if task_names is not None:
            kwargs.setdefault("compute_metrics", lambda p: compute_trainer_metrics(p, task_names))
        self.rare_oversample_mult, self.rare_prev_thr, self.sample_weight_cap = rare_oversample_mult, rare_prev_thr, sample_weight_cap
        self.min_w, self.cv_folds, self._report_step = min_w, cv_folds, 0
        super().__init__(model, args, **kwargs)

    def objective_from_metrics(self, metrics: dict) -> float:
        """`compute_objective` of the hyper-parameter search: the seed's fold score on the eval_ metrics."""
        return hpo_score(metrics, self.min_w, prefix="eval_")

    def _get_train_sampler(self, train_dataset=None):
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        weights = sample_weights(np.asarray(dataset["labels"], dtype=np.float64), self.rare_oversample_mult,
                                 self.rare_prev_thr, self.sample_weight_cap)
        generator = torch.Generator().manual_seed(self.args.seed)
        return WeightedRandomSampler(torch.as_tensor(weights, dtype=torch.double), num_samples=len(weights),
                                     replacement=True, generator=generator)

    def _report_to_hp_search(self, trial, step, metrics):
        self._report_step += 1
        super()._report_to_hp_search(trial, self._report_step, metrics)

    def train(self, resume_from_checkpoint=None, trial=None, **kwargs):
        if trial is None or not self.cv_folds:
            return super().train(resume_from_checkpoint=resume_from_checkpoint, trial=trial, **kwargs)
        self._report_step, scores, output = 0, [], None
        for train_fold, validation_fold in self.cv_folds:
            self.train_dataset, self.eval_dataset = train_fold, validation_fold
            output = super().train(trial=trial, **kwargs)  # model_init(trial) builds a fresh model per fold
            scores.append(self.compute_objective(self.evaluate()))
        self.objective = float(np.mean(scores))
        return output
