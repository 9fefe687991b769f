"""
milmol training cost on CPU:
- throughput of `MILMolForPropertyPrediction`: molecules per second of a forward + backward step (train mode, full
  loss with focal BCE and auxiliary terms) and of a forward pass (eval, no grad), at the presets of
  `hf_models.presets` (tiny, demo, base), batch 32 molecules x 8 conformers (5-8 real, the rest padding), for ONE
  network (`ensemble_size=1`: an ensemble preset trains its members one after the other, each at this speed);
- cost of one hyper-parameter-search trial: wall time of one Optuna trial of `--hpo` (cross-validated over 3
  scaffold folds of train + validation, `--trial-epochs` epochs per fold) on the embedded demo molecules
  (featurised first, outside the timing, from the cache when present).

    python -m benchmarks.milmol_training
    python -m benchmarks.milmol_training --quick   # toy size, for the smoke test
"""
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
from transformers import TrainingArguments

from benchmarks.common import benchmark_parser, environment, parse_flags, run_and_report, train_and_inference_medians
from hf_models.presets import preset_config
from modeling.milmol.modeling_milmol import MILMolForPropertyPrediction


def make_batch(config, batch_size: int, conformers: int = 8, seed: int = 0) -> dict:
    generator = torch.Generator().manual_seed(seed)
    mask = torch.zeros(batch_size, conformers, dtype=torch.long)
    for i in range(batch_size):
        mask[i, : 5 + i % 4] = 1
    return {"x2d": torch.randn(batch_size, config.n_features_2d, generator=generator),
            "x3d": torch.randn(batch_size, conformers, config.n_features_3d, generator=generator) * mask[..., None],
            "conformer_mask": mask, "labels": (torch.rand(batch_size, 4, generator=generator) < 0.2).float(),
            "aux_abs": torch.randn(batch_size, 2, generator=generator), "aux_fluo": torch.randn(batch_size, 4, generator=generator)}


def measure(name: str, batch_size: int, warmup: int, repeats: int) -> dict:
    torch.manual_seed(0)
    config = preset_config("milmol", name, ensemble_size=1)
    model = MILMolForPropertyPrediction(config)
    batch = make_batch(config, batch_size)
    times, cpu = train_and_inference_medians(model, batch, warmup, repeats)
    return {"config": name, "parameters_m": sum(p.numel() for p in model.parameters()) / 1e6,
            "batch": f"{batch_size} x 8 conformers", "train_step_ms": 1e3 * times["train"],
            "train_mol_per_s": batch_size / times["train"], "inference_ms": 1e3 * times["inference"],
            "inference_mol_per_s": batch_size / times["inference"], "train_step_cpu_ms": 1e3 * cpu["train"]}


def trial_cost(data_size: str, epochs: float, folds: int, cache_dir) -> dict:
    """Wall time of one cross-validated Optuna trial through `run_hpo` (the code path of `biohf train milmol --hpo`)."""
    from datasets_scripts.milmol import MILMolDataCollator, build_milmol_dataset, make_featurizer
    from trainers.milmol.training import MILMolArguments, build_config, fit_statistics, run_hpo

    args = MILMolArguments(preset="demo", data_size=data_size, hpo=1, hpo_folds=folds, hpo_epochs=epochs, baselines=False)
    config = build_config(args)
    featurizer = make_featurizer(None, fingerprint_bits=config.fingerprint_bits, num_conformers=config.num_conformers)
    splits = build_milmol_dataset(None, featurizer, size=data_size, num_proc=2, cache_dir=cache_dir)
    mean, std = fit_statistics(config, splits["train"])
    state = Path(tempfile.mkdtemp(prefix="milmol-trial-"))
    training_args = TrainingArguments(output_dir=str(state), per_device_eval_batch_size=128, eval_strategy="epoch",
                                      logging_strategy="epoch", report_to="none", seed=0, num_train_epochs=epochs,
                                      metric_for_best_model="macro_ap", dataloader_pin_memory=False, disable_tqdm=True)
    start = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # the Trainer prints its logs; stdout is the results table
        run_hpo(args, training_args, config, splits, MILMolDataCollator(aux_mean=mean, aux_std=std), state)
    seconds = time.perf_counter() - start
    molecules = len(splits["train"]) + len(splits["validation"])
    return {"data": f"embedded {data_size} ({molecules} train+validation molecules)", "folds": folds,
            "epochs_per_fold": epochs, "trial_s": seconds, "trial_s_per_fold_epoch": seconds / (folds * epochs)}


def run(args) -> dict:
    load_at_start = os.getloadavg()[0]
    rows = []
    for name in args.configs:
        rows.append(measure(name, args.batch_size, args.warmup, args.repeats))
        print(f"{name}: {rows[-1]['train_mol_per_s']:.0f} train molecules/s", file=sys.stderr)
    trial = trial_cost(args.trial_data, args.trial_epochs, args.trial_folds, args.cache_dir) if args.trial_epochs else None
    return {
        "benchmark": "milmol_training",
        "what": "MILMolForPropertyPrediction forward + backward (train mode, loss with focal BCE + auxiliary MSE) and forward "
                "alone (eval, no grad), CPU float32, optimizer step not included; and the wall time of one search trial",
        "setup": {"batch_size": args.batch_size, "conformers": 8, "warmup": args.warmup, "repeats": args.repeats,
                  "threads": args.threads},
        "method": "median wall time, train step and inference interleaved; a trial is timed once (it is minutes long)",
        "environment": environment(load_at_start),
        "results": rows,
        "search_trial": trial,
    }


TABLE_COLUMNS = {"config": "config", "parameters_m": "params (M)", "batch": "batch", "train_step_ms": "fwd+bwd ms",
                 "train_mol_per_s": "train molecules/s", "inference_mol_per_s": "inference molecules/s"}


def parse_args(argv=None):
    parser = benchmark_parser(__doc__, "milmol_training", warmup=2, repeats=7, threads=2)
    parser.add_argument("--configs", nargs="+", choices=["tiny", "demo", "base"], default=["demo", "base"])
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--trial_data", default="demo", choices=["tiny", "demo"])
    parser.add_argument("--trial_epochs", type=float, default=5, help="epochs per fold of the timed trial (0 = skip)")
    parser.add_argument("--trial_folds", type=int, default=3)
    parser.add_argument("--cache_dir", default=None, help="feature cache (default: the featurizer's default cache)")
    return parse_flags(parser, argv, quick=dict(configs=["tiny"], warmup=0, repeats=1, batch_size=4, trial_data="tiny",
                                                trial_epochs=1, trial_folds=2))


def main(argv=None) -> dict:
    return run_and_report(run, parse_args(argv), TABLE_COLUMNS)


if __name__ == "__main__":
    main()
