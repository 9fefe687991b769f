"""
Train mirLM on the embedded default data or a user's file, evaluate it on the miRNA-family-disjoint test split
next to the seed-match baseline, and leave the output folder as a complete Hub repository.

    python -m trainers.run_mirlm --preset demo [--config FILE.yaml] [--data PATH] [--output_dir DIR] \
        [any TrainingArguments, e.g. --learning_rate 3e-4 --num_train_epochs 2]

Runs unchanged under `torchrun --nproc_per_node=N`, `accelerate launch` and `deepspeed` (add
`--deepspeed trainers/deepspeed/zero2.json`). Only the main process evaluates and writes the repository.
"""

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
from hf_models.export import export_repository
from hf_models.families import make_tokenizer
from modeling.mirlm.configuration_mirlm import MirLMConfig
from modeling.mirlm.modeling_mirlm import MirLMForTargetPrediction
from trainers.arguments import family_config, parse_training_arguments, repository_folder
from trainers.mirlm.evaluation import evaluate_mirlm
from trainers.mirlm.plots import plot_position_weights, plot_pr_curves
from trainers.mirlm.trainer import MirLMTrainer
from trainers.plots import plot_training_curves

logger = logging.getLogger("biohf.mirlm")


@dataclass
class MirLMArguments:
    preset: str = field(default="demo", metadata={"help": "model + training preset: trainers/configs/mirlm_<preset>.yaml"})
    data: Optional[str] = field(default=None, metadata={"help": "miRBench TSV, MiRformer CSV, TargetNet TSV or a saved DatasetDict; default: embedded generator"})
    data_size: str = field(default="demo", metadata={"help": "size of the embedded data: tiny, demo or full"})
    dataset_seed: int = field(default=0, metadata={"help": "seed of the embedded generator and of the family-disjoint split"})
    config_overrides: Optional[str] = field(default=None, metadata={"help": "model config changes, e.g. 'hidden_size=64,num_hidden_layers=1'"})
    temperature_start: float = field(default=0.2, metadata={"help": "MIL temperature at the first step (seed: 0.2)"})
    temperature_end: float = field(default=0.05, metadata={"help": "MIL temperature at the last step (seed: 0.05)"})
    resume: bool = field(default=True, metadata={"help": "continue from the last checkpoint in output_dir if there is one"})


def build_config(args: MirLMArguments) -> MirLMConfig:
    return family_config("mirlm", args.preset, args.config_overrides)


HEADLINE_METRICS = ["average_precision", "auroc", "accuracy", "span_exact_match", "span_overlap", "pointing_accuracy"]


def example_rows(split, per_type: int = 1) -> list:
    """Indices of a few test examples for the heatmap: one per site type, positives and hard negatives."""
    chosen, seen = [], {}
    for i, site_type in enumerate(split["site_type"]):
        if seen.get(site_type, 0) < per_type:
            seen[site_type] = seen.get(site_type, 0) + 1
            chosen.append(i)
    return chosen


def write_repository(trainer, tokenizer, splits, args: MirLMArguments, training_args: TrainingArguments, output_dir: Path) -> dict:
    """Held-out evaluation, plots, metrics.json and the Hub repository in `output_dir`."""
    model = trainer.model
    report = evaluate_mirlm(model, tokenizer, splits, batch_size=training_args.per_device_eval_batch_size)
    predictions = report.pop("predictions")
    plots_dir = Path(tempfile.mkdtemp(prefix="mirlm-plots-"))  # export copies them into the repository
    test = splits["test"]
    examples = example_rows(test)
    plots = {
        "training_curves": plot_training_curves(trainer.state.log_history, plots_dir / "training_curves.png", "eval_average_precision"),
        "pr_curves": plot_pr_curves(test["label"], {"mirLM": predictions["probs"], "seed-match baseline": predictions["baseline_scores"]},
                                    plots_dir / "pr_curves.png"),
        "position_weights": plot_position_weights(
            [predictions["pos_weights"][i] for i in examples], [test[i]["label"] for i in examples], plots_dir / "position_weights.png",
            site_spans=[(test[i]["site_start"], test[i]["site_end"]) for i in examples],
            row_names=[f"{test[i]['site_type']} {test[i]['mirna_name']}" for i in examples]),
    }
    metrics = {
        **report,
        "headline_metrics": HEADLINE_METRICS,
        "data": args.data or f"embedded generator (size={args.data_size}, seed={args.dataset_seed})",
        "data_size": args.data_size,
        "dataset_seed": args.dataset_seed,
        "preset": args.preset,
        "train_runtime_s": next((e["train_runtime"] for e in reversed(trainer.state.log_history) if "train_runtime" in e), None),
        "global_step": trainer.state.global_step,
        "num_train_examples": len(splits["train"]),
    }
    export_repository(
        model, tokenizer, output_dir, metrics=metrics, plots=plots, overwrite=True,
        dataset=metrics["data"], base_model=None,
        training_summary={"preset": args.preset, **{k: v for k, v in asdict(args).items() if v is not None},
                          "learning_rate": training_args.learning_rate, "epochs": training_args.num_train_epochs,
                          "batch_size": training_args.per_device_train_batch_size, "global_step": trainer.state.global_step},
    )
    shutil.rmtree(plots_dir)
    return metrics


def main(argv=None) -> Optional[dict]:
    args, training_args = parse_training_arguments("mirlm", (MirLMArguments, TrainingArguments), argv)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO if training_args.should_log else logging.WARNING)
    set_seed(training_args.seed)
    output_dir = repository_folder(training_args)
    config = build_config(args)
    tokenizer = make_tokenizer("mirlm", config)
    splits = build_mirlm_dataset(args.data, size=args.data_size, seed=args.dataset_seed)
    model = MirLMForTargetPrediction(config)
    logger.info("mirLM %s: %.2fM parameters, %d train / %d validation / %d test pairs", args.preset,
                model.num_parameters() / 1e6, len(splits["train"]), len(splits["validation"]), len(splits["test"]))
    trainer = MirLMTrainer(
        model=model, args=training_args, train_dataset=splits["train"], eval_dataset=splits["validation"],
        data_collator=MirLMDataCollator(tokenizer), processing_class=tokenizer,
        anneal_temperature=(args.temperature_start, args.temperature_end),
    )
    checkpoint = training_args.resume_from_checkpoint
    if checkpoint is None and args.resume and Path(training_args.output_dir).is_dir():
        checkpoint = get_last_checkpoint(training_args.output_dir)
        if checkpoint:
            logger.info("resuming from %s", checkpoint)
    trainer.train(resume_from_checkpoint=checkpoint)
    if not trainer.is_world_process_zero():
        return None
    metrics = write_repository(trainer, tokenizer, splits, args, training_args, output_dir)
    model_m, base_m = metrics["model"], metrics["baseline"]
    logger.info("test AP %.3f (baseline %.3f), AUROC %.3f (baseline %.3f); repository: %s",
                model_m["average_precision"], base_m["average_precision"], model_m["auroc"], base_m["auroc"], output_dir)
    return metrics


def evaluate(model_dir, data: Optional[str] = None, output: Optional[str] = None, argv=()) -> dict:
    """Held-out metrics of a trained repository, next to the baseline, at the model's stored threshold."""
    import hf_models  # noqa: F401  registers mirLM with the Auto classes
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    model = AutoModelForQuestionAnswering.from_pretrained(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    trained_on = json.loads((Path(model_dir) / "metrics.json").read_text()) if (Path(model_dir) / "metrics.json").exists() else {}
    splits = build_mirlm_dataset(data, size=trained_on.get("data_size", "demo"), seed=trained_on.get("dataset_seed", 0))
    report = evaluate_mirlm(model, tokenizer, splits, threshold=model.config.decision_threshold)
    report.pop("predictions")
    report["data"] = data or trained_on.get("data", "embedded generator")
    if output:
        Path(output).write_text(json.dumps(report, indent=2))
    return report


def predict(model_dir, input_path, output_path, argv=()) -> int:
    from trainers.mirlm.predict import predict as predict_mirlm

    return predict_mirlm(model_dir, input_path, output_path, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
