"""
`biohf predict mirlm`: scan transcripts for miRNA sites with a trained repository, streaming, with progress.

    biohf predict mirlm --model DIR --input utrs.fa --mirnas mirnas.fa --output hits.tsv [--ism]

Writes `hits.tsv` (one row per predicted site: transcript, miRNA, 0-based inclusive start/end, site type,
sequence, probability) and `hits.summary.tsv` (one row per transcript x miRNA: transcript-level probability,
the decision, number of sites, best site). `--ism` adds, per pair, the in-silico mutagenesis matrix of the
best window (`<output stem>.ism/<transcript>__<mirna>.tsv`, rows = positions, columns A C G T) and its plot.
"""

import argparse
import csv
import re
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm
from transformers import AutoModelForQuestionAnswering, AutoTokenizer

from datasets_scripts.mirlm import read_fasta
from modeling.mirlm.pipeline_mirlm import MirLMPipeline
from trainers.mirlm.plots import plot_ism

HIT_COLUMNS = ["transcript_id", "mirna_id", "start", "end", "site_type", "site_sequence", "binding_probability", "window_start"]
SUMMARY_COLUMNS = ["transcript_id", "mirna_id", "length", "binding_probability", "binds", "num_sites",
                   "best_site_start", "best_site_end", "best_site_type"]


def load_pipeline(model_dir) -> MirLMPipeline:
    import hf_models  # noqa: F401  registers mirLM with the Auto classes

    return MirLMPipeline(model=AutoModelForQuestionAnswering.from_pretrained(model_dir), tokenizer=AutoTokenizer.from_pretrained(model_dir))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:80]


def scan_transcripts(pipe, transcripts, mirnas: list, hits_path, summary_path, ism_dir=None, threshold=None) -> int:
    """Score every (transcript, miRNA) pair; rows are written as they come. Returns the number of pairs."""
    pairs = 0
    with open(hits_path, "w", newline="") as hits_file, open(summary_path, "w", newline="") as summary_file:
        hits = csv.writer(hits_file, delimiter="\t")
        summary = csv.writer(summary_file, delimiter="\t")
        hits.writerow(HIT_COLUMNS)
        summary.writerow(SUMMARY_COLUMNS)
        for transcript_id, sequence in tqdm(transcripts, desc="transcripts", unit="tx"):
            for mirna_id, mirna in mirnas:
                result = pipe(mirna=mirna, mrna=sequence, ism=ism_dir is not None, threshold=threshold)
                for site in result["sites"]:
                    hits.writerow([transcript_id, mirna_id, site["start"], site["end"], site["site_type"], site["sequence"],
                                   f"{site['binding_probability']:.4f}", site["window_start"]])
                summary.writerow([transcript_id, mirna_id, len(sequence), f"{result['binding_probability']:.4f}",
                                  int(result["binds"]), len(result["sites"]), result["site_start"], result["site_end"], result["site_type"]])
                if ism_dir is not None:
                    write_ism(result, sequence, Path(ism_dir) / f"{_safe(transcript_id)}__{_safe(mirna_id)}")
                pairs += 1
            hits_file.flush()
            summary_file.flush()
    return pairs


def write_ism(result: dict, sequence: str, stem: Path) -> None:
    """The ISM matrix as TSV (window position in transcript coordinates, delta for A C G T) and its heatmap."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    delta, start = result["ism"], result["ism_window_start"]
    window = sequence[start : start + len(delta)]
    rows = np.column_stack([np.arange(start, start + len(delta)), delta])
    np.savetxt(f"{stem}.tsv", rows, delimiter="\t", fmt=["%d"] + ["%.5f"] * 4, header="position\tA\tC\tG\tT", comments="")
    span = (result["site_start"] - start, result["site_end"] - start)
    plot_ism(delta, window.upper().replace("U", "T"), f"{stem}.png", site_span=span)


def predict(model_dir, input_path, output_path, argv=()) -> int:
    parser = argparse.ArgumentParser(prog="biohf predict mirlm", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--mirnas", help="FASTA of miRNAs to scan every transcript with")
    group.add_argument("--mirna", help="one miRNA sequence (named 'mirna')")
    parser.add_argument("--ism", action="store_true", help="in-silico mutagenesis of the best window of every pair")
    parser.add_argument("--threshold", type=float, help="probability for a site (default: the model's decision threshold)")
    options = parser.parse_args(list(argv))
    mirnas = list(read_fasta(options.mirnas)) if options.mirnas else [("mirna", options.mirna)]
    if not mirnas:
        raise SystemExit(f"no miRNA in {options.mirnas}")
    output_path = Path(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    summary_path = output_path.with_name(output_path.stem + ".summary.tsv")
    ism_dir = output_path.with_name(output_path.stem + ".ism") if options.ism else None
    pairs = scan_transcripts(load_pipeline(model_dir), read_fasta(input_path), mirnas, output_path, summary_path, ism_dir, options.threshold)
    print(f"scored {pairs} transcript x miRNA pairs: sites in {output_path}, per transcript in {summary_path}"
          + (f", ISM in {ism_dir}" if ism_dir else ""))
    return pairs
