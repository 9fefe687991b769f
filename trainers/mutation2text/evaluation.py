"""Held-out evaluation: greedy generation (KV cache, left-padded batches) and the metrics of each system."""

import torch
from tqdm.auto import tqdm

from datasets_scripts.mutation2text import Mutation2TextDataCollator

from .baseline import NearestNeighbourRetrieval
from .metrics import mutation2text_metrics


@torch.no_grad()
def generate_descriptions(model, processor, split, *, use_protein: bool = True, batch_size: int = 16,
                          max_new_tokens: int = 96, desc: str = "generating") -> list:
    """Greedy descriptions for every row of `split` (the model with or without protein inputs)."""
    was_training = model.training
    model.eval()
    collate = Mutation2TextDataCollator(processor, use_protein=use_protein, with_answers=False)
    texts = []
    for start in tqdm(range(0, len(split), batch_size), desc=desc, leave=False):
        rows = [split[i] for i in range(start, min(start + batch_size, len(split)))]
        batch = {k: v.to(model.device) for k, v in collate(rows).items()}
        out = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                             pad_token_id=processor.pad_token_id, eos_token_id=processor.eos_token_id)
        texts += [t.strip() for t in processor.batch_decode(out[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)]
    model.train(was_training)
    return texts


def evaluate_systems(split, train_split, *, model=None, processor=None, text_only_model=None,
                     batch_size: int = 16, max_new_tokens: int = 96) -> dict:
    """{"model", "baseline" (text-only LLM), "retrieval"}: metrics and predictions of each system given."""
    references, mutations, effects = list(split["answer"]), list(split["mutation"]), list(split["effect"])
    report, predictions = {}, {}
    if model is not None:
        predictions["model"] = generate_descriptions(model, processor, split, batch_size=batch_size,
                                                     max_new_tokens=max_new_tokens, desc="mutation2text")
    if text_only_model is not None:
        predictions["baseline"] = generate_descriptions(text_only_model, processor, split, use_protein=False,
                                                        batch_size=batch_size, max_new_tokens=max_new_tokens,
                                                        desc="text-only baseline")
    retrieval = NearestNeighbourRetrieval(train_split)
    predictions["retrieval"] = [retrieval.predict(w, m) for w, m in zip(split["wild_type"], mutations)]
    for name, texts in predictions.items():
        report[name] = mutation2text_metrics(texts, references, mutations, effects)
    report["predictions"] = predictions
    return report
