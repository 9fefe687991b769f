"""
`biohf predict milmol`: stream a SMILES file through a trained repository to a CSV, with progress.

    biohf predict milmol --model DIR --input molecules.smi --output predictions.csv [--batch-size 256] [--processes 2]

Input: a .smi / .txt file (one SMILES per line, optionally followed by whitespace and an ID) or a CSV with a
`smiles` (or `SMILES` / `curated_SMILES`) column and an optional `ID` column. Output: one row per input molecule
in input order: id, smiles, canonical_smiles, error (empty when featurised), P(task) for every task, the auxiliary
predictions (original units) and each task's most-attended conformer. Molecules RDKit cannot read or embed keep
their row, with the error and empty predictions.
"""

import argparse
import csv
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm
from transformers import AutoModelForSequenceClassification, AutoTokenizer


def read_molecules(path) -> list:
    """(id, SMILES) pairs of a .smi/.txt or .csv file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"input file not found: {path}")
    if path.suffix.lower() == ".csv":
        table = pd.read_csv(path)
        column = next((c for c in ("smiles", "SMILES", "curated_SMILES") if c in table.columns), None)
        if column is None:
            raise ValueError(f"{path}: needs a smiles column; found {list(table.columns)[:10]}")
        ids = table["ID"].astype(str) if "ID" in table.columns else [f"mol{i}" for i in range(len(table))]
        return list(zip(ids, table[column].fillna("").astype(str)))
    molecules = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip() and not line.startswith("#"):
            parts = line.split()
            molecules.append((parts[1] if len(parts) > 1 else f"line{number}", parts[0]))
    return molecules


def predict(model_dir, input_path, output_path, argv=()) -> int:
    parser = argparse.ArgumentParser(prog="biohf predict milmol")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--processes", type=int, default=1, help="featurisation processes")
    options = parser.parse_args(list(argv))
    import hf_models  # noqa: F401  registers milmol with the Auto classes

    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    featurizer = AutoTokenizer.from_pretrained(model_dir)
    config = model.config
    aux_names = list(config.aux_abs_names) + list(config.aux_fluo_names)
    aux_mean = np.array(config.aux_abs_mean + config.aux_fluo_mean)
    aux_std = np.array(config.aux_abs_std + config.aux_fluo_std)
    columns = (["id", "smiles", "canonical_smiles", "error"] + [f"P({t})" for t in config.task_names] + aux_names
               + [f"top_conformer({t})" for t in config.task_names])
    molecules = read_molecules(input_path)
    written = 0
    with open(output_path, "w", newline="") as handle, torch.no_grad():
        writer = csv.writer(handle)
        writer.writerow(columns)
        bar = tqdm(total=len(molecules), desc="predicting", unit="mol")
        for start in range(0, len(molecules), options.batch_size):
            chunk = molecules[start : start + options.batch_size]
            records = featurizer.featurize([s for _, s in chunk], num_proc=options.processes)
            good = [i for i, r in enumerate(records) if not r["error"]]
            rows = {}
            if good:
                out = model(**featurizer.pad([records[i] for i in good]))
                probs = torch.sigmoid(out.logits).numpy()
                aux = torch.cat([out.aux_abs, out.aux_fluo], dim=1).numpy() * aux_std + aux_mean
                top = out.conformer_attention.argmax(dim=-1).numpy()
                rows = {i: (probs[k], aux[k], top[k]) for k, i in enumerate(good)}
            for i, ((mol_id, smiles), record) in enumerate(zip(chunk, records)):
                base = [mol_id, smiles, record["canonical_smiles"] or "", record["error"] or ""]
                if i in rows:
                    p, a, t = rows[i]
                    writer.writerow(base + [f"{v:.5f}" for v in p] + [f"{v:.4f}" for v in a] + [int(v) for v in t])
                else:
                    writer.writerow(base + [""] * (len(columns) - 4))
                written += 1
            handle.flush()
            bar.update(len(chunk))
        bar.close()
    return written
