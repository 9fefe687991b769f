"""
`MirLMTokenizer.encode_pairs` (vectorised: one byte lookup table over the whole batch) against two per-character
paths that produce the same tensors:

- python_loop: the obvious baseline, a dict lookup per character, [MRNA_CLS] in front, padding with [PAD],
  masks, then tensors;
- tokenizer_loop: the tokenizer's own per-character path, `tok.tokenize` + `tok.convert_tokens_to_ids`, padded
  the same way.

Input: 10,000 (mRNA, miRNA) pairs, mRNA 280-320 nt (DNA alphabet), miRNA 22 nt (RNA alphabet, U), padding to the
longest. `encode_pairs` is timed returning torch tensors (what the collator feeds the model) and numpy arrays;
all outputs are checked to be equal before timing.

    python -m benchmarks.mirlm_tokenizer           # 10,000 pairs
    python -m benchmarks.mirlm_tokenizer --quick   # 200 pairs, for the smoke test
"""
import os
import random

import torch

from benchmarks.common import benchmark_parser, environment, interleaved_medians, parse_flags, run_and_report
from modeling.mirlm.tokenization_mirlm import CHAR_TO_BASE, VOCAB, MirLMTokenizer


def make_pairs(count: int, seed: int = 0) -> tuple:
    rng = random.Random(seed)
    mrnas = ["".join(rng.choices("ACGT", k=rng.randint(280, 320))) for _ in range(count)]
    mirnas = ["".join(rng.choices("ACGU", k=22)) for _ in range(count)]
    return mrnas, mirnas


def _pad_rows(rows: list, pad_id: int) -> dict:
    width = max(map(len, rows))
    ids = [row + [pad_id] * (width - len(row)) for row in rows]
    mask = [[1] * len(row) + [0] * (width - len(row)) for row in rows]
    return torch.tensor(ids), torch.tensor(mask)


def _assemble(mrna_rows: list, mirna_rows: list, pad_id: int) -> dict:
    input_ids, attention_mask = _pad_rows(mrna_rows, pad_id)
    mirna_input_ids, mirna_attention_mask = _pad_rows(mirna_rows, pad_id)
    global_attention_mask = torch.zeros_like(attention_mask)
    global_attention_mask[:, 0] = 1
    return {
        "input_ids": input_ids, "attention_mask": attention_mask, "global_attention_mask": global_attention_mask,
        "mirna_input_ids": mirna_input_ids, "mirna_attention_mask": mirna_attention_mask,
    }


# Character -> id, the same table the tokenizer is built from (upper/lower case, U, IUPAC codes).
CHAR_TO_ID = {char: VOCAB[base] for char, base in CHAR_TO_BASE.items()}


def python_loop(mrnas: list, mirnas: list, cls_id: int, pad_id: int) -> dict:
    """
    One dict lookup per character; an unknown character is an error, as in the tokenizer. A contender timed against
    the tokenizer, not a second implementation of it (hence its likeness to `MirLMTokenizer.normalize`).
    """

    def encode(seq: str) -> list:
        ids = []
        for position, char in enumerate(seq):
            token = CHAR_TO_ID.get(char)
            if token is None:
                raise ValueError(f"invalid character {char!r} at position {position}")
            ids.append(token)
        return ids

    return _assemble([[cls_id] + encode(s) for s in mrnas], [encode(s) for s in mirnas], pad_id)


def tokenizer_loop(tok: MirLMTokenizer, mrnas: list, mirnas: list) -> dict:
    """The tokenizer's per-character path."""
    mrna_rows = [[tok.mrna_cls_token_id] + tok.convert_tokens_to_ids(tok.tokenize(s)) for s in mrnas]
    mirna_rows = [tok.convert_tokens_to_ids(tok.tokenize(s)) for s in mirnas]
    return _assemble(mrna_rows, mirna_rows, tok.pad_token_id)


def run(args) -> dict:
    load_at_start = os.getloadavg()[0]
    tok = MirLMTokenizer()
    mrnas, mirnas = make_pairs(args.pairs)
    paths = {
        "encode_pairs": lambda: dict(tok.encode_pairs(mrnas, mirnas, padding="longest", return_tensors="pt")),
        "encode_pairs_np": lambda: dict(tok.encode_pairs(mrnas, mirnas, padding="longest", return_tensors="np")),
        "python_loop": lambda: python_loop(mrnas, mirnas, tok.mrna_cls_token_id, tok.pad_token_id),
        "tokenizer_loop": lambda: tokenizer_loop(tok, mrnas, mirnas),
    }
    reference = paths["encode_pairs"]()
    for name, path in paths.items():
        output = {k: torch.as_tensor(v) for k, v in path().items()}
        if output.keys() != reference.keys() or not all(torch.equal(output[k], reference[k]) for k in output):
            raise AssertionError(f"{name} does not produce the same ids and masks as encode_pairs")
    times, _ = interleaved_medians(paths, args.warmup, args.repeats)
    row = {"pairs": args.pairs, **{f"{name}_ms": 1e3 * seconds for name, seconds in times.items()}}
    for name in ("encode_pairs", "encode_pairs_np"):
        for baseline in ("python_loop", "tokenizer_loop"):
            row[f"{name.replace('encode_pairs', 'speedup')}_vs_{baseline}"] = times[baseline] / times[name]
    row["encode_pairs_pairs_per_s"] = args.pairs / times["encode_pairs"]
    return {
        "benchmark": "mirlm_tokenizer",
        "what": "batch encoding of (mRNA, miRNA) pairs into mirLM's model inputs, padding to the longest; "
                "encode_pairs returns torch tensors (what the collator uses), encode_pairs_np numpy arrays",
        "setup": {
            "pairs": args.pairs, "mrna_nt": "280-320 (uniform)", "mirna_nt": 22, "padding": "longest",
            "warmup": args.warmup, "repeats": args.repeats,
        },
        "method": "median wall time, all paths interleaved in one process; outputs checked equal first; "
                  "speedup = baseline time / encode_pairs time (speedup_np_*: against encode_pairs_np)",
        "goal": "speedup_vs_python_loop >= 20",
        "environment": environment(load_at_start),
        "results": [row],
    }


TABLE_COLUMNS = {
    "pairs": "pairs", "encode_pairs_ms": "encode_pairs (pt) ms", "encode_pairs_np_ms": "encode_pairs (np) ms",
    "python_loop_ms": "Python loop ms", "tokenizer_loop_ms": "tokenize+convert ms",
    "speedup_vs_python_loop": "speed-up vs Python loop (pt)", "speedup_np_vs_python_loop": "(np)",
    "speedup_vs_tokenizer_loop": "speed-up vs tokenize+convert (pt)", "speedup_np_vs_tokenizer_loop": "(np)",
}


def parse_args(argv=None):
    parser = benchmark_parser(__doc__, "mirlm_tokenizer", warmup=1, repeats=5)
    parser.add_argument("--pairs", type=int, default=10_000)
    return parse_flags(parser, argv, quick=dict(pairs=200, warmup=0, repeats=1))


def main(argv=None) -> dict:
    return run_and_report(run, parse_args(argv), TABLE_COLUMNS)


if __name__ == "__main__":
    main()
