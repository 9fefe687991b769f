"""e1 homolog-use diagnostics: context effect counts, the copying probe, the conservation oracle."""

import math
from types import SimpleNamespace

import numpy as np
import torch

from modeling.e1.tokenization_e1 import E1Tokenizer
from trainers.e1.diagnostics import context_effect, conservation_oracle, copy_accuracy

EF_HAND = "DKDGDGTITTKE"  # canonical EF-hand loop: D-x-[DN]-x-[DNS]-G-x-[ILV]-x-x-x-E


def test_context_effect_counts_false_calls_and_lookalike_proteins():
    labels = [np.array([[1], [0], [0]]), np.array([[0], [0], [-100]])]
    with_context = [np.array([[0.9], [0.2], [0.6]]), np.array([[0.1], [0.3], [0.9]])]
    alone = [np.array([[0.55], [0.7], [0.6]]), np.array([[0.8], [0.3], [0.9]])]
    report = context_effect(with_context, alone, labels, ["CA"], decoy_types=["lookalike:ca_ef_hand", "none"])["CA"]
    assert report["false_calls_with_context"] == 1 and report["false_calls_alone"] == 3  # -100 is not a negative
    assert report["lookalike_proteins"] == 1
    assert report["false_calls_in_lookalike_proteins_with_context"] == 1 and report["false_calls_in_lookalike_proteins_alone"] == 2
    assert report["auprc_with_context"] == 1.0 and report["auprc_alone"] < 1.0


class _CopyFromFirstHomolog(torch.nn.Module):
    """Predicts a masked query residue as the first homolog's residue at the same within-sequence position."""

    def forward(self, input_ids, sequence_ids, within_seq_position_ids, **_):
        logits = torch.zeros(*input_ids.shape, 34)
        for row in range(len(input_ids)):
            for t in (input_ids[row] == 5).nonzero().flatten():
                source = (sequence_ids[row] == 0) & (within_seq_position_ids[row] == within_seq_position_ids[row, t])
                token = input_ids[row][source][0] if sequence_ids[row, t] > 0 else torch.tensor(8)  # alone: always "A"
                logits[row, t, token] = 1.0
        return SimpleNamespace(logits=logits)


def test_copy_accuracy_measures_copying_from_homologs():
    queries = ["MKCWLLVGHTRE" * 3, "QQWERTYHIKLM" * 2]
    report = copy_accuracy(_CopyFromFirstHomolog(), E1Tokenizer(), queries, [[q] for q in queries], mask_every=5, batch_size=1)
    masked = sum(len(q[o::5]) for q, o in zip(queries, np.random.default_rng(0).integers(5, size=2)))
    assert report["with_context"]["rare"]["residues"] + report["with_context"]["common"]["residues"] == masked
    assert report["with_context"]["rare"]["accuracy"] == 1.0 and report["with_context"]["common"]["accuracy"] == 1.0
    assert report["alone"]["rare"]["accuracy"] == 0.0 and report["alone"]["common"]["accuracy"] < 0.5


def test_conservation_oracle_ranks_sites_the_homologs_keep_first():
    real, lookalike = "MAKL" + EF_HAND + "RRGA", "GSPA" + EF_HAND + "QQVL"
    labels = [np.zeros((20, 1), int), np.zeros((20, 1), int)]
    labels[0][[4, 6, 8, 10, 12, 15], 0] = 1  # the real site's six ligands
    homologs = [[real, real.replace("KL", "RL")], ["GSPAQKTGLGAIAWAEQQVL"]]  # the lookalike's loop is lost
    report = conservation_oracle([real, lookalike], homologs, labels, ["CA"])["CA"]
    assert math.isclose(report["auprc_regex_times_homolog_share"], 1.0)
    assert report["auprc_regex"] < 0.75  # the regex alone cannot tell the two sites apart
