"""The collator: protein ids, cached embeddings, and the text-only (baseline) form."""

import torch

from datasets_scripts.mutation2text import Mutation2TextDataCollator, build_mutation2text_dataset
from modeling.mutation2text.processing_mutation2text import Mutation2TextProcessor


def test_collator_forms():
    rows = [build_mutation2text_dataset(size="tiny")["train"][i] for i in range(3)]
    processor = Mutation2TextProcessor(num_media_tokens=4)
    with_ids = Mutation2TextDataCollator(processor)(rows)
    assert {"input_ids", "labels", "wild_type_input_ids", "mutant_input_ids", "protein_attention_mask"} <= set(with_ids)
    for i, row in enumerate(rows):
        answer = with_ids["labels"][i][with_ids["labels"][i] != -100]
        assert processor.decode(answer) == row["answer"] + "<|im_end|>"

    cached_rows = [dict(row, wild_type_embeds=torch.randn(len(row["wild_type"]) + 2, 8).tolist(),
                        mutant_embeds=torch.randn(len(row["wild_type"]) + 2, 8).tolist()) for row in rows]
    cached = Mutation2TextDataCollator(processor)(cached_rows)
    assert "wild_type_input_ids" not in cached and cached["wild_type_embeds"].shape[-1] == 8
    assert cached["protein_attention_mask"].sum(1).tolist() == [len(r["wild_type"]) + 2 for r in rows]
    assert torch.equal(cached["input_ids"], with_ids["input_ids"])
    torch.testing.assert_close(cached["mutant_embeds"][0, : len(rows[0]["wild_type"]) + 2],
                               torch.tensor(cached_rows[0]["mutant_embeds"]))

    text_only = Mutation2TextDataCollator(processor, use_protein=False)(rows)
    assert set(text_only) == {"input_ids", "attention_mask", "labels"}
    assert not (text_only["input_ids"] == processor.delta_token_id).any()
    assert torch.equal(text_only["labels"][text_only["labels"] != -100], with_ids["labels"][with_ids["labels"] != -100])
