"""`MILMolDataCollator`: rows of the milmol DatasetDict -> the model's input tensors (+ targets when present)."""

import warnings

import numpy as np
import torch

TARGET_COLUMNS = ("labels", "label_weights", "aux_abs", "aux_fluo")


class MILMolDataCollator:
    """
    Stacks x2d, x3d and conformer_mask (already padded to the dataset's bag size; trailing all-padding conformer
    slots of the batch are trimmed), and the targets: labels / label_weights (B, tasks), aux_abs (B, 2) and
    aux_fluo (B, 4), with aux_*_mask marking the present auxiliary values. `aux_mean` / `aux_std` (dicts of
    arrays for "aux_abs" and "aux_fluo") standardise the auxiliary targets with training-fold statistics.
    """

    def __init__(self, aux_mean=None, aux_std=None, with_targets: bool = True):
        self.aux_mean, self.aux_std, self.with_targets = aux_mean or {}, aux_std or {}, with_targets

    def __call__(self, rows: list) -> dict:
        mask = np.stack([np.asarray(r["conformer_mask"], dtype=np.int64) for r in rows])
        width = max(1, int(mask.any(axis=0).nonzero()[0].max()) + 1) if mask.any() else 1
        batch = {
            "x2d": torch.from_numpy(np.stack([np.asarray(r["x2d"], dtype=np.float32) for r in rows])),
            "x3d": torch.from_numpy(np.stack([np.asarray(r["x3d"], dtype=np.float32)[:width] for r in rows])),
            "conformer_mask": torch.from_numpy(mask[:, :width]),
        }
        if not self.with_targets or "labels" not in rows[0]:
            return batch
        for name in TARGET_COLUMNS:
            values = np.stack([np.asarray(r[name], dtype=np.float32) for r in rows])
            if name in ("aux_abs", "aux_fluo"):
                present = ~np.isnan(values)
                if name in self.aux_mean:
                    values = (values - self.aux_mean[name]) / self.aux_std[name]
                batch[f"{name}_mask"] = torch.from_numpy(present)
                values = np.where(present, values, 0.0).astype(np.float32)
            batch[name] = torch.from_numpy(values)
        return batch


def aux_statistics(train_split) -> tuple:
    """Mean and std of the auxiliary targets over the TRAINING fold only (std 1 where undefined)."""
    mean, std = {}, {}
    for name in ("aux_abs", "aux_fluo"):
        values = np.asarray(train_split[name], dtype=np.float64)
        with warnings.catch_warnings():  # an all-missing column (no fluorescent molecule) has no statistics
            warnings.simplefilter("ignore", RuntimeWarning)
            m, s = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
        mean[name] = np.nan_to_num(m, nan=0.0).astype(np.float32)
        std[name] = np.where(np.isfinite(s) & (s > 1e-6), s, 1.0).astype(np.float32)
    return mean, std
