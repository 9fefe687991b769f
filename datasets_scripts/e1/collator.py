"""
`E1ContrastiveCollator`: protein rows -> `num_variants` masked views per protein, each with its own homolog context.

A row holds `sequence` (the query), `homologs` (its homolog pool, possibly empty) and one label list per ion,
`labels_<ion>` (0/1 per residue, -100 = not annotated for that ion). Every view re-draws the MLM mask (probability
uniform in [mask_prob_min, mask_prob_max], query residues only, replaced by `?`) and, with
`resample_context_per_view`, its homologs (up to `num_context`). With `context_dropout` p, a protein's views (or,
when resampling, a single view) go without homologs with probability p, so that the model also learns to read a
lone sequence (the single-sequence use). All B x V rows are padded to the longest view.

Returns (B, V, L) `input_ids`, `sequence_ids`, `within_seq_position_ids`, `global_position_ids`,
`attention_mask`, `mlm_labels` (-100 except masked residues), `label_mask` (query residues),
`contrastive_label_mask` (query residues not masked in that view) and (B, V, L, ions) `binding_labels`
(-100 off the query and where an ion is not annotated).
"""

from typing import Optional, Sequence

import numpy as np
import torch

from modeling.e1.tokenization_e1 import PREFIX


def label_column(ion: str) -> str:
    return f"labels_{ion.lower()}"


class E1ContrastiveCollator:
    # A keyword list alike in shape to config signatures elsewhere, not shared logic.
    def __init__(
        self,
        tokenizer,
        ions: Sequence[str],
        num_variants: int = 2,
        mask_prob_min: float = 0.05,
        mask_prob_max: float = 0.25,
        num_context: int = 8,
        resample_context_per_view: bool = True,
        context_dropout: float = 0.0,
        pad_to_multiple_of: Optional[int] = 8,
        seed: int = 0,
    ):
        if num_variants < 1:
            raise ValueError(f"num_variants must be >= 1, got {num_variants}")
        if not 0.0 <= mask_prob_min <= mask_prob_max < 1.0:
            raise ValueError(f"need 0 <= mask_prob_min <= mask_prob_max < 1, got {mask_prob_min}, {mask_prob_max}")
        if not 0.0 <= context_dropout <= 1.0:
            raise ValueError(f"context_dropout must be in [0, 1], got {context_dropout}")
        if num_context < 0:
            raise ValueError(f"num_context must be >= 0, got {num_context}")
        self.tokenizer = tokenizer
        self.ions = [ion.upper() for ion in ions]
        self.num_variants = num_variants
        self.mask_prob_min, self.mask_prob_max = mask_prob_min, mask_prob_max
        self.num_context = num_context
        self.resample = resample_context_per_view
        self.context_dropout = context_dropout
        self.pad_to_multiple_of = pad_to_multiple_of
        self.rng = np.random.default_rng(seed)

    @classmethod
    def for_evaluation(cls, tokenizer, ions, num_context: int = 8, pad_to_multiple_of: Optional[int] = 8):
        """One unmasked view per protein with its first `num_context` homologs (deterministic)."""
        return cls(tokenizer, ions, num_variants=1, mask_prob_min=0.0, mask_prob_max=0.0, num_context=num_context,
                   resample_context_per_view=False, pad_to_multiple_of=pad_to_multiple_of)

    def _context(self, homologs: list) -> list:
        if not self.num_context or not homologs:
            return []
        if self.context_dropout and self.rng.random() < self.context_dropout:
            return []
        if not self.resample:
            return list(homologs[: self.num_context])
        take = min(self.num_context, len(homologs))
        return [homologs[i] for i in self.rng.choice(len(homologs), size=take, replace=False)]

    def _labels(self, row: dict, length: int, where: str) -> np.ndarray:
        labels = np.full((length, len(self.ions)), -100, dtype=np.int64)
        for j, ion in enumerate(self.ions):
            values = row.get(label_column(ion))
            if values is None:
                continue
            if len(values) != length:
                raise ValueError(f"{where}: {label_column(ion)} has {len(values)} labels for a {length}-residue sequence")
            labels[:, j] = values
        return labels

    def __call__(self, rows: list) -> dict:
        if not rows:
            raise ValueError("cannot collate an empty batch")
        encoded, extras = [], []
        for i, row in enumerate(rows):
            where = f"protein {row.get('id', i)!r}"
            residue_labels = None
            fixed_context = self._context(list(row.get("homologs") or []))
            for _ in range(self.num_variants):
                context = self._context(list(row.get("homologs") or [])) if self.resample else fixed_context
                encoding = self.tokenizer.encode_row(row["sequence"], context, where)
                length = encoding["query_length"]
                if residue_labels is None:
                    residue_labels = self._labels(row, length, where)
                start = len(encoding["input_ids"]) - length - 2  # first query residue (before `2 <eos>`)
                mask_prob = self.rng.uniform(self.mask_prob_min, self.mask_prob_max)
                masked = self.rng.random(length) < mask_prob if mask_prob > 0 else np.zeros(length, dtype=bool)
                ids = encoding["input_ids"].copy()
                mlm = np.full(len(ids), -100, dtype=np.int64)
                mlm[start: start + length][masked] = ids[start: start + length][masked]
                ids[start: start + length][masked] = self.tokenizer.mask_token_id
                encoding["input_ids"] = ids
                encoded.append(encoding)
                extras.append((start, length, mlm, masked, residue_labels))
        padded = self.tokenizer.pad_rows(encoded, self.pad_to_multiple_of)
        total, width = padded["input_ids"].shape
        mlm_labels = np.full((total, width), -100, dtype=np.int64)
        label_mask = np.zeros((total, width), dtype=bool)
        contrastive = np.zeros((total, width), dtype=bool)
        binding = np.full((total, width, len(self.ions)), -100, dtype=np.int64)
        for r, (start, length, mlm, masked, residue_labels) in enumerate(extras):
            mlm_labels[r, : len(mlm)] = mlm
            label_mask[r, start: start + length] = True
            contrastive[r, start: start + length] = ~masked
            binding[r, start: start + length] = residue_labels
        assert (padded["within_seq_position_ids"][label_mask] >= PREFIX).all()
        shape = (len(rows), self.num_variants, width)
        out = {key: torch.from_numpy(value).view(shape) for key, value in padded.items()}
        out["mlm_labels"] = torch.from_numpy(mlm_labels).view(shape)
        out["label_mask"] = torch.from_numpy(label_mask).view(shape)
        out["contrastive_label_mask"] = torch.from_numpy(contrastive).view(shape)
        out["binding_labels"] = torch.from_numpy(binding).view(*shape, len(self.ions)).float()
        return out
