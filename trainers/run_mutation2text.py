"""
Train mutation2text in two stages on the embedded default data or a user's file, evaluate it on the protein-disjoint
test split next to the baselines, and leave the output folder as a complete Hub repository.

    python -m trainers.run_mutation2text --preset demo [--stage 1|2|both] [--data PATH] [--output_dir DIR] \
        [--language_model smollm2|random|NAME] [--protein_encoder facebook/esm2_t33_650M_UR50D] \
        [any TrainingArguments, e.g. --learning_rate 2e-4 --num_train_epochs 2]
    python -m trainers.run_mutation2text --preset mutadescribe --train_file train.csv --validation_file val.csv \
        --test_file test_easy.csv [--text_column uniprot_description] [--with_function] [--skip_empty_text] \
        [--max_train_examples 25]                     # published split files as given (MutaDescribe)

Arguments: `trainers/mutation2text/arguments.py` (with the data they name), importable without this script.

    stage 1   (a) with --pretrain_epochs > 0, adapter pre-training without the LLM (`mutation2text.pretraining`):
              the adapters learn the effect class named in the descriptions, on many generated mutations;
              (b) `Mutation2TextStage1Trainer`: LLM and encoder frozen; gated cross-attention, site context,
              resampler and projector train through the LLM (on cached encoder embeddings).
              Saved to <output_dir>/checkpoints/stage1-model.
    stage 2   `Mutation2TextSFTTrainer` (TRL): LoRA on the LLM, stage-1 modules frozen and loaded from stage 1
              (--stage1_model DIR for another folder); loss on the answer tokens only. The LoRA weights are merged.
    baseline  the same LLM, LoRA-fine-tuned like stage 2 on the same chats without the protein; plus
              nearest-neighbour retrieval by sequence identity.

The repository holds the final (merged) model, loadable with AutoModelForCausalLM / AutoModel and
trust_remote_code, and in adapters/: the stage-1 modules (stage1_adapters.safetensors) and the LoRA adapters
(lora/, PEFT format), plus eval_predictions.jsonl. `--output_dir` IS the repository; Trainer checkpoints go to
its checkpoints/ folder and a rerun resumes (`--resume false` to start over).
"""

import json
import logging
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Optional

from safetensors.torch import save_file
from transformers import TrainingArguments, set_seed
from transformers.trainer_utils import get_last_checkpoint

from datasets_scripts.mutation2text import Mutation2TextDataCollator, build_mutation2text_dataset
from hf_models.export import export_repository
from modeling.mutation2text.configuration_mutation2text import Mutation2TextConfig
from trainers.arguments import parse_config_overrides, parse_training_arguments, repository_folder
from hf_models.presets import preset_config
from trainers.mutation2text.arguments import Mutation2TextArguments, check_protein_lengths, load_splits
from trainers.mutation2text.build import adapter_state, base_model_id, build_model, load_language_model, run_dtype
from trainers.mutation2text.embeddings import EMBEDDING_COLUMNS, cache_embeddings
from trainers.mutation2text.evaluation import evaluate_systems
from trainers.mutation2text.plots import plot_fact_accuracy
from trainers.mutation2text.pretraining import (
    REPORT_FILE, WithEffectLabels, class_head, class_readout, pretrain_adapters,
)
from trainers.mutation2text.trainer import (
    LORA_TARGETS, Mutation2TextSFTTrainer, Mutation2TextStage1Trainer, sft_config,
)
from trainers.plots import plot_training_curves

logger = logging.getLogger("biohf.mutation2text")
HEADLINE_METRICS = ["bleu_2", "bleu_4", "meteor", "rouge_1", "rouge_2", "rouge_l", "fact_accuracy", "effect_accuracy"]
STAGE1_MODEL = "stage1-model"


def _last_checkpoint(folder: Path, resume: bool):
    if resume and folder.is_dir():
        checkpoint = get_last_checkpoint(str(folder))
        if checkpoint:
            logger.info("resuming from %s", checkpoint)
        return checkpoint
    return None


def _with_embeddings(splits, model, processor, args, state: Path) -> dict:
    """The train / validation splits with cached encoder embeddings (when the encoder is frozen)."""
    if not args.cache_embeddings or args.train_protein_encoder:
        return {name: splits[name] for name in ("train", "validation")}
    if all(c in splits["train"].column_names for c in EMBEDDING_COLUMNS):
        return {name: splits[name] for name in ("train", "validation")}  # precomputed elsewhere (ESM3 / ESM C)
    return {name: cache_embeddings(splits[name], model, processor, state / "embeddings", name)
            for name in ("train", "validation")}


def run_stage1(splits, args, training_args, state: Path):
    overrides = parse_config_overrides(args.config_overrides, Mutation2TextConfig)
    model, processor = build_model(args.preset, args.language_model, args.protein_encoder,
                                   dtype=run_dtype(training_args), **overrides)
    probe, pretraining_log = None, []
    if args.pretrain_epochs > 0:
        probe, pretraining_log = pretrain_adapters(model, processor, splits, args, training_args, state)
    data = _with_embeddings(splits, model, processor, args, state)
    stage_args = replace(training_args, output_dir=str(state / "stage1"), num_train_epochs=args.stage1_epochs,
                         learning_rate=args.stage1_learning_rate, metric_for_best_model=None,
                         load_best_model_at_end=False)
    collator, head = Mutation2TextDataCollator(processor), None
    if probe is not None and args.stage1_class_loss_weight > 0:  # keep the pre-training objective on
        collator, head = WithEffectLabels(collator), class_head(model, processor)
    trainer = Mutation2TextStage1Trainer(model=model, args=stage_args, train_dataset=data["train"],
                                         eval_dataset=data["validation"], data_collator=collator,
                                         processing_class=processor, train_protein_encoder=args.train_protein_encoder,
                                         class_head=head, class_loss_weight=args.stage1_class_loss_weight)
    trainer.train(resume_from_checkpoint=_last_checkpoint(state / "stage1", args.resume))
    if probe is not None:  # do the media tokens still name the class after training through the LLM?
        probe["validation_after_stage1"] = class_readout(model, processor, splits["validation"])
        logger.info("class read-out of the media tokens after stage 1: %.3f (validation)",
                    probe["validation_after_stage1"]["effect_accuracy"])
    if trainer.is_world_process_zero():
        if probe is not None:
            (state / "adapter-pretraining" / REPORT_FILE).write_text(json.dumps(probe, indent=2))
        model.save_pretrained(state / STAGE1_MODEL)
        processor.save_pretrained(state / STAGE1_MODEL)
    return model, processor, trainer.state.log_history, probe, pretraining_log


def _lora_config(args):
    from peft import LoraConfig

    return LoraConfig(r=args.lora_r, lora_alpha=args.lora_alpha, lora_dropout=args.lora_dropout,
                      target_modules=LORA_TARGETS, task_type="CAUSAL_LM")


def run_stage2(model, processor, splits, args, training_args, state: Path):
    data = _with_embeddings(splits, model, processor, args, state)
    trainer = Mutation2TextSFTTrainer(model=model, args=sft_config(training_args, output_dir=str(state / "stage2")),
                                      train_dataset=data["train"], eval_dataset=data["validation"],
                                      data_collator=Mutation2TextDataCollator(processor), processing_class=processor,
                                      peft_config=_lora_config(args))
    trainer.train(resume_from_checkpoint=_last_checkpoint(state / "stage2", args.resume))
    lora_dir = state / "stage2-lora"
    trainer.model.save_pretrained(lora_dir)
    merged = trainer.model.merge_and_unload()
    return merged, lora_dir, trainer.state.log_history


def run_text_only_baseline(processor, splits, args, training_args, state: Path):
    """The same LLM, LoRA-fine-tuned on the chats without the protein (same recipe as stage 2)."""
    if args.language_model == "random":
        from transformers import AutoModelForCausalLM

        from hf_models.presets import preset_config

        llm = AutoModelForCausalLM.from_config(preset_config("mutation2text", args.preset).text_config)
    else:
        llm, _ = load_language_model(args.language_model, run_dtype(training_args))
    llm.resize_token_embeddings(len(processor), mean_resizing=True)
    llm.generation_config.pad_token_id = processor.pad_token_id
    columns = ["wild_type", "mutation", "question", "answer"]
    data = {name: splits[name].select_columns(columns) for name in ("train", "validation")}
    trainer = Mutation2TextSFTTrainer(model=llm, args=sft_config(training_args, output_dir=str(state / "baseline")),
                                      train_dataset=data["train"], eval_dataset=data["validation"],
                                      data_collator=Mutation2TextDataCollator(processor, use_protein=False),
                                      processing_class=processor, peft_config=_lora_config(args))
    trainer.train(resume_from_checkpoint=_last_checkpoint(state / "baseline", args.resume))
    return trainer.model.merge_and_unload(), trainer.state.log_history


def _summary(metrics: dict) -> str:
    return ", ".join(f"{k} {metrics[k]:.3f}" for k in HEADLINE_METRICS if metrics.get(k) is not None)


def main(argv=None) -> Optional[dict]:
    args, training_args = parse_training_arguments("mutation2text", (Mutation2TextArguments, TrainingArguments), argv)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        level=logging.INFO if training_args.should_log else logging.WARNING)
    if args.stage not in ("1", "2", "both"):
        raise SystemExit(f"--stage must be 1, 2 or both, got {args.stage!r}")
    set_seed(training_args.seed)
    output_dir = repository_folder(training_args)
    state = Path(training_args.output_dir)
    skipped = {}
    splits = load_splits(args, skipped)
    overrides = parse_config_overrides(args.config_overrides, Mutation2TextConfig)
    check_protein_lengths(splits, preset_config("mutation2text", args.preset, **overrides).protein_max_length)
    logger.info("mutation2text %s, stage %s: %d train / %d validation / %d test mutations", args.preset, args.stage,
                len(splits["train"]), len(splits["validation"]), len(splits["test"]))
    logs, probe = {}, None
    if args.stage in ("1", "both") and not (args.resume and args.stage == "both" and (state / STAGE1_MODEL / "config.json").is_file()):
        model, processor, stage1_log, probe, pretraining_log = run_stage1(splits, args, training_args, state)
        logs = {"adapter pre-training": pretraining_log, "stage 1": stage1_log}
    else:
        import hf_models  # noqa: F401  registers the family with the Auto classes
        from transformers import AutoModelForCausalLM, AutoTokenizer

        source = Path(args.stage1_model or state / STAGE1_MODEL)
        if not (source / "config.json").is_file():
            raise SystemExit(f"--stage 2 needs a stage-1 model: {source} holds none (run --stage 1 first or pass --stage1_model)")
        logger.info("stage 1 model from %s", source)
        model, processor = AutoModelForCausalLM.from_pretrained(source), AutoTokenizer.from_pretrained(source)
        report_file = source.parent / "adapter-pretraining" / REPORT_FILE
        probe = json.loads(report_file.read_text()) if report_file.is_file() else None
    stage1_adapters = adapter_state(model)
    lora_dir = None
    if args.stage in ("2", "both"):
        model, lora_dir, logs["stage 2"] = run_stage2(model, processor, splits, args, training_args, state)
    baseline_model = None
    if args.text_only_baseline:
        baseline_model, logs["text-only baseline"] = run_text_only_baseline(processor, splits, args, training_args, state)
    if not training_args.should_save:
        return None

    test = splits["test"]
    if args.max_eval_examples:
        test = test.select(range(min(args.max_eval_examples, len(test))))
    report = evaluate_systems(test, splits["train"], model=model.eval(), processor=processor, text_only_model=baseline_model,
                              batch_size=training_args.per_device_eval_batch_size, max_new_tokens=args.eval_max_new_tokens)
    predictions = report.pop("predictions")
    plots_dir = Path(tempfile.mkdtemp(prefix="mutation2text-plots-"))
    plots = {f"training curves ({name})": plot_training_curves(history, plots_dir / f"training_curves_{name.split()[0]}_{i}.png")
             for i, (name, history) in enumerate(logs.items()) if history}
    plots["mutation-fact accuracy"] = plot_fact_accuracy(
        report, plots_dir / "fact_accuracy.png",
        {"model": "mutation2text", "baseline": "text-only LLM", "retrieval": "nearest-neighbour retrieval"})
    if args.train_file:
        # file names only: the card ships to the Hub, the local folders mean nothing there
        validation = Path(args.validation_file).name if args.validation_file else "a tenth of the training proteins"
        data_name = f"train {Path(args.train_file).name}, validation {validation}, test {Path(args.test_file).name}"
    else:
        data_name = args.data or f"embedded generator (size={args.data_size}, seed={args.dataset_seed})"
    metrics = {
        "split": "test", "model": report["model"], "baseline": report.get("baseline"), "retrieval": report["retrieval"],
        "headline_metrics": HEADLINE_METRICS, "data": data_name, "data_size": args.data_size,
        "dataset_seed": args.dataset_seed, "preset": args.preset, "stage": args.stage,
        "language_model": args.language_model, "protein_encoder": args.protein_encoder or "random (preset)",
        "train_runtime_s": {name: next((e["train_runtime"] for e in reversed(h) if "train_runtime" in e), None)
                            for name, h in logs.items()},
        "num_train_examples": len(splits["train"]), "num_test_examples": len(test),
        "text_column": args.text_column, "with_function": args.with_function,
        "skipped_rows": {name: len(lines) for name, lines in skipped.items()},
        # the pre-trained adapters' own effect accuracy (their class head, before the LLM stages)
        "adapter_pretraining": probe,
    }
    export_repository(
        model, processor, output_dir, metrics=metrics, plots=plots, overwrite=True, dataset=data_name,
        base_model=base_model_id(args.language_model),
        training_summary={"stages": args.stage, "language model": args.language_model,
                          "protein encoder": metrics["protein_encoder"],
                          "adapter pre-training": (f"{args.pretrain_epochs} epoch(s) of {probe['n_train']} mutations at lr "
                                                   f"{args.pretrain_learning_rate}, no LLM") if probe else "none",
                          "stage 1": f"{args.stage1_epochs} epoch(s) at lr {args.stage1_learning_rate}",
                          "stage 2": f"LoRA r={args.lora_r} alpha={args.lora_alpha}, {training_args.num_train_epochs} "
                                     f"epoch(s) at lr {training_args.learning_rate}",
                          "batch size": training_args.per_device_train_batch_size},
    )
    shutil.rmtree(plots_dir)
    adapters = output_dir / "adapters"
    adapters.mkdir(exist_ok=True)
    save_file(stage1_adapters, str(adapters / "stage1_adapters.safetensors"))
    if lora_dir is not None:
        shutil.copytree(lora_dir, adapters / "lora", dirs_exist_ok=True)
    with (output_dir / "eval_predictions.jsonl").open("w") as handle:
        for i in range(len(test)):
            row = {k: test[i][k] for k in ("protein_id", "mutation", "effect", "answer")}
            handle.write(json.dumps({**row, **{name: texts[i] for name, texts in predictions.items()}}) + "\n")
    logger.info("test: mutation2text %s | text-only %s | retrieval %s; repository: %s", _summary(report["model"]),
                _summary(report.get("baseline") or {}), _summary(report["retrieval"]), output_dir)
    return metrics


def evaluate(model_dir, data: Optional[str] = None, output: Optional[str] = None, argv=()) -> dict:
    """Held-out metrics of a trained repository next to nearest-neighbour retrieval (the text-only baseline's numbers
    from training stay in the repository's metrics.json).

    With `--train_file` (the family options in `argv`), `data` is a test file scored whole (e.g. MutaDescribe's
    test_easy.csv; `--text_column`, `--with_function`, `--skip_empty_text` as in training; by default those the
    repository was trained with) and retrieval reads the training file. Without, `data` (or the embedded generator)
    is split by protein as in training and its test split is scored."""
    import argparse

    import hf_models  # noqa: F401
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from datasets_scripts.mutation2text.builder import build_split_files

    trained = json.loads((Path(model_dir) / "metrics.json").read_text()) if (Path(model_dir) / "metrics.json").exists() else {}
    parser = argparse.ArgumentParser(prog="biohf evaluate mutation2text")
    parser.add_argument("--train_file", help="training file for retrieval; `--data` is then scored whole")
    parser.add_argument("--text_column", default=trained.get("text_column", "uniprot_description"))
    parser.add_argument("--with_function", action="store_true", default=trained.get("with_function", False))
    parser.add_argument("--skip_empty_text", action="store_true")
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--max_new_tokens", type=int, default=48)
    options = parser.parse_args(list(argv))
    model, processor = AutoModelForCausalLM.from_pretrained(model_dir), AutoTokenizer.from_pretrained(model_dir)
    skipped = {}
    if options.train_file:
        if not data:
            raise ValueError("--train_file needs --data: the test file to score")
        splits = build_split_files(options.train_file, data, options.train_file, skipped=skipped,
                                   text_column=options.text_column, with_function=options.with_function,
                                   skip_empty_text=options.skip_empty_text)
        test = splits["test"]
    else:
        splits = build_mutation2text_dataset(data, size=trained.get("data_size", "demo"), seed=trained.get("dataset_seed", 0))
        test = splits["test"]
        if trained.get("num_test_examples") and data is None:
            test = test.select(range(min(trained["num_test_examples"], len(test))))
    check_protein_lengths({"test": test}, model.config.protein_max_length)
    report = evaluate_systems(test, splits["train"], model=model.eval(), processor=processor,
                              batch_size=options.batch_size, max_new_tokens=options.max_new_tokens)
    report.pop("predictions")
    report["data"] = data or trained.get("data", "embedded generator")
    report["skipped_rows"] = {name: len(lines) for name, lines in skipped.items()}
    if output:
        Path(output).write_text(json.dumps(report, indent=2))
    return report


def predict(model_dir, input_path, output_path, argv=()) -> int:
    from trainers.mutation2text.predict import predict as predict_mutation2text

    return predict_mutation2text(model_dir, input_path, output_path, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
