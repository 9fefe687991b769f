"""
`biohf predict milmol`: stream a molecule file through a trained repository to a CSV, with progress.

    biohf predict milmol --model DIR --input euos25_challenge_test.csv --output submission.csv
    biohf predict milmol --model DIR --input molecules.smi --output predictions.csv [--batch_size 256] [--processes 2]

Input (`datasets_scripts.milmol.read_molecules`): a .smi / .txt file (one SMILES per line, optionally followed by
whitespace and an id) or a CSV with a SMILES column and an optional id column (ID / N / id), such as the challenge's
test file `ID,SMILES[,Transmittance(340),...]`.
Output, one row per input molecule in input order, in one of two layouts (`--layout`, default `auto`):
  - `submission` (auto when the input has the challenge's test layout: ID, SMILES and only the leaderboard's task
    columns): the challenge's four probability columns Transmittance(340), Transmittance(450),
    Fluorescence(340/450), Fluorescence(>480), nothing else;
  - `full`: id, smiles, canonical_smiles, error, note, P(task) for every task, the auxiliary predictions (original
    units), each task's most-attended conformer.
A molecule RDKit cannot read keeps its row with empty predictions; one it cannot embed in 3D is predicted from its
2D vector. Both are listed, with the reason, in `<output>.report.csv` next to the output (id, smiles, outcome,
reason), and counted on the console.
"""

import argparse
import csv
import itertools
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from datasets_scripts.milmol.readers import LEADERBOARD_COLUMNS, read_molecules

logger = logging.getLogger("biohf.milmol")


def submission_layout(path) -> bool:
    """Whether `path` is a CSV in the challenge's test layout (ID, SMILES and only leaderboard task columns)."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        return False
    columns = list(pd.read_csv(path, nrows=0).columns)
    return columns[:2] == ["ID", "SMILES"] and set(columns[2:]) <= set(LEADERBOARD_COLUMNS)


def predict(model_dir, input_path, output_path, argv=()) -> int:
    parser = argparse.ArgumentParser(prog="biohf predict milmol")
    parser.add_argument("--batch_size", type=int, default=256)
    parser.add_argument("--processes", type=int, default=1, help="featurisation processes")
    parser.add_argument("--embed_threads", type=int, default=None, help="RDKit threads per molecule's conformers")
    parser.add_argument("--layout", choices=("auto", "submission", "full"), default="auto")
    options = parser.parse_args(list(argv))
    import hf_models  # noqa: F401  registers milmol with the Auto classes

    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    featurizer = AutoTokenizer.from_pretrained(model_dir)
    config = model.config
    layout = ("submission" if submission_layout(input_path) else "full") if options.layout == "auto" else options.layout
    task_to_column = {task: column for column, task in LEADERBOARD_COLUMNS.items()}
    if layout == "submission" and set(config.task_names) != set(task_to_column):
        raise ValueError(f"the submission layout needs the four EUOS25 tasks; this model predicts {config.task_names}")
    aux_names = list(config.aux_abs_names) + list(config.aux_fluo_names)
    aux_mean = np.array(config.aux_abs_mean + config.aux_fluo_mean)
    aux_std = np.array(config.aux_abs_std + config.aux_fluo_std)
    if layout == "submission":
        order = [config.task_names.index(task) for task in LEADERBOARD_COLUMNS.values()]
        columns = list(LEADERBOARD_COLUMNS)
    else:
        columns = (["id", "smiles", "canonical_smiles", "error", "note"] + [f"P({t})" for t in config.task_names] + aux_names
                   + [f"top_conformer({t})" for t in config.task_names])
    molecules = read_molecules(input_path)
    report_path = Path(f"{output_path}.report.csv")
    written, counts = 0, {"excluded": 0, "2D only": 0, "fewer conformers": 0}
    records = featurizer.iter_featurize((s for _, s in molecules), num_proc=options.processes, threads=options.embed_threads)
    with open(output_path, "w", newline="") as handle, open(report_path, "w", newline="") as report_handle, torch.no_grad():
        writer, report = csv.writer(handle), csv.writer(report_handle)
        writer.writerow(columns)
        report.writerow(["id", "smiles", "outcome", "reason"])
        bar = tqdm(total=len(molecules), desc="predicting", unit="mol")
        for start in range(0, len(molecules), options.batch_size):
            chunk = molecules[start : start + options.batch_size]
            chunk_records = list(itertools.islice(records, len(chunk)))
            good = [i for i, r in enumerate(chunk_records) if not r["error"]]
            rows = {}
            if good:
                out = model(**featurizer.pad([chunk_records[i] for i in good]))
                probs = torch.sigmoid(out.logits).numpy()
                aux = torch.cat([out.aux_abs, out.aux_fluo], dim=1).numpy() * aux_std + aux_mean
                attention = out.conformer_attention.numpy()
                rows = {i: (probs[k], aux[k], attention[k]) for k, i in enumerate(good)}
            for i, ((mol_id, smiles), record) in enumerate(zip(chunk, chunk_records)):
                outcome = "excluded" if record["error"] else None
                if not outcome and record.get("note"):
                    outcome = "2D only" if not record["num_conformers"] else "fewer conformers"
                if outcome:
                    counts[outcome] += 1
                    report.writerow([mol_id, smiles, outcome, record["error"] or record["note"]])
                if layout == "submission":
                    writer.writerow([f"{rows[i][0][t]:.6f}" for t in order] if i in rows else [""] * len(columns))
                elif i in rows:
                    p, a, att = rows[i]
                    top = [int(att[t].argmax()) if att[t].any() else "" for t in range(len(p))]
                    writer.writerow([mol_id, smiles, record["canonical_smiles"] or "", "", record.get("note") or ""]
                                    + [f"{v:.5f}" for v in p] + [f"{v:.4f}" for v in a] + top)
                else:
                    writer.writerow([mol_id, smiles, "", record["error"], ""] + [""] * (len(columns) - 5))
                written += 1
            handle.flush()
            bar.update(len(chunk))
        bar.close()
    message = (f"{written} molecules predicted ({layout} layout) -> {output_path}; {counts['excluded']} could not be read "
               f"(empty predictions), {counts['2D only']} predicted from 2D only, {counts['fewer conformers']} with fewer "
               f"conformers: listed in {report_path}")
    logger.warning(message) if counts["excluded"] else logger.info(message)
    print(message)
    return written
