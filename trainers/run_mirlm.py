"""
Train mirLM on the embedded default data or a user's file, evaluate it on the miRNA-family-disjoint test split
next to the seed-match baseline, and leave the output folder as a complete Hub repository.

    python -m trainers.run_mirlm --preset demo [--config FILE.yaml] [--data PATH] [--output_dir DIR] \
        [any TrainingArguments, e.g. --learning_rate 3e-4 --num_train_epochs 2]
    python -m trainers.run_mirlm --preset mirbench --train_file train.tsv [--validation_file F] [--test_file F] \
        [--model_name_or_path PRETRAINED_DIR] [--skip_bad_rows]

`--data` splits one file three ways; `--train_file` [+ `--validation_file`] [+ `--test_file`] follow the
transformers examples: a given file is one split, whole, and a given test file is only scored at the end.
Bad rows are errors unless `--skip_bad_rows`, which writes each skipped row with its reason to
`skipped_rows.tsv` in the output folder (with the rows the family- and window-disjoint carving left out).

Runs unchanged under `torchrun --nproc_per_node=N`, `accelerate launch` and `deepspeed` (add
`--deepspeed trainers/deepspeed/zero2.json`). Only the main process evaluates and writes the repository.
"""

import argparse
import csv
import json
import logging
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

from transformers import TrainingArguments, set_seed
from transformers.trainer_utils import get_last_checkpoint

from datasets_scripts.mirlm import MirLMDataCollator, build_mirlm_dataset
from datasets_scripts.mirlm.builder import read_rows
from hf_models.export import export_repository
from hf_models.families import make_tokenizer
from modeling.mirlm.configuration_mirlm import MirLMConfig
from modeling.mirlm.modeling_mirlm import MirLMForTargetPrediction
from trainers.arguments import family_config, parse_training_arguments, repository_folder
from trainers.mirlm.comparison import canonical_pointing_accuracy
from trainers.mirlm.evaluation import compare_on_file, evaluate_file, evaluate_mirlm, write_predictions
from trainers.mirlm.plots import plot_position_weights, plot_pr_curves
from trainers.mirlm.trainer import MirLMTrainer
from trainers.plots import plot_training_curves

logger = logging.getLogger("biohf.mirlm")


@dataclass
class MirLMArguments:
    preset: str = field(default="demo", metadata={"help": "model + training preset: trainers/configs/mirlm_<preset>.yaml"})
    data: Optional[str] = field(default=None, metadata={"help": "miRBench TSV, MiRformer CSV, TargetNet TSV (split train/validation/test) or a saved DatasetDict; default: embedded generator"})
    train_file: Optional[str] = field(default=None, metadata={"help": "training file (any --data format); validation is carved from it unless --validation_file"})
    validation_file: Optional[str] = field(default=None, metadata={"help": "validation file, used whole (model selection, threshold)"})
    test_file: Optional[str] = field(default=None, metadata={"help": "test file: scored whole at the end, never used for a choice"})
    skip_bad_rows: bool = field(default=False, metadata={"help": "skip unusable rows instead of stopping; each is listed in skipped_rows.tsv"})
    max_train_samples: Optional[int] = field(default=None, metadata={"help": "train on a random subset of this many training rows (diagnosis)"})
    positive_fraction: Optional[float] = field(default=None, metadata={"help": "draw training batches with this expected share of positives (with replacement); default: as in the data"})
    score_test: bool = field(default=True, metadata={"help": "evaluate on the test split at the end; false: only train and select on validation (comparing recipes without reading a test file)"})
    model_name_or_path: Optional[str] = field(default=None, metadata={"help": "start from this trained mirLM repository (fine-tuning) instead of random weights"})
    data_size: str = field(default="demo", metadata={"help": "size of the embedded data: tiny, demo or full"})
    dataset_seed: int = field(default=0, metadata={"help": "seed of the embedded generator and of the family-disjoint split"})
    config_overrides: Optional[str] = field(default=None, metadata={"help": "model config changes, e.g. 'hidden_size=64,num_hidden_layers=1'"})
    temperature_start: float = field(default=0.2, metadata={"help": "MIL temperature at the first step (seed: 0.2)"})
    temperature_end: float = field(default=0.05, metadata={"help": "MIL temperature at the last step (seed: 0.05)"})
    resume: bool = field(default=True, metadata={"help": "continue from the last checkpoint in output_dir if there is one"})


def build_config(args: MirLMArguments) -> MirLMConfig:
    return family_config("mirlm", args.preset, args.config_overrides)


def build_model(args: MirLMArguments) -> MirLMForTargetPrediction:
    """Random weights at the preset's config, or the weights (and config) of `--model_name_or_path`."""
    if not args.model_name_or_path:
        return MirLMForTargetPrediction(build_config(args))
    if args.config_overrides:
        raise SystemExit("--config_overrides changes a new model; with --model_name_or_path the config is the trained one's")
    return MirLMForTargetPrediction.from_pretrained(args.model_name_or_path)


def data_source(args) -> str:
    files = [f"{name} {path}" for name, path in (("train", args.train_file), ("validation", args.validation_file),
                                                  ("test", args.test_file)) if path]
    return ", ".join(files) or args.data or f"embedded generator (size={args.data_size}, seed={args.dataset_seed})"


def load_splits(args, config: MirLMConfig, excluded: list):
    """The train/validation/test DatasetDict of the arguments; bad and left-out rows are appended to `excluded`."""
    try:
        splits = build_mirlm_dataset(args.data, size=args.data_size, seed=args.dataset_seed, train_file=args.train_file,
                                     validation_file=args.validation_file, test_file=args.test_file,
                                     max_mirna_nt=config.mirna_max_len, skip_bad_rows=args.skip_bad_rows, excluded=excluded)
    except ValueError as error:
        hint = "" if args.skip_bad_rows else " (--skip_bad_rows skips such rows and lists them in skipped_rows.tsv)"
        raise SystemExit(f"{error}{hint}") from None
    if excluded:
        reasons = {}
        for bad in excluded:
            kind = "left out by the split" if bad.reason.startswith("left out") else "bad row"
            reasons[kind] = reasons.get(kind, 0) + 1
        logger.warning("%d rows not used (%s); listed in skipped_rows.tsv", len(excluded),
                       ", ".join(f"{n} {kind}" for kind, n in reasons.items()))
    if args.max_train_samples and args.max_train_samples < len(splits["train"]):
        splits["train"] = splits["train"].shuffle(seed=args.dataset_seed).select(range(args.max_train_samples))
    return splits


def write_skipped_rows(excluded: list, path: Path) -> Optional[Path]:
    """Every row not used (bad, or left out by the carving) with its file, line, column and reason; None if none."""
    if not excluded:
        return None
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(["file", "line", "column", "reason"])
        for bad in excluded:
            writer.writerow([bad.where.path, bad.where.line, bad.where.column or "", bad.reason])
    return path


HEADLINE_METRICS = ["average_precision", "auroc", "accuracy", "span_exact_match", "span_overlap", "pointing_accuracy"]


def example_rows(split, per_type: int = 1) -> list:
    """Indices of a few test examples for the heatmap: one per site type, positives and hard negatives."""
    chosen, seen = [], {}
    for i, site_type in enumerate(split["site_type"]):
        if seen.get(site_type, 0) < per_type:
            seen[site_type] = seen.get(site_type, 0) + 1
            chosen.append(i)
    return chosen


def write_repository(trainer, tokenizer, splits, args: MirLMArguments, training_args: TrainingArguments, output_dir: Path,
                     excluded: list = ()) -> dict:
    """Held-out evaluation, plots, metrics.json and the Hub repository in `output_dir`."""
    model = trainer.model
    report = evaluate_mirlm(model, tokenizer, splits, batch_size=training_args.per_device_eval_batch_size)
    predictions = report.pop("predictions")
    plots_dir = Path(tempfile.mkdtemp(prefix="mirlm-plots-"))  # export copies them into the repository
    test = splits["test"]
    examples = example_rows(test)
    report["canonical_pointing"] = canonical_pointing_accuracy(test["label"], test["mrna"], test["mirna"], predictions["pointer"])
    scores = {"mirLM": predictions["probs"], "seed-match baseline": predictions["baseline_scores"]}
    if args.test_file:  # the whole given test file: add the other predictors it carries, on the same rows
        lines = read_rows(args.test_file, max_mirna_nt=model.config.mirna_max_len, skipped=[] if args.skip_bad_rows else None)["line"]
        comparison = compare_on_file(args.test_file, test["label"], predictions["probs"], predictions["baseline_scores"], lines=lines)
        scores = comparison.pop("scores")
        report["comparison"] = comparison
    plots = {
        "training_curves": plot_training_curves(trainer.state.log_history, plots_dir / "training_curves.png", "eval_average_precision"),
        "pr_curves": plot_pr_curves(test["label"], scores, plots_dir / "pr_curves.png",
                                    title=f"all rows of {Path(args.test_file).name}" if args.test_file else "mirLM test split"),
        "position_weights": plot_position_weights(
            [predictions["pos_weights"][i] for i in examples], [test[i]["label"] for i in examples], plots_dir / "position_weights.png",
            site_spans=[(test[i]["site_start"], test[i]["site_end"]) for i in examples],
            row_names=[f"{test[i]['site_type']} {test[i]['mirna_name']}" for i in examples]),
    }
    metrics = {
        **report,
        "headline_metrics": HEADLINE_METRICS,
        "data": data_source(args),
        "test_file": args.test_file,
        "rows_not_used": len(excluded),
        "data_size": args.data_size,
        "dataset_seed": args.dataset_seed,
        "preset": args.preset,
        "train_runtime_s": next((e["train_runtime"] for e in reversed(trainer.state.log_history) if "train_runtime" in e), None),
        "global_step": trainer.state.global_step,
        "num_train_examples": len(splits["train"]),
        "num_validation_examples": len(splits["validation"]),
        "init_from": args.model_name_or_path,
    }
    export_repository(
        model, tokenizer, output_dir, metrics=metrics, plots=plots, overwrite=True,
        dataset=metrics["data"], base_model=None,
        training_summary={"preset": args.preset, **{k: v for k, v in asdict(args).items() if v is not None},
                          "learning_rate": training_args.learning_rate, "epochs": training_args.num_train_epochs,
                          "batch_size": training_args.per_device_train_batch_size, "global_step": trainer.state.global_step},
    )
    shutil.rmtree(plots_dir)
    write_skipped_rows(list(excluded), output_dir / "skipped_rows.tsv")
    return metrics


def main(argv=None) -> Optional[dict]:
    args, training_args = parse_training_arguments("mirlm", (MirLMArguments, TrainingArguments), argv)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO if training_args.should_log else logging.WARNING)
    set_seed(training_args.seed)
    output_dir = repository_folder(training_args)
    model = build_model(args)
    config = model.config
    tokenizer = make_tokenizer("mirlm", config)
    excluded = []
    splits = load_splits(args, config, excluded)
    logger.info("mirLM %s: %.2fM parameters, %d train / %d validation / %d test pairs", args.preset,
                model.num_parameters() / 1e6, len(splits["train"]), len(splits["validation"]), len(splits["test"]))
    trainer = MirLMTrainer(
        model=model, args=training_args, train_dataset=splits["train"], eval_dataset=splits["validation"],
        data_collator=MirLMDataCollator(tokenizer), processing_class=tokenizer,
        anneal_temperature=(args.temperature_start, args.temperature_end), positive_fraction=args.positive_fraction,
    )
    checkpoint = training_args.resume_from_checkpoint
    if checkpoint is None and args.resume and Path(training_args.output_dir).is_dir():
        checkpoint = get_last_checkpoint(training_args.output_dir)
        if checkpoint:
            logger.info("resuming from %s", checkpoint)
    trainer.train(resume_from_checkpoint=checkpoint)
    if not trainer.is_world_process_zero():
        return None
    if not args.score_test:
        trainer.save_model(str(output_dir))
        best = trainer.state.best_metric
        logger.info("best validation %s %s (test split not scored); model in %s", training_args.metric_for_best_model, best, output_dir)
        return {"best_validation_metric": best, "log_history": trainer.state.log_history}
    metrics = write_repository(trainer, tokenizer, splits, args, training_args, output_dir, excluded)
    model_m, base_m = metrics["model"], metrics["baseline"]
    logger.info("test AP %.3f (baseline %.3f), AUROC %.3f (baseline %.3f); repository: %s",
                model_m["average_precision"], base_m["average_precision"], model_m["auroc"], base_m["auroc"], output_dir)
    if "comparison" in metrics:
        print(format_comparison(metrics["comparison"]))
    return metrics


def evaluate(model_dir, data: Optional[str] = None, output: Optional[str] = None, argv=()) -> dict:
    """
    `biohf evaluate mirlm --model DIR [--data FILE] [--output OUT] [--compare_columns a,b] [--skip_bad_rows]`.

    With a data file: every row of it is scored as an external test set at the model's stored threshold, next to
    the seed-match baseline and the file's other predictors (numeric columns beyond the known ones, or
    `--compare_columns`). Writes metrics.json, predictions.tsv (the file's columns + binding_probability and the
    predicted site), pr_curves.png and skipped_rows.tsv (if any) to OUT (a folder, or a .json file whose siblings
    get its name as prefix); default OUT: DIR/evaluation/<file stem>/.
    Without a data file: the held-out test split of the data the model was trained on.
    """
    import hf_models  # noqa: F401  registers mirLM with the Auto classes
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    parser = argparse.ArgumentParser(prog="biohf evaluate mirlm")
    parser.add_argument("--compare_columns", help="comma-separated score columns of other predictors to compare "
                        "(default: every numeric column the reader does not know)")
    parser.add_argument("--skip_bad_rows", action="store_true", help="skip unusable rows, listing each in skipped_rows.tsv")
    parser.add_argument("--batch_size", type=int, default=64)
    options = parser.parse_args(list(argv))
    model = AutoModelForQuestionAnswering.from_pretrained(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if data is not None and Path(data).is_file():
        return evaluate_external(model, tokenizer, Path(model_dir), Path(data), output, options)
    if options.compare_columns:
        raise SystemExit("--compare_columns needs --data FILE with those columns")
    trained_on = json.loads((Path(model_dir) / "metrics.json").read_text()) if (Path(model_dir) / "metrics.json").exists() else {}
    splits = build_mirlm_dataset(data, size=trained_on.get("data_size", "demo"), seed=trained_on.get("dataset_seed", 0))
    report = evaluate_mirlm(model, tokenizer, splits, threshold=model.config.decision_threshold)
    report.pop("predictions")
    report["data"] = data or trained_on.get("data", "embedded generator")
    if output:
        Path(output).write_text(json.dumps(report, indent=2))
    return report


def evaluate_external(model, tokenizer, model_dir: Path, data: Path, output: Optional[str], options) -> dict:
    """The file branch of `evaluate`: score it whole, write the report, predictions, plot and skipped rows."""
    if output is None:
        folder, prefix = model_dir / "evaluation" / data.stem, ""
    elif output.endswith(".json"):
        folder, prefix = Path(output).parent, Path(output).stem + "."
    else:
        folder, prefix = Path(output), ""
    folder.mkdir(parents=True, exist_ok=True)
    skipped = [] if options.skip_bad_rows else None
    names = [c.strip() for c in options.compare_columns.split(",") if c.strip()] if options.compare_columns else None
    try:
        report = evaluate_file(model, tokenizer, data, compare_columns=names, skipped=skipped, batch_size=options.batch_size)
    except ValueError as error:
        raise SystemExit(f"{error}" + ("" if options.skip_bad_rows else " (--skip_bad_rows skips bad rows and lists them)")) from None
    predictions_path = write_predictions(folder / f"{prefix}predictions.tsv", report, data)
    scores = report["comparison"].pop("scores")
    plot = plot_pr_curves(report["rows"]["label"], scores, folder / f"{prefix}pr_curves.png", title=f"all rows of {data.name}")
    skipped_path = write_skipped_rows(skipped or [], folder / f"{prefix}skipped_rows.tsv")
    report.pop("predictions"), report.pop("rows")
    report.update(data=str(data), model_dir=str(model_dir), rows_skipped=len(skipped or []),
                  files={"predictions": str(predictions_path), "pr_curves": str(plot), "skipped_rows": str(skipped_path) if skipped_path else None})
    metrics_path = Path(output) if output and output.endswith(".json") else folder / "metrics.json"
    metrics_path.write_text(json.dumps(report, indent=2) + "\n")
    if skipped:
        print(f"skipped {len(skipped)} bad rows of {data}: {skipped_path}")
    print(format_comparison(report["comparison"]))
    print(f"per-row predictions: {predictions_path}; metrics: {metrics_path}; plot: {plot}")
    return report


def format_comparison(comparison: dict) -> str:
    lines = [f"{comparison['n']} rows of {comparison['file']}", f"{'predictor':<34}{'AP':>7}{'AUROC':>8}"]
    lines += [f"{row['predictor']:<34}{row['average_precision']:>7.3f}{row['auroc']:>8.3f}" for row in comparison["table"]]
    return "\n".join(lines)


def predict(model_dir, input_path, output_path, argv=()) -> int:
    from trainers.mirlm.predict import predict as predict_mirlm

    return predict_mirlm(model_dir, input_path, output_path, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
