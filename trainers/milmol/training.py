"""
milmol training as a library: the run's arguments, the config and training-split statistics, the trainer, the
ensemble members trained one after the other, the hyper-parameter search, and the baselines trained like the model
(single-instance; the same model with the 3D branch off). `trainers/run_milmol.py` is the command around it.
"""

import json
import logging
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import List, Optional

import numpy as np
from datasets import concatenate_datasets
from transformers import EarlyStoppingCallback, TrainingArguments, set_seed
from transformers.trainer_utils import get_last_checkpoint

from datasets_scripts.milmol import aux_statistics, scaffold_folds
from modeling.milmol.configuration_milmol import MILMolConfig
from modeling.milmol.modeling_milmol import MILMolForPropertyPrediction
from trainers.arguments import family_config
from trainers.milmol.baseline import mean_over_conformers
from trainers.milmol.evaluation import predict_split
from trainers.milmol.hpo import hp_space, study_storage, suggest_model_params
from trainers.milmol.trainer import MILMolTrainer

logger = logging.getLogger("biohf.milmol")


@dataclass
class MILMolArguments:
    preset: str = field(default="demo", metadata={"help": "model + training preset: trainers/configs/milmol_<preset>.yaml"})
    train_file: Optional[List[str]] = field(default=None, metadata={"help": "the EUOS25 challenge's per-task training CSVs (give --train_file once per file, or their folder; the task is read from each file name)"})
    data: Optional[str] = field(default=None, metadata={"help": "SMILES CSV, EUOS25 'x2d.csv,x3d.csv[,labels.csv]' (or a folder of them), or a saved DatasetDict; default: embedded molecules"})
    sample: int = field(default=0, metadata={"help": "sampled mode: featurise and use only this many molecules, every positive of a rare task (prevalence < 5%%) kept (0 = all)"})
    on_no_conformer: str = field(default="2d_only", metadata={"help": "a molecule RDKit cannot embed in 3D: 2d_only (kept with an empty bag) or exclude; either way listed in featurisation_report.csv"})
    embed_threads: int = field(default=1, metadata={"help": "RDKit threads for one molecule's conformers (numThreads)"})
    ablation_2d: bool = field(default=False, metadata={"help": "also train the same model with the 3D branch off (use_conformers=False) and report it"})
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
    bag_mean = (x3d * weights).sum(axis=1, keepdims=True) / np.maximum(weights.sum(axis=1, keepdims=True), 1.0)
    std = np.sqrt((((x3d - bag_mean) ** 2) * weights).sum(axis=(0, 1)) / max(weights.sum(), 1.0))
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


def train_without_conformers(config, training_args, splits, collator, args) -> dict:
    """The 3D-branch ablation: the same model, data and training with `use_conformers=False`; test and validation predictions."""
    ablation_args = TrainingArguments(**{**training_args.to_dict(), "output_dir": str(Path(training_args.output_dir) / "without_conformers"),
                                         "save_total_limit": 1})
    model, _ = fit_members(MILMolConfig(**{**config.to_dict(), "use_conformers": False}), ablation_args, splits["train"],
                           splits["validation"], collator, args)
    prediction = {name: predict_split(model, splits[name], training_args.per_device_eval_batch_size) for name in ("validation", "test")}
    shutil.rmtree(ablation_args.output_dir, ignore_errors=True)
    return prediction
