"""
Train E1ForContrastiveBinding (per-residue Zn / Ca / Mg binding) on the embedded families or real data, evaluate on
the family-disjoint test split next to the motif-regex baseline and the single-sequence ablation, and leave the
output folder as a complete Hub repository (merged LoRA weights, thresholds in the config).

    python -m trainers.run_e1 --preset demo [--cv 5] [--data ZN=zn.fa,CA=ca.fa --msa_dir msas/] [--base_model Profluent-Bio/E1-150m]
    python -m trainers.run_e1 --preset lmetalsite --train_file ZN_Train_1647.fa,CA_Train_1554.fa,MG_Train_1730.fa \
        --test_file ZN_Test_211.fa,CA_Test_183.fa,MG_Test_235.fa [--msa_dir msas/]

With `--train_file` / `--test_file` (a published benchmark), the ions are the files' ions (file-name prefix, or
ION=path): an ion the code has never heard of gets its own prototype and threshold. Validation is carved from the
training proteins by homology group; the test files are scored whole, only to report.

With `--cv K` the train + validation proteins are split into K family-disjoint folds; each fold trains on the others
and predicts its own proteins (out of fold). The per-ion thresholds (`global_thresholds.yaml`) are the best-F1
thresholds on all out-of-fold predictions (`oof_preds.npz`); the fold with the best HRA is exported and tested.
"""

import copy
import json
import logging
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import yaml
from datasets import concatenate_datasets
from transformers import EarlyStoppingCallback, TrainingArguments, set_seed
from transformers.trainer_utils import get_last_checkpoint

from datasets_scripts.e1 import E1ContrastiveCollator, family_folds, homology_groups
from datasets_scripts.e1.builder import build_e1_benchmark, build_e1_dataset, data_ions, truncate_proteins
from hf_models.export import export_repository
from modeling.e1.configuration_e1 import E1Config
from modeling.e1.modeling_e1 import E1ForContrastiveBinding
from modeling.e1.tokenization_e1 import E1Tokenizer
from trainers.arguments import family_config, parse_config_overrides, parse_training_arguments, repository_folder
from trainers.e1.baseline import WindowLogisticBaseline
from trainers.e1.evaluation import choose_thresholds, held_out_report, predict_split
from trainers.e1.lora import DEFAULT_TARGETS, apply_lora, merged, save_adapters_and_heads
from trainers.e1.metrics import binding_metrics
from trainers.e1.plots import plot_diagnostics, plot_pr_curves
from trainers.e1.trainer import E1ContrastiveTrainer
from trainers.plots import plot_training_curves

logger = logging.getLogger("biohf.e1")
HEADLINE_METRICS = ["auprc", "hra", "hra_normalized", "f1", "mcc"]


def headline_metrics(ions) -> list:
    return HEADLINE_METRICS + [f"auprc_{ion.lower()}" for ion in ions]


@dataclass
class E1Arguments:
    preset: str = field(default="demo", metadata={"help": "model + training preset: trainers/configs/e1_<preset>.yaml"})
    data: Optional[str] = field(default=None, metadata={"help": "'ZN=zn.fa,CA=ca.fa' (LMetalSite/GPSite 3-line FASTA), a BioLiP table, or a saved DatasetDict; default: embedded generator"})
    train_file: Optional[str] = field(default=None, metadata={"help": "per-ion training files 'ZN_Train.fa,CA_Train.fa' (ion from the "
                                                                      "file-name prefix) or 'ZN=a.fa,FE=b.fa'; the ions are the files' ions"})
    test_file: Optional[str] = field(default=None, metadata={"help": "per-ion test files (same forms); scored whole, never split or used for a choice"})
    validation_fraction: float = field(default=0.15, metadata={"help": "share of the training proteins carved (by homology group) for validation"})
    msa_dir: Optional[str] = field(default=None, metadata={"help": "folder of <id>.a3m homolog files for real data (datasets_scripts.e1.retrieval)"})
    max_tokens_per_batch: int = field(default=0, metadata={"help": "pack batches by this many tokens (views x homologs + query) "
                                                                   "instead of per_device_*_batch_size proteins (0 = off)"})
    max_residues: int = field(default=0, metadata={"help": "cut queries and homologs longer than this (with a warning naming each "
                                                           "protein); 0 = never cut"})
    window_baseline: bool = field(default=True, metadata={"help": "also fit and report the +-7 one-hot window logistic regression"})
    data_size: str = field(default="demo", metadata={"help": "size of the embedded data: tiny, demo or full"})
    dataset_seed: int = field(default=0, metadata={"help": "seed of the embedded generator and of the family-disjoint split"})
    config_overrides: Optional[str] = field(default=None, metadata={"help": "E1Config changes, e.g. 'mlm_weight=0.2,eps_pos=0.4'"})
    base_model: Optional[str] = field(default=None, metadata={"help": "pretrained E1 to start from (e.g. Profluent-Bio/E1-150m or a folder); default: random init at the preset size"})
    num_variants: int = field(default=2, metadata={"help": "masked views per protein"})
    mask_prob_min: float = field(default=0.05, metadata={"help": "lowest MLM mask probability of a view"})
    mask_prob_max: float = field(default=0.25, metadata={"help": "highest MLM mask probability of a view"})
    num_context: int = field(default=4, metadata={"help": "homologs per view (0 = single sequence)"})
    resample_context_per_view: bool = field(default=True, metadata={"help": "draw an independent homolog context for every view"})
    context_dropout: float = field(default=0.0, metadata={"help": "probability that a protein (or, when resampling, a view) "
                                                                  "trains without homologs"})
    prototype_batches: int = field(default=8, metadata={"help": "training batches whose binding residues set the prototypes (max_samples)"})
    lora_r: int = field(default=0, metadata={"help": "LoRA rank (0 = fine-tune every weight)"})
    lora_alpha: float = field(default=32.0, metadata={"help": "LoRA alpha"})
    lora_dropout: float = field(default=0.05, metadata={"help": "LoRA dropout"})
    lora_target_modules: str = field(default=",".join(DEFAULT_TARGETS), metadata={"help": "comma-separated module names LoRA adapts"})
    cv: int = field(default=0, metadata={"help": "K-fold family-disjoint cross-validation (0 = train/validation/test only)"})
    early_stopping_patience: int = field(default=0, metadata={"help": "evaluations without HRA improvement before stopping (0 = off)"})
    resume: bool = field(default=True, metadata={"help": "continue from the last checkpoint in output_dir if there is one"})


def build_config(args: E1Arguments) -> E1Config:
    if args.train_file and "ions" not in parse_config_overrides(args.config_overrides, E1Config):
        return family_config("e1", args.preset, args.config_overrides, ions=data_ions(args.train_file))
    return family_config("e1", args.preset, args.config_overrides)


def load_splits(args: E1Arguments, ions):
    """The train / validation / test splits: a published benchmark's files, `--data`, or the embedded generator."""
    if args.train_file and args.data:
        raise SystemExit("give either --data or --train_file [--test_file], not both")
    if args.test_file and not args.train_file:
        raise SystemExit("--test_file needs --train_file (the test files are never split to train on)")
    if args.train_file:
        splits = build_e1_benchmark(args.train_file, args.test_file, seed=args.dataset_seed,
                                    validation_fraction=args.validation_fraction, msa_dir=args.msa_dir, ions=ions)
    else:
        splits = build_e1_dataset(args.data, size=args.data_size, seed=args.dataset_seed, ions=ions, msa_dir=args.msa_dir)
    return truncate_proteins(splits, args.max_residues) if args.max_residues else splits


def build_model(config: E1Config, args: E1Arguments):
    if args.base_model:
        overrides = {k: v for k, v in config.to_dict().items() if k in parse_config_overrides(args.config_overrides, E1Config) or k == "ions"}
        model = E1ForContrastiveBinding.from_pretrained(args.base_model, **overrides)
    else:
        model = E1ForContrastiveBinding(config)
    if args.lora_r > 0:
        model = apply_lora(model, args.lora_r, args.lora_alpha, args.lora_dropout, args.lora_target_modules.split(","))
    return model


def collators(tokenizer, config, args: E1Arguments, seed: int) -> tuple:
    train = E1ContrastiveCollator(tokenizer, config.ions, num_variants=args.num_variants, mask_prob_min=args.mask_prob_min,
                                  mask_prob_max=args.mask_prob_max, num_context=args.num_context,
                                  resample_context_per_view=args.resample_context_per_view,
                                  context_dropout=args.context_dropout, seed=seed)
    return train, E1ContrastiveCollator.for_evaluation(tokenizer, config.ions, num_context=args.num_context)


def train_one(config, tokenizer, train_split, eval_split, args: E1Arguments, training_args: TrainingArguments):
    """Train one model (a fold or the single run); returns the trainer with the best model loaded."""
    model = build_model(config, args)
    train_collator, eval_collator = collators(tokenizer, config, args, training_args.seed)
    callbacks = [EarlyStoppingCallback(args.early_stopping_patience)] if args.early_stopping_patience else []
    trainer = E1ContrastiveTrainer(
        model=model, args=training_args, train_dataset=train_split, eval_dataset=eval_split, data_collator=train_collator,
        eval_collator=eval_collator, processing_class=tokenizer, prototype_batches=args.prototype_batches, callbacks=callbacks,
        max_tokens_per_batch=args.max_tokens_per_batch,
    )
    checkpoint = training_args.resume_from_checkpoint
    if checkpoint is None and args.resume and Path(training_args.output_dir).is_dir():
        checkpoint = get_last_checkpoint(training_args.output_dir)
        if checkpoint:
            logger.info("resuming from %s", checkpoint)
    trainer.train(resume_from_checkpoint=checkpoint)
    return trainer


def run_cv(config, tokenizer, splits, args, training_args, output_dir: Path, work: Path) -> tuple:
    """K family-disjoint folds over train + validation: out-of-fold predictions, global thresholds, best fold model."""
    pool = concatenate_datasets([splits["train"], splits["validation"]])
    folds = np.array(family_folds(homology_groups(pool["sequence"], pool["family"]), args.cv, seed=args.dataset_seed))
    ions = list(config.ions)
    oof_probs, oof_labels, fold_results = [None] * len(pool), [None] * len(pool), []
    best = None
    for k in range(args.cv):
        fold_args = copy.deepcopy(training_args)
        fold_args.output_dir = str(Path(training_args.output_dir) / f"fold_{k + 1}")
        train_rows, held_rows = np.flatnonzero(folds != k).tolist(), np.flatnonzero(folds == k).tolist()
        held = pool.select(held_rows)
        trainer = train_one(config, tokenizer, pool.select(train_rows), held, args, fold_args)
        if not trainer.is_world_process_zero():
            continue
        probs, labels = predict_split(unwrap_for_eval(trainer.model), tokenizer, held, args.num_context,
                                      max_tokens_per_batch=args.max_tokens_per_batch)
        for i, p, y in zip(held_rows, probs, labels):
            oof_probs[i], oof_labels[i] = p, y
        fold_metrics = binding_metrics(np.concatenate(labels), np.concatenate(probs), ions, {ion: 0.5 for ion in ions})
        fold_dir = Path(fold_args.output_dir)
        save_adapters_and_heads(trainer.model, fold_dir / "best")
        plots = {"loss": plot_training_curves(trainer.state.log_history, fold_dir / "training_curves.png", "eval_hra"),
                 "pr": plot_pr_curves(np.concatenate(labels), {"E1": np.concatenate(probs)}, ions, fold_dir / "pr_curves.png",
                                      f"fold {k + 1} (out of fold)")}
        fold_results.append({"fold": k + 1, "n_proteins": len(held_rows), **{m: fold_metrics.get(m) for m in ("auprc", "hra", "f1", "mcc")},
                             "plots": {n: str(p) for n, p in plots.items()}})
        logger.info("fold %d/%d: AUPRC %.3f HRA %.3f", k + 1, args.cv, fold_metrics.get("auprc", float("nan")), fold_metrics.get("hra", float("nan")))
        if best is None or fold_metrics.get("hra", -1) > best[0]:
            best = (fold_metrics.get("hra", -1), k + 1, trainer)
    if best is None:
        return None, None, None
    y, p = np.concatenate(oof_labels), np.concatenate(oof_probs)
    thresholds = choose_thresholds(y, p, ions)
    lengths = np.array([len(a) for a in oof_probs])
    np.savez_compressed(work / "oof_preds.npz", ids=np.array(pool["id"]), fold=folds + 1, lengths=lengths,
                        offsets=np.concatenate([[0], np.cumsum(lengths)[:-1]]), probabilities=p, labels=y, ions=np.array(ions))
    (work / "global_thresholds.yaml").write_text(yaml.safe_dump({"thresholds": thresholds, "source": f"out-of-fold predictions, {args.cv} folds",
                                                                "best_fold": best[1]}, sort_keys=False))
    oof = {**binding_metrics(y, p, ions, thresholds), "folds": fold_results, "best_fold": best[1]}
    oof.pop("per_ion")
    return best[2], thresholds, oof


def unwrap_for_eval(model):
    from trainers.e1.trainer import unwrap
    return unwrap(model) if not hasattr(model, "peft_config") else model


def main(argv=None) -> Optional[dict]:
    args, training_args = parse_training_arguments("e1", (E1Arguments, TrainingArguments), argv)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO if training_args.should_log else logging.WARNING)
    set_seed(training_args.seed)
    output_dir = repository_folder(training_args)
    config = build_config(args)
    tokenizer = E1Tokenizer()
    splits = load_splits(args, config.ions)
    logger.info("E1 %s: %d train / %d validation / %d test proteins", args.preset, *(len(splits[s]) for s in ("train", "validation", "test")))
    work = Path(tempfile.mkdtemp(prefix="e1-run-"))
    ions = list(config.ions)
    oof = None
    if args.cv:
        trainer, thresholds, oof = run_cv(config, tokenizer, splits, args, training_args, output_dir, work)
        if trainer is None:
            return None
    else:
        trainer = train_one(config, tokenizer, splits["train"], splits["validation"], args, training_args)
        if not trainer.is_world_process_zero():
            return None
        probs, labels = predict_split(unwrap_for_eval(trainer.model), tokenizer, splits["validation"], args.num_context,
                                      max_tokens_per_batch=args.max_tokens_per_batch)
        thresholds = choose_thresholds(np.concatenate(labels), np.concatenate(probs), ions)
        save_adapters_and_heads(trainer.model, Path(training_args.output_dir) / "best")

    model = merged(trainer.model).eval()
    model.config.decision_thresholds = thresholds
    window_lr = None
    if args.window_baseline:
        logger.info("fitting the +-7 window logistic-regression baseline (C and thresholds on validation)")
        window_lr = WindowLogisticBaseline(ions).fit(splits["train"], splits["validation"])
    report, predictions = held_out_report(model, tokenizer, splits["test"], args.num_context, thresholds,
                                          batch_size=training_args.per_device_eval_batch_size,
                                          max_tokens_per_batch=args.max_tokens_per_batch, window_lr=window_lr)
    y = np.concatenate(predictions["labels"])
    curves = {"E1 + homologs": np.concatenate(predictions["probs"]), "E1 single sequence": np.concatenate(predictions["single"]),
              "motif regex": np.concatenate(predictions["baseline"])}
    if window_lr is not None:
        curves["window LR (+-7)"] = np.concatenate(predictions["window_lr"])
    plots = {
        "training_curves": plot_training_curves(trainer.state.log_history, work / "training_curves.png", "eval_hra"),
        "loss_components": plot_diagnostics(trainer.state.log_history, work / "loss_components.png"),
        "pr_curves": plot_pr_curves(y, curves, ions, work / "pr_curves.png"),
    }
    data_name = args.data or (f"train: {args.train_file}; test: {args.test_file or 'carved from the training files'}"
                              if args.train_file else None)
    metrics = {
        **report,
        "ions": ions,
        "headline_metrics": headline_metrics(ions),
        "context_gain_auprc": report["model"].get("auprc", 0) - report["single_sequence"].get("auprc", 0),
        "thresholds": thresholds,
        "threshold_source": f"out-of-fold predictions ({args.cv} folds)" if args.cv else "validation split",
        "data": data_name or f"embedded generator (size={args.data_size}, seed={args.dataset_seed})",
        "train_file": args.train_file, "test_file": args.test_file, "msa_dir": args.msa_dir,
        "validation_fraction": args.validation_fraction,
        "proteins_with_homologs": {name: int(sum(bool(h) for h in splits[name]["homologs"])) for name in splits},
        "split_sizes": {name: len(splits[name]) for name in splits},
        "data_size": args.data_size, "dataset_seed": args.dataset_seed, "preset": args.preset, "num_context": args.num_context,
        "train_runtime_s": next((e["train_runtime"] for e in reversed(trainer.state.log_history) if "train_runtime" in e), None),
        "global_step": trainer.state.global_step,
        "num_train_proteins": len(splits["train"]) + (len(splits["validation"]) if args.cv else 0),
    }
    if oof is not None:
        metrics["cross_validation"] = oof
    export_repository(
        model, tokenizer, output_dir, metrics=metrics, plots=plots, overwrite=True, dataset=metrics["data"],
        base_model=args.base_model,
        training_summary={"preset": args.preset, **{k: v for k, v in asdict(args).items() if v not in (None, "")},
                          "learning_rate": training_args.learning_rate, "epochs": training_args.num_train_epochs,
                          "batch_size": training_args.per_device_train_batch_size, "global_step": trainer.state.global_step},
    )
    for name in ("oof_preds.npz", "global_thresholds.yaml"):
        if (work / name).exists():
            (output_dir / name).write_bytes((work / name).read_bytes())
    m, s, b = report["model"], report["single_sequence"], report["baseline"]
    logger.info("test AUPRC %.3f (single sequence %.3f, motif regex %.3f); HRA %.3f (%.3f, %.3f); repository: %s",
                m.get("auprc", float("nan")), s.get("auprc", float("nan")), b.get("auprc", float("nan")),
                m.get("hra", float("nan")), s.get("hra", float("nan")), b.get("hra", float("nan")), output_dir)
    return metrics


def evaluate(model_dir, data: Optional[str] = None, output: Optional[str] = None, argv=()) -> dict:
    """
    Held-out metrics of a trained repository (model, single-sequence ablation, motif regex) at its stored thresholds.
    `data`: per-ion test files ('ZN_Test.fa,CA_Test.fa' or 'ZN=a.fa'), scored whole; a saved DatasetDict or a BioLiP
    table (its test split); default: the embedded test split the model was trained with. `--msa_dir DIR` adds homologs.
    """
    import argparse

    import hf_models  # noqa: F401  registers E1 with the Auto classes
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from datasets_scripts.e1.builder import _dataset
    from datasets_scripts.e1.readers import attach_a3m, parse_ion_files, read_label_fastas

    parser = argparse.ArgumentParser(prog="biohf evaluate e1")
    parser.add_argument("--msa_dir", default=None, help="folder of <id>.a3m homolog files")
    parser.add_argument("--max_tokens_per_batch", type=int, default=0)
    options = parser.parse_args(list(argv))
    model = AutoModelForTokenClassification.from_pretrained(model_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    ions = list(model.config.ions)
    trained_on = json.loads((Path(model_dir) / "metrics.json").read_text()) if (Path(model_dir) / "metrics.json").exists() else {}
    if data and not Path(data).is_dir() and Path(data.split(",")[0].split("=")[-1]).suffix.lower() in (".fa", ".fasta"):
        paths = parse_ion_files(data)
        unknown = sorted(set(paths) - set(ions))
        if unknown:
            raise ValueError(f"{data}: the model has no head for {', '.join(unknown)} (its ions: {ions})")
        rows = read_label_fastas(paths, ions)
        if options.msa_dir:
            attach_a3m(rows, options.msa_dir)
        test = _dataset(rows, ions)
    else:
        test = build_e1_dataset(data, size=trained_on.get("data_size", "demo"), seed=trained_on.get("dataset_seed", 0),
                                ions=ions, msa_dir=options.msa_dir)["test"]
    report, _ = held_out_report(model, tokenizer, test, trained_on.get("num_context", 4), model.config.decision_thresholds,
                                max_tokens_per_batch=options.max_tokens_per_batch)
    report["data"] = data or trained_on.get("data", "embedded generator")
    if output:
        Path(output).write_text(json.dumps(report, indent=2))
    return report


def diagnose(data: Optional[str], output: Optional[str], argv=()) -> dict:
    """`biohf diagnose e1 --model DIR [--data ...] [--output report.json] [--split test]`: does the model use its homologs?"""
    from trainers.e1.diagnostics import main as diagnose_main

    argv = list(argv) + (["--data", data] if data else []) + (["--output", output] if output else [])
    return diagnose_main(argv)


def predict(model_dir, input_path, output_path, argv=()) -> int:
    from trainers.e1.predict import predict as predict_e1

    return predict_e1(model_dir, input_path, output_path, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
