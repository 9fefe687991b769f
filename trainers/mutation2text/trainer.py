"""
The two training stages.

    Mutation2TextStage1Trainer   `Trainer`: the language model and the protein encoder frozen; the gated
                                 cross-attention, resampler and projector learn to turn the protein pair into
                                 tokens the (frozen) LLM reads. Loss: the model's own, on the answer tokens.
    Mutation2TextSFTTrainer      TRL `SFTTrainer`: LoRA on the language model through PEFT (`peft_config`), the
                                 stage-1 modules frozen. TRL's fused LM head computes the loss on the positions whose
                                 label is not -100, i.e. the answer (the collator masks the prompt).

Both keep the raw columns for the collator (`remove_unused_columns=False`) and report the gate values.
"""

import torch
from transformers import TrainerCallback
from trl import SFTConfig, SFTTrainer

from trainers.base import FamilyTrainer

from .build import freeze_for_stage

LORA_TARGETS = r".*model\.layers\.\d+\.(self_attn\.(q_proj|k_proj|v_proj|o_proj)|mlp\.(gate_proj|up_proj|down_proj))"


class GateLoggingCallback(TrainerCallback):
    """Logs tanh of the gated cross-attention gates: how far the mutant has started to read the wild type."""

    def on_log(self, args, state, control, logs=None, model=None, **kwargs):
        if logs is None or model is None:
            return
        inner = model.get_base_model() if hasattr(model, "get_base_model") else model
        for i, layer in enumerate(getattr(inner.model, "gated_cross_attention", [])):
            logs[f"gca{i}_attention_gate"] = round(float(torch.tanh(layer.attention_gate.detach())), 5)
            logs[f"gca{i}_feed_forward_gate"] = round(float(torch.tanh(layer.feed_forward_gate.detach())), 5)


class Mutation2TextStage1Trainer(FamilyTrainer):
    """
    Stage 1 (adapters). `train_protein_encoder=True` also trains the encoder (only sensible without embeddings cache).
    With `class_head` (the adapter pre-training head, `pretraining.class_head`) and batches holding `effect_labels`
    (`pretraining.WithEffectLabels`), the pre-training objective stays on as an auxiliary loss, weighted by
    `class_loss_weight`: training through the frozen LLM otherwise turns the media tokens into a soft prompt for the
    description template and washes out the class they carried.
    """

    def __init__(self, model=None, args=None, *, train_protein_encoder: bool = False, class_head=None,
                 class_loss_weight: float = 1.0, **kwargs):
        self.class_head, self.class_loss_weight = class_head, class_loss_weight
        if model is not None:
            trainable = freeze_for_stage(model, 1, train_protein_encoder)
            if not trainable:
                raise ValueError("stage 1 has nothing to train")
        callbacks = list(kwargs.pop("callbacks", None) or []) + [GateLoggingCallback()]
        super().__init__(model, args, callbacks=callbacks, **kwargs)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        effect_labels = inputs.pop("effect_labels", None)
        outputs = model(**inputs)
        loss = outputs.loss
        if self.class_head is not None and effect_labels is not None and bool((effect_labels >= 0).any()):
            keep = effect_labels >= 0
            loss = loss + self.class_loss_weight * self.class_head.class_loss(outputs.protein_hidden_states[keep],
                                                                              effect_labels[keep])
        return (loss, outputs) if return_outputs else loss


def sft_config(training_args, **overrides) -> SFTConfig:
    """An `SFTConfig` with the values of `training_args` (a TrainingArguments) and what our collator needs."""
    values = {k: v for k, v in training_args.to_dict().items() if k in SFTConfig.__dataclass_fields__}
    values = {k: v for k, v in values.items() if not k.startswith("_") and k not in ("push_to_hub_token",)}
    values.update(
        remove_unused_columns=False,
        dataset_kwargs={"skip_prepare_dataset": True},
        gradient_checkpointing=False,
        packing=False,
        max_length=None,
        label_names=["labels"],
    )
    values.update(overrides)
    return SFTConfig(**values)


class Mutation2TextSFTTrainer(SFTTrainer):
    """Stage 2 (LoRA) for Mutation2TextForConditionalGeneration, and the text-only baseline for a plain causal LM."""

    def __init__(self, model=None, args=None, *, peft_config=None, **kwargs):
        if model is not None and hasattr(model, "model") and hasattr(model.model, "gated_cross_attention"):
            freeze_for_stage(model, 2)
        callbacks = list(kwargs.pop("callbacks", None) or []) + [GateLoggingCallback()]
        super().__init__(model=model, args=args, peft_config=peft_config, callbacks=callbacks, **kwargs)
