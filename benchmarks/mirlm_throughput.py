"""
Training and inference throughput of `MirLMForTargetPrediction` on CPU: mRNA tokens per second of a forward +
backward step (train mode, loss with bag + span terms) and of a forward pass (eval mode, no grad).

Configurations are the presets of `hf_models.presets` (one source of truth):
- demo: the `demo` preset (what `make demo` trains); batch 32 x 300 nt;
- base: the seed design (hidden 1024, 8 heads, 4 layers, feed-forward 4096, window 40); batch 4 x 300 nt
  (a reference for what the full-size model costs on a CPU; off with `--configs demo`);
- tiny: the `tiny` preset, for the smoke test.

Every pair is 300 nt of mRNA + [MRNA_CLS] (301 tokens, padded to 304 as the collator does with
pad_to_multiple_of=8) and a 22-nt miRNA; half the pairs are positives with a site. Tokens counted: real mRNA
tokens (301 per pair). torch threads: 2 unless `--threads` says otherwise.

    python -m benchmarks.mirlm_throughput
    python -m benchmarks.mirlm_throughput --quick   # toy size, for the smoke test
"""
import os
import random
import sys

import torch

from benchmarks.common import benchmark_parser, environment, parse_flags, run_and_report, train_and_inference_medians
from hf_models.presets import PRESETS, preset_config
from modeling.mirlm.modeling_mirlm import MirLMForTargetPrediction
from modeling.mirlm.tokenization_mirlm import MirLMTokenizer

CONFIGS = PRESETS["mirlm"]
BATCH_SIZES = {"demo": 32, "base": 4, "tiny": 4}


def make_batch(batch_size: int, mrna_nt: int, seed: int = 0) -> dict:
    rng = random.Random(seed)
    mrnas = ["".join(rng.choices("ACGT", k=mrna_nt)) for _ in range(batch_size)]
    mirnas = ["".join(rng.choices("ACGU", k=22)) for _ in range(batch_size)]
    starts = [rng.randrange(mrna_nt - 8) if i % 2 == 0 else -1 for i in range(batch_size)]
    ends = [s + 7 if s >= 0 else -1 for s in starts]
    batch = dict(MirLMTokenizer().encode_pairs(
        mrnas, mirnas, site_start=starts, site_end=ends, padding="longest", pad_to_multiple_of=8
    ))
    batch["labels"] = torch.tensor([float(s >= 0) for s in starts])
    return batch


def measure(name: str, batch_size: int, mrna_nt: int, warmup: int, repeats: int) -> dict:
    torch.manual_seed(0)
    config = preset_config("mirlm", name)
    model = MirLMForTargetPrediction(config)
    batch = make_batch(batch_size, mrna_nt)
    times, cpu = train_and_inference_medians(model, batch, warmup, repeats)
    tokens = int(batch["attention_mask"].sum())
    return {
        "config": name,
        "parameters_m": sum(p.numel() for p in model.parameters()) / 1e6,
        "batch": f"{batch_size} x {mrna_nt} nt",
        "padded_length": batch["input_ids"].shape[1],
        "train_step_ms": 1e3 * times["train"],
        "train_tokens_per_s": tokens / times["train"],
        "train_pairs_per_s": batch_size / times["train"],
        "inference_ms": 1e3 * times["inference"],
        "inference_tokens_per_s": tokens / times["inference"],
        "inference_pairs_per_s": batch_size / times["inference"],
        "train_step_cpu_ms": 1e3 * cpu["train"],
        "inference_cpu_ms": 1e3 * cpu["inference"],
        "architecture": {k: getattr(config, k) for k in (*CONFIGS[name], "attention_window", "hidden_dropout_prob")},
    }


def run(args) -> dict:
    load_at_start = os.getloadavg()[0]
    rows = []
    for name in args.configs:
        rows.append(measure(name, args.batch_size or BATCH_SIZES[name], args.mrna_nt, args.warmup, args.repeats))
        print(f"{name}: {rows[-1]['train_tokens_per_s']:.0f} train tokens/s", file=sys.stderr)
    return {
        "benchmark": "mirlm_throughput",
        "what": "MirLMForTargetPrediction forward + backward (train mode, dropout as configured, loss = bag + span) "
                "and forward alone (eval, no grad), CPU float32; optimizer step not included",
        "setup": {"mrna_nt": args.mrna_nt, "mirna_nt": 22, "warmup": args.warmup, "repeats": args.repeats},
        "method": "median wall time, train step and inference interleaved; tokens = real mRNA tokens incl. [MRNA_CLS]",
        "environment": environment(load_at_start),
        "results": rows,
    }


TABLE_COLUMNS = {
    "config": "config", "parameters_m": "params (M)", "batch": "batch", "train_step_ms": "fwd+bwd ms",
    "train_step_cpu_ms": "fwd+bwd CPU ms",
    "train_tokens_per_s": "train tokens/s", "train_pairs_per_s": "train pairs/s",
    "inference_tokens_per_s": "inference tokens/s", "inference_pairs_per_s": "inference pairs/s",
}


def parse_args(argv=None):
    parser = benchmark_parser(__doc__, "mirlm_throughput", warmup=2, repeats=5, threads=2)
    parser.add_argument("--configs", nargs="+", choices=sorted(CONFIGS), default=["demo", "base"])
    parser.add_argument("--batch_size", type=int, default=None, help="overrides the per-config batch size")
    parser.add_argument("--mrna_nt", type=int, default=300)
    return parse_flags(parser, argv, quick=dict(configs=["tiny"], mrna_nt=60, warmup=0, repeats=1))


def main(argv=None) -> dict:
    return run_and_report(run, parse_args(argv), TABLE_COLUMNS)


if __name__ == "__main__":
    main()
