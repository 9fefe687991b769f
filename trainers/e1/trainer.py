"""`E1ContrastiveTrainer`: Trainer for `E1ForContrastiveBinding` (views collator, prototypes, diagnostics, metrics)."""

from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch.utils.data import DataLoader
from transformers import EvalPrediction, Trainer, TrainerCallback

from datasets_scripts.e1.batching import TokenBudgetBatchSampler, row_tokens
from trainers.e1.metrics import binding_metrics

LABEL_NAMES = ["binding_labels"]
DIAGNOSTICS = ("loss_contrastive", "loss_prototype", "loss_bce", "loss_mlm", "pull_mask_ratio", "sim_pos", "sim_neg")
HEADS_FILE = "e1_heads.safetensors"


def unwrap(model):
    """The E1ForContrastiveBinding inside a PEFT / DDP wrapper."""
    model = getattr(model, "module", model)
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def save_heads(model, folder) -> Path:
    """The frozen per-ion prototypes (the heads), next to LoRA adapters or a checkpoint."""
    base = unwrap(model)
    path = Path(folder) / HEADS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({"prototypes": base.prototypes.detach().cpu().contiguous(),
               "prototypes_initialized": base.prototypes_initialized.detach().cpu().reshape(1)},
              str(path), metadata={"ions": ",".join(base.config.ions)})
    return path


def load_heads(model, folder) -> bool:
    path = Path(folder) / HEADS_FILE
    if not path.is_file():
        return False
    heads = load_file(str(path))
    base = unwrap(model)
    base.prototypes.copy_(heads["prototypes"])
    base.prototypes_initialized.fill_(bool(heads["prototypes_initialized"][0]))
    return True


def compute_binding_metrics(prediction: EvalPrediction, ions: list, thresholds: dict) -> dict:
    """Metrics from the Trainer's gathered (N, L, ions) logits and labels (-100 = padding / off-query / unknown)."""
    logits, labels = prediction.predictions, prediction.label_ids
    logits = logits[0] if isinstance(logits, tuple) else logits
    logits, labels = logits.reshape(-1, len(ions)), labels.reshape(-1, len(ions))
    rows = (labels != -100).any(axis=1)
    probs = 1.0 / (1.0 + np.exp(-logits[rows].astype(np.float64)))
    metrics = binding_metrics(labels[rows], probs, ions, thresholds)
    metrics.pop("per_ion")
    return metrics


class HeadsCheckpointCallback(TrainerCallback):
    """Writes the prototypes into every checkpoint (PEFT checkpoints hold the adapters only)."""

    def on_save(self, args, state, control, model=None, **kwargs):
        if state.is_world_process_zero:
            save_heads(model, Path(args.output_dir) / f"checkpoint-{state.global_step}")


class E1ContrastiveTrainer(Trainer):
    """
    Beyond the stock Trainer:
    - evaluation batches come from `eval_collator` (one unmasked view with the first homologs), training batches from
      the views collator; raw protein columns are kept for the collators;
    - before the first step the prototypes are set from the first `prototype_batches` batches of the training set
      (single unmasked view; more batches only while some ion has no binding residue yet); a resumed run reloads
      them from its checkpoint instead;
    - the loss components and prototype diagnostics are logged with the loss (`loss_bce`, `pull_mask_ratio`, ...);
    - evaluation reports AUPRC / HRA / F1 / MCC (mean over ions and per ion); `metric_for_best_model: hra` selects the
      best epoch. Metrics come from predictions gathered over all ranks, so every rank takes the same early-stopping
      decision;
    - under DDP, unused parameters are looked for when a trainable part may get no gradient (MLM head with
      mlm_weight 0);
    - with `max_tokens_per_batch`, every loader (training, evaluation, prototypes) packs proteins by a token budget
      (`datasets_scripts.e1.batching`) instead of a fixed number of proteins.
    """

    accepts_loss_kwargs = False

    def __init__(self, model=None, args=None, *, eval_collator=None, prototype_batches: int = 8,
                 max_tokens_per_batch: int = 0, **kwargs):
        if args is not None:
            args.label_names = LABEL_NAMES
            args.remove_unused_columns = False
            base = unwrap(model)
            mlm_trainable = any(p.requires_grad for p in base.mlm_head.parameters())
            if args.ddp_find_unused_parameters is None and mlm_trainable and base.config.mlm_weight == 0:
                args.ddp_find_unused_parameters = True
        ions = list(unwrap(model).config.ions)
        kwargs.setdefault("compute_metrics", lambda p: compute_binding_metrics(p, ions, {ion: 0.5 for ion in ions}))
        callbacks = list(kwargs.pop("callbacks", None) or []) + [HeadsCheckpointCallback()]
        super().__init__(model, args, callbacks=callbacks, **kwargs)
        self.eval_collator = eval_collator
        self.prototype_batches = prototype_batches
        self.max_tokens_per_batch = max_tokens_per_batch
        self._diagnostics = {}

    # -- data -----------------------------------------------------------------------------------------------
    def _budget_sampler(self, dataset, collator, shuffle: bool) -> TokenBudgetBatchSampler:
        num_context = getattr(collator, "num_context", 0)
        lengths = [row_tokens(s, h, num_context) for s, h in zip(dataset["sequence"], dataset["homologs"])]
        return TokenBudgetBatchSampler(lengths, self.max_tokens_per_batch, views=getattr(collator, "num_variants", 1),
                                       shuffle=shuffle, seed=self.args.seed, names=dataset["id"])

    def _budget_loader(self, dataset, collate_fn, collator, shuffle: bool) -> DataLoader:
        return DataLoader(dataset, batch_sampler=self._budget_sampler(dataset, collator, shuffle), collate_fn=collate_fn,
                          num_workers=self.args.dataloader_num_workers, pin_memory=self.args.dataloader_pin_memory)

    def get_train_dataloader(self):
        if not self.max_tokens_per_batch:
            return super().get_train_dataloader()
        loader = self._budget_loader(self.train_dataset, self.data_collator, self.data_collator, shuffle=True)
        return self.accelerator.prepare(loader)

    def get_eval_dataloader(self, eval_dataset=None):
        if self.eval_collator is None:
            return super().get_eval_dataloader(eval_dataset)
        if self.max_tokens_per_batch:
            dataset = eval_dataset if eval_dataset is not None else self.eval_dataset
            single_view = lambda rows: {k: v[:, 0] for k, v in self.eval_collator(rows).items()}  # noqa: E731
            return self.accelerator.prepare(self._budget_loader(dataset, single_view, self.eval_collator, shuffle=False))
        # one view: drop the view axis, so Trainer can pad (B, L, ions) predictions of batches of different L
        single_view = lambda rows: {k: v[:, 0] for k, v in self.eval_collator(rows).items()}  # noqa: E731
        train_collator, self.data_collator = self.data_collator, single_view
        try:
            return super().get_eval_dataloader(eval_dataset)
        finally:
            self.data_collator = train_collator

    # -- prototypes -----------------------------------------------------------------------------------------
    @torch.no_grad()
    def initialize_prototypes(self) -> dict:
        """Set the prototypes from the first `prototype_batches` training batches (same batches on every rank)."""
        base = unwrap(self.model)
        collate = self.eval_collator or self.data_collator
        if self.max_tokens_per_batch:
            loader = self._budget_loader(self.train_dataset, collate, collate, shuffle=True)  # mixed lengths
        else:
            loader = DataLoader(self.train_dataset, batch_size=self.args.per_device_train_batch_size, shuffle=False,
                                collate_fn=collate)
        was_training = base.training
        base.eval()
        device = next(base.parameters()).device
        totals = None
        for index, batch in enumerate(loader):
            if index >= self.prototype_batches and bool((totals[1] > 0).all()):
                break  # past `prototype_batches`, read on only while an ion has no binding residue yet
            batch = {k: v.to(device) for k, v in batch.items()}
            sums = base.positive_embedding_sums(batch)
            totals = sums if totals is None else tuple(a + b for a, b in zip(totals, sums))
        base.set_prototypes(*totals)
        base.train(was_training)
        return dict(zip(base.config.ions, totals[1].tolist()))

    def train(self, resume_from_checkpoint=None, **kwargs):
        if not (resume_from_checkpoint and load_heads(self.model, resume_from_checkpoint)):
            if not bool(unwrap(self.model).prototypes_initialized):
                counts = self.initialize_prototypes()
                self.log({f"prototype_positives_{ion.lower()}": n for ion, n in counts.items()})
        return super().train(resume_from_checkpoint=resume_from_checkpoint, **kwargs)

    # -- loss and diagnostics -------------------------------------------------------------------------------
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(**inputs)
        if model.training:
            for name in DIAGNOSTICS:
                value = outputs.get(name)
                if value is not None:
                    total, count = self._diagnostics.get(name, (0.0, 0))
                    self._diagnostics[name] = (total + float(value.detach()), count + 1)
        return (outputs.loss, outputs) if return_outputs else outputs.loss

    def log(self, logs: dict, *args, **kwargs):
        if "loss" in logs and self._diagnostics:
            logs.update({name: round(total / count, 5) for name, (total, count) in self._diagnostics.items()})
            self._diagnostics = {}
        super().log(logs, *args, **kwargs)
