"""
Readers for the formats milmol users have.

EUOS25 layout (precomputed features, the seed's project):
    2D CSV   ID, curated_SMILES, split, <feature columns...>        one row per molecule
    3D CSV   ID, conf_id, smiles, split, <feature columns...>       one row per conformer
    labels   the task columns Transmittance_340, Transmittance_450, Fluorescence_340_450,
             Fluorescence_more_than_480, the auxiliary columns Transmittance_340_quantitative,
             Transmittance_450_quantitative, wl_pred_nm, qy_pred, and weight columns where present
             (`weight` = per-molecule sample weight, `weight_<task>` = per-task weight), in the 2D CSV or in
             a separate labels CSV joined on ID. Empty cells are missing labels.
    Feature columns are every other numeric column, in file order (that order is saved with the model).
    Rows whose `split` is "test" and that have no labels are the leaderboard set: predicted, never trained on.
EUOS25 challenge files (as published): one training CSV per task, `N` or `ID`, `SMILES` and one label column
    (`Transmittance (qualitative)`, `Transmittance` or `Fluorescence`), the task only in the file name
    (..._transmittance340, _transmittance450, _fluorescence340_450, _fluorescence480): merged on the id
    (`read_euos25_task_files`). The leaderboard / test file `ID,SMILES[,Transmittance(340),Transmittance(450),
    Fluorescence(340/450),Fluorescence(>480)]` is a SMILES table whose label headers map to the four tasks.
SMILES table: a CSV with a `smiles` (or `SMILES` / `curated_SMILES`) column and any of the label columns above;
    featurised with RDKit like the embedded data. A .smi file (SMILES [id] per line) for prediction only.
A file given for training whose label columns are not found is an error naming the columns it has; a label
that is not 0 / 1 / empty is an error naming its file, line and column.
"""

from pathlib import Path

import numpy as np
import pandas as pd

TASKS = ("Transmittance_340", "Transmittance_450", "Fluorescence_340_450", "Fluorescence_more_than_480")
AUX_ABS = ("Transmittance_340_quantitative", "Transmittance_450_quantitative")
AUX_FLUO_BASE = ("wl_pred_nm", "qy_pred")
KNOWN = {"ID", "curated_SMILES", "smiles", "SMILES", "split", "conf_id", "weight", *TASKS, *AUX_ABS, *AUX_FLUO_BASE}
KNOWN |= {f"weight_{task}" for task in TASKS}
SMILES_COLUMNS = ("smiles", "SMILES", "curated_SMILES")


def _read_csv(path, what: str) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} file not found: {path}")
    frame = pd.read_csv(path)
    if frame.empty:
        raise ValueError(f"{path}: the {what} file holds no rows")
    return frame


def _require(frame: pd.DataFrame, columns, path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; found {list(frame.columns)[:12]}...")


def _feature_columns(frame: pd.DataFrame, path) -> list:
    columns = [c for c in frame.columns if c not in KNOWN]
    non_numeric = [c for c in columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if non_numeric:
        raise ValueError(f"{path}: feature columns must be numeric; not numeric: {non_numeric[:10]}")
    if not columns:
        raise ValueError(f"{path}: no feature columns (every column is an ID/SMILES/split/label column)")
    return columns


def label_block(frame: pd.DataFrame) -> dict:
    """labels (M, 4), label_weights (M, 4), aux_abs (M, 2), fluo_base (M, 2) as float arrays, NaN = missing."""
    def column(name):
        return frame[name].to_numpy(dtype=np.float64) if name in frame.columns else np.full(len(frame), np.nan)

    labels = np.stack([column(t) for t in TASKS], axis=1)
    bad = ~np.isnan(labels) & ~np.isin(labels, (0.0, 1.0))
    if bad.any():
        row, task = np.argwhere(bad)[0]
        raise ValueError(f"task labels must be 0, 1 or empty; row {row} has {labels[row, task]} in {TASKS[task]}")
    sample = column("weight") if "weight" in frame.columns else np.ones(len(frame))
    weights = np.stack([column(f"weight_{t}") if f"weight_{t}" in frame.columns else np.ones(len(frame)) for t in TASKS], axis=1)
    weights = weights * sample[:, None]
    if (weights < 0).any() or np.isnan(weights).any():
        raise ValueError("weight columns must be non-negative numbers")
    return {"labels": labels, "label_weights": np.where(np.isnan(labels), 0.0, weights),
            "aux_abs": np.stack([column(a) for a in AUX_ABS], axis=1),
            "fluo_base": np.stack([column(a) for a in AUX_FLUO_BASE], axis=1)}


def read_euos25(path_2d, path_3d, labels_path=None) -> dict:
    """
    The EUOS25 tables -> {"ids", "smiles", "split", "x2d" (M, F2), "x3d": [ (n_i, F3) per molecule ], labels block,
    "feature_names_2d", "feature_names_3d"}. Every molecule of the 2D table needs at least one conformer row.
    """
    table_2d, table_3d = _read_csv(path_2d, "EUOS25 2D"), _read_csv(path_3d, "EUOS25 3D")
    _require(table_2d, ("ID", "curated_SMILES"), path_2d)
    _require(table_3d, ("ID", "conf_id"), path_3d)
    if table_2d["ID"].duplicated().any():
        raise ValueError(f"{path_2d}: duplicate IDs, e.g. {table_2d['ID'][table_2d['ID'].duplicated()].iloc[0]!r}")
    names_2d, names_3d = _feature_columns(table_2d, path_2d), _feature_columns(table_3d, path_3d)
    if labels_path is not None:
        labels = _read_csv(labels_path, "labels")
        _require(labels, ("ID",), labels_path)
        table_2d = table_2d.drop(columns=[c for c in labels.columns if c != "ID" and c in table_2d.columns]).merge(labels, on="ID", how="left")
    if not any(t in table_2d.columns for t in TASKS):
        raise ValueError(f"{labels_path or path_2d}: no label column found for training (expected any of {', '.join(TASKS)}); "
                         f"the {'labels' if labels_path else '2D'} file has the columns {list(labels.columns if labels_path else table_2d.columns)[:20]}")
    bags = {key: group.sort_values("conf_id")[names_3d].to_numpy(np.float32) for key, group in table_3d.groupby("ID", sort=False)}
    missing = [i for i in table_2d["ID"] if i not in bags]
    if missing:
        raise ValueError(f"{path_3d}: no conformer rows for {len(missing)} molecule(s) of {path_2d}, e.g. {missing[:3]}")
    x2d = table_2d[names_2d].to_numpy(np.float32)
    if not np.isfinite(x2d).all():
        row = int(np.argwhere(~np.isfinite(x2d))[0][0])
        raise ValueError(f"{path_2d}: non-finite 2D feature in row {row} (ID {table_2d['ID'].iloc[row]!r})")
    return {
        "ids": table_2d["ID"].astype(str).tolist(), "smiles": table_2d["curated_SMILES"].astype(str).tolist(),
        "split": table_2d["split"].astype(str).tolist() if "split" in table_2d.columns else ["train"] * len(table_2d),
        "x2d": x2d, "x3d": [np.nan_to_num(bags[i]) for i in table_2d["ID"]],
        "feature_names_2d": names_2d, "feature_names_3d": names_3d, **label_block(table_2d),
    }


# The challenge's own files: task from the file name, label column by header, leaderboard names of the four tasks.
TASK_FILE_NAMES = {"transmittance340": "Transmittance_340", "transmittance450": "Transmittance_450",
                   "fluorescence340450": "Fluorescence_340_450", "fluorescence480": "Fluorescence_more_than_480",
                   "fluorescencemorethan480": "Fluorescence_more_than_480"}
LEADERBOARD_COLUMNS = {"Transmittance(340)": "Transmittance_340", "Transmittance(450)": "Transmittance_450",
                       "Fluorescence(340/450)": "Fluorescence_340_450", "Fluorescence(>480)": "Fluorescence_more_than_480"}
ID_COLUMNS = ("ID", "N", "id")
TASK_FILE_LABELS = ("Transmittance (qualitative)", "Transmittance", "Fluorescence")


def _squash(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def task_of_file(path) -> str:
    """The task of a per-task EUOS25 training file, from its name (e.g. ..._train_transmittance340.csv)."""
    name = _squash(Path(path).stem)
    matches = {task for key, task in TASK_FILE_NAMES.items() if key in name or _squash(task) in name}
    if len(matches) != 1:
        raise ValueError(f"{path}: cannot tell the task from the file name ({'none' if not matches else 'several: ' + ', '.join(sorted(matches))} of "
                         f"{', '.join(TASKS)} matches); name it like euos25_challenge_train_transmittance340.csv, "
                         "_transmittance450, _fluorescence340_450 or _fluorescence480")
    return matches.pop()


def _id_column(frame: pd.DataFrame, path) -> str:
    column = next((c for c in ID_COLUMNS if c in frame.columns), None)
    if column is None:
        raise ValueError(f"{path}: needs a molecule id column ({' or '.join(ID_COLUMNS)}); found {list(frame.columns)}")
    if frame[column].isna().any():
        raise ValueError(f"{path}: line {int(np.flatnonzero(frame[column].isna())[0]) + 2}: empty id in column {column!r}")
    if frame[column].duplicated().any():
        duplicate = frame[column][frame[column].duplicated()].iloc[0]
        raise ValueError(f"{path}: duplicate id {duplicate!r} in column {column!r}")
    return column


def _binary_labels(values: pd.Series, path, column: str, allow_missing: bool) -> np.ndarray:
    """0/1 labels of `column`; a value that is not 0 / 1 (or empty, where allowed) is an error naming its line."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    bad = (np.isnan(numbers) & values.notna().to_numpy()) | (~np.isnan(numbers) & ~np.isin(numbers, (0.0, 1.0)))
    if not allow_missing:
        bad |= values.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{path}: line {row + 2}, column {column!r}: label must be 0 or 1{' or empty' if allow_missing else ''}, "
                         f"got {values.iloc[row]!r}")
    return numbers


def read_euos25_task_files(paths) -> dict:
    """
    The challenge's per-task training files (ID or N, SMILES, one label column; the task from the file name),
    merged on the molecule id -> {"ids", "smiles", "split", labels block, "tasks_found", "smiles_disagreements"}.
    Every file must hold the same ids; two files may spell a molecule's SMILES differently only if RDKit reads
    them as the same molecule (the first file's spelling is kept; the count is returned), else it is an error.
    Tasks without a file have empty labels (and are named in "tasks_found").
    """
    paths = [Path(p) for p in paths]
    tasks = [task_of_file(p) for p in paths]
    if len(set(tasks)) != len(tasks):
        twice = sorted({t for t in tasks if tasks.count(t) > 1})
        raise ValueError(f"two training files for the same task {twice}: {[str(p) for p, t in zip(paths, tasks) if t in twice]}")
    merged, disagreements = None, 0
    for path, task in zip(paths, tasks):
        frame = _read_csv(path, f"EUOS25 {task}")
        id_column = _id_column(frame, path)
        if "SMILES" not in frame.columns:
            raise ValueError(f"{path}: needs a SMILES column; found {list(frame.columns)}")
        label_columns = [c for c in frame.columns if c in TASK_FILE_LABELS or c == task or LEADERBOARD_COLUMNS.get(c) == task]
        if len(label_columns) != 1:
            raise ValueError(f"{path}: expected one label column for {task} (one of {', '.join(TASK_FILE_LABELS)}, {task}); "
                             f"found the columns {list(frame.columns)}")
        part = pd.DataFrame({"ID": frame[id_column].astype(str), "SMILES": frame["SMILES"].astype(str),
                             task: _binary_labels(frame[label_columns[0]], path, label_columns[0], allow_missing=False)})
        if merged is None:
            merged, first = part, path
            continue
        if set(part["ID"]) != set(merged["ID"]):
            only_here, only_there = sorted(set(part["ID"]) - set(merged["ID"])), sorted(set(merged["ID"]) - set(part["ID"]))
            raise ValueError(f"{path} and {first} do not hold the same molecules: {len(only_here)} ids only in the first "
                             f"(e.g. {only_here[:3]}), {len(only_there)} only in the second (e.g. {only_there[:3]})")
        joined = merged.merge(part, on="ID", how="left", suffixes=("", "_other"))
        differ = np.flatnonzero(joined["SMILES"].to_numpy() != joined["SMILES_other"].to_numpy())
        if len(differ):
            from .featurize import cache_keys

            for row in differ:
                a, b = cache_keys([joined["SMILES"].iloc[row], joined["SMILES_other"].iloc[row]])
                if a != b:
                    raise ValueError(f"{path}: molecule id {joined['ID'].iloc[row]!r} has SMILES {joined['SMILES_other'].iloc[row]!r}, "
                                     f"{first} has {joined['SMILES'].iloc[row]!r}: not the same molecule")
            disagreements += len(differ)
        merged = joined.drop(columns="SMILES_other")
    labels = np.stack([merged[t].to_numpy(np.float64) if t in merged.columns else np.full(len(merged), np.nan) for t in TASKS], axis=1)
    return {"ids": merged["ID"].tolist(), "smiles": merged["SMILES"].tolist(), "split": ["train"] * len(merged),
            "labels": labels, "label_weights": np.where(np.isnan(labels), 0.0, 1.0),
            "aux_abs": np.full((len(merged), len(AUX_ABS)), np.nan), "fluo_base": np.full((len(merged), 2), np.nan),
            "tasks_found": [t for t in TASKS if t in tasks], "smiles_disagreements": disagreements}


def read_smiles_table(path, require_labels: bool = True) -> dict:
    """
    A CSV of SMILES and labels -> {"ids", "smiles", "split", labels block}; features come from RDKit later.
    Label columns: the task names or the leaderboard headers (Transmittance(340), ..., Fluorescence(>480)).
    With `require_labels` (a file given for training), a file without any of them is an error naming its columns.
    """
    table = _read_csv(path, "SMILES table")
    column = next((c for c in SMILES_COLUMNS if c in table.columns), None)
    if column is None:
        raise ValueError(f"{path}: needs a SMILES column ({' or '.join(SMILES_COLUMNS)}); found {list(table.columns)}")
    table = table.rename(columns={c: t for c, t in LEADERBOARD_COLUMNS.items() if c in table.columns})
    present = [t for t in TASKS if t in table.columns]
    if require_labels and not present:
        raise ValueError(f"{path}: no label column found for training (expected any of {', '.join(TASKS)} or "
                         f"{', '.join(LEADERBOARD_COLUMNS)}); the file has the columns {list(table.columns)}")
    for task in present:
        table[task] = _binary_labels(table[task], path, task, allow_missing=True)
    if require_labels and all(table[task].isna().all() for task in present):
        raise ValueError(f"{path}: the label column(s) {present} hold no label (every cell is empty); nothing to train on")
    id_column = next((c for c in ID_COLUMNS if c in table.columns), None)
    ids = table[id_column].astype(str).tolist() if id_column else [f"mol{i}" for i in range(len(table))]
    return {"ids": ids, "smiles": table[column].fillna("").astype(str).tolist(),
            "split": table["split"].astype(str).tolist() if "split" in table.columns else ["train"] * len(table),
            **label_block(table)}


def read_molecules(path) -> list:
    """
    (id, SMILES) pairs of a file to predict, in file order: a .smi / .txt file (one SMILES per line, optionally
    followed by whitespace and an id; '#' lines are comments) or a CSV with a SMILES column and an optional id
    column (ID / N / id), e.g. the challenge's test file `ID,SMILES[,Transmittance(340),...]` (labels ignored).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"input file not found: {path}")
    if path.suffix.lower() == ".csv":
        table = read_smiles_table(path, require_labels=False)
        return list(zip(table["ids"], table["smiles"]))
    molecules = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip() and not line.startswith("#"):
            parts = line.split()
            molecules.append((parts[1] if len(parts) > 1 else f"line{number}", parts[0]))
    if not molecules:
        raise ValueError(f"{path}: no SMILES in the file")
    return molecules
