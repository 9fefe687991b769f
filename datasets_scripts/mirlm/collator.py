"""`MirLMDataCollator`: rows of raw strings -> model tensors (tokenisation happens here, per batch)."""

from typing import Optional

import torch


class MirLMDataCollator:
    """
    Turn a list of dataset rows into the inputs of `MirLMForTargetPrediction`.

    Rows keep raw strings (`mrna`, `mirna`) and, when present, `label`, `site_start`, `site_end`.
    Returns `tokenizer.encode_pairs(...)` tensors (input_ids, attention_mask, global_attention_mask,
    mirna_input_ids, mirna_attention_mask, and start/end_positions when rows carry site columns) plus
    `labels` as a float tensor (B,). Use `remove_unused_columns=False` with `Trainer`: the collator needs
    the string columns.
    """

    # Attributes and the empty-batch check every collator has: alike in shape to the other families' collators.
    def __init__(self, tokenizer, padding: str = "longest", pad_to_multiple_of: Optional[int] = 8):
        self.tokenizer = tokenizer
        self.padding = padding
        self.pad_to_multiple_of = pad_to_multiple_of

    def __call__(self, rows: list) -> dict:
        if not rows:
            raise ValueError("cannot collate an empty batch")
        sites = {}
        if all("site_start" in row and "site_end" in row for row in rows):
            sites = {"site_start": [row["site_start"] for row in rows], "site_end": [row["site_end"] for row in rows]}
        batch = self.tokenizer.encode_pairs(
            [row["mrna"] for row in rows],
            [row["mirna"] for row in rows],
            padding=self.padding,
            pad_to_multiple_of=self.pad_to_multiple_of,
            return_tensors="pt",
            **sites,
        )
        out = dict(batch)
        if all("label" in row for row in rows):
            out["labels"] = torch.tensor([float(row["label"]) for row in rows], dtype=torch.float32)
        return out
