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
SMILES table: a CSV with a `smiles` (or `SMILES` / `curated_SMILES`) column and any of the label columns above;
    featurised with RDKit like the embedded data.
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


def read_smiles_table(path) -> dict:
    """A CSV of SMILES and labels -> {"ids", "smiles", "split", labels block}; features come from RDKit later."""
    table = _read_csv(path, "SMILES table")
    column = next((c for c in SMILES_COLUMNS if c in table.columns), None)
    if column is None:
        raise ValueError(f"{path}: needs a SMILES column ({' or '.join(SMILES_COLUMNS)}); found {list(table.columns)[:12]}")
    ids = table["ID"].astype(str).tolist() if "ID" in table.columns else [f"mol{i}" for i in range(len(table))]
    return {"ids": ids, "smiles": table[column].fillna("").astype(str).tolist(),
            "split": table["split"].astype(str).tolist() if "split" in table.columns else ["train"] * len(table),
            **label_block(table)}
