"""`build_mirlm_dataset`: the embedded generator or real files -> `datasets.DatasetDict` (train/validation/test)."""

from pathlib import Path
from typing import List, Optional

import numpy as np
from datasets import Dataset, DatasetDict, Features, Value

from datasets_scripts.saved import load_saved_splits

from .generator import generate_splits
from .readers import MAX_MIRNA_NT, BadRow, Where, read_table
from .splits import SPLIT_NAMES, family_disjoint_split, family_groups

FEATURES = Features({
    "mrna": Value("string"),
    "mirna": Value("string"),
    "mirna_name": Value("string"),
    "mirna_family": Value("string"),
    "label": Value("int64"),
    "site_start": Value("int64"),
    "site_end": Value("int64"),
    "site_type": Value("string"),
    "transcript_id": Value("string"),
})
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)  # one file split three ways (--data)
VALIDATION_FRACTION = 0.1  # validation carved from a training file when no validation file is given


def read_rows(path, *, max_mirna_nt: int = MAX_MIRNA_NT, skipped: Optional[List[BadRow]] = None) -> dict:
    """A labelled file as a column dict (readers' columns, incl. `source_family` and `line`); an empty file is an error."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such dataset file: {path}")
    columns = read_table(path, max_mirna_nt=max_mirna_nt, skipped=skipped)
    if not columns["mrna"]:
        raise ValueError(f"{path}: no usable rows" + (f" ({len(skipped)} skipped)" if skipped else ""))
    return columns


def to_dataset(columns: dict, rows=None) -> Dataset:
    """The `FEATURES` columns of `columns` (all rows, or the indices `rows`) as a `Dataset`."""
    pick = (lambda values: values) if rows is None else (lambda values: [values[i] for i in rows])
    return Dataset.from_dict({name: pick(columns[name]) for name in FEATURES}, features=FEATURES)


def carve_splits(columns: dict, names, fractions, seed: int, path, excluded: Optional[list] = None) -> dict:
    """
    Split the rows of one file into `names` with about `fractions` of the rows each, disjoint in miRNA family (seed
    nt 2-8, joined with any annotated family) *and* in target window: published files pair each target window with
    its miRNA and with ~10 other miRNAs as negatives, so a family-disjoint split alone shares every window between
    train and validation, and a model that memorises windows is rewarded in train and inverted on validation
    (measured on miRBench CLASH, docs/mirlm.md). A window belongs to the split of the family of its first positive
    row (of its first row if it has none); a row whose family lies in another split is left out of every split and
    appended to `excluded` as a `BadRow`. Returns {name: row indices}.
    """
    groups = family_groups(columns["mirna_family"], columns["source_family"])
    assigned = family_disjoint_split(groups, fractions, seed=seed, names=names)
    split_of = np.empty(len(groups), dtype=np.int64)
    for k, name in enumerate(names):
        split_of[assigned[name]] = k
    home = {}
    for order in (np.flatnonzero(np.asarray(columns["label"]) == 1), np.arange(len(groups))):
        for i in order:
            home.setdefault(columns["mrna"][i], split_of[i])
    keep = np.array([home[m] == k for m, k in zip(columns["mrna"], split_of)], dtype=bool)
    if excluded is not None:
        for i in np.flatnonzero(~keep):
            excluded.append(BadRow(Where(path, columns["line"][i]),
                                   f"left out of the split: its miRNA family is in {names[split_of[i]]}, its target "
                                   f"window in {names[home[columns['mrna'][i]]]} (a window stays in one split)"))
    return {name: np.sort(rows[keep[rows]]) for name, rows in assigned.items()}


def build_mirlm_dataset(
    data: Optional[str] = None,
    *,
    size: str = "demo",
    seed: int = 0,
    train_file: Optional[str] = None,
    validation_file: Optional[str] = None,
    test_file: Optional[str] = None,
    max_mirna_nt: int = MAX_MIRNA_NT,
    skip_bad_rows: bool = False,
    excluded: Optional[list] = None,
) -> DatasetDict:
    """
    Build the mirLM dataset (train / validation / test).

    * Nothing given: the embedded generator (`size` = "tiny" | "demo" | "full", see `generator.SIZES`).
    * `data`, a folder: a `save_to_disk` DatasetDict, loaded as is.
    * `data`, a file (miRBench TSV, MiRformer CSV, TargetNet TSV, see `readers`): split 80/10/10 by `carve_splits`.
    * `train_file` [+ `validation_file`] [+ `test_file`], the transformers examples' convention: a given file is
      one split, whole. Without a validation file, validation is carved from the training file (10%, by
      `carve_splits`); without a test file, test is carved too (80/10/10). A given test file is never split.
    `seed` fixes the carving. miRNAs longer than `max_mirna_nt` (the model's `mirna_max_len`) are bad rows:
    each bad row is an error, or with `skip_bad_rows` a `BadRow` appended to `excluded` (which also receives the
    rows `carve_splits` leaves out), so that the caller reports them.
    """
    if data is not None and train_file is not None:
        raise ValueError("give --data (one file, split three ways) or --train_file [--validation_file --test_file], not both")
    if skip_bad_rows and excluded is None:
        raise ValueError("skip_bad_rows needs an `excluded` list: every skipped row is reported")
    if train_file is None and (validation_file or test_file):
        raise ValueError("--validation_file / --test_file need --train_file")
    if data is None and train_file is None:
        splits = generate_splits(size, seed)
        return DatasetDict({name: Dataset.from_dict(splits[name], features=FEATURES) for name in SPLIT_NAMES})
    if data is not None and Path(data).is_dir():
        return load_saved_splits(Path(data), SPLIT_NAMES, FEATURES)
    skipped = [] if skip_bad_rows else None

    def read(path):
        columns = read_rows(path, max_mirna_nt=max_mirna_nt, skipped=skipped)
        if skipped and excluded is not None:
            excluded.extend(skipped)
            skipped.clear()
        return columns

    source = data or train_file
    columns = read(source)
    given = {name: path for name, path in (("validation", validation_file), ("test", test_file)) if path}
    carved = [name for name in SPLIT_NAMES if name not in given]
    fractions = {3: SPLIT_FRACTIONS, 2: (1 - VALIDATION_FRACTION, VALIDATION_FRACTION), 1: (1.0,)}[len(carved)]
    if len(carved) == 1:
        rows = {"train": np.arange(len(columns["mrna"]))}
    else:
        rows = carve_splits(columns, tuple(carved), fractions, seed, source, excluded)
    out = {name: to_dataset(columns, rows[name]) for name in carved}
    out.update({name: to_dataset(read(path)) for name, path in given.items()})
    return DatasetDict({name: out[name] for name in SPLIT_NAMES})
