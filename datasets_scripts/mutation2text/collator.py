"""
`Mutation2TextDataCollator`: dataset rows -> model inputs through `Mutation2TextProcessor.encode_mutations`.

Rows carry the raw strings (wild_type, mutation, question, answer). With `use_protein=False` the protein is left
out entirely (the text-only baseline: no placeholder, no protein ids). Rows holding cached per-residue embeddings
(`wild_type_embeds`, `mutant_embeds`: lists of vectors, see `trainers/mutation2text/embeddings.py`) are padded into
tensors and the protein ids are not built, so the frozen encoder is not run again.
"""

import torch


class Mutation2TextDataCollator:
    # Attributes and the empty-batch check every collator has: alike in shape to the other families' collators.
    def __init__(self, processor, use_protein: bool = True, with_answers: bool = True):
        self.processor = processor
        self.use_protein = use_protein
        self.with_answers = with_answers

    def __call__(self, rows: list) -> dict:
        if not rows:
            raise ValueError("cannot collate an empty batch")
        answers = [row["answer"] for row in rows] if self.with_answers else None
        questions = [row.get("question") or None for row in rows]
        if not self.use_protein:
            return dict(self.processor.encode_mutations([row["wild_type"] for row in rows],
                                                        mutation=[row["mutation"] for row in rows], question=questions,
                                                        answer=answers, include_protein=False))
        cached = "wild_type_embeds" in rows[0]
        batch = dict(self.processor.encode_mutations([row["wild_type"] for row in rows],
                                                     mutation=[row["mutation"] for row in rows], question=questions,
                                                     answer=answers, with_protein_ids=not cached))
        if cached:
            length = max(len(row["wild_type_embeds"]) for row in rows)
            width = len(rows[0]["wild_type_embeds"][0])
            mask = torch.zeros(len(rows), length, dtype=torch.long)
            for name in ("wild_type_embeds", "mutant_embeds"):
                padded = torch.zeros(len(rows), length, width)
                for i, row in enumerate(rows):
                    values = torch.as_tensor(row[name], dtype=torch.float32)
                    padded[i, : len(values)] = values
                    mask[i, : len(values)] = 1
                batch[name] = padded
            batch["protein_attention_mask"] = mask
        return batch
