"""The embedding cache: equal to the encoder, reused, invalidated when the encoder changes."""

import shutil
from pathlib import Path

import torch
from datasets import Dataset

from datasets_scripts.mutation2text import build_mutation2text_dataset
from trainers.mutation2text.build import build_model, freeze_for_stage
from trainers.mutation2text.embeddings import cache_embeddings


def test_cache(tmp_path):
    torch.manual_seed(0)
    model, processor = build_model("tiny", "random")
    split = build_mutation2text_dataset(size="tiny")["validation"]
    cached = cache_embeddings(split, model, processor, tmp_path, "validation")
    row = cached[0]
    ids = torch.tensor([processor.encode_protein(row["wild_type"])])
    with torch.no_grad():
        expected = model.model.encode_protein(ids, torch.ones_like(ids))[0]
    torch.testing.assert_close(torch.tensor(row["wild_type_embeds"]), expected)
    assert len(list(tmp_path.iterdir())) == 1
    again = cache_embeddings(split, model, processor, tmp_path, "validation")
    assert again["mutant_embeds"][0] == row["mutant_embeds"] and len(list(tmp_path.iterdir())) == 1
    with torch.no_grad():
        model.model.protein_encoder.embeddings.word_embeddings.weight.add_(1.0)
    cache_embeddings(split, model, processor, tmp_path, "validation")
    assert len(list(tmp_path.iterdir())) == 2  # another encoder: a new cache


def test_the_cache_appears_complete_or_not_at_all(tmp_path, monkeypatch):
    """Written aside and renamed (never in place); when another DDP rank's cache lands first, theirs is kept."""
    model, processor = build_model("tiny", "random")
    split = build_mutation2text_dataset(size="tiny")["validation"]
    first = cache_embeddings(split, model, processor, tmp_path / "a", "validation")
    (final,) = list((tmp_path / "a").iterdir())
    written, save = [], Dataset.save_to_disk

    def save_while_the_other_rank_finishes(self, folder, **kwargs):
        written.append(Path(folder))
        save(self, folder, **kwargs)
        shutil.copytree(final, tmp_path / "b" / final.name)  # the other rank's complete cache lands meanwhile
        (tmp_path / "b" / final.name / "theirs").write_text("")

    monkeypatch.setattr(Dataset, "save_to_disk", save_while_the_other_rank_finishes)
    second = cache_embeddings(split, model, processor, tmp_path / "b", "validation")
    assert written and all(folder.name != final.name for folder in written)
    assert [p.name for p in (tmp_path / "b").iterdir()] == [final.name]  # no staging folder left
    assert (tmp_path / "b" / final.name / "theirs").exists()
    assert second["mutant_embeds"][0] == first["mutant_embeds"][0]


def test_freezing_per_stage():
    model, _ = build_model("tiny", "random")
    trainable = freeze_for_stage(model, 1)
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable > 0 and all(n.startswith(("model.gated_cross_attention", "model.site_context", "model.resampler",
                                               "model.projector")) for n in names)
    assert any(n.startswith("model.site_context") for n in names)
    assert any(n.startswith("model.protein_encoder") for n, p in model.named_parameters() if not p.requires_grad)
    assert freeze_for_stage(model, 1, train_protein_encoder=True) > trainable
    assert freeze_for_stage(model, 2) == 0
