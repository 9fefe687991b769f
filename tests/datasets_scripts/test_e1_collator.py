"""E1ContrastiveCollator: homolog context per view and context dropout."""

import pytest
import torch

from datasets_scripts.e1.collator import E1ContrastiveCollator
from modeling.e1.tokenization_e1 import E1Tokenizer

IONS = ["ZN"]
ROWS = [{"id": f"p{i}", "sequence": "MKCAVCGKHLAEHH", "homologs": ["MKCAICGRHLSEHH", "MRCAVCGKHIAEHH", "MKCSVCGKHLAQHH"],
         "labels_zn": [0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1]} for i in range(40)]


def _sequences_per_view(batch) -> torch.Tensor:
    """(B, V) number of sequences (homologs + query) in each view."""
    real = batch["attention_mask"].bool()
    return batch["sequence_ids"].masked_fill(~real, -1).amax(dim=-1) + 1


@pytest.mark.parametrize("resample", [True, False])
def test_context_dropout_drops_whole_contexts_at_its_rate(resample):
    collate = E1ContrastiveCollator(E1Tokenizer(), IONS, num_variants=3, num_context=2, resample_context_per_view=resample,
                                    context_dropout=0.5, seed=0)
    counts = _sequences_per_view(collate(ROWS))
    assert set(counts.flatten().tolist()) == {1, 3}  # a view has no homologs or all num_context of them
    if not resample:  # the views of a protein share their context: all or none of them lose it
        assert bool((counts == counts[:, :1]).all())
    dropped = float((counts == 1).float().mean())
    assert 0.25 < dropped < 0.75, dropped


def test_no_dropout_keeps_every_context_and_full_dropout_none():
    keep = E1ContrastiveCollator(E1Tokenizer(), IONS, num_variants=2, num_context=2, seed=0)(ROWS[:4])
    drop = E1ContrastiveCollator(E1Tokenizer(), IONS, num_variants=2, num_context=2, context_dropout=1.0, seed=0)(ROWS[:4])
    assert bool((_sequences_per_view(keep) == 3).all()) and bool((_sequences_per_view(drop) == 1).all())
    assert torch.equal(drop["label_mask"].sum(-1), keep["label_mask"].sum(-1))  # the query is always there


def test_context_dropout_outside_zero_one_is_an_error():
    with pytest.raises(ValueError, match="context_dropout"):
        E1ContrastiveCollator(E1Tokenizer(), IONS, context_dropout=1.5)
