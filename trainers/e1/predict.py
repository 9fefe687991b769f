"""`biohf predict e1 --model DIR --input proteins.fa --output out.csv [--msa_dir DIR] [--max_context N]`: LMetalSite-style CSV."""

import argparse
import csv
from pathlib import Path

from tqdm.auto import tqdm


def read_fasta(path, allow_labels: bool = False) -> list:
    """
    [(id, sequence)] of a FASTA file (multi-line sequences joined); a clear error on anything else. With
    `allow_labels`, a 0/1 line after a record's sequence (LMetalSite's three-line layout) is read as its labels and
    ignored; otherwise a line that is not residues is an error naming it.
    """
    records, name, parts = [], None, []
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if not line.startswith(">") and not line.replace("*", "").replace("-", "").isalpha():
            if allow_labels and parts and set(line) <= {"0", "1"}:
                continue
            raise ValueError(f"{path}:{number}: not a protein sequence line ({line[:30]!r}); expected FASTA"
                             + ("" if allow_labels else " (a three-line labelled FASTA? its labels are not read here)"))
        if line.startswith(">"):
            if name is not None:
                records.append((name, "".join(parts)))
            name, parts = line[1:].split()[0] if line[1:].split() else f"seq{len(records) + 1}", []
        elif name is None:
            raise ValueError(f"{path}:{number}: sequence before the first '>' header; expected FASTA")
        else:
            parts.append(line)
    if name is not None:
        records.append((name, "".join(parts)))
    if not records:
        raise ValueError(f"{path}: no FASTA records")
    for name, sequence in records:
        if not sequence:
            raise ValueError(f"{path}: record {name} has an empty sequence")
    return records


def predict(model_dir, input_path, output_path, argv=()) -> int:
    parser = argparse.ArgumentParser(prog="biohf predict e1")
    parser.add_argument("--msa_dir", help="folder of <id>.a3m homolog files (default: single sequence)")
    parser.add_argument("--max_context", type=int, default=None, help="at most this many homologs per protein")
    options = parser.parse_args(list(argv))
    import hf_models  # noqa: F401  registers E1 (the repository's remote code works too)
    from transformers import pipeline

    find = pipeline("metal-binding-residues", model=str(model_dir), trust_remote_code=True)
    ions = list(find.model.config.ions)
    rows = []
    records = read_fasta(input_path, allow_labels=True)
    for name, sequence in tqdm(records, desc="proteins"):
        a3m = Path(options.msa_dir) / f"{name}.a3m" if options.msa_dir else None
        context = str(a3m) if a3m is not None and a3m.is_file() else None
        result = find({"sequence": sequence, "context": context}, max_context=options.max_context)
        row = {"ID": name, "Sequence": result["sequence"]}
        for j, ion in enumerate(ions):
            probs = result["probabilities"][:, j]
            row[f"{ion}_prob"] = ",".join(f"{p:.4f}" for p in probs)
            row[f"{ion}_pred"] = "".join("1" if p >= result["thresholds"][ion] else "0" for p in probs)
        rows.append(row)
    with open(output_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} proteins -> {output_path}")
    return len(rows)
