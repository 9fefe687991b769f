"""
The seed's hyper-parameter search (section 4) with Optuna through `Trainer.hyperparameter_search`.

`model_init(trial)` runs before `hp_space(trial)`, so the trial is asked for the architecture, loss, sampler and
objective parameters in `model_init` (they configure the model and the trainer), and for the TrainingArguments
ones (lr, weight decay, batch size, accumulation) in `hp_space`.

Two scales of the same space: "seed" is the seed's space verbatim (widths 256-2048, batches 128-512 x 8-16
accumulation: meant for the ~100k-molecule EUOS25 set); "demo" keeps every imbalance, loss, lambda, sampler and
objective range of the seed but scales widths, depths and batches down to a few hundred molecules on a CPU.
"""

from pathlib import Path

TASKS = 4
ARCHITECTURE = {
    "seed": {"mol_hidden": [1024, 2048], "mol_layers": (2, 5), "inst_hidden": [256, 512, 1024], "inst_layers": (3, 5),
             "proj_dim": [512, 1024], "attn_heads": [8, 16], "mixer_hidden": [512, 1024], "mixer_layers": (3, 5),
             "batch_size": [128, 256, 512], "accumulate_grad_batches": [8, 16]},
    "demo": {"mol_hidden": [64, 128], "mol_layers": (1, 3), "inst_hidden": [32, 64], "inst_layers": (1, 3),
             "proj_dim": [32, 64], "attn_heads": [4, 8], "mixer_hidden": [32, 64], "mixer_layers": (1, 3),
             "batch_size": [16, 32, 64], "accumulate_grad_batches": [1, 2]},
}
ACTIVATIONS = ["GELU", "SiLU", "Mish", "ReLU", "LeakyReLU"]


def suggest_model_params(trial, space: str = "demo") -> dict:
    """Architecture + imbalance/loss + sampler + objective parameters of one trial (config fields and trainer options)."""
    a = ARCHITECTURE[space]
    params = {
        "mol_hidden": trial.suggest_categorical("mol_hidden", a["mol_hidden"]),
        "mol_layers": trial.suggest_int("mol_layers", *a["mol_layers"]),
        "mol_dropout": trial.suggest_float("mol_dropout", 0.10, 0.25),
        "inst_hidden": trial.suggest_categorical("inst_hidden", a["inst_hidden"]),
        "inst_layers": trial.suggest_int("inst_layers", *a["inst_layers"]),
        "inst_dropout": trial.suggest_float("inst_dropout", 0.05, 0.15),
        "proj_dim": trial.suggest_categorical("proj_dim", a["proj_dim"]),
        "attn_heads": trial.suggest_categorical("attn_heads", a["attn_heads"]),
        "attn_dropout": trial.suggest_float("attn_dropout", 0.05, 0.2),
        "mixer_hidden": trial.suggest_categorical("mixer_hidden", a["mixer_hidden"]),
        "mixer_layers": trial.suggest_int("mixer_layers", *a["mixer_layers"]),
        "mixer_dropout": trial.suggest_float("mixer_dropout", 0.05, 0.2),
        "activation": trial.suggest_categorical("activation", ACTIVATIONS),
        "posw_clip": [trial.suggest_float(f"posw_clip_t{t}", 10.0, 200.0, log=True) for t in range(TASKS)],
        "gamma": [trial.suggest_float(f"gamma_t{t}", 0.0, 4.0) for t in range(TASKS)],
        "lam": [trial.suggest_float(f"lam_t{t}", 0.25, 3.0, log=True) for t in range(TASKS)],
        "lam_floor": trial.suggest_float("lam_floor", 0.25, 1.0),
        "lam_ceil": trial.suggest_float("lam_ceil", 1.0, 3.5),
        "lambda_aux_abs": trial.suggest_float("lambda_aux_abs", 0.05, 0.5),
        "lambda_aux_fluo": trial.suggest_float("lambda_aux_fluo", 0.05, 0.5),
        "reg_loss_type": trial.suggest_categorical("reg_loss_type", ["mse"]),
    }
    trainer_options = {
        "rare_oversample_mult": trial.suggest_float("rare_oversample_mult", 0.0, 200.0),
        "rare_prev_thr": trial.suggest_float("rare_prev_thr", 0.005, 0.05),
        "sample_weight_cap": trial.suggest_float("sample_weight_cap", 2.0, 20.0),
        "min_w": trial.suggest_float("min_w", 0.1, 0.6),
    }
    trial.suggest_categorical("objective_mode", ["macro_plus_min"])
    if params["inst_hidden"] % params["attn_heads"]:  # the seed enforces this during HPO
        import optuna

        raise optuna.TrialPruned(f"inst_hidden {params['inst_hidden']} not divisible by attn_heads {params['attn_heads']}")
    return {"config": params, "trainer": trainer_options}


def hp_space(trial, space: str = "demo") -> dict:
    """The TrainingArguments part of the space."""
    a = ARCHITECTURE[space]
    return {
        "learning_rate": trial.suggest_float("lr", 8e-5, 8e-4, log=True),
        "weight_decay": trial.suggest_float("weight_decay", 3e-6, 3e-4, log=True),
        "per_device_train_batch_size": trial.suggest_categorical("batch_size", a["batch_size"]),
        "gradient_accumulation_steps": trial.suggest_categorical("accumulate_grad_batches", a["accumulate_grad_batches"]),
    }


def study_storage(state_dir, study_name: str = "milmol-hpo") -> dict:
    """Optuna `create_study` arguments: SQLite storage in `state_dir`/hpo, resumed when it exists, median pruner."""
    import optuna

    path = Path(state_dir) / "hpo" / "study.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return {"storage": f"sqlite:///{path}", "study_name": study_name, "load_if_exists": True,
            "pruner": optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1),
            "sampler": optuna.samplers.TPESampler(seed=0)}


def config_overrides_from_params(params: dict) -> dict:
    """A finished trial's flat Optuna params -> (config overrides, trainer options, TrainingArguments overrides)."""
    config = {k: params[k] for k in ("mol_hidden", "mol_layers", "mol_dropout", "inst_hidden", "inst_layers", "inst_dropout",
                                     "proj_dim", "attn_heads", "attn_dropout", "mixer_hidden", "mixer_layers", "mixer_dropout",
                                     "activation", "lam_floor", "lam_ceil", "lambda_aux_abs", "lambda_aux_fluo", "reg_loss_type")
              if k in params}
    for name, key in (("posw_clip", "posw_clip_t"), ("gamma", "gamma_t"), ("lam", "lam_t")):
        if f"{key}0" in params:
            config[name] = [params[f"{key}{t}"] for t in range(TASKS)]
    trainer = {k: params[k] for k in ("rare_oversample_mult", "rare_prev_thr", "sample_weight_cap", "min_w") if k in params}
    arguments = {}
    if "lr" in params:
        arguments = {"learning_rate": params["lr"], "weight_decay": params["weight_decay"],
                     "per_device_train_batch_size": params["batch_size"],
                     "gradient_accumulation_steps": params["accumulate_grad_batches"]}
    return config, trainer, arguments
