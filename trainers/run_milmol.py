"""
Train milmol on the embedded molecules or a user's data, evaluate it on held-out scaffolds next to the 2D
logistic-regression and single-instance baselines, and leave the output folder as a complete Hub repository.

    python -m trainers.run_milmol --preset demo [--data PATH] [--hpo N] [--output_dir DIR] [any TrainingArguments]
    python -m trainers.run_milmol --preset euos25 --train_file DIR_OR_FILE [--train_file ...] [--sample N]

`--hpo N` first runs N Optuna trials of the seed's search space through `Trainer.hyperparameter_search`, each
cross-validated over scaffold folds of train + validation, stored in `<output_dir>/checkpoints/hpo/study.sqlite3`
(training state, never pushed; a second call resumes the study and adds N trials), then trains the final model with the best trial's configuration.
"""

import json
import logging
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Optional

import numpy as np
from transformers import TrainingArguments, set_seed

from datasets_scripts.milmol import (MILMolDataCollator, build_milmol_dataset, build_summary, data_source,
                                     featurisation_report, make_featurizer, prevalence)
from hf_models.export import export_repository
from modeling.milmol.configuration_milmol import MILMolConfig
from trainers.arguments import parse_training_arguments, repository_folder
from trainers.milmol.baseline import Logistic2DBaseline
from trainers.milmol.evaluation import export_attention, model_metrics, predict_split
from trainers.milmol.hpo import config_overrides_from_params
from trainers.milmol.imbalance import choose_thresholds, imbalance_check, threshold_report
from trainers.milmol.metrics import task_metrics
from trainers.milmol.plots import plot_attention, plot_pr_curves
from trainers.milmol.training import (MILMolArguments, build_config, fit_members, fit_statistics, run_hpo,
                                      train_single_instance, train_without_conformers)
from trainers.plots import plot_training_curves

logger = logging.getLogger("biohf.milmol")
HEADLINE_METRICS = ["macro_roc_auc", "min_roc_auc", "macro_ap", "min_ap", "top_conformer_hit_rate"]


def describe_data(args) -> str:
    if not args.data:
        return f"embedded molecules (size={args.data_size}, seed={args.dataset_seed})"
    parts = args.data if isinstance(args.data, (list, tuple)) else [args.data]
    text = ", ".join(Path(p).name for p in parts)
    return text + (f" (sampled mode: {args.sample} molecules, every rare-task positive kept, seed {args.dataset_seed})" if args.sample else "")


def write_repository(model, trainers, tokenizer, splits, args, training_args, output_dir: Path, single, hpo_params,
                     without_conformers=None) -> dict:
    """Rank 0: test metrics next to the baselines (`single`: the single-instance model's test prediction;
    `without_conformers`: the 3D-branch ablation's validation / test predictions), thresholds chosen on validation,
    the imbalance check, plots, the featurisation report, export.
    `trainers`: one per ensemble member (the training curves plotted are the first member's)."""
    config = model.config
    trainer = trainers[0]
    global_step = sum(t.state.global_step for t in trainers)
    runtimes = [next((e["train_runtime"] for e in reversed(t.state.log_history) if "train_runtime" in e), None) for t in trainers]
    tasks = config.task_names
    test = splits["test"]
    prediction = predict_split(model, test, training_args.per_device_eval_batch_size)
    labels = np.asarray(test["labels"], dtype=np.float64)
    metrics = {"split": "test", "model": model_metrics(prediction, test, tasks)}
    scores = {"milmol": prediction["probs"]}
    if args.baselines:
        train = splits["train"]
        logistic = Logistic2DBaseline(seed=training_args.seed).fit(np.asarray(train["x2d"]), np.asarray(train["labels"], dtype=np.float64))
        scores["2D logistic regression"] = logistic.predict_proba(np.asarray(test["x2d"]))
        metrics["baseline"] = task_metrics(labels, scores["2D logistic regression"], tasks)
        scores["single-instance (mean over conformers)"] = single["probs"]
        metrics["single_instance"] = task_metrics(labels, single["probs"], tasks)
    if without_conformers is not None:
        scores["same model, 3D branch off"] = without_conformers["test"]["probs"]
        metrics["without_conformers"] = task_metrics(labels, without_conformers["test"]["probs"], tasks)
        metrics["without_conformers_validation"] = task_metrics(np.asarray(splits["validation"]["labels"], dtype=np.float64),
                                                                without_conformers["validation"]["probs"], tasks)
    if "sampling_weight" in test.column_names:  # sampled mode: the same scores, weighted back to the whole set's distribution
        weights = np.asarray(test["sampling_weight"], dtype=np.float64)
        names = {"milmol": "model", "2D logistic regression": "baseline", "single-instance (mean over conformers)": "single_instance",
                 "same model, 3D branch off": "without_conformers"}
        metrics["reweighted"] = {names[name]: task_metrics(labels, score, tasks, sample_weight=weights) for name, score in scores.items()}
    validation = splits["validation"]
    validation_prediction = predict_split(model, validation, training_args.per_device_eval_batch_size)
    validation_labels = np.asarray(validation["labels"], dtype=np.float64)
    metrics["validation"] = task_metrics(validation_labels, validation_prediction["probs"], tasks)
    config.decision_thresholds = choose_thresholds(validation_labels, validation_prediction["probs"], tasks)
    metrics["thresholds"] = threshold_report(labels, prediction["probs"], config.decision_thresholds, tasks)
    metrics["imbalance"] = imbalance_check(splits["train"]["labels"], config, args.rare_oversample_mult, args.rare_prev_thr,
                                           args.sample_weight_cap)
    plots_dir = Path(tempfile.mkdtemp(prefix="milmol-plots-"))
    plots = {"training_curves": plot_training_curves(trainer.state.log_history, plots_dir / "training_curves.png", "eval_macro_ap"),
             "pr_curves": plot_pr_curves(labels, scores, tasks, plots_dir / "pr_curves.png")}
    examples = [i for i in np.flatnonzero(np.asarray(test["conformer_dependent"], dtype=bool))[:4]] if "conformer_dependent" in test.column_names else list(range(min(4, len(test))))
    if examples:
        plots["conformer_attention"] = plot_attention(
            prediction["attention"][examples], prediction["conformer_mask"][examples], [test[int(i)]["id"] for i in examples], tasks,
            plots_dir / "conformer_attention.png",
            responsible_mask=np.asarray(test["responsible_mask"])[examples] if "responsible_mask" in test.column_names else None)
    metrics.update({
        "headline_metrics": HEADLINE_METRICS,
        "data": describe_data(args), "featurisation": build_summary(splits),
        "data_size": args.data_size, "dataset_seed": args.dataset_seed, "split_kind": args.split, "preset": args.preset,
        "sample": args.sample, "on_no_conformer": args.on_no_conformer,
        "prevalence": {name: dict(zip(tasks, prevalence(splits[name]).round(4).tolist())) for name in ("train", "validation", "test")},
        "train_runtime_s": sum(runtimes) if None not in runtimes else None,
        "global_step": global_step, "ensemble_size": config.ensemble_size,
        "member_validation_macro_ap": [t.state.best_metric for t in trainers], "num_train_molecules": len(splits["train"]),
        "failed_molecules": splits["failed"].to_list() if "failed" in splits else [],
        "hpo_params": hpo_params,
    })
    export_repository(
        model, tokenizer, output_dir, metrics=metrics, plots=plots, overwrite=True, dataset=metrics["data"],
        training_summary={"preset": args.preset, "data": metrics["data"], "split": args.split,
                          "learning_rate": training_args.learning_rate, "epochs": training_args.num_train_epochs,
                          "batch_size": training_args.per_device_train_batch_size, "global_step": global_step,
                          "hpo_trials": args.hpo},
    )
    attention_split = splits["leaderboard"] if "leaderboard" in splits else test
    attention_prediction = predict_split(model, attention_split) if "leaderboard" in splits else prediction
    export_attention(attention_prediction, attention_split, tasks, output_dir / "leaderboard_attention.parquet")
    featurisation_report(splits, output_dir / "featurisation_report.csv")
    shutil.rmtree(plots_dir)
    return metrics


def gather_repeated(argv, flag: str = "--train_file") -> list:
    """`--train_file a --train_file b` -> `--train_file a b` (argparse would keep only the last)."""
    argv, values, out, index = list(argv), [], [], 0
    while index < len(argv):
        arg = argv[index]
        if arg == flag:
            index += 1
            while index < len(argv) and not argv[index].startswith("--"):
                values.append(argv[index])
                index += 1
            continue
        if arg.startswith(flag + "="):
            values.append(arg.split("=", 1)[1])
        else:
            out.append(arg)
        index += 1
    return out + ([flag] + values if values else [])


def main(argv=None) -> Optional[dict]:
    argv = gather_repeated(sys.argv[1:] if argv is None else argv)
    args, training_args = parse_training_arguments("milmol", (MILMolArguments, TrainingArguments), argv)
    if args.train_file and args.data:
        raise SystemExit("give the data once: --train_file (the EUOS25 challenge files) or --data, not both")
    args.data = args.train_file or args.data
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO if training_args.should_log else logging.WARNING)
    set_seed(training_args.seed)
    output_dir = repository_folder(training_args)
    config = build_config(args)
    tokenizer = make_featurizer(args.data, fingerprint_bits=config.fingerprint_bits, fingerprint_radius=config.fingerprint_radius,
                                num_conformers=config.num_conformers, embed_threads=args.embed_threads)
    if data_source(args.data)[0] == "euos25":
        config = build_config(args, n_features_2d=tokenizer.n_features_2d, n_features_3d=tokenizer.n_features_3d)
    splits = build_milmol_dataset(args.data, tokenizer, size=args.data_size, split=args.split, seed=args.dataset_seed,
                                  num_proc=args.featurize_processes, cache_dir=args.cache_dir,
                                  on_no_conformer=args.on_no_conformer, sample=args.sample or None)
    if splits["train"][0]["x2d"] is not None and len(splits["train"][0]["x2d"]) != config.n_features_2d:
        raise SystemExit(f"the data's 2D vectors have {len(splits['train'][0]['x2d'])} features, the config {config.n_features_2d}")
    mean, std = fit_statistics(config, splits["train"])
    collator = MILMolDataCollator(aux_mean=mean, aux_std=std)
    logger.info("milmol %s: %d train / %d validation / %d test molecules; train prevalence %s", args.preset,
                len(splits["train"]), len(splits["validation"]), len(splits["test"]), prevalence(splits["train"]).round(3))

    hpo_params, options = None, {}
    if args.hpo > 0:
        hpo_params = run_hpo(args, training_args, config, splits, collator, Path(training_args.output_dir))
        config_changes, options, argument_changes = config_overrides_from_params(hpo_params)
        config = MILMolConfig(**{**config.to_dict(), **config_changes})
        for key, value in argument_changes.items():
            setattr(training_args, key, value)
        set_seed(training_args.seed)

    model, trainers = fit_members(config, training_args, splits["train"], splits["validation"], collator, args, resume=args.resume, **options)
    logger.info("milmol: %.2fM parameters (%d member(s))", model.num_parameters() / 1e6, config.ensemble_size)
    # every rank trains the baseline (a distributed Trainer needs all of them); only rank 0 evaluates and exports
    single = train_single_instance(config, training_args, splits, collator, args) if args.baselines else None
    without = train_without_conformers(config, training_args, splits, collator, args) if args.ablation_2d else None
    if not trainers[0].is_world_process_zero():
        return None
    metrics = write_repository(model, trainers, tokenizer, splits, args, training_args, output_dir, single, hpo_params, without)
    ours, theirs = metrics["model"], metrics.get("baseline", {})
    logger.info("test macro AP %s (2D baseline %s, single-instance %s), worst-task AP %s, macro ROC AUC %s (2D baseline %s); repository: %s",
                ours["macro_ap"], theirs.get("macro_ap"), metrics.get("single_instance", {}).get("macro_ap"), ours["min_ap"],
                ours["macro_roc_auc"], theirs.get("macro_roc_auc"), output_dir)
    return metrics


def evaluate(model_dir, data: Optional[str] = None, output: Optional[str] = None, argv=()) -> dict:
    """Held-out metrics of a trained repository next to the 2D baseline (refit on the same training split)."""
    import hf_models  # noqa: F401  registers milmol with the Auto classes
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    trained_on = json.loads((Path(model_dir) / "metrics.json").read_text()) if (Path(model_dir) / "metrics.json").exists() else {}
    splits = build_milmol_dataset(data, tokenizer, size=trained_on.get("data_size", "demo"), seed=trained_on.get("dataset_seed", 0),
                                  split=trained_on.get("split_kind", "scaffold"), sample=trained_on.get("sample") or None,
                                  on_no_conformer=trained_on.get("on_no_conformer", "2d_only"))
    test = splits["test"]
    report = {"split": "test", "model": model_metrics(predict_split(model, test), test, model.config.task_names)}
    train = splits["train"]
    logistic = Logistic2DBaseline().fit(np.asarray(train["x2d"]), np.asarray(train["labels"], dtype=np.float64))
    report["baseline"] = task_metrics(np.asarray(test["labels"], dtype=np.float64), logistic.predict_proba(np.asarray(test["x2d"])),
                                      model.config.task_names)
    report["data"] = data or trained_on.get("data", "embedded molecules")
    if output:
        Path(output).write_text(json.dumps(report, indent=2))
    return report


def diagnose(data: Optional[str], output: Optional[str], argv=()) -> dict:
    """`biohf diagnose milmol --model DIR [--output FILE.json]`: the attention diagnostics of a trained repository
    (trainers/milmol/diagnostics.py; embedded data, which know the responsible conformers)."""
    from trainers.milmol.diagnostics import main as diagnose_main

    if data:
        raise SystemExit("biohf diagnose milmol reads the embedded data the model was trained on; it takes no --data")
    return diagnose_main(list(argv) + (["--output", output] if output else []))


def predict(model_dir, input_path, output_path, argv=()) -> int:
    from trainers.milmol.predict import predict as predict_milmol

    return predict_milmol(model_dir, input_path, output_path, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
