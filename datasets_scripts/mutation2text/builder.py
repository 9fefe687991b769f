"""
`build_mutation2text_dataset`: the embedded generator or a real file -> `datasets.DatasetDict` (train / validation /
test, protein-disjoint). Also the seed's two data commands:

    python -m datasets_scripts.mutation2text.builder preprocess --input_file raw.jsonl --output_file clean.jsonl
    python -m datasets_scripts.mutation2text.builder split --input_file clean.jsonl \\
        --train_output_file train.jsonl --val_output_file val.jsonl [--test_output_file test.jsonl] --val_size 0.1

`preprocess` reads any supported format, validates every row and writes the normalised JSONL (one object per row
with the columns below); `split` writes protein-disjoint splits of it.
"""

import argparse
import json
from pathlib import Path
from typing import Optional

import numpy as np
from datasets import Dataset, DatasetDict, Features, Value

from datasets_scripts.saved import load_saved_splits

from .generator import generate_splits
from .readers import COLUMNS, read_table
from .splits import SPLIT_NAMES, protein_disjoint_split, protein_groups

FEATURES = Features({name: Value("string") for name in COLUMNS})
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)


def _normalised_jsonl(path: Path) -> bool:
    with path.open(encoding="utf-8") as handle:
        first = next((line for line in handle if line.strip()), "{}")
    return set(COLUMNS) <= set(json.loads(first))


def read_any(path, **csv_options) -> dict:
    """Columns of a file: a normalised JSONL (written by `preprocess`), the notes' JSONL, or a MutaDescribe CSV
    (`csv_options`: `text_column`, `with_function`, `skip_empty_text`)."""
    path = Path(path)
    if path.suffix.lower() in (".jsonl", ".json") and _normalised_jsonl(path):
        columns = {name: [] for name in COLUMNS}
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    record = json.loads(line)
                    for name in COLUMNS:
                        columns[name].append(record[name])
        return columns
    return read_table(path, **csv_options)


def _dataset(columns: dict, rows=None) -> Dataset:
    rows = range(len(columns["wild_type"])) if rows is None else rows
    return Dataset.from_dict({key: [columns[key][i] for i in rows] for key in COLUMNS}, features=FEATURES)


def build_split_files(train_file, test_file, validation_file=None, *, max_train_examples: Optional[int] = None,
                      seed: int = 0, skipped: Optional[dict] = None, **csv_options) -> DatasetDict:
    """
    The published splits as given (MutaDescribe's train / val / test_easy ...), read with `read_table`'s options
    (`text_column`, `with_function`, `skip_empty_text`). Without a validation file, a protein-disjoint 10 % of the
    training file is held out. `max_train_examples` keeps a random subset of the training rows (seeded; the subsets
    of one seed are nested: the first 25 of the 50, ...), for learning curves.
    """
    splits = {"train": read_any(train_file, **csv_options), "test": read_any(test_file, **csv_options)}
    if validation_file:
        splits["validation"] = read_any(validation_file, **csv_options)
        train_rows = None
    else:
        train = splits["train"]
        rows = protein_disjoint_split(protein_groups(train["protein_id"], train["wild_type"]), (0.9, 0.1, 0.0), seed)
        splits["validation"], train_rows = train, rows["train"] + rows["test"]
        splits["validation"] = {key: [train[key][i] for i in rows["validation"]] for key in COLUMNS}
    if skipped is not None:  # {split: file lines skipped for want of text (skip_empty_text)}
        skipped.update({name: columns.get("skipped_lines", []) for name, columns in splits.items()})
    dataset = DatasetDict({name: _dataset(splits[name], train_rows if name == "train" else None) for name in SPLIT_NAMES})
    if max_train_examples is not None:
        if not 0 < max_train_examples <= len(dataset["train"]):
            raise ValueError(f"max_train_examples={max_train_examples}: the training file has {len(dataset['train'])} rows")
        order = np.random.default_rng(seed).permutation(len(dataset["train"]))
        dataset["train"] = dataset["train"].select(sorted(order[:max_train_examples].tolist()))
    return dataset


def build_mutation2text_dataset(data: Optional[str] = None, *, size: str = "demo", seed: int = 0, **csv_options) -> DatasetDict:
    """
    `data=None`: the embedded generator (`size` = tiny | demo | full). A `save_to_disk` folder is loaded as is; a
    file (see `readers`; `csv_options` go to the MutaDescribe reader) is split 80/10/10 by protein, deterministically
    in `seed`. Published splits in separate files: `build_split_files`.
    """
    if data is None:
        splits = generate_splits(size, seed)
        return DatasetDict({name: Dataset.from_dict(splits[name], features=FEATURES) for name in SPLIT_NAMES})
    path = Path(data)
    if path.is_dir():
        return load_saved_splits(path, SPLIT_NAMES, COLUMNS)
    if not path.exists():
        raise FileNotFoundError(f"no such dataset file or folder: {path}")
    columns = read_any(path, **csv_options)
    rows = protein_disjoint_split(protein_groups(columns["protein_id"], columns["wild_type"]), SPLIT_FRACTIONS, seed)
    return DatasetDict({name: _dataset(columns, rows[name]) for name in SPLIT_NAMES})


def _write_jsonl(columns: dict, indices, path) -> int:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for i in indices:
            handle.write(json.dumps({name: columns[name][i] for name in COLUMNS}) + "\n")
    return len(indices)


def preprocess(input_file, output_file) -> int:
    columns = read_any(input_file)
    return _write_jsonl(columns, range(len(columns["wild_type"])), output_file)


def split(input_file, train_output_file, val_output_file, test_output_file=None, val_size: float = 0.1,
          seed: int = 0) -> dict:
    columns = read_any(input_file)
    test_size = val_size if test_output_file else 0.0
    rows = protein_disjoint_split(protein_groups(columns["protein_id"], columns["wild_type"]),
                                  (1 - val_size - test_size, val_size, test_size), seed)
    if not test_output_file:
        rows["train"] = sorted(rows["train"] + rows["test"])
    counts = {"train": _write_jsonl(columns, rows["train"], train_output_file),
              "validation": _write_jsonl(columns, rows["validation"], val_output_file)}
    if test_output_file:
        counts["test"] = _write_jsonl(columns, rows["test"], test_output_file)
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    pre = commands.add_parser("preprocess", help="validate and normalise a JSONL / MutaDescribe CSV file")
    pre.add_argument("--input_file", required=True)
    pre.add_argument("--output_file", required=True)
    cut = commands.add_parser("split", help="protein-disjoint train/validation(/test) JSONL files")
    cut.add_argument("--input_file", required=True)
    cut.add_argument("--train_output_file", required=True)
    cut.add_argument("--val_output_file", required=True)
    cut.add_argument("--test_output_file")
    cut.add_argument("--val_size", type=float, default=0.1)
    cut.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "preprocess":
        print(f"{preprocess(args.input_file, args.output_file)} rows written to {args.output_file}")
    else:
        counts = split(args.input_file, args.train_output_file, args.val_output_file, args.test_output_file,
                       args.val_size, args.seed)
        print(", ".join(f"{name}: {n} rows" for name, n in counts.items()))


if __name__ == "__main__":
    main()
