"""`MirLMTrainer`: the Hugging Face Trainer with mirLM's labels, collator, metrics and temperature schedule."""

from functools import partial

import numpy as np
import torch
from transformers import EvalPrediction, Trainer

from modeling.mirlm.modeling_mirlm import best_spans
from trainers.mirlm.callbacks import TemperatureAnnealingCallback
from trainers.mirlm.metrics import mirlm_metrics

LABEL_NAMES = ["labels", "start_positions", "end_positions"]


def compute_trainer_metrics(prediction: EvalPrediction, threshold: float = 0.5, max_span_length: int = 24) -> dict:
    """
    Metrics on Trainer's gathered predictions (binding_logit, pos_weights, start_logits, end_logits); a span is at
    most `max_span_length` tokens (the model's `mirna_max_len`: a site is never longer than its miRNA).
    """
    binding_logit, pos_weights, start_logits, end_logits = prediction.predictions
    labels, start_positions, end_positions = prediction.label_ids
    probs = 1.0 / (1.0 + np.exp(-binding_logit.astype(np.float64)))
    start, end = best_spans(torch.from_numpy(start_logits).float(), torch.from_numpy(end_logits).float(), max_span_length)
    has_site = start_positions >= 0
    # token positions -> nucleotide positions ([MRNA_CLS] is token 0); -1 = no site.
    return mirlm_metrics(
        labels.astype(np.int64), probs, threshold,
        true_start=np.where(has_site, start_positions - 1, -1), true_end=np.where(has_site, end_positions - 1, -1),
        pred_start=start.numpy() - 1, pred_end=end.numpy() - 1, pointer=pos_weights.argmax(axis=1) - 1,
    )


class MirLMTrainer(Trainer):
    """
    Trainer for `MirLMForTargetPrediction`. Beyond the stock Trainer it
    - passes the three label tensors (bag label, span start, span end) and keeps the raw sequence columns,
      which the collator tokenises;
    - reports binding and localisation metrics at every evaluation (`eval_average_precision`, ...);
    - anneals the MIL temperature with `TemperatureAnnealingCallback` (disable with `anneal_temperature=None`);
    - with `positive_fraction`, draws training rows with replacement so that this share of them are positives
      (published training sets are 1:10), one epoch still being as many rows as the training set.
    """

    def __init__(self, model=None, args=None, *, anneal_temperature: tuple = (0.2, 0.05), positive_fraction=None, **kwargs):
        if positive_fraction is not None and not 0.0 < positive_fraction < 1.0:
            raise ValueError(f"positive_fraction must lie strictly between 0 and 1, got {positive_fraction}")
        self.positive_fraction = positive_fraction
        if args is not None:
            args.label_names = LABEL_NAMES
            args.remove_unused_columns = False  # raw strings go to the collator
        if model is not None:
            kwargs.setdefault("compute_metrics", partial(compute_trainer_metrics, max_span_length=model.config.mirna_max_len))
        callbacks = list(kwargs.pop("callbacks", None) or [])
        if anneal_temperature:
            callbacks.append(TemperatureAnnealingCallback(*anneal_temperature))
        super().__init__(model, args, callbacks=callbacks, **kwargs)

    def _get_train_sampler(self, train_dataset=None):
        if self.positive_fraction is None:
            return super()._get_train_sampler(train_dataset)
        dataset = self.train_dataset if train_dataset is None else train_dataset
        labels = np.asarray(dataset["label"])
        positives = int(labels.sum())
        if positives in (0, len(labels)):
            raise ValueError(f"positive_fraction needs both classes in the training set; it has {positives} positives of {len(labels)}")
        weights = np.where(labels == 1, self.positive_fraction / positives, (1 - self.positive_fraction) / (len(labels) - positives))
        generator = torch.Generator().manual_seed(self.args.seed)
        return torch.utils.data.WeightedRandomSampler(torch.as_tensor(weights), num_samples=len(labels), replacement=True, generator=generator)
