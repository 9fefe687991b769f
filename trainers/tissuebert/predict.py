"""
`biohf predict tissuebert`: tissue of origin for a folder (or list) of samples with a trained repository.

    biohf predict tissuebert --model DIR --input samples/ --output preds.csv [--regions_bed regions.bed] [--top_k 3]

`--input` is a folder of `.npz` / `.beta` / `.npy` sample files, one such file, a region x sample beta table
(`.tsv`, one column per sample after `chr start end ...`), or an array matrix: a probe x sample beta matrix (CSV /
TSV[.gz], probe id first) or a GEO series matrix, aligned to the model's regions by probe id. Writes one CSV row
per sample: sample, predicted tissue, its probability, the top-k tissues with probabilities, missing regions, and
for the region-attention model the most attended regions. A mixture model writes each sample's tissue
proportions instead (`proportions`: `tissue:share;...`, largest first, shares >= `--min_share`), and with
`--truth_from_names` (column names such as `Monocytes90_Breast10`) the true composition and the MAE. If a
`metadata.csv` (filename, tissue) sits beside the samples, a `true_tissue` column and the accuracy are added.
"""

import argparse
import csv
from pathlib import Path

from tqdm.auto import tqdm
from transformers import AutoModelForSequenceClassification, AutoTokenizer

import numpy as np

from datasets_scripts.tissuebert.arrays import composition_from_name, read_array_matrix
from datasets_scripts.tissuebert.readers import parse_beta_table, read_metadata
from datasets_scripts.tissuebert.textfiles import first_line
from modeling.tissuebert.pipeline_tissuebert import TissueBERTPipeline

SAMPLE_SUFFIXES = (".npz", ".beta", ".npy")


def load_pipeline(model_dir) -> TissueBERTPipeline:
    import hf_models  # noqa: F401  registers TissueBERT with the Auto classes

    return TissueBERTPipeline(model=AutoModelForSequenceClassification.from_pretrained(model_dir),
                              tokenizer=AutoTokenizer.from_pretrained(model_dir))


def _is_region_table(path: Path) -> bool:
    if not path.name.lower().endswith((".tsv", ".tsv.gz")):
        return False
    return [h.strip().lower() for h in first_line(path).rstrip("\r\n").split("\t")[:3]] == ["chr", "start", "end"]


def samples_of(path, config=None) -> list:
    """
    [(name, sample)] where a sample is a file path or a dict of region means (the columns of a beta table, or of
    an array matrix aligned to `config.regions` by probe id).
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in SAMPLE_SUFFIXES)
        if not files:
            raise ValueError(f"{path}: no {', '.join(SAMPLE_SUFFIXES)} files")
        return [(p.name, str(p)) for p in files]
    if not path.is_file():
        raise FileNotFoundError(f"no such input: {path}")
    if path.suffix.lower() in SAMPLE_SUFFIXES:
        return [(path.name, str(path))]
    if _is_region_table(path):
        samples, _, means, _ = parse_beta_table(path)
        if not samples:
            raise ValueError(f"{path}: a region table without sample columns after chr, start, end (...)")
        return [(name, {"region_means": row}) for name, row in zip(samples, means)]
    if path.name.lower().endswith((".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".txt.gz")):
        if config is None or not config.regions:
            raise ValueError(f"{path}: an array matrix is aligned by probe id, but the model names no regions")
        matrix = read_array_matrix(path)
        means = matrix.aligned(config.regions, config.min_region_overlap)
        return [(name, {"region_means": row}) for name, row in zip(matrix.samples, means)]
    raise ValueError(f"{path}: expected a folder of samples, a sample file ({', '.join(SAMPLE_SUFFIXES)}), a .tsv table "
                     "or an array matrix (.csv / .tsv / series matrix .txt)")


def _call(pipe, input_path, name, sample, **kwargs) -> dict:
    """The pipeline on one sample; an error about a column of a table names the file and the column (a file names itself)."""
    try:
        return pipe(sample, **kwargs)
    except (ValueError, TypeError) as error:
        if isinstance(sample, str):
            raise
        raise type(error)(f"{input_path}, sample column {name!r}: {error}") from None


def _truth(input_path) -> dict:
    path = Path(input_path)
    metadata = (path if path.is_dir() else path.parent) / "metadata.csv"
    if not metadata.is_file():
        return {}
    meta = read_metadata(metadata)  # a metadata.csv without filename / tissue columns is an error naming its columns
    return dict(zip(meta["filename"], meta["tissue"]))


def predict(model_dir, input_path, output_path, argv=()) -> int:
    parser = argparse.ArgumentParser(prog="biohf predict tissuebert")
    parser.add_argument("--regions_bed", help="region BED (chr start end startCpG endCpG) for .beta files")
    parser.add_argument("--top_k", type=int, default=3)
    parser.add_argument("--top_regions", type=int, default=5)
    parser.add_argument("--min_share", type=float, default=0.005, help="mixture model: write tissues with at least this share")
    parser.add_argument("--truth_from_names", action="store_true",
                        help="mixture model: sample names give the true composition (e.g. Monocytes90_Breast10)")
    args = parser.parse_args(list(argv))
    pipe = load_pipeline(model_dir)
    mixture = pipe.model.config.model_kind == "mixture"
    kwargs = {"min_share": args.min_share} if mixture else {"top_k": args.top_k, "top_regions": args.top_regions}
    if args.regions_bed:
        kwargs["regions_bed"] = args.regions_bed
    pipe._sanitize_parameters(**kwargs)  # a bad --top_k / --min_share fails before any file is read or written
    samples = samples_of(input_path, pipe.model.config)
    if mixture:
        return _predict_mixtures(pipe, samples, input_path, output_path, args, kwargs)
    truth = _truth(input_path)
    columns = ["sample", "predicted_tissue", "probability", "top_k", "missing_regions"]
    columns += ["informative_regions"] if pipe.model.config.model_kind == "region_attention" else []
    columns += ["true_tissue"] if truth else []
    correct = 0
    output_path = Path(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    with open(output_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for name, sample in tqdm(samples, desc="predicting", unit="sample"):
            result = _call(pipe, input_path, name, sample, **kwargs)
            row = [name, result["label"], f"{result['score']:.4f}",
                   ";".join(f"{t['label']}:{t['score']:.3f}" for t in result["top_k"]), result.get("missing_regions", "")]
            if "informative_regions" in columns:
                row.append(";".join(f"{r['name']}:{r['attention']:.4f}" for r in result["informative_regions"]))
            if truth:
                row.append(truth.get(name, ""))
                correct += truth.get(name) == result["label"]
            writer.writerow(row)
    message = f"{len(samples)} samples -> {output_path}"
    if truth:
        message += f" (accuracy against metadata.csv: {correct / len(samples):.3f})"
    print(message)
    return len(samples)


def _predict_mixtures(pipe, samples, input_path, output_path, args, kwargs) -> int:
    """One row per sample: the dominant tissue, every tissue's share >= `min_share`, and (names) truth and MAE."""
    config = pipe.model.config
    tissues = [config.id2label[i] for i in range(config.num_labels)]  # label-id order (not the JSON key order)
    truth = {}
    if args.truth_from_names:
        try:
            truth = {name: composition_from_name(name, tissues) for name, _ in samples}
        except ValueError as error:
            raise SystemExit(f"--truth_from_names: {error}")
    columns = ["sample", "dominant_tissue", "share", "proportions", "missing_regions"] + (["true_composition", "mae"] if truth else [])
    output_path = Path(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    with open(output_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for name, sample in tqdm(samples, desc="deconvolving", unit="sample"):
            result = _call(pipe, input_path, name, sample, **kwargs)
            row = [name, result["label"], f"{result['score']:.4f}",
                   ";".join(f"{p['label']}:{p['share']:.4f}" for p in result["proportions"]), result["missing_regions"]]
            if truth:
                true = np.array([truth[name].get(t, 0.0) for t in tissues])
                errors.append(float(np.abs(result["shares"] - true).mean()))
                row += [";".join(f"{t}:{v:.4f}" for t, v in truth[name].items()), f"{errors[-1]:.5f}"]
            writer.writerow(row)
    message = f"{len(samples)} samples -> {output_path}"
    if truth:
        message += f" (mean absolute error of the proportions against the names: {np.mean(errors):.5f})"
    print(message)
    return len(samples)
