"""
`biohf predict tissuebert`: tissue of origin for a folder (or list) of samples with a trained repository.

    biohf predict tissuebert --model DIR --input samples/ --output preds.csv [--regions_bed regions.bed] [--top_k 3]

`--input` is a folder of `.npz` / `.beta` / `.npy` sample files, one such file, or a region x sample beta table
(`.tsv`, one column per sample after `chr start end ...`). Writes one CSV row per sample: sample, predicted tissue,
its probability, the top-k tissues with probabilities, missing regions, and for the region-attention model the
most attended regions. If a `metadata.csv` (filename, tissue) sits beside the samples, a `true_tissue` column and
the accuracy are added.
"""

import argparse
import csv
from pathlib import Path

from tqdm.auto import tqdm
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from datasets_scripts.tissuebert.readers import parse_beta_table
from modeling.tissuebert.pipeline_tissuebert import TissueBERTPipeline

SAMPLE_SUFFIXES = (".npz", ".beta", ".npy")


def load_pipeline(model_dir) -> TissueBERTPipeline:
    import hf_models  # noqa: F401  registers TissueBERT with the Auto classes

    return TissueBERTPipeline(model=AutoModelForSequenceClassification.from_pretrained(model_dir),
                              tokenizer=AutoTokenizer.from_pretrained(model_dir))


def samples_of(path) -> list:
    """[(name, sample)] where a sample is a file path or a dict of region means (beta table columns)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in SAMPLE_SUFFIXES)
        if not files:
            raise SystemExit(f"{path}: no {', '.join(SAMPLE_SUFFIXES)} files")
        return [(p.name, str(p)) for p in files]
    if not path.is_file():
        raise SystemExit(f"no such input: {path}")
    if path.suffix.lower() in SAMPLE_SUFFIXES:
        return [(path.name, str(path))]
    if path.name.lower().endswith((".tsv", ".tsv.gz", ".txt", ".txt.gz")):
        samples, _, means, _ = parse_beta_table(path)
        return [(name, {"region_means": row}) for name, row in zip(samples, means)]
    raise SystemExit(f"{path}: expected a folder of samples, a sample file ({', '.join(SAMPLE_SUFFIXES)}) or a .tsv table")


def _truth(input_path) -> dict:
    path = Path(input_path)
    metadata = (path if path.is_dir() else path.parent) / "metadata.csv"
    if not metadata.is_file():
        return {}
    with open(metadata, newline="", encoding="utf-8") as handle:
        return {row["filename"]: row["tissue"] for row in csv.DictReader(handle) if "filename" in row and "tissue" in row}


def predict(model_dir, input_path, output_path, argv=()) -> int:
    parser = argparse.ArgumentParser(prog="biohf predict tissuebert")
    parser.add_argument("--regions_bed", help="region BED (chr start end startCpG endCpG) for .beta files")
    parser.add_argument("--top_k", type=int, default=3)
    parser.add_argument("--top_regions", type=int, default=5)
    args = parser.parse_args(list(argv))
    pipe = load_pipeline(model_dir)
    samples, truth = samples_of(input_path), _truth(input_path)
    kwargs = {"top_k": args.top_k, "top_regions": args.top_regions}
    if args.regions_bed:
        kwargs["regions_bed"] = args.regions_bed
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
            result = pipe(sample, **kwargs)
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
