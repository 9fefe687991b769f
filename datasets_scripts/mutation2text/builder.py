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


def read_any(path) -> dict:
    """Columns of a file: a normalised JSONL (written by `preprocess`), the notes' JSONL, or a MutaDescribe CSV."""
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
    return read_table(path)


def build_mutation2text_dataset(data: Optional[str] = None, *, size: str = "demo", seed: int = 0) -> DatasetDict:
    """
    `data=None`: the embedded generator (`size` = tiny | demo | full). A `save_to_disk` folder is loaded as is; a
    file (see `readers`) is split 80/10/10 by protein, deterministically in `seed`.
    """
    if data is None:
        splits = generate_splits(size, seed)
        return DatasetDict({name: Dataset.from_dict(splits[name], features=FEATURES) for name in SPLIT_NAMES})
    path = Path(data)
    if path.is_dir():
        return load_saved_splits(path, SPLIT_NAMES, COLUMNS)
    if not path.exists():
        raise FileNotFoundError(f"no such dataset file or folder: {path}")
    columns = read_any(path)
    rows = protein_disjoint_split(protein_groups(columns["protein_id"], columns["wild_type"]), SPLIT_FRACTIONS, seed)
    return DatasetDict({
        name: Dataset.from_dict({key: [values[i] for i in rows[name]] for key, values in columns.items()}, features=FEATURES)
        for name in SPLIT_NAMES
    })


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
