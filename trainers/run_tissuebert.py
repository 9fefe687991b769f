"""
Train a TissueBERT model on the embedded methylation atlas or a user's samples, evaluate it on the group-aware
held-out test split next to the logistic-regression baseline, and leave the output folder as a complete Hub
repository. Also `biohf evaluate / predict / diagnose tissuebert`.

    python -m trainers.run_tissuebert --preset demo [--model_kind sample|region_attention|region|mixture] [--data PATH] \
        [--output_dir DIR] [any TrainingArguments, e.g. --learning_rate 1e-3 --num_train_epochs 30]
    python -m trainers.run_tissuebert --preset atlas --train_file reference_atlas.csv --simulate 3000 \
        [--simulation 'depth_max=10,profile_noise=0.3'] [--mixtures_file examples.csv]

Presets: `demo` (sample-level MLP), `demo-attention` (region attention), `demo-region` (the original region-level
model), `tiny` (tests), `base` (the notes' sizes on their chr1 subset: `--data_size full`); on a reference atlas:
`atlas` (tissue classifier) and `atlas-mixture` (mixture proportions).
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

from datasets_scripts.tissuebert import (SimulationConfig, build_region_dataset, build_sample_dataset, load_samples,
                                         load_train_file, split_table)
from hf_models.export import export_repository
from hf_models.families import make_tokenizer
from modeling.tissuebert.configuration_tissuebert import MODEL_KINDS, TissueBERTConfig
from modeling.tissuebert.modeling_tissuebert import TissueBERTForSequenceClassification
from trainers.arguments import family_config, parse_training_arguments, repository_folder
from trainers.plots import plot_training_curves
from trainers.tissuebert.atlas_evaluation import (atlas_of, classification_curve, deconvolution_classification_curve,
                                                   mixture_curve, mixture_split_report, parse_depths, real_mixtures)
from trainers.tissuebert.evaluation import evaluate_tissuebert, fit_baseline
from trainers.tissuebert.plots import plot_confusion, plot_depth_curve, plot_missing_curve, plot_region_attention
from trainers.tissuebert.trainer import TissueBERTTrainer

logger = logging.getLogger("biohf.tissuebert")
HEADLINE_METRICS = ["accuracy", "macro_f1", "top3_accuracy", "accuracy_missing30"]


@dataclass
class TissueBERTArguments:
    preset: str = field(default="demo", metadata={"help": "training preset: trainers/configs/tissuebert_<preset>.yaml"})
    model_preset: Optional[str] = field(default=None, metadata={"help": "train the model of another preset (its trainers/configs/tissuebert_<preset>.yaml model:); default: the preset's"})
    model_kind: str = field(default="sample", metadata={"help": "sample (MLP on region means), region_attention, region (the original, fails) or mixture (tissue proportions)"})
    data: Optional[str] = field(default=None, metadata={"help": "npz folder, HDF5 file, .beta folder or beta table TSV; default: embedded atlas"})
    metadata: Optional[str] = field(default=None, metadata={"help": "metadata CSV (filename, tissue[, tissue_index, group]); default: beside the data"})
    regions_bed: Optional[str] = field(default=None, metadata={"help": "region BED with startCpG/endCpG for .beta files; default: regions.bed beside them"})
    data_size: str = field(default="demo", metadata={"help": "embedded atlas size: tiny, demo or full (4,381 regions)"})
    atlas_regions: Optional[int] = field(default=None, metadata={"help": "embedded atlas: this many regions instead of the size's (e.g. 51089, the genome)"})
    dataset_seed: int = field(default=0, metadata={"help": "seed of the embedded atlas and of the group-aware split"})
    regions_per_sample: int = field(default=64, metadata={"help": "region-level model: random regions of each sample used as examples"})
    config_overrides: Optional[str] = field(default=None, metadata={"help": "model config changes, e.g. 'projection_size=256,mlp_dropout=0.2'"})
    train_file: Optional[str] = field(default=None, metadata={"help": "Illumina beta matrix (CSV/TSV[.gz], probe id first) or GEO series matrix: labelled samples (with --metadata) or, with --simulate, a reference atlas of cell types"})
    simulate: Optional[int] = field(default=None, metadata={"help": "simulate this many labelled samples from the --train_file atlas' profiles"})
    simulation: Optional[str] = field(default=None, metadata={"help": "simulation parameters, e.g. 'depth_max=10,mixture_fraction=1' (datasets_scripts.tissuebert.simulate.SimulationConfig)"})
    tissue_columns: Optional[str] = field(default=None, metadata={"help": "comma-separated atlas columns to use (default: all)"})
    eval_depths: str = field(default="10,5,3,2,1,0.5,array", metadata={"help": "read depths of the held-out simulated curve ('array' = beta values)"})
    eval_samples: int = field(default=250, metadata={"help": "fresh simulated samples per depth of the curve"})
    mixtures_file: Optional[str] = field(default=None, metadata={"help": "real mixtures (probe x mixture; names give the composition, e.g. Monocytes90_Breast10) to evaluate a mixture model on"})
    resume: bool = field(default=True, metadata={"help": "continue from the last checkpoint in output_dir if there is one"})


def build_config(args: TissueBERTArguments, table, simulation=None) -> TissueBERTConfig:
    """The preset's config sized to the data: its regions (names, CpG ranges), its tissues, the simulation."""
    if args.model_kind not in MODEL_KINDS:
        raise SystemExit(f"--model_kind must be one of {', '.join(MODEL_KINDS)}, got {args.model_kind!r}")
    data = {"num_regions": table.num_regions, "id2label": dict(enumerate(table.tissues)), "regions": table.region_names,
            "region_cpg_ranges": None if table.region_cpg_ranges is None else table.region_cpg_ranges.tolist(),
            "simulation": None if simulation is None else {**simulation.to_dict(), "samples": table.num_samples, "seed": args.dataset_seed}}
    return family_config("tissuebert", args.model_preset or args.preset, args.config_overrides, model_kind=args.model_kind, **data)


def report_plots(report: dict, trainer, table, folder: Path) -> dict:
    """Training curves, confusion matrices, accuracy vs missing regions and (region attention) the attention map."""
    kind = report["model_kind"]
    plots = {
        "training_curves": plot_training_curves(trainer.state.log_history, folder / "training_curves.png", "eval_accuracy"),
        "confusion_matrices": plot_confusion({f"TissueBERT ({kind}{', per region' if kind == 'region' else ''})": report["confusion"]["model"],
                                              "logistic regression": report["confusion"]["baseline"]},
                                             table.tissues, folder / "confusion_matrices.png"),
    }
    if report["missing_curve"]["model"]:
        plots["missing_regions"] = plot_missing_curve({f"TissueBERT ({kind})": report["missing_curve"]["model"],
                                                       "logistic regression": report["missing_curve"]["baseline"]},
                                                      folder / "missing_regions.png")
    if report["predictions"].get("attention") is not None:
        plots["region_attention"] = plot_region_attention(report["predictions"]["attention"], report["predictions"]["labels"],
                                                          table.tissues, folder / "region_attention.png")
    return plots


def load_training_data(args: TissueBERTArguments, progress: bool) -> tuple:
    """(table, atlas or None, simulation or None) from --train_file [--simulate] or --data / the embedded atlas."""
    if args.simulation and not args.simulate:
        raise SystemExit("--simulation sets the simulation of --simulate N; give --simulate too")
    if args.train_file is None:
        if args.simulate:
            raise SystemExit("--simulate N simulates samples from a reference atlas: give it as --train_file")
        table = load_samples(args.data, size=args.data_size, seed=args.dataset_seed, metadata=args.metadata,
                             regions_bed=args.regions_bed, num_regions=args.atlas_regions, progress=progress)
        return table, None, None
    if args.data:
        raise SystemExit("give either --train_file (an array beta matrix / series matrix) or --data, not both")
    try:
        simulation = SimulationConfig.parse(args.simulation) if args.simulate else None
        table, atlas = load_train_file(args.train_file, simulate=args.simulate, simulation=simulation, metadata=args.metadata,
                                       tissue_columns=args.tissue_columns.split(",") if args.tissue_columns else None,
                                       seed=args.dataset_seed)
    except (ValueError, FileNotFoundError) as error:
        raise SystemExit(str(error))
    if atlas is not None and atlas.repeated_rows:
        logger.info("%s: %d rows repeat a probe with the same values; each probe kept once (%d probes)",
                    atlas.source, atlas.repeated_rows, len(atlas.probes))
    return table, atlas, simulation


def atlas_report(args, model, table, splits, atlas, simulation, baseline, batch_size: int) -> dict:
    """The held-out simulated curves (and the real mixtures) of a model trained on an atlas' simulated samples."""
    depths = parse_depths(args.eval_depths)
    if model.config.model_kind == "mixture":
        report = {"split": "test", "model_kind": "mixture", "baseline_name": "NNLS",
                  **mixture_split_report(model, table, splits["test"], atlas, simulation, batch_size),
                  "curves": mixture_curve(model, atlas, simulation, depths, args.eval_samples, args.dataset_seed, batch_size)}
        if args.mixtures_file:
            report["real_mixtures"] = real_mixtures(model, atlas, args.mixtures_file, model.config.min_region_overlap,
                                                    simulation, [d for d in depths if d is not None],
                                                    seed=args.dataset_seed, batch_size=batch_size)
        return report
    return {"depth_curve": classification_curve(model, baseline, atlas, simulation, depths, args.eval_samples,
                                                args.dataset_seed, batch_size)}


def main(argv=None) -> Optional[dict]:
    args, training_args = parse_training_arguments("tissuebert", (TissueBERTArguments, TrainingArguments), argv)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        level=logging.INFO if training_args.should_log else logging.WARNING)
    set_seed(training_args.seed)
    output_dir = repository_folder(training_args)
    table, atlas, simulation = load_training_data(args, progress=not training_args.disable_tqdm)
    splits = split_table(table, seed=args.dataset_seed)
    config = build_config(args, table, simulation)
    if config.model_kind == "mixture" and atlas is None:
        raise SystemExit("the mixture model deconvolves against a reference atlas: --train_file ATLAS --simulate N")
    if config.model_kind == "region":
        datasets = build_region_dataset(table, splits, args.regions_per_sample, seed=args.dataset_seed)
    else:
        datasets = build_sample_dataset(table, splits, proportions=config.model_kind == "mixture").with_format("numpy")
    model = TissueBERTForSequenceClassification(config)
    if config.model_kind == "mixture":
        model.tissuebert.set_reference(atlas.values)
    logger.info("TissueBERT %s (%s): %.2fM parameters; %d regions; %d train / %d validation / %d test samples (%s)",
                config.model_kind, args.preset, model.num_parameters() / 1e6, table.num_regions,
                *(len(splits[s]) for s in ("train", "validation", "test")), table.source)
    trainer = TissueBERTTrainer(model=model, args=training_args, train_dataset=datasets["train"],
                                eval_dataset=datasets["validation"], processing_class=make_tokenizer("tissuebert", config))
    checkpoint = training_args.resume_from_checkpoint
    if checkpoint is None and args.resume and Path(training_args.output_dir).is_dir():
        checkpoint = get_last_checkpoint(training_args.output_dir)
        if checkpoint:
            logger.info("resuming from %s", checkpoint)
    trainer.train(resume_from_checkpoint=checkpoint)
    if not trainer.is_world_process_zero():
        return None

    batch_size = training_args.per_device_eval_batch_size
    plots_dir = Path(tempfile.mkdtemp(prefix="tissuebert-plots-"))
    if config.model_kind == "mixture":
        report = atlas_report(args, trainer.model, table, splits, atlas, simulation, None, batch_size)
        plots = {"training_curves": plot_training_curves(trainer.state.log_history, plots_dir / "training_curves.png", "eval_mae"),
                 **plot_depth_curve(report["curves"], plots_dir, "mae", "mean absolute error", "NNLS")}
    else:
        baseline = fit_baseline(table, splits, args.dataset_seed)
        report = evaluate_tissuebert(trainer.model, table, splits, baseline, batch_size=batch_size,
                                     regions_per_sample=args.regions_per_sample, seed=args.dataset_seed)
        plots = report_plots(report, trainer, table, plots_dir)
        report.pop("predictions")
        if simulation is not None:
            report.update(atlas_report(args, trainer.model, table, splits, atlas, simulation, baseline, batch_size))
            plots.update(plot_depth_curve({"single-tissue": report["depth_curve"]}, plots_dir, "accuracy", "accuracy",
                                          "logistic regression"))
    if args.train_file:
        data = Path(args.train_file).name + (f" ({simulation_summary(table, args)})" if simulation is not None else "")
    else:
        data = args.data or f"embedded methylation atlas (size={args.data_size}, seed={args.dataset_seed})"
    metrics = {
        **report,
        "headline_metrics": headline_metrics(config.model_kind),
        "data": data,
        "data_size": args.data_size, "atlas_regions": args.atlas_regions, "dataset_seed": args.dataset_seed, "preset": args.preset,
        "train_runtime_s": next((e["train_runtime"] for e in reversed(trainer.state.log_history) if "train_runtime" in e), None),
        "global_step": trainer.state.global_step,
        "num_train_samples": int(len(splits["train"])),
        "split_sizes": {name: int(len(rows)) for name, rows in splits.items()},
    }
    export_repository(
        trainer.model, make_tokenizer("tissuebert", config), output_dir, metrics=metrics, plots=plots, overwrite=True,
        dataset=metrics["data"],
        training_summary={"preset": args.preset, "model_kind": config.model_kind,
                          **{k: v for k, v in asdict(args).items() if v is not None and k not in ("preset", "model_kind")},
                          "learning_rate": training_args.learning_rate, "epochs": training_args.num_train_epochs,
                          "batch_size": training_args.per_device_train_batch_size, "global_step": trainer.state.global_step},
    )
    shutil.rmtree(plots_dir)
    if config.model_kind == "mixture":
        logger.info("test MAE %.4f (NNLS %.4f); repository: %s", metrics["model"]["mae"], metrics["nnls"]["mae"], output_dir)
    else:
        logger.info("test accuracy %.3f (baseline %.3f), macro-F1 %.3f (baseline %.3f); repository: %s",
                    metrics["model"]["accuracy"], metrics["baseline"]["accuracy"], metrics["model"]["macro_f1"],
                    metrics["baseline"]["macro_f1"], output_dir)
    return metrics


def headline_metrics(kind: str) -> list:
    if kind == "mixture":
        return ["mae", "minor_recall", "false_tissues"]
    return HEADLINE_METRICS if kind != "region" else ["accuracy", "macro_f1"]


def simulation_summary(table, args) -> str:
    return f"{table.num_samples:,} samples simulated from its {len(table.tissues)} profiles, seed {args.dataset_seed}"


def _trained_on(model_dir) -> dict:
    path = Path(model_dir) / "metrics.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def evaluate(model_dir, data: Optional[str] = None, output: Optional[str] = None, argv=()) -> dict:
    """Held-out metrics of a trained repository next to the baseline (embedded data: the atlas it was trained on)."""
    import hf_models  # noqa: F401  registers TissueBERT with the Auto classes
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(model_dir)
    trained_on = _trained_on(model_dir)
    seed = trained_on.get("dataset_seed", 0)
    if model.config.model_kind == "mixture":
        report = evaluate_mixture_model(model, data, argv, seed)
        if output:
            Path(output).write_text(json.dumps(report, indent=2))
        return report
    table = load_samples(data, size=trained_on.get("data_size", "demo"), seed=seed, num_regions=trained_on.get("atlas_regions"))
    if table.num_regions != model.config.num_regions:
        raise SystemExit(f"the data have {table.num_regions} regions, the model takes {model.config.num_regions}")
    report = evaluate_tissuebert(model, table, split_table(table, seed=seed), seed=seed)
    for key in ("predictions", "confusion", "missing_curve"):
        report.pop(key)
    report["data"] = data or trained_on.get("data", "embedded methylation atlas")
    if output:
        Path(output).write_text(json.dumps(report, indent=2))
    return report


def evaluate_mixture_model(model, data: Optional[str], argv, seed: int) -> dict:
    """
    `biohf evaluate tissuebert --model DIR --data MIXTURES.csv [--eval_depths 10,1] [--draws 40] [--curves]`: a
    mixture model on real mixtures named by composition, as given and read at simulated depths, next to NNLS on the
    atlas the model holds; `--curves` adds fresh simulated cfDNA-like and general mixtures per depth.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="biohf evaluate tissuebert (mixture model)")
    parser.add_argument("--eval_depths", default="10,3,1")
    parser.add_argument("--draws", type=int, default=40, help="read samples of each real mixture per depth")
    parser.add_argument("--curves", action="store_true", help="also fresh simulated mixtures per depth")
    parser.add_argument("--eval_samples", type=int, default=250)
    parser.add_argument("--classification", type=int, default=0, metavar="N",
                        help="also score the model as a tissue classifier on single-tissue samples, next to a logistic "
                             "regression trained on N simulated single-tissue samples")
    parser.add_argument("--baseline_depth_min", type=float, default=0.05,
                        help="--classification: the lowest read depth of the logistic regression's training samples")
    parser.add_argument("--simulation", default=None,
                        help="change the evaluation's simulation from the one the model was trained with, e.g. "
                             "'profile_noise=1.0' (a test of what happens when the simulation's assumptions are off)")
    options = parser.parse_args(list(argv))
    if data is None:
        raise SystemExit("a mixture model is evaluated on --data MIXTURES (probe x mixture, names such as Monocytes90_Breast10)")
    atlas = atlas_of(model)
    trained = {k: tuple(v) if k == "blood_columns" else v
               for k, v in (model.config.simulation or {}).items() if k not in ("samples", "seed")}
    try:
        simulation = SimulationConfig.parse(options.simulation, **trained)
    except ValueError as error:
        raise SystemExit(str(error))
    depths = parse_depths(options.eval_depths)
    report = {"model_kind": "mixture", "baseline_name": "NNLS", "data": data, "simulation": simulation.to_dict(),
              "real_mixtures": real_mixtures(model, atlas, data, model.config.min_region_overlap, simulation,
                                             [d for d in depths if d is not None], options.draws, seed)}
    if options.curves:
        report["curves"] = mixture_curve(model, atlas, simulation, depths, options.eval_samples, seed)
    if options.classification:
        report["classification_curve"] = deconvolution_classification_curve(
            model, atlas, simulation, depths, options.eval_samples, seed, options.classification, options.baseline_depth_min)
    return report


def predict(model_dir, input_path, output_path, argv=()) -> int:
    from trainers.tissuebert.predict import predict as predict_tissuebert

    return predict_tissuebert(model_dir, input_path, output_path, argv)


def diagnose(data: Optional[str], output: Optional[str], argv=()) -> Path:
    from trainers.tissuebert.diagnostics import main as diagnose_main

    return diagnose_main(data, output, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
