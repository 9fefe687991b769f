"""
Per-residue embeddings of the frozen protein encoder, computed once per split with `datasets.map` and stored next to
the training state (`<checkpoints>/embeddings/<split>-<fingerprint>`), so training reads the cache and never runs the
encoder again. The fingerprint covers the encoder's weights, the selected layer and the split's content: another
encoder or other data never reuses a stale cache.

Embeddings from another environment (ESM3 / ESM C, whose SDK pins an old transformers) go in the same columns:
`wild_type_embeds` / `mutant_embeds`, one vector per token of `<cls> residues <eos>`: compute them there, save the
DatasetDict (train / validation / test with the data columns + these two) with `save_to_disk` and pass the folder as
--data; the model then needs `protein_config.hidden_size` equal to their width (e.g. `protein_encoder=False`).
"""

import hashlib
import logging
import os
import shutil
from pathlib import Path

import torch
from datasets import load_from_disk

from modeling.mutation2text.modeling_mutation2text import select_protein_states
from modeling.mutation2text.processing_mutation2text import PROTEIN_PAD_ID

logger = logging.getLogger("biohf.mutation2text")
EMBEDDING_COLUMNS = ("wild_type_embeds", "mutant_embeds")


def encoder_fingerprint(model) -> str:
    digest = hashlib.sha256(str(model.config.mm_protein_select_layer).encode())
    for name, tensor in sorted(model.model.protein_encoder.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()[:16]


class _Embedder:
    """The batch function of `datasets.map`: holds only the encoder (not the whole model, which map would carry)."""

    def __init__(self, encoder, layer: int, processor):
        self.encoder, self.layer, self.processor = encoder, layer, processor

    @torch.no_grad()
    def __call__(self, batch: dict) -> dict:
        out = {}
        for column, source in (("wild_type_embeds", "wild_type"), ("mutant_embeds", "mutant")):
            ids = [self.processor.encode_protein(sequence) for sequence in batch[source]]
            length = max(map(len, ids))
            padded = torch.tensor([row + [PROTEIN_PAD_ID] * (length - len(row)) for row in ids])
            mask = (torch.arange(length)[None, :] < torch.tensor([len(row) for row in ids])[:, None]).long()
            states = select_protein_states(self.encoder, self.layer, padded, mask).float()
            out[column] = [states[i, : len(row)].numpy() for i, row in enumerate(ids)]
        return out


def cache_embeddings(dataset, model, processor, cache_dir, split: str):
    """`dataset` with the two embedding columns, from the cache in `cache_dir` or computed (and cached) now."""
    if model.model.protein_encoder is None:
        raise ValueError("the model has no protein encoder: supply precomputed wild_type_embeds / mutant_embeds")
    fingerprint = hashlib.sha256(f"{encoder_fingerprint(model)}-{dataset._fingerprint}".encode()).hexdigest()[:16]
    path = Path(cache_dir) / f"{split}-{fingerprint}"
    if (path / "dataset_info.json").is_file():
        logger.info("protein embeddings of %s: cache %s", split, path)
        return load_from_disk(str(path))
    encoder = model.model.protein_encoder
    was_training = encoder.training
    encoder.eval()
    embedded = dataset.map(_Embedder(encoder, model.config.mm_protein_select_layer, processor), batched=True,
                           batch_size=32, desc=f"protein embeddings ({split})", new_fingerprint=fingerprint)
    encoder.train(was_training)
    # written aside, then renamed: a reader (another DDP rank) sees no cache or a complete one, never a partial file
    staging = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    embedded.save_to_disk(str(staging))
    try:
        staging.rename(path)
        logger.info("protein embeddings of %s cached in %s", split, path)
    except OSError:  # another process finished the same cache first: keep theirs
        shutil.rmtree(staging)
    return load_from_disk(str(path))
