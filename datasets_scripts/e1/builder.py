"""`build_e1_dataset`: the embedded generator or real files -> `datasets.DatasetDict` (train/validation/test)."""

from pathlib import Path
from typing import Optional

from datasets import Dataset, DatasetDict, Features, Sequence, Value

from datasets_scripts.saved import load_saved_splits

from .generator import IONS, generate_proteins
from .readers import attach_a3m, read_biolip, read_label_fastas
from .splits import SPLIT_NAMES, family_disjoint_split, homology_groups

SPLIT_FRACTIONS = (0.7, 0.15, 0.15)


def features(ions) -> Features:
    return Features({
        "id": Value("string"), "family": Value("string"), "sequence": Value("string"),
        "homologs": Sequence(Value("string")),
        **{f"labels_{ion.lower()}": Sequence(Value("int64")) for ion in ions},
        "site_types": Value("string"), "decoy_types": Value("string"),
    })


def _rows_from(data: str, ions) -> list:
    """Rows from `data`: 'ZN=zn.fa,CA=ca.fa' (three-line FASTA per ion), a BioLiP table (.txt/.tsv)."""
    if "=" in data:
        paths = dict(item.split("=", 1) for item in data.split(","))
        for path in paths.values():
            if not Path(path).is_file():
                raise FileNotFoundError(f"no such label FASTA: {path}")
        return read_label_fastas(paths, ions)
    path = Path(data)
    if not path.is_file():
        raise FileNotFoundError(f"no such dataset file or folder: {data}")
    if path.suffix.lower() in (".txt", ".tsv", ".biolip"):
        return read_biolip(path, ions)
    raise ValueError(f"{data}: give per-ion label FASTA files as 'ZN=zn.fa,CA=ca.fa', a BioLiP table (.txt/.tsv) or a "
                     "saved DatasetDict folder")


def build_e1_dataset(data: Optional[str] = None, *, size: str = "demo", seed: int = 0, ions=IONS,
                     msa_dir: Optional[str] = None) -> DatasetDict:
    """
    `data=None`: the embedded generator (`size` tiny | demo | full). Otherwise a `save_to_disk` folder, per-ion
    three-line FASTA files 'ZN=zn.fa,CA=ca.fa' (LMetalSite / GPSite) or a BioLiP-style table; homologs from
    `<msa_dir>/<id>.a3m`. Real data is split 70/15/15, disjoint by homology group (deterministic in `seed`).
    """
    ions = [ion.upper() for ion in ions]
    if data is not None and Path(data).is_dir():
        return load_saved_splits(data, SPLIT_NAMES)
    if data is None:
        rows = generate_proteins(size, seed)
        if set(ions) - set(IONS):
            raise ValueError(f"the embedded data has the ions {IONS}; got {ions}")
    else:
        rows = _rows_from(data, ions)
    if msa_dir:
        attach_a3m(rows, msa_dir)
    for row in rows:
        row.setdefault("site_types", "unknown")
        row.setdefault("decoy_types", "unknown")
    groups = homology_groups([r["sequence"] for r in rows], [r["family"] for r in rows])
    splits = family_disjoint_split(groups, SPLIT_FRACTIONS, seed=seed)
    columns = list(features(ions))
    return DatasetDict({
        name: Dataset.from_dict({c: [rows[i][c] for i in splits[name]] for c in columns}, features=features(ions))
        for name in SPLIT_NAMES
    })
