"""
Does an e1 model use its homologs? Three measurements on a trained repository and one split of its data:

- context effect, per ion: AUPRC with and without homologs, and the non-binding residues scored above 0.5 with and
  without them, over the split and (embedded data, which name their decoys) in the proteins that carry a lookalike
  site of that ion — the case only the homologs decide;
- copying: the MLM head's accuracy on masked query residues (every `mask_every`-th, at a seeded offset) with and
  without homologs, for rare (C, H, W, M) and common residues; a backbone that aligns to its homologs copies them;
- conservation oracle (no model): the motif regex alone and its hits weighted by the share of homologs that also
  match that ion's motifs anywhere, i.e. the signal a model that read conservation could use.

    python -m trainers.e1.diagnostics --model outputs/e1 [--split test] [--output diagnostics.json]
"""

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from datasets_scripts.e1.motifs import motif_scores
from trainers.e1.evaluation import predict_split
from trainers.e1.metrics import ion_metrics

RARE_RESIDUES = "CHWM"


def _ap(labels: np.ndarray, scores: np.ndarray) -> float:
    return ion_metrics(labels, scores, 0.5).get("auprc", float("nan"))


def context_effect(with_context: list, alone: list, labels: list, ions: list, decoy_types=None, threshold: float = 0.5) -> dict:
    """Per ion: AUPRC and non-binding residues above `threshold`, with / without homologs (lists of (L, ions) arrays)."""
    y, p, s = np.concatenate(labels), np.concatenate(with_context), np.concatenate(alone)
    decoys = np.concatenate([[t] * len(l) for t, l in zip(decoy_types, labels)]) if decoy_types is not None else None
    report = {}
    for j, ion in enumerate(ions):
        negative = y[:, j] == 0
        entry = {"auprc_with_context": _ap(y[:, j], p[:, j]), "auprc_alone": _ap(y[:, j], s[:, j]),
                 "false_calls_with_context": int((p[negative, j] > threshold).sum()),
                 "false_calls_alone": int((s[negative, j] > threshold).sum())}
        if decoys is not None:
            lookalike = negative & np.array([f"lookalike:{ion.lower()}" in t for t in decoys])
            entry["lookalike_proteins"] = int(sum(f"lookalike:{ion.lower()}" in t for t in decoy_types))
            entry["false_calls_in_lookalike_proteins_with_context"] = int((p[lookalike, j] > threshold).sum())
            entry["false_calls_in_lookalike_proteins_alone"] = int((s[lookalike, j] > threshold).sum())
        report[ion] = entry
    return report


@torch.no_grad()
def copy_accuracy(mlm_model, tokenizer, queries: list, contexts: list, mask_every: int = 7, seed: int = 0,
                  batch_size: int = 16) -> dict:
    """Masked-residue accuracy of `mlm_model` on `queries` with their `contexts` and alone, rare vs common residues."""
    rng = np.random.default_rng(seed)
    offsets = rng.integers(mask_every, size=len(queries))
    masked = ["".join("?" if i % mask_every == o else c for i, c in enumerate(q)) for q, o in zip(queries, offsets)]
    counts = {name: {"rare": [0, 0], "common": [0, 0]} for name in ("with_context", "alone")}
    for name in counts:
        for start in range(0, len(queries), batch_size):
            chunk = slice(start, start + batch_size)
            context = contexts[chunk] if name == "with_context" else [None] * len(masked[chunk])
            batch = tokenizer.encode_proteins(masked[chunk], context=context)
            predicted = mlm_model(**batch).logits.argmax(-1)
            for row, (query, offset) in enumerate(zip(queries[chunk], offsets[chunk])):
                where = (batch["input_ids"][row] == tokenizer.mask_token_id).nonzero().flatten()
                guesses = tokenizer.convert_ids_to_tokens(predicted[row, where].tolist())
                for guess, truth in zip(guesses, query[offset::mask_every]):
                    kind = "rare" if truth in RARE_RESIDUES else "common"
                    counts[name][kind][0] += guess == truth
                    counts[name][kind][1] += 1
    return {name: {kind: {"accuracy": hits / total if total else float("nan"), "residues": total}
                   for kind, (hits, total) in kinds.items()} for name, kinds in counts.items()}


def conservation_oracle(sequences: list, contexts: list, labels: list, ions: list) -> dict:
    """Per ion: AUPRC of the regex hits, and of the hits weighted by the share of homologs matching the ion's motifs."""
    y = np.concatenate(labels)
    regex, weighted = [], []
    for sequence, homologs in zip(sequences, contexts):
        hits = motif_scores(sequence, ions)
        share = np.mean([motif_scores(h, ions).any(axis=0) for h in homologs], axis=0) if homologs else np.zeros(len(ions))
        regex.append(hits)
        weighted.append(hits * (0.01 + share))  # hits the homologs do not share rank below those they do
    regex, weighted = np.concatenate(regex), np.concatenate(weighted)
    return {ion: {"auprc_regex": _ap(y[:, j], regex[:, j]), "auprc_regex_times_homolog_share": _ap(y[:, j], weighted[:, j])}
            for j, ion in enumerate(ions)}


def diagnose(binder, mlm_model, tokenizer, split, num_context: int) -> dict:
    ions = list(binder.config.ions)
    with_context, labels = predict_split(binder, tokenizer, split, num_context, progress=True)
    alone, _ = predict_split(binder, tokenizer, split, 0, progress=True)
    contexts = [list(h[:num_context]) for h in split["homologs"]] if "homologs" in split.column_names else [[]] * len(split)
    decoy_types = split["decoy_types"] if "decoy_types" in split.column_names else None
    return {
        "proteins": len(split), "num_context": num_context,
        "context_effect": context_effect(with_context, alone, labels, ions, decoy_types),
        "copying": copy_accuracy(mlm_model.eval(), tokenizer, list(split["sequence"]), [c or None for c in contexts]),
        "conservation_oracle": conservation_oracle(list(split["sequence"]), contexts, labels, ions),
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a trained e1 repository")
    parser.add_argument("--data", default=None, help="the model's data if not the embedded families (as `biohf train e1 --data`)")
    parser.add_argument("--train_file", default=None, help="per-ion training files (default: those the model was trained on)")
    parser.add_argument("--test_file", default=None, help="per-ion test files (default: those the model was trained on)")
    parser.add_argument("--msa_dir", default=None, help="folder of <id>.a3m homolog files for real data")
    parser.add_argument("--split", default="test", help="split of the data set (train / validation / test)")
    parser.add_argument("--output", default=None, help="write the report as JSON here")
    args = parser.parse_args(argv)
    import hf_models  # noqa: F401  registers e1 with the Auto classes
    from transformers import AutoModelForMaskedLM, AutoModelForTokenClassification, AutoTokenizer

    from datasets_scripts.e1.builder import build_e1_benchmark, build_e1_dataset

    metrics_file = Path(args.model) / "metrics.json"
    trained_on = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
    binder = AutoModelForTokenClassification.from_pretrained(args.model)
    train_file = args.train_file or (None if args.data else trained_on.get("train_file"))
    msa_dir = args.msa_dir or trained_on.get("msa_dir")
    if train_file:  # a published benchmark: the same carved validation, the test files whole
        splits = build_e1_benchmark(train_file, args.test_file or trained_on.get("test_file"), seed=trained_on.get("dataset_seed", 0),
                                    validation_fraction=trained_on.get("validation_fraction", 0.15), msa_dir=msa_dir,
                                    ions=binder.config.ions)
    else:
        splits = build_e1_dataset(args.data, size=trained_on.get("data_size", "demo"), seed=trained_on.get("dataset_seed", 0),
                                  ions=binder.config.ions, msa_dir=args.msa_dir)
    if args.split not in splits:
        raise SystemExit(f"--split {args.split!r}: the data set has {', '.join(splits)}")
    report = diagnose(binder, AutoModelForMaskedLM.from_pretrained(args.model), AutoTokenizer.from_pretrained(args.model),
                      splits[args.split], trained_on.get("num_context", 3))
    text = json.dumps({"model": args.model, "split": args.split, **report}, indent=2)
    if args.output:
        Path(args.output).write_text(text)
    print(text)
    return report


if __name__ == "__main__":
    main()
