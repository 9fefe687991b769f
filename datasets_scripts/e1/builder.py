"""`build_e1_dataset`: the embedded generator or real files -> `datasets.DatasetDict` (train/validation/test)."""

import logging
from pathlib import Path
from typing import Optional

import numpy as np
from datasets import Dataset, DatasetDict, Features, Sequence, Value

from datasets_scripts.grouping import group_members
from datasets_scripts.saved import load_saved_splits

from .generator import IONS, generate_proteins
from .readers import attach_a3m, parse_ion_files, read_biolip, read_label_fastas
from .splits import SPLIT_NAMES, family_disjoint_split, homology_groups

SPLIT_FRACTIONS = (0.7, 0.15, 0.15)
VALIDATION_FRACTION = 0.15
logger = logging.getLogger("biohf.e1")


def features(ions) -> Features:
    return Features({
        "id": Value("string"), "family": Value("string"), "sequence": Value("string"),
        "homologs": Sequence(Value("string")),
        **{f"labels_{ion.lower()}": Sequence(Value("int64")) for ion in ions},
        "site_types": Value("string"), "decoy_types": Value("string"),
    })


def _rows_from(data: str, ions) -> list:
    """Rows from `data`: 'ZN=zn.fa,CA=ca.fa' (three-line FASTA per ion), a BioLiP table (.txt/.tsv)."""
    if "=" in data or "," in data or Path(data).suffix.lower() in (".fa", ".fasta"):
        return read_label_fastas(parse_ion_files(data), ions)
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
        return load_saved_splits(data, SPLIT_NAMES, columns=["id", "sequence", "homologs", *(f"labels_{i.lower()}" for i in ions)])
    if data is None:
        rows = generate_proteins(size, seed)
        if set(ions) - set(IONS):
            raise ValueError(f"the embedded data has the ions {IONS}; got {ions}")
    else:
        rows = _rows_from(data, ions)
    if msa_dir:
        attach_a3m(rows, msa_dir)
    groups = homology_groups([r["sequence"] for r in rows], [r["family"] for r in rows])
    splits = family_disjoint_split(groups, SPLIT_FRACTIONS, seed=seed)
    return DatasetDict({name: _dataset([rows[i] for i in splits[name]], ions) for name in SPLIT_NAMES})


def _dataset(rows: list, ions) -> Dataset:
    for row in rows:
        row.setdefault("site_types", "unknown")
        row.setdefault("decoy_types", "unknown")
    columns = list(features(ions))
    return Dataset.from_dict({c: [row[c] for row in rows] for c in columns}, features=features(ions))


def data_ions(train_file: str) -> list:
    """The ions of per-ion training files, in the order given (file-name prefix or ION=path)."""
    return list(parse_ion_files(train_file))


def carve_validation(groups: list, fraction: float, seed: int = 0) -> tuple:
    """(train rows, validation rows): whole homology groups, shuffled, to validation until `fraction` of the rows."""
    if not 0 < fraction < 1:
        raise ValueError(f"validation_fraction must be in (0, 1), got {fraction}")
    members = group_members(groups)  # groups in order of first appearance: independent of how groups are named
    names = list(members)
    np.random.default_rng(seed).shuffle(names)
    validation, target = [], fraction * len(groups)
    for name in names:
        if len(validation) >= target:
            break
        if len(validation) + len(members[name]) <= 1.5 * target:  # skip a group that alone would overshoot
            validation.extend(members[name])
    if not validation or len(validation) == len(groups):
        raise ValueError(f"cannot carve a validation split from {len(set(groups))} homology groups")
    held = set(validation)
    return [i for i in range(len(groups)) if i not in held], sorted(validation)


def build_e1_benchmark(train_file: str, test_file: Optional[str] = None, *, seed: int = 0,
                       validation_fraction: float = VALIDATION_FRACTION, msa_dir: Optional[str] = None,
                       ions=None) -> DatasetDict:
    """
    A published benchmark as given: per-ion training files ('ZN_Train.fa,CA_Train.fa' or 'ZN=a.fa') and per-ion
    test files. Validation is carved from the training proteins by homology group (proteins sharing an exact 12-mer
    are one group); the test files are read whole and never split. Without `test_file` a test split is carved as
    for `--data`. The ions are the training files' ions unless `ions` is given.
    """
    train_paths = parse_ion_files(train_file)
    ions = [ion.upper() for ion in (ions or train_paths)]
    rows = read_label_fastas(train_paths, ions)
    if msa_dir:
        attach_a3m(rows, msa_dir)
    groups = homology_groups([r["sequence"] for r in rows], [r["family"] for r in rows])
    if test_file is None:
        splits = family_disjoint_split(groups, SPLIT_FRACTIONS, seed=seed)
        return DatasetDict({name: _dataset([rows[i] for i in splits[name]], ions) for name in SPLIT_NAMES})
    test_paths = parse_ion_files(test_file)
    unknown = sorted(set(test_paths) - set(ions))
    if unknown:
        raise ValueError(f"test file(s) for {', '.join(unknown)} but no training file for that ion (training ions: {ions})")
    test_rows = read_label_fastas(test_paths, ions)
    if msa_dir:
        attach_a3m(test_rows, msa_dir)
    train_rows, validation_rows = carve_validation(groups, validation_fraction, seed)
    test_sequences = {r["sequence"] for r in test_rows}
    shared = sum(rows[i]["sequence"] in test_sequences for i in train_rows + validation_rows)
    if shared:
        logger.warning("%d training protein(s) have the exact sequence of a test protein (published split, kept as given)", shared)
    return DatasetDict({"train": _dataset([rows[i] for i in train_rows], ions),
                        "validation": _dataset([rows[i] for i in validation_rows], ions),
                        "test": _dataset(test_rows, ions)})


def truncate_proteins(splits: DatasetDict, max_residues: int) -> DatasetDict:
    """
    The explicit `--max_residues` option: queries (with their labels) and homologs longer than `max_residues` are
    cut to their first `max_residues` residues, with a warning naming each protein. Without it nothing is cut.
    """
    if max_residues <= 0:
        raise ValueError(f"max_residues must be positive, got {max_residues}")
    label_columns = [c for c in next(iter(splits.values())).column_names if c.startswith("labels_")]

    def cut(row, split):
        if len(row["sequence"]) > max_residues:
            logger.warning("%s protein %s: %d residues truncated to --max_residues %d", split, row["id"],
                           len(row["sequence"]), max_residues)
            row["sequence"] = row["sequence"][:max_residues]
            for column in label_columns:
                row[column] = row[column][:max_residues]
        row["homologs"] = [h[:max_residues] for h in row["homologs"]]
        return row

    return DatasetDict({name: split.map(cut, fn_kwargs={"split": name}, load_from_cache_file=False)
                        for name, split in splits.items()})
