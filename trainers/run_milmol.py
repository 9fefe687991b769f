"""
Train milmol on the embedded molecules or a user's data, evaluate it on held-out scaffolds next to the 2D
logistic-regression and single-instance baselines, and leave the output folder as a complete Hub repository.

    python -m trainers.run_milmol --preset demo [--data PATH] [--hpo N] [--output_dir DIR] [any TrainingArguments]

`--hpo N` first runs N Optuna trials of the seed's search space through `Trainer.hyperparameter_search`, each
cross-validated over scaffold folds of train + validation, stored in `<output_dir>/checkpoints/hpo/study.sqlite3`
(training state, never pushed; a second call resumes the study and adds N trials), then trains the final model with the best trial's configuration.
"""

import json
import logging
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
from datasets import concatenate_datasets
from transformers import EarlyStoppingCallback, TrainingArguments, set_seed
from transformers.trainer_utils import get_last_checkpoint

from datasets_scripts.milmol import (MILMolDataCollator, aux_statistics, build_milmol_dataset, data_source,
                                     make_featurizer, prevalence, scaffold_folds)
from hf_models.export import export_repository
from modeling.milmol.configuration_milmol import MILMolConfig
from modeling.milmol.modeling_milmol import MILMolForPropertyPrediction
from trainers.arguments import family_config, parse_training_arguments, repository_folder
from trainers.milmol.baseline import Logistic2DBaseline, mean_over_conformers
from trainers.milmol.evaluation import export_attention, model_metrics, predict_split
from trainers.milmol.hpo import config_overrides_from_params, hp_space, study_storage, suggest_model_params
from trainers.milmol.metrics import task_metrics
from trainers.milmol.plots import plot_attention, plot_pr_curves
from trainers.milmol.trainer import MILMolTrainer
from trainers.plots import plot_training_curves

logger = logging.getLogger("biohf.milmol")
HEADLINE_METRICS = ["macro_ap", "min_ap", "macro_roc_auc", "top_conformer_hit_rate"]


@dataclass
class MILMolArguments:
    preset: str = field(default="demo", metadata={"help": "model + training preset: trainers/configs/milmol_<preset>.yaml"})
    data: Optional[str] = field(default=None, metadata={"help": "SMILES CSV, EUOS25 'x2d.csv,x3d.csv[,labels.csv]' (or a folder of them), or a saved DatasetDict; default: embedded molecules"})
    data_size: str = field(default="demo", metadata={"help": "embedded molecules: tiny (60) or demo / full (all)"})
    dataset_seed: int = field(default=0, metadata={"help": "seed of the label noise and of the split"})
    split: str = field(default="scaffold", metadata={"help": "scaffold (Bemis-Murcko, default) or random"})
    featurize_processes: int = field(default=2, metadata={"help": "processes for RDKit featurisation"})
    cache_dir: Optional[str] = field(default=None, metadata={"help": "feature cache folder (default $BIOHF_CACHE/milmol or ~/.cache/biohf/milmol)"})
    config_overrides: Optional[str] = field(default=None, metadata={"help": "model config changes, e.g. 'inst_hidden=32,attn_topk=2'"})
    rare_oversample_mult: float = field(default=20.0, metadata={"help": "sampler weight multiplier for positives of rare tasks"})
    rare_prev_thr: float = field(default=0.05, metadata={"help": "training prevalence under which a task is rare"})
    sample_weight_cap: float = field(default=5.0, metadata={"help": "maximum sampler weight of a molecule"})
    min_w: float = field(default=0.3, metadata={"help": "weight of the worst-task AP in the HPO score"})
    early_stopping_patience: int = field(default=8, metadata={"help": "evaluations without val macro AP improvement before stopping (0 = off)"})
    hpo: int = field(default=0, metadata={"help": "Optuna trials to run before the final training (0 = none)"})
    hpo_space: str = field(default="demo", metadata={"help": "search space scale: demo or seed (see trainers/milmol/hpo.py)"})
    hpo_folds: int = field(default=3, metadata={"help": "scaffold folds of the cross-validated HPO objective"})
    hpo_epochs: float = field(default=0, metadata={"help": "epochs per HPO fold (0 = num_train_epochs)"})
    baselines: bool = field(default=True, metadata={"help": "train and report the 2D logistic regression and single-instance baselines"})
    resume: bool = field(default=True, metadata={"help": "continue from the last checkpoint in output_dir if there is one"})


def build_config(args: MILMolArguments, **extra) -> MILMolConfig:
    return family_config("milmol", args.preset, args.config_overrides, **extra)


def within_bag_std(train) -> list:
    """Per 3D feature, the standard deviation of the conformers around their bag's mean over the TRAINING split
    (1 where a feature does not vary within bags)."""
    x3d, mask = np.asarray(train["x3d"], dtype=np.float64), np.asarray(train["conformer_mask"], dtype=bool)
    weights = mask[..., None].astype(np.float64)
    bag_mean = (x3d * weights).sum(axis=1, keepdims=True) / weights.sum(axis=1, keepdims=True)
    std = np.sqrt((((x3d - bag_mean) ** 2) * weights).sum(axis=(0, 1)) / weights.sum())
    return np.where(std > 1e-6, std, 1.0).tolist()


def fit_statistics(config: MILMolConfig, train) -> tuple:
    """pos_weight (negatives / positives per task) and auxiliary mean/std from the TRAINING split only."""
    labels = np.asarray(train["labels"], dtype=np.float64)
    positives = np.nansum(labels, axis=0)
    negatives = np.sum(~np.isnan(labels), axis=0) - positives
    config.pos_weight = [float(n / p) if p > 0 else 1.0 for n, p in zip(negatives, positives)]
    mean, std = aux_statistics(train)
    config.aux_abs_mean, config.aux_abs_std = mean["aux_abs"].tolist(), std["aux_abs"].tolist()
    config.aux_fluo_mean, config.aux_fluo_std = mean["aux_fluo"].tolist(), std["aux_fluo"].tolist()
    if config.conformer_contrast:
        config.within_bag_std_3d = within_bag_std(train)
    return mean, std


def make_trainer(model_or_init, training_args, train, validation, collator, args: MILMolArguments, task_names, **options):
    callbacks = [EarlyStoppingCallback(args.early_stopping_patience)] if args.early_stopping_patience else []
    model_kwargs = {"model_init": model_or_init} if callable(model_or_init) and not hasattr(model_or_init, "config") else {"model": model_or_init}
    return MILMolTrainer(
        args=training_args, train_dataset=train, eval_dataset=validation, data_collator=collator, callbacks=callbacks,
        task_names=task_names,
        rare_oversample_mult=options.get("rare_oversample_mult", args.rare_oversample_mult),
        rare_prev_thr=options.get("rare_prev_thr", args.rare_prev_thr),
        sample_weight_cap=options.get("sample_weight_cap", args.sample_weight_cap),
        min_w=options.get("min_w", args.min_w), cv_folds=options.get("cv_folds"), **model_kwargs,
    )


def member_state(ensemble: MILMolForPropertyPrediction, member: MILMolForPropertyPrediction, index: int) -> dict:
    """The state dict that puts the single network `member` (ensemble_size 1) in slot `index` of `ensemble`."""
    state = ensemble.state_dict()
    for key, value in member.state_dict().items():
        if key.startswith("milmol.members.0."):
            state[f"milmol.members.{index}." + key[len("milmol.members.0."):]] = value
        else:  # the heads: (members, ...) tensors
            state[key] = state[key].clone()
            state[key][index] = value[0]
    return state


def fit_members(config: MILMolConfig, training_args: TrainingArguments, train, validation, collator, args: MILMolArguments,
                resume: bool = False, **options):
    """
    Trains the model of `config`. With ensemble_size K > 1 the members are trained one after the other as
    independent single networks (training seed + m, each with its own early stopping and best checkpoint under
    `<output_dir>/member-<m>`), then put together into one K-member model. Returns (model, trainers).
    """
    members = config.ensemble_size
    trainers, states = [], []
    for index in range(members):
        member_args = training_args if members == 1 else TrainingArguments(**{
            **training_args.to_dict(), "output_dir": str(Path(training_args.output_dir) / f"member-{index}"),
            "seed": training_args.seed + index})
        set_seed(member_args.seed)
        model = MILMolForPropertyPrediction(MILMolConfig(**{**config.to_dict(), "ensemble_size": 1}) if members > 1 else config)
        trainer = make_trainer(model, member_args, train, validation, collator, args, config.task_names, **options)
        checkpoint = training_args.resume_from_checkpoint if members == 1 else None
        if checkpoint is None and resume and Path(member_args.output_dir).is_dir():
            checkpoint = get_last_checkpoint(member_args.output_dir)
            if checkpoint:
                logger.info("resuming from %s", checkpoint)
        trainer.train(resume_from_checkpoint=checkpoint)
        trainers.append(trainer)
        if members > 1:
            logger.info("member %d/%d: best validation macro AP %s", index + 1, members, trainer.state.best_metric)
            states.append(trainer.model)
    if members == 1:
        return trainers[0].model, trainers
    ensemble = MILMolForPropertyPrediction(config)
    for index, member in enumerate(states):
        ensemble.load_state_dict(member_state(ensemble, member, index))
    return ensemble, trainers


def run_hpo(args: MILMolArguments, training_args: TrainingArguments, base_config: MILMolConfig, splits, collator,
            state_dir: Path) -> dict:
    """N more trials of the study stored in `state_dir`/hpo; returns the best trial's params (over all trials so far)."""
    pool = concatenate_datasets([splits["train"], splits["validation"]])
    folds = [(pool.select(a), pool.select(b)) for a, b in scaffold_folds(pool["scaffold"], args.hpo_folds, args.dataset_seed)]
    hpo_args = TrainingArguments(**{**training_args.to_dict(), "output_dir": str(state_dir / "hpo" / "runs"),
                                    "save_strategy": "no", "load_best_model_at_end": False, "report_to": "none",
                                    "num_train_epochs": args.hpo_epochs or training_args.num_train_epochs,
                                    "disable_tqdm": True, "logging_strategy": "epoch"})
    trainer_ref = {}

    def model_init(trial):
        config = MILMolConfig(**{**base_config.to_dict(), "ensemble_size": 1})  # trials score one network each
        if trial is not None:
            suggested = suggest_model_params(trial, args.hpo_space)
            for key, value in suggested["config"].items():
                setattr(config, key, value)
            config = MILMolConfig(**config.to_dict())  # re-run the constraint checks
            if "trainer" in trainer_ref:
                for key, value in suggested["trainer"].items():
                    setattr(trainer_ref["trainer"], key, value)
        return MILMolForPropertyPrediction(config)

    args_for_search = MILMolArguments(**{**asdict(args), "early_stopping_patience": 0})
    trainer = make_trainer(model_init, hpo_args, folds[0][0], folds[0][1], collator, args_for_search,
                           base_config.task_names, cv_folds=folds)
    trainer_ref["trainer"] = trainer
    best = trainer.hyperparameter_search(direction="maximize", backend="optuna", n_trials=args.hpo,
                                         compute_objective=trainer.objective_from_metrics,
                                         hp_space=lambda trial: hp_space(trial, args.hpo_space), **study_storage(state_dir))
    summary = {"best_trial": best.run_id, "best_objective": best.objective, "params": best.hyperparameters,
               "storage": str(state_dir / "hpo" / "study.sqlite3"), "folds": args.hpo_folds}
    (state_dir / "hpo" / "best.json").write_text(json.dumps(summary, indent=2))
    shutil.rmtree(state_dir / "hpo" / "runs", ignore_errors=True)
    logger.info("HPO: best trial %s, CV objective %.4f", best.run_id, best.objective)
    return best.hyperparameters


def train_single_instance(config, training_args, splits, collator, args):
    """The single-instance baseline: the same network and training on bags of one (mean over conformers)."""
    single = {name: mean_over_conformers(splits[name]) for name in ("train", "validation", "test")}
    single_args = TrainingArguments(**{**training_args.to_dict(), "output_dir": str(Path(training_args.output_dir) / "single_instance"),
                                       "save_total_limit": 1})
    model, _ = fit_members(MILMolConfig(**config.to_dict()), single_args, single["train"], single["validation"], collator, args)
    prediction = predict_split(model, single["test"], training_args.per_device_eval_batch_size)
    shutil.rmtree(single_args.output_dir, ignore_errors=True)
    return prediction


def write_repository(model, trainers, tokenizer, splits, args, training_args, output_dir: Path, single, hpo_params) -> dict:
    """Rank 0: test metrics next to the baselines (`single`: the single-instance model's test prediction), plots, export.
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
        "data": args.data or f"embedded molecules (size={args.data_size}, seed={args.dataset_seed})",
        "data_size": args.data_size, "dataset_seed": args.dataset_seed, "split_kind": args.split, "preset": args.preset,
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
    shutil.rmtree(plots_dir)
    return metrics


def main(argv=None) -> Optional[dict]:
    args, training_args = parse_training_arguments("milmol", (MILMolArguments, TrainingArguments), argv)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO if training_args.should_log else logging.WARNING)
    set_seed(training_args.seed)
    output_dir = repository_folder(training_args)
    config = build_config(args)
    tokenizer = make_featurizer(args.data, fingerprint_bits=config.fingerprint_bits, fingerprint_radius=config.fingerprint_radius,
                                num_conformers=config.num_conformers)
    if data_source(args.data)[0] == "euos25":
        config = build_config(args, n_features_2d=tokenizer.n_features_2d, n_features_3d=tokenizer.n_features_3d)
    splits = build_milmol_dataset(args.data, tokenizer, size=args.data_size, split=args.split, seed=args.dataset_seed,
                                  num_proc=args.featurize_processes, cache_dir=args.cache_dir)
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
    if not trainers[0].is_world_process_zero():
        return None
    metrics = write_repository(model, trainers, tokenizer, splits, args, training_args, output_dir, single, hpo_params)
    ours, theirs = metrics["model"], metrics.get("baseline", {})
    logger.info("test macro AP %s (2D baseline %s, single-instance %s), worst-task AP %s; repository: %s",
                ours["macro_ap"], theirs.get("macro_ap"), metrics.get("single_instance", {}).get("macro_ap"), ours["min_ap"], output_dir)
    return metrics


def evaluate(model_dir, data: Optional[str] = None, output: Optional[str] = None, argv=()) -> dict:
    """Held-out metrics of a trained repository next to the 2D baseline (refit on the same training split)."""
    import hf_models  # noqa: F401  registers milmol with the Auto classes
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    trained_on = json.loads((Path(model_dir) / "metrics.json").read_text()) if (Path(model_dir) / "metrics.json").exists() else {}
    splits = build_milmol_dataset(data, tokenizer, size=trained_on.get("data_size", "demo"), seed=trained_on.get("dataset_seed", 0),
                                  split=trained_on.get("split_kind", "scaffold"))
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


def predict(model_dir, input_path, output_path, argv=()) -> int:
    from trainers.milmol.predict import predict as predict_milmol

    return predict_milmol(model_dir, input_path, output_path, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
