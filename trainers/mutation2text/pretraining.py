"""
Adapter pre-training (the first part of stage 1, BLIP-2-style: no LLM in the loop). The gated cross-attention, the
site context, the resampler and the projector learn to put what the description says about the mutation - its
effect class, parsed from the answer with the parser the fact metric uses (`metrics.extract_facts`) - into the
media tokens, on many more mutations than the LLM stages can afford to read (one adapter step costs milliseconds,
one LLM step seconds). Then stage 1 and stage 2 train through the LLM as before.

The head speaks the LLM's language: every media token is scored by its cosine similarity with the LLM's own (frozen)
input embedding of each class's first distinctive token (" loss" of "loss of function", " neutral", ...), and pulled
towards the true class's embedding (relative squared distance), so the LLM receives something it can read as that
word from the first stage-1 step:

    loss = cross_entropy(scale * mean_k cos(media_k, class embeddings), class) + mean_k |media_k - e_class|^2 / |e|^2

Data: the embedded generator's `pretrain_data_size` set (new proteins, seed `dataset_seed + 1`, wild types of the
validation / test splits removed) plus the training split; with `--data`, the training split's rows whose
description names a class. The frozen encoder's states of every distinct sequence are computed once and held in
memory (float16; up to `IN_MEMORY_STATES_LIMIT`, beyond which the encoder runs per batch), or the rows' precomputed
`wild_type_embeds` / `mutant_embeds` are read.

The probe on its own (no LLM stages), as `python -m trainers.mutation2text.pretraining --preset demo [options of
trainers.run_mutation2text]`: prints the pre-trained adapters' effect accuracy on the validation and test splits.
"""

import json
import logging
import math
from dataclasses import replace
from pathlib import Path
from typing import Optional

import torch
import torch.nn.functional as F
from datasets import Dataset
from safetensors.torch import load_file, save_file
from torch import nn
from tqdm.auto import tqdm
from transformers import Trainer

from datasets_scripts.mutation2text.generator import generate_splits
from datasets_scripts.mutation2text.properties import EFFECTS
from modeling.mutation2text.modeling_mutation2text import select_protein_states
from modeling.mutation2text.processing_mutation2text import PROTEIN_PAD_ID

from .build import adapter_state, freeze_for_stage
from .metrics import extract_facts

logger = logging.getLogger("biohf.mutation2text")
ADAPTERS_FILE = "pretrained_adapters.safetensors"
REPORT_FILE = "probe.json"
IN_MEMORY_STATES_LIMIT = 2 * 2**30  # bytes of float16 encoder states held in memory; beyond, the encoder runs per batch


def class_token_ids(processor, classes=EFFECTS) -> list:
    """Per class, the id of the first token of " <class>" at which all classes differ (" loss", " impaired", ...)."""
    tokenized = [processor(" " + name, add_special_tokens=False)["input_ids"] for name in classes]
    for position in range(min(map(len, tokenized))):
        ids = [tokens[position] for tokens in tokenized]
        if len(set(ids)) == len(ids):
            return ids
    raise ValueError(f"the tokenizer gives the classes {classes} no position where all their tokens differ")


def effect_labels(answers: list, classes=EFFECTS) -> list:
    """The class index of each description ("Effect: <class>", as the fact metric reads it), -1 where none."""
    labels = []
    for answer in answers:
        effect = extract_facts(answer)["effect"]
        labels.append(classes.index(effect) if effect in classes else -1)
    return labels


class Mutation2TextAdapterPretrainingModel(nn.Module):
    """The adapter path of a `Mutation2TextModel` (shared modules, not copies) + the class head; no LLM."""

    def __init__(self, model, class_embeddings: torch.Tensor):
        super().__init__()
        inner = model.model
        object.__setattr__(self, "_inner", inner)  # not a submodule: the LLM stays out of checkpoints
        self.protein_encoder = inner.protein_encoder  # frozen; registered so that it moves with the adapters
        self.adapters = nn.ModuleDict({name: getattr(inner, name) for name in
                                       ("gated_cross_attention", "site_context", "resampler", "projector")
                                       if getattr(inner, name) is not None})
        self.register_buffer("class_embeddings", class_embeddings.detach().clone().float())
        # CLIP's initial temperature; shape (1,), not a scalar, so that DeepSpeed can broadcast it
        self.logit_scale = nn.Parameter(torch.tensor([math.log(1 / 0.07)]))

    def class_logits(self, features: torch.Tensor) -> torch.Tensor:
        classes = F.normalize(self.class_embeddings.to(features.device), dim=-1)
        cosine = F.normalize(features.float(), dim=-1) @ classes.T
        return self.logit_scale.exp().clamp(max=100) * cosine.mean(1)

    def class_loss(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the cosine logits + relative squared distance to the true class's token embedding."""
        target = self.class_embeddings.to(features.device)[labels][:, None]
        distance = ((features.float() - target) ** 2).sum(-1) / (target ** 2).sum(-1)
        return F.cross_entropy(self.class_logits(features), labels) + distance.mean()

    def forward(self, wild_type_input_ids=None, mutant_input_ids=None, wild_type_embeds=None, mutant_embeds=None,
                protein_attention_mask=None, labels=None) -> dict:
        features = self._inner.get_protein_features(  # (batch, media tokens, LLM width)
            wild_type_input_ids, mutant_input_ids, wild_type_embeds, mutant_embeds, protein_attention_mask)
        return {"loss": None if labels is None else self.class_loss(features, labels),
                "logits": self.class_logits(features)}


class EncodedProteins:
    """The frozen encoder's states of every distinct sequence, computed once and held in memory as float16 (a
    wild type is shared by all its mutants, and every epoch reads the same states)."""

    def __init__(self, model, processor, sequences, batch_size: int = 64):
        encoder, layer = model.model.protein_encoder, model.config.mm_protein_select_layer
        unique = sorted(set(sequences), key=len)
        self.states = {}
        was_training = encoder.training
        encoder.eval()
        with torch.no_grad():
            for start in tqdm(range(0, len(unique), batch_size), desc="protein states (adapter pre-training)"):
                chunk = unique[start:start + batch_size]
                ids = nn.utils.rnn.pad_sequence([torch.tensor(processor.encode_protein(s)) for s in chunk],
                                                batch_first=True, padding_value=PROTEIN_PAD_ID)
                states = select_protein_states(encoder, layer, ids, (ids != PROTEIN_PAD_ID).long())
                for sequence, row in zip(chunk, states):
                    self.states[sequence] = row[: len(sequence) + 2].to(torch.float16)
        encoder.train(was_training)

    @staticmethod
    def size_in_bytes(model, sequences) -> int:
        return sum(len(s) + 2 for s in set(sequences)) * model.config.protein_config.hidden_size * 2

    def __getitem__(self, sequence: str) -> torch.Tensor:
        return self.states[sequence].float()


class AdapterPretrainingCollator:
    """Rows (wild_type, mutant, labels[, wild_type_embeds, mutant_embeds]) -> protein inputs + class labels; with
    `proteins` (an `EncodedProteins`), the states are looked up instead of recomputed."""

    def __init__(self, processor, proteins: Optional[EncodedProteins] = None):
        self.processor = processor
        self.proteins = proteins

    def __call__(self, rows: list) -> dict:
        batch = {"labels": torch.tensor([row["labels"] for row in rows], dtype=torch.long)}
        if "wild_type_embeds" in rows[0] or self.proteins is not None:
            def states(row, name):
                if name in row:
                    return torch.as_tensor(row[name], dtype=torch.float32)
                return self.proteins[row["wild_type" if name == "wild_type_embeds" else "mutant"]]

            values = {name: [states(row, name) for row in rows] for name in ("wild_type_embeds", "mutant_embeds")}
            lengths = [len(v) for v in values["wild_type_embeds"]]
            for name, tensors in values.items():
                batch[name] = nn.utils.rnn.pad_sequence(tensors, batch_first=True)
        else:
            for column, source in (("wild_type_input_ids", "wild_type"), ("mutant_input_ids", "mutant")):
                ids = [torch.tensor(self.processor.encode_protein(row[source])) for row in rows]
                batch[column] = nn.utils.rnn.pad_sequence(ids, batch_first=True, padding_value=PROTEIN_PAD_ID)
            lengths = [len(row["wild_type"]) + 2 for row in rows]
        length = max(lengths)
        batch["protein_attention_mask"] = (torch.arange(length)[None, :] < torch.tensor(lengths)[:, None]).long()
        return batch


def _labelled(dataset: Dataset) -> Dataset:
    columns = [c for c in ("wild_type", "mutant", "wild_type_embeds", "mutant_embeds") if c in dataset.column_names]
    labelled = dataset.select_columns(columns).add_column("labels", effect_labels(dataset["answer"]))
    return labelled.filter(lambda label: label >= 0, input_columns="labels")


def pretraining_data(splits, args) -> Dataset:
    """The pre-training rows (see the module docstring), with their class labels; rows without a class dropped."""
    train = _labelled(splits["train"])
    if args.data is not None or args.train_file or not args.pretrain_data_size:
        return train
    held_out = set(splits["validation"]["wild_type"]) | set(splits["test"]["wild_type"])
    extra = generate_splits(args.pretrain_data_size, args.dataset_seed + 1)["train"]
    keep = [i for i, sequence in enumerate(extra["wild_type"]) if sequence not in held_out]
    extra = Dataset.from_dict({k: [v[i] for i in keep] for k, v in extra.items()})
    from datasets import concatenate_datasets

    return concatenate_datasets([train.select_columns(["wild_type", "mutant", "labels"]), _labelled(extra)])


@torch.no_grad()
def probe_accuracy(head: Mutation2TextAdapterPretrainingModel, dataset: Dataset, collator, batch_size: int = 64) -> dict:
    """Effect accuracy of the head (argmax of its class logits) on `dataset`, overall and per class."""
    was_training = head.training
    head.eval()
    device = next(head.parameters()).device
    predicted = []
    for start in range(0, len(dataset), batch_size):
        batch = collator([dataset[i] for i in range(start, min(start + batch_size, len(dataset)))])
        batch = {k: v.to(device) for k, v in batch.items() if k != "labels"}
        predicted += head(**batch)["logits"].argmax(-1).tolist()
    head.train(was_training)
    labels = list(dataset["labels"])
    report = {"n": len(labels), "effect_accuracy": sum(p == y for p, y in zip(predicted, labels)) / max(len(labels), 1)}
    for index, name in enumerate(EFFECTS):
        rows = [p for p, y in zip(predicted, labels) if y == index]
        if rows:
            report[name] = {"n": len(rows), "accuracy": sum(p == index for p in rows) / len(rows)}
    return report


def class_head(model, processor) -> Mutation2TextAdapterPretrainingModel:
    """The pre-training head on `model`'s adapters: the LLM's class-token embeddings, CLIP's initial temperature."""
    embeddings = model.get_input_embeddings().weight.detach()
    return Mutation2TextAdapterPretrainingModel(model, embeddings[class_token_ids(processor)])


def class_readout(model, processor, dataset) -> dict:
    """How well the media tokens of `model` still name the effect class (argmax of their cosine with the LLM's class
    token embeddings) on `dataset`, e.g. after stage 1."""
    return probe_accuracy(class_head(model, processor), _labelled(dataset), AdapterPretrainingCollator(processor))


class WithEffectLabels:
    """Wraps a collator: adds `effect_labels` (class index of each row's answer, -1 where none) for the auxiliary
    class loss of stage 1 (`Mutation2TextStage1Trainer(class_head=...)`)."""

    def __init__(self, collator):
        self.collator = collator

    def __call__(self, rows: list) -> dict:
        batch = self.collator(rows)
        batch["effect_labels"] = torch.tensor(effect_labels([row["answer"] for row in rows]), dtype=torch.long)
        return batch


def pretrain_adapters(model, processor, splits, args, training_args, state: Path):
    """Pre-train the adapters of `model` in place (or load the result of a finished run from `state`); returns the
    probe report (validation / test effect accuracy; None when there is nothing to learn from) and the log history."""
    folder = Path(state) / "adapter-pretraining"
    if args.resume and (folder / ADAPTERS_FILE).is_file():
        logger.info("adapter pre-training: finished before, loading %s", folder / ADAPTERS_FILE)
        missing, unexpected = model.load_state_dict(load_file(folder / ADAPTERS_FILE), strict=False)
        if unexpected or any(k.startswith(tuple(adapter_state(model))) for k in missing):
            raise ValueError(f"{folder / ADAPTERS_FILE} does not match this model: unexpected {unexpected}")
        return json.loads((folder / REPORT_FILE).read_text()), []
    data = pretraining_data(splits, args)
    if len(data) == 0:
        logger.warning("adapter pre-training skipped: no training description names an effect class (%s)", EFFECTS)
        return None, []
    freeze_for_stage(model, 1)
    head = class_head(model, processor)
    proteins = None
    sequences = list(data["wild_type"]) + list(data["mutant"])
    if "wild_type_embeds" not in data.column_names and model.model.protein_encoder is not None \
            and EncodedProteins.size_in_bytes(model, sequences) <= IN_MEMORY_STATES_LIMIT:
        held_out = [list(splits[name][column]) for name in ("validation", "test") for column in ("wild_type", "mutant")]
        proteins = EncodedProteins(model, processor, sequences + sum(held_out, []))
    collator = AdapterPretrainingCollator(processor, proteins)
    logger.info("adapter pre-training on %d mutations (classes %s)", len(data),
                {name: list(data["labels"]).count(i) for i, name in enumerate(EFFECTS)})
    # the run's TrainingArguments (schedule, checkpointing, seed, max_steps) with the pre-training's own epochs,
    # learning rate and batch size
    stage_args = replace(training_args, output_dir=str(folder), num_train_epochs=args.pretrain_epochs,
                         learning_rate=args.pretrain_learning_rate, per_device_train_batch_size=args.pretrain_batch_size,
                         remove_unused_columns=False, label_names=["labels"], metric_for_best_model=None,
                         load_best_model_at_end=False)
    trainer = Trainer(model=head, args=stage_args, train_dataset=data, data_collator=collator)
    from transformers.trainer_utils import get_last_checkpoint

    checkpoint = get_last_checkpoint(str(folder)) if args.resume and folder.is_dir() else None
    trainer.train(resume_from_checkpoint=checkpoint)
    report = {"n_train": len(data), "data_size": args.pretrain_data_size if args.data is None and not args.train_file else "train split",
              "train_runtime_s": trainer.state.log_history[-1].get("train_runtime")}
    for name in ("validation", "test"):
        report[name] = probe_accuracy(head, _labelled(splits[name]), collator)
    if trainer.is_world_process_zero():
        save_file(adapter_state(model), str(folder / ADAPTERS_FILE))
        (folder / REPORT_FILE).write_text(json.dumps(report, indent=2))
    logger.info("adapter pre-training: effect accuracy of the probe %.3f (validation), %.3f (test)",
                report["validation"]["effect_accuracy"], report["test"]["effect_accuracy"])
    return report, trainer.state.log_history


def main(argv=None) -> dict:
    from transformers import TrainingArguments

    from modeling.mutation2text.configuration_mutation2text import Mutation2TextConfig
    from trainers.arguments import parse_config_overrides, parse_training_arguments

    from .arguments import Mutation2TextArguments, load_splits
    from .build import build_model

    args, training_args = parse_training_arguments("mutation2text", (Mutation2TextArguments, TrainingArguments), argv)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    torch.manual_seed(training_args.seed)
    splits = load_splits(args)
    overrides = parse_config_overrides(args.config_overrides, Mutation2TextConfig)
    model, processor = build_model(args.preset, args.language_model, args.protein_encoder, **overrides)
    report, _ = pretrain_adapters(model, processor, splits, args, training_args, Path(training_args.output_dir))
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
