"""`build_mirlm_dataset`: the embedded generator or a real file -> `datasets.DatasetDict` (train/validation/test)."""

from pathlib import Path
from typing import Optional

from datasets import Dataset, DatasetDict, Features, Value

from datasets_scripts.saved import load_saved_splits

from .generator import generate_splits
from .readers import read_table
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
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)


def build_mirlm_dataset(data: Optional[str] = None, *, size: str = "demo", seed: int = 0) -> DatasetDict:
    """
    Build the mirLM dataset.

    `data=None` runs the embedded generator (`size` = "tiny" | "demo" | "full", see `generator.SIZES`).
    A path is read by format: a `save_to_disk` folder is loaded as is; a miRBench TSV, MiRformer CSV or
    TargetNet TSV (detected from extension and header, see `readers`) is split 80/10/10 by miRNA family
    (seed m2-m8, joined with any annotated family), deterministically in `seed`; `size` is then unused.
    """
    if data is None:
        splits = generate_splits(size, seed)
        return DatasetDict({name: Dataset.from_dict(splits[name], features=FEATURES) for name in SPLIT_NAMES})
    path = Path(data)
    if path.is_dir():
        return load_saved_splits(path, SPLIT_NAMES, FEATURES)
    if not path.exists():
        raise FileNotFoundError(f"no such dataset file or folder: {path}")
    columns = read_table(path)
    if not columns["mrna"]:
        raise ValueError(f"{path}: no rows")
    groups = family_groups(columns["mirna_family"], columns.pop("source_family"))
    rows = family_disjoint_split(groups, SPLIT_FRACTIONS, seed=seed)
    return DatasetDict({
        name: Dataset.from_dict({key: [values[i] for i in rows[name]] for key, values in columns.items()},
                                features=FEATURES)
        for name in SPLIT_NAMES
    })
