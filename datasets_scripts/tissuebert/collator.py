"""Batches for the Trainer: sample-level rows -> region_means / region_coverage / labels; region rows -> input_ids / methylation."""

import numpy as np
import torch

SAMPLE_COLUMNS = ("region_means", "region_coverage")
REGION_COLUMNS = ("input_ids", "methylation")


class TissueBERTDataCollator:
    """Stacks the model inputs of a list of dataset rows (other columns, e.g. file names, are dropped); labels are
    the tissue index, or the `proportions` of a mixture row."""

    def __call__(self, rows: list) -> dict:
        if not rows:
            raise ValueError("empty batch")
        columns = SAMPLE_COLUMNS if "region_means" in rows[0] else REGION_COLUMNS
        missing = [c for c in columns if c not in rows[0]]
        if missing:
            raise ValueError(f"dataset rows lack {missing}; expected {columns} (+ label)")
        batch = {}
        for column in columns:
            values = np.stack([np.asarray(row[column]) for row in rows])
            batch[column] = torch.from_numpy(values.astype(np.float32 if column in SAMPLE_COLUMNS else np.int64))
        if "proportions" in rows[0]:  # mixture rows: the composition is the label
            batch["labels"] = torch.from_numpy(np.stack([np.asarray(row["proportions"]) for row in rows]).astype(np.float32))
        elif "label" in rows[0]:
            batch["labels"] = torch.tensor([int(row["label"]) for row in rows], dtype=torch.long)
        return batch
