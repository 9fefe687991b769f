"""
`build_milmol_dataset`: embedded molecules, a SMILES table or the EUOS25 tables -> `datasets.DatasetDict`.

Splits: "train", "validation", "test" (Bemis–Murcko scaffold split by default, `split="random"` as an option),
plus "leaderboard" (EUOS25 rows of the test split without labels: predicted, never trained on) and "failed"
(molecules that could not be featurised, with the error: reported, never silently dropped) when not empty.

Columns: id, smiles, scaffold, x2d (F2), x3d (N, F3; padded to the bag size N), conformer_mask (N), labels (4;
NaN = missing), label_weights (4), aux_abs (2), aux_fluo (4; see configuration_milmol.AUX_FLUO_NAMES), and for the
embedded data the rule's bookkeeping (labels.py): contact_mask (N; conformers where two pi units touch),
responsible_mask (N; conformers where a label-changing pair touches), responsible_conformer, dependent_tasks (4; the
task's label rests on a contact), conformer_dependent (some but not all conformers responsible), lambda_abs, name,
compound_class.
"""

import logging
from pathlib import Path
from typing import Optional

import numpy as np
from datasets import Dataset, DatasetDict, concatenate_datasets, load_from_disk

from modeling.milmol.tokenization_milmol import MILMolTokenizer

from .featurize import featurize_cached
from .labels import simulate_labels
from .readers import AUX_ABS, TASK_FILE_NAMES, TASKS, _squash, read_euos25, read_euos25_task_files, read_smiles_table, task_of_file
from .splits import balanced_scaffold_split, murcko_scaffold, random_split, rare_positive_sample

logger = logging.getLogger("biohf.milmol")
MOLECULES_FILE = Path(__file__).with_name("molecules.tsv")
SIZES = {"tiny": 60, "demo": None, "full": None}  # molecules of the embedded list used (None = all)


def embedded_molecules(size: str = "demo") -> list:
    """(name, class, SMILES) rows of molecules.tsv; `size="tiny"` keeps the first 60 (tests)."""
    if size not in SIZES:
        raise ValueError(f"unknown embedded data size {size!r}; known: {', '.join(SIZES)}")
    lines = [line for line in MOLECULES_FILE.read_text().splitlines() if line and not line.startswith("#")]
    header, rows = lines[0].split("\t"), [line.split("\t") for line in lines[1:]]
    if header != ["name", "class", "smiles"] or any(len(r) != 3 for r in rows):
        raise ValueError(f"{MOLECULES_FILE}: expected three tab-separated columns name, class, smiles")
    return rows[: SIZES[size]]


def _parts(data) -> list:
    if data is None:
        return []
    items = [data] if isinstance(data, (str, Path)) else list(data)
    return [p.strip() for item in items for p in str(item).split(",") if p.strip()]


def data_source(data) -> tuple:
    """
    (kind, paths) of `data` (None, a path, a comma-separated string or a list of paths):
    "embedded"; "disk" (a saved DatasetDict); "euos25_tasks" (the challenge's per-task training CSVs, or a folder
    holding them: its *train*.csv files); "euos25" (feature tables: 2D CSV, 3D CSV[, labels CSV]); "smiles".
    """
    parts = _parts(data)
    if not parts:
        return "embedded", []
    if len(parts) == 1 and Path(parts[0]).is_dir():
        folder = Path(parts[0])
        if (folder / "dataset_dict.json").is_file():
            return "disk", [folder]
        task_files = sorted(folder.glob("*train*.csv"))
        if task_files and not any("2d" in p.name.lower() or "3d" in p.name.lower() for p in task_files):
            for path in task_files:
                task_of_file(path)  # every training file of the folder names its task, or a clear error
            return "euos25_tasks", task_files
        found_2d, found_3d = sorted(folder.glob("*2[dD]*.csv")), sorted(folder.glob("*3[dD]*.csv"))
        if len(found_2d) == 1 and len(found_3d) == 1:
            labels = sorted(folder.glob("*label*.csv"))
            return "euos25", [found_2d[0], found_3d[0]] + labels[:1]
        raise ValueError(f"{folder}: expected the EUOS25 per-task training files (*train*.csv), a saved DatasetDict, "
                         "or exactly one *2d*.csv and one *3d*.csv (feature tables)")
    paths = [Path(p) for p in parts]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise FileNotFoundError(f"data file(s) not found: {', '.join(missing)}")
    if len(paths) in (2, 3) and any(("2d" in p.name.lower()) for p in paths) and any(("3d" in p.name.lower()) for p in paths):
        return "euos25", paths
    if len(paths) > 1 or any(_squash(key) in _squash(paths[0].stem) for key in TASK_FILE_NAMES):
        for path in paths:
            task_of_file(path)
        return "euos25_tasks", paths
    if paths[0].suffix.lower() == ".csv":
        return "smiles", paths
    raise ValueError(f"--train_file/--data {data!r}: give the EUOS25 per-task training CSVs (or their folder), a SMILES CSV, "
                     "'features_2d.csv,features_3d.csv[,labels.csv]' (EUOS25 feature tables), or a saved DatasetDict folder")


def make_featurizer(data: Optional[str], **settings) -> MILMolTokenizer:
    """The featurizer for `data`: RDKit with `settings`, or the column layout of EUOS25 tables (headers only)."""
    kind, paths = data_source(data)
    if kind == "euos25":
        import pandas as pd

        from .readers import _feature_columns

        head_2d, head_3d = pd.read_csv(paths[0], nrows=5), pd.read_csv(paths[1], nrows=5)
        return MILMolTokenizer(feature_source="precomputed", feature_names_2d=_feature_columns(head_2d, paths[0]),
                               feature_names_3d=_feature_columns(head_3d, paths[1]), num_conformers=settings.get("num_conformers", 10))
    return MILMolTokenizer(**settings)


def _fluo_targets(labels: np.ndarray, fluo_base: np.ndarray) -> np.ndarray:
    """(M, 4): wl / qy masked to the molecules positive for Fluorescence_340_450, then for _more_than_480."""
    out = np.full((len(labels), 4), np.nan)
    for k, task in enumerate((2, 3)):
        positive = labels[:, task] == 1
        out[positive, 2 * k : 2 * k + 2] = fluo_base[positive]
    return out


def _pad_bag(bag: np.ndarray, width: int, n3d: int) -> tuple:
    if len(bag) > width:
        raise ValueError(f"a molecule has {len(bag)} conformers, more than the bag size {width}")
    x3d = np.zeros((width, n3d), dtype=np.float32)
    x3d[: len(bag)] = bag
    mask = np.zeros(width, dtype=np.int64)
    mask[: len(bag)] = 1
    return x3d, mask


def _assemble(ids, smiles, x2d, bags, block, width, n3d, extras=None) -> dict:
    columns = {"id": list(ids), "smiles": list(smiles), "scaffold": [murcko_scaffold(s) for s in smiles],
               "x2d": [np.asarray(v, np.float32) for v in x2d], "x3d": [], "conformer_mask": [],
               "labels": block["labels"].astype(np.float32).tolist(), "label_weights": block["label_weights"].astype(np.float32).tolist(),
               "aux_abs": block["aux_abs"].astype(np.float32).tolist(),
               "aux_fluo": _fluo_targets(block["labels"], block["fluo_base"]).astype(np.float32).tolist()}
    for bag in bags:
        x3d, mask = _pad_bag(np.asarray(bag, np.float32), width, n3d)
        columns["x3d"].append(x3d)
        columns["conformer_mask"].append(mask)
    columns.update(extras or {})
    return columns


def _embedded_columns(tokenizer, size, seed, num_proc, cache_dir, smiles_override=None):
    molecules = embedded_molecules(size) if smiles_override is None else smiles_override
    records = featurize_cached([m[2] for m in molecules], tokenizer, cache_dir=cache_dir, num_proc=num_proc)
    rng = np.random.default_rng(seed)
    good, failed = [], []
    for molecule, record in zip(molecules, records):
        if not record["error"] and not record["num_conformers"]:  # the simulated labels need conformers
            record = {**record, "error": record["note"]}
        (failed if record["error"] else good).append((molecule, record))
    width = tokenizer.num_conformers
    rules = [simulate_labels(r["canonical_smiles"], r["coordinates"], rng) for _, r in good]
    block = {
        "labels": np.array([rule["labels"] for rule in rules]).reshape(-1, 4),
        "label_weights": np.ones((len(good), 4)),
        "aux_abs": np.array([[rule[a] for a in AUX_ABS] for rule in rules]).reshape(-1, 2),
        "fluo_base": np.array([[rule["wl_pred_nm"], rule["qy_pred"]] for rule in rules]).reshape(-1, 2),
    }

    def conformer_mask(indices):
        mask = np.zeros(width, dtype=np.int64)
        mask[indices] = 1
        return mask

    extras = {"name": [m[0] for m, _ in good], "compound_class": [m[1] for m, _ in good],
              "contact_mask": [conformer_mask(rule["contact_conformers"]) for rule in rules],
              "responsible_mask": [conformer_mask(rule["responsible_conformers"]) for rule in rules],
              "responsible_conformer": [rule["responsible_conformer"] for rule in rules],
              "dependent_tasks": [np.asarray(rule["dependent_tasks"], dtype=np.int64) for rule in rules],
              "conformer_dependent": [rule["conformer_dependent"] for rule in rules],
              "lambda_abs": [rule["lambda_abs"] for rule in rules]}
    columns = _assemble([m[0] for m, _ in good], [r["canonical_smiles"] for _, r in good], [r["x2d"] for _, r in good],
                        [r["x3d"] for _, r in good], block, width, tokenizer.n_features_3d, extras)
    return columns, [{"id": m[0], "smiles": m[2], "error": r["error"]} for m, r in failed], ["train"] * len(good)


NO_CONFORMER_POLICIES = ("2d_only", "exclude")


def _records_columns(table, tokenizer, num_proc, cache_dir, on_no_conformer: str, sample=None, seed: int = 0):
    """
    A table of SMILES + labels -> featurised columns, the excluded molecules and the notes. Policy (counted and
    reported, never silent): a SMILES RDKit cannot parse or sanitise is excluded ("failed", with the error); a
    molecule without any 3D conformer (too large, embedding failed or out of time) is kept 2D only (an empty bag)
    or, with `on_no_conformer="exclude"`, excluded; one with fewer conformers than asked is kept; both are listed in
    "notes". `sample`: keep that many molecules, every positive of a rare task among them (`rare_positive_sample`).
    """
    if on_no_conformer not in NO_CONFORMER_POLICIES:
        raise ValueError(f"on_no_conformer must be one of {NO_CONFORMER_POLICIES}, got {on_no_conformer!r}")
    rows, sampling = list(range(len(table["smiles"]))), None
    if sample:
        rows, sampling = rare_positive_sample(table["labels"], int(sample), seed)
        logger.info("sampled mode: %d of %d molecules, every positive of the rare tasks kept (%d); prevalence %s -> %s",
                    sampling["molecules"], sampling["of"], sampling["rare_positives_kept"], sampling["prevalence_all"], sampling["prevalence_sample"])
    records = featurize_cached([table["smiles"][i] for i in rows], tokenizer, cache_dir=cache_dir, num_proc=num_proc)
    keep, failed, notes = [], [], []
    for i, record in zip(rows, records):
        entry = {"id": table["ids"][i], "smiles": table["smiles"][i]}
        if record["error"]:
            failed.append({**entry, "error": record["error"]})
        elif record["num_conformers"] == 0 and on_no_conformer == "exclude":
            failed.append({**entry, "error": record["note"]})
        else:
            keep.append((i, record))
            if record.get("note"):
                notes.append({**entry, "note": record["note"]})
    index = [i for i, _ in keep]
    block = {k: table[k][index] for k in ("labels", "label_weights", "aux_abs", "fluo_base")}
    width = max([tokenizer.num_conformers] + [r["num_conformers"] for _, r in keep])
    extras = None
    if sampling:  # the inverse-probability weight of each sampled molecule (metrics on the whole set's distribution)
        weights = sampling.pop("inverse_probability_weight")
        extras = {"sampling_weight": [weights[i] for i in index]}
    columns = _assemble([table["ids"][i] for i in index], [r["canonical_smiles"] for _, r in keep],
                        [r["x2d"] for _, r in keep], [r["x3d"] for _, r in keep], block, width, tokenizer.n_features_3d, extras)
    return columns, failed, [table["split"][i] for i in index], notes, sampling


def _euos25_columns(paths, tokenizer):
    table = read_euos25(*paths)
    if table["feature_names_2d"] != tokenizer.feature_names_2d or table["feature_names_3d"] != tokenizer.feature_names_3d:
        raise ValueError("the EUOS25 feature columns differ from the featurizer's (the model's) feature names")
    width = max(len(b) for b in table["x3d"])
    block = {k: table[k] for k in ("labels", "label_weights", "aux_abs", "fluo_base")}
    columns = _assemble(table["ids"], table["smiles"], table["x2d"], table["x3d"], block, width, tokenizer.n_features_3d)
    return columns, [], table["split"]


def _subset(columns: dict, indices, chunk: int = 2000) -> Dataset:
    """The rows `indices` of `columns` as a Dataset, built `chunk` rows at a time (no second full copy as Python lists)."""
    parts = [Dataset.from_dict({k: [v[i] for i in indices[start : start + chunk]] for k, v in columns.items()})
             for start in range(0, len(indices), chunk)]
    if not parts:
        return Dataset.from_dict({k: [] for k in columns})
    return parts[0] if len(parts) == 1 else concatenate_datasets(parts)


def build_milmol_dataset(data=None, tokenizer: Optional[MILMolTokenizer] = None, *, size: str = "demo",
                         split: str = "scaffold", seed: int = 0, fractions=(0.7, 0.15, 0.15), num_proc: int = 1,
                         cache_dir=None, on_no_conformer: str = "2d_only", sample: Optional[int] = None) -> DatasetDict:
    """
    The milmol DatasetDict of `data` (None = the embedded molecules; see `data_source` for files), featurised with
    `tokenizer` (default: the RDKit featurizer at its defaults), cached, split by scaffold (or randomly).
    Besides train / validation / test (and "leaderboard"): "failed" (molecules excluded: id, smiles, error) and
    "notes" (molecules kept with partial features: 2D only or fewer conformers; id, smiles, note) when not empty.
    `sample` (SMILES and EUOS25 files): featurise only that many molecules, keeping every rare-task positive.
    `build_summary(splits)` is what the run reports about the source, sampling and policy.
    """
    kind, paths = data_source(data)
    if kind == "disk":
        return load_from_disk(str(paths[0]))
    tokenizer = tokenizer or make_featurizer(data)
    notes, sampling, extra = [], None, {}
    if kind == "embedded":
        columns, failed, origin = _embedded_columns(tokenizer, size, seed, num_proc, cache_dir)
    elif kind in ("smiles", "euos25_tasks"):
        table = read_smiles_table(paths[0]) if kind == "smiles" else read_euos25_task_files(paths)
        if kind == "euos25_tasks":
            extra = {"tasks_found": table["tasks_found"], "smiles_spelled_differently": table["smiles_disagreements"]}
            if len(table["tasks_found"]) < len(TASKS):
                logger.warning("EUOS25 files for %s only: the other tasks have no labels", table["tasks_found"])
        columns, failed, origin, notes, sampling = _records_columns(table, tokenizer, num_proc, cache_dir, on_no_conformer, sample, seed)
    else:
        if sample:
            raise ValueError("sample= applies to SMILES / EUOS25 challenge files, not to precomputed feature tables")
        columns, failed, origin = _euos25_columns(paths, tokenizer)
    labels = np.asarray(columns["labels"], dtype=np.float64).reshape(-1, len(TASKS))
    leaderboard = [i for i, s in enumerate(origin) if s.lower() == "test" and np.isnan(labels[i]).all()]
    labelled = [i for i in range(len(origin)) if i not in set(leaderboard)]
    if not labelled:
        raise ValueError("no labelled molecules to train on")
    if split == "scaffold":
        parts = balanced_scaffold_split([columns["scaffold"][i] for i in labelled], labels[labelled], fractions, seed)
    elif split == "random":
        parts = random_split(len(labelled), fractions, seed)
    else:
        raise ValueError(f"split must be 'scaffold' or 'random', got {split!r}")
    result = DatasetDict({name: _subset(columns, [labelled[i] for i in indices]) for name, indices in parts.items()})
    if leaderboard:
        result["leaderboard"] = _subset(columns, leaderboard)
    if failed:
        logger.warning("%d molecule(s) excluded (could not be featurised; the 'failed' split), e.g. %s", len(failed), failed[0])
        result["failed"] = Dataset.from_list(failed)
    if notes:
        two_d = sum(n["note"].startswith("2D only") for n in notes)
        logger.warning("%d molecule(s) kept 2D only, %d with fewer conformers than asked (the 'notes' split), e.g. %s",
                       two_d, len(notes) - two_d, notes[0])
        result["notes"] = Dataset.from_list(notes)
    result.build_info = {"source": kind, "sampling": sampling, "on_no_conformer": on_no_conformer, **extra}
    return result


def build_summary(splits: DatasetDict) -> dict:
    """What `build_milmol_dataset` did beyond the splits: the source kind, the sampling, the conformer policy and
    (EUOS25 files) the tasks found; plus the counts of excluded / 2D-only / fewer-conformer molecules."""
    summary = dict(getattr(splits, "build_info", {}))
    notes = splits["notes"]["note"] if "notes" in splits else []
    summary.update({"excluded": len(splits["failed"]) if "failed" in splits else 0,
                    "two_d_only": sum(n.startswith("2D only") for n in notes),
                    "fewer_conformers": sum(not n.startswith("2D only") for n in notes)})
    return summary


def featurisation_report(splits: DatasetDict, path) -> Path:
    """The per-molecule report next to a run's output: id, smiles, outcome (excluded / 2D only / fewer conformers), reason."""
    import csv

    path = Path(path)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "smiles", "outcome", "reason"])
        for row in splits["failed"].to_list() if "failed" in splits else []:
            writer.writerow([row["id"], row["smiles"], "excluded", row["error"]])
        for row in splits["notes"].to_list() if "notes" in splits else []:
            writer.writerow([row["id"], row["smiles"], "2D only" if row["note"].startswith("2D only") else "fewer conformers", row["note"]])
    return path


def prevalence(split: Dataset) -> np.ndarray:
    """Fraction of positives per task among the labelled rows."""
    labels = np.asarray(split["labels"], dtype=np.float64)
    return np.nanmean(labels, axis=0)
