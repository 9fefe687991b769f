"""
`SeedMatchBaseline`: the TargetScan-style rule a learned model has to beat.

The score of an (mRNA, miRNA) pair is the efficacy of its best canonical site (`sites_mirlm.find_sites`):
8mer 1.0 > 7mer-m8 0.8 > 7mer-A1 0.6 > 6mer 0.4 > offset-6mer 0.2 > no site 0.0 (the TargetScan order;
only the order matters for AUROC/AP). Its predicted span is that site's span; its pointer the site's centre.
Decision threshold 0.6: a pair "binds" when it has a 7mer-A1 or better site — 6mer and offset-6mer sites
are marginal in TargetScan and count as non-binding. It cannot see non-canonical (seed mismatch/wobble +
3' compensation) sites: that is the headroom left for the model.
Inputs are upper-case DNA, as in the dataset (normalise raw input with `MirLMTokenizer.normalize`).
"""

from typing import Optional, Sequence

import numpy as np

from modeling.mirlm.sites_mirlm import best_site
from .metrics import mirlm_metrics

SITE_SCORES = {"8mer": 1.0, "7mer-m8": 0.8, "7mer-A1": 0.6, "6mer": 0.4, "offset-6mer": 0.2}


class SeedMatchBaseline:
    """Best canonical seed site -> score, span and decision (see module docstring)."""

    name = "seed-match (TargetScan site types)"
    decision_threshold = SITE_SCORES["7mer-A1"]

    def score(self, mrna: str, mirna: str) -> float:
        site = best_site(mrna, mirna)
        return SITE_SCORES[site.site_type] if site else 0.0

    def predict_span(self, mrna: str, mirna: str) -> Optional[tuple]:
        site = best_site(mrna, mirna)
        return (site.start, site.end) if site else None

    def predict(self, mrnas: Sequence[str], mirnas: Sequence[str]) -> dict:
        """Arrays over a batch: scores, pred_start/pred_end/pointer (-1 without a site), site_type, binds."""
        if len(mrnas) != len(mirnas):
            raise ValueError(f"got {len(mrnas)} mRNAs but {len(mirnas)} miRNAs")
        sites = [best_site(m, r) for m, r in zip(mrnas, mirnas)]
        scores = np.array([SITE_SCORES[s.site_type] if s else 0.0 for s in sites])
        start = np.array([s.start if s else -1 for s in sites], dtype=np.int64)
        end = np.array([s.end if s else -1 for s in sites], dtype=np.int64)
        return {
            "scores": scores,
            "pred_start": start,
            "pred_end": end,
            "pointer": np.where(start >= 0, (start + end) // 2, -1),
            "site_type": [s.site_type if s else "none" for s in sites],
            "binds": scores >= self.decision_threshold,
        }

    def evaluate(self, rows) -> dict:
        """`mirlm_metrics` of the baseline on a dataset split (or any mapping of the mirLM columns)."""
        pred = self.predict(rows["mrna"], rows["mirna"])
        return mirlm_metrics(
            rows["label"], pred["scores"], self.decision_threshold, rows["site_type"], rows["site_start"],
            rows["site_end"], pred["pred_start"], pred["pred_end"], pred["pointer"],
        )
