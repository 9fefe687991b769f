"""
mirLM next to other predictors on the same rows of an external test file.

Published benchmark files (miRBench's test files) carry, next to each pair, the scores of other tools in
columns of their own. `predictor_columns` finds them (numeric columns beyond the ones the reader knows, or
the columns named with `--compare_columns`), `comparison_table` ranks every predictor by average precision
on exactly the rows mirLM scored, and `canonical_pointing_accuracy` checks the explanations on real
positives that have a canonical seed match.
"""

import csv
import math
from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from datasets_scripts.mirlm.readers import _open_text, detect_format, sniff_delimiter
from modeling.mirlm.sites_mirlm import best_site

# Columns the readers interpret (or that describe a row rather than score it): never taken as a predictor.
KNOWN_COLUMNS = {
    "mirbench": {"gene", "noncodingRNA", "noncodingRNA_fam", "noncodingRNA_name", "label", "id", "feature", "test",
                 "chr", "start", "end", "strand", "gene_cluster_ID", "gene_phyloP", "gene_phastCons"},
    "mirformer": {"miRNA sequence", "mRNA sequence", "label", "seed start", "seed end", "miRNA ID", "Transcript ID"},
}


def read_raw_rows(path) -> tuple:
    """(header, {line number: {column: text}}) of a delimited file with a header (miRBench / MiRformer layouts)."""
    path = Path(path)
    with _open_text(path) as handle:
        delimiter = sniff_delimiter(handle.readline())
    with _open_text(path) as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        rows = {reader.line_num: row for row in reader}
        return list(reader.fieldnames or []), rows


def _number(text) -> Optional[float]:
    try:
        value = float(str(text).strip())
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def predictor_columns(path, lines: Sequence[int], names: Optional[Sequence[str]] = None) -> dict:
    """
    {column: scores over `lines`} of the other predictors in `path`. With `names`, exactly those columns: a
    missing column or a value that is no finite number is a `ValueError` naming file, line and column. Without,
    every column beyond the reader's known ones whose values on `lines` are all finite numbers; a column that is
    not is left out with a printed note (never silently).
    """
    kind = detect_format(path)
    if kind not in KNOWN_COLUMNS:
        if names:
            raise ValueError(f"{path}: --compare_columns needs a file with a header (miRBench or MiRformer layout), not {kind}")
        return {}
    header, rows = read_raw_rows(path)
    if names:
        missing = [n for n in names if n not in header]
        if missing:
            raise ValueError(f"{path}: --compare_columns {missing} not in the header; it has {header}")
        candidates = list(names)
    else:
        candidates = [c for c in header if c not in KNOWN_COLUMNS[kind]]
    scores = {}
    for column in candidates:
        values = [_number(rows[line].get(column)) for line in lines]
        bad = next((line for line, v in zip(lines, values) if v is None), None)
        if bad is not None:
            message = f"{path}, line {bad}, column {column!r}: {rows[bad].get(column)!r} is not a number"
            if names:
                raise ValueError(message)
            print(f"not compared: {message}")
            continue
        scores[column] = np.asarray(values, dtype=np.float64)
    return scores


def comparison_table(labels: Sequence[int], scores: Mapping[str, Sequence[float]]) -> list:
    """[{"predictor", "average_precision", "auroc", "n"}] of every named score on the same rows, best AP first."""
    labels = np.asarray(labels, dtype=np.int64)
    if labels.min() == labels.max():
        raise ValueError("a comparison needs both positive and negative rows")
    rows = [{"predictor": name, "average_precision": float(average_precision_score(labels, values)),
             "auroc": float(roc_auc_score(labels, values)), "n": int(labels.size)}
            for name, values in scores.items()]
    return sorted(rows, key=lambda row: -row["average_precision"])


def canonical_pointing_accuracy(labels, mrnas, mirnas, pointer) -> dict:
    """
    On positives with a canonical seed match (best site by `sites_mirlm.best_site`): the share whose pointer
    (argmax of `pos_weights`, nt coordinates) falls inside that site. Explanations checked without annotated sites.
    """
    hits, n = 0, 0
    for label, mrna, mirna, p in zip(labels, mrnas, mirnas, pointer):
        site = best_site(mrna, mirna) if label == 1 else None
        if site is None:
            continue
        n += 1
        hits += int(site.start <= p <= site.end)
    return {"n": n, "pointing_accuracy": hits / n if n else None}
