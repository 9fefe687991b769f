"""
Sliding-window self-attention: mirLM's block-wise SDPA (`MirLMSlidingWindowAttention`) against transformers'
`LongformerSelfAttention`, with the same weights, window and one global token ([MRNA_CLS] at position 0).

Measured per sequence length: forward + backward wall time (median over interleaved repeats after warm-up,
both implementations in the same process) and the peak resident memory one forward + backward adds (each
measurement in a fresh process, see `benchmarks.common.peak_rss_increase_mib`). Longformer needs its input
padded to a multiple of the window (as `LongformerModel` does once per forward); the padding is done before
timing and the padded length is reported.

    python -m benchmarks.mirlm_attention            # L = 520, 2048, 8192; hidden 256, 8 heads, window 40, batch 1
    python -m benchmarks.mirlm_attention --quick    # toy size, for the smoke test
"""
import argparse
import os
import sys

import torch
import torch.nn.functional as F
from transformers import LongformerConfig
from transformers.models.longformer.modeling_longformer import LongformerSelfAttention

from benchmarks.common import (benchmark_parser, environment, interleaved_medians, parse_flags,
                               peak_rss_in_subprocess, print_peak_rss, report, torch_threads)
from modeling.mirlm.configuration_mirlm import MirLMConfig
from modeling.mirlm.modeling_mirlm import MirLMSlidingWindowAttention

IMPLEMENTATIONS = ("ours", "longformer")


def build_step(impl: str, length: int, hidden: int, heads: int, window: int, batch: int, seed: int = 0):
    """A closure running one forward + backward of `impl` on fixed random inputs, and the forward alone (no grad)."""
    torch.manual_seed(seed)
    ours = MirLMSlidingWindowAttention(
        MirLMConfig(hidden_size=hidden, num_attention_heads=heads, attention_window=window, attention_probs_dropout_prob=0.0)
    )
    x = torch.randn(batch, length, hidden)
    upstream = torch.randn(batch, length, hidden)
    attention_mask = torch.ones(batch, length, dtype=torch.bool)
    global_mask = torch.zeros(batch, length, dtype=torch.bool)
    global_mask[:, 0] = True

    if impl == "ours":
        module = ours.train()

        def forward(inputs):
            return module(inputs, attention_mask, global_mask)

    elif impl == "longformer":
        config = LongformerConfig(
            hidden_size=hidden, num_attention_heads=heads, attention_window=[window], attention_probs_dropout_prob=0.0
        )
        module = LongformerSelfAttention(config, layer_id=0).train()
        module.load_state_dict(ours.state_dict())
        pad = (window - length % window) % window
        x = F.pad(x, (0, 0, 0, pad))
        upstream = F.pad(upstream, (0, 0, 0, pad))
        mask = torch.zeros(batch, length + pad)  # LongformerModel's convention: -10000 pad, 0 local, +10000 global
        mask[:, length:] = -10000.0
        mask[:, 0] = 10000.0
        masked, is_global = mask < 0, mask > 0

        def forward(inputs):
            return module(inputs, attention_mask=mask, is_index_masked=masked, is_index_global_attn=is_global, is_global_attn=True)[0]

    else:
        raise ValueError(f"unknown implementation {impl!r}; choose from {IMPLEMENTATIONS}")
    x.requires_grad_(True)

    def step():
        module.zero_grad(set_to_none=True)
        x.grad = None
        (forward(x) * upstream).sum().backward()

    def output():
        with torch.no_grad():
            return forward(x)[:, :length]

    return step, output, x.shape[1]


def measure_memory_in_subprocess(impl: str, length: int, args) -> float:
    """Peak RSS increase (MiB) of one forward + backward, measured in a fresh Python process."""
    return peak_rss_in_subprocess("benchmarks.mirlm_attention", [
        "--measure_memory", impl, "--lengths", length, "--hidden", args.hidden, "--heads", args.heads,
        "--window", args.window, "--batch_size", args.batch_size])


def run(args) -> dict:
    load_at_start = os.getloadavg()[0]
    rows = []
    for length in args.lengths:
        sizes = (length, args.hidden, args.heads, args.window, args.batch_size)
        ours_step, ours_output, _ = build_step("ours", *sizes)
        longformer_step, longformer_output, padded = build_step("longformer", *sizes)
        max_abs_diff = float((ours_output() - longformer_output()).abs().max())
        times, cpu = interleaved_medians({"ours": ours_step, "longformer": longformer_step}, args.warmup, args.repeats)
        memory = {impl: measure_memory_in_subprocess(impl, length, args) for impl in IMPLEMENTATIONS}
        rows.append({
            "length": length,
            "longformer_padded_length": padded,
            "ours_ms": 1e3 * times["ours"],
            "longformer_ms": 1e3 * times["longformer"],
            "time_ratio": times["longformer"] / times["ours"],
            "ours_cpu_ms": 1e3 * cpu["ours"],
            "longformer_cpu_ms": 1e3 * cpu["longformer"],
            "cpu_time_ratio": cpu["longformer"] / cpu["ours"],
            "ours_peak_mib": memory["ours"],
            "longformer_peak_mib": memory["longformer"],
            "memory_ratio": memory["longformer"] / memory["ours"] if memory["ours"] > 0 else None,
            "max_abs_diff": max_abs_diff,
        })
        print(f"L={length}: ours {rows[-1]['ours_ms']:.1f} ms, longformer {rows[-1]['longformer_ms']:.1f} ms", file=sys.stderr)
    return {
        "benchmark": "mirlm_attention",
        "what": "one sliding-window self-attention layer (with 1 global token), forward + backward, CPU float32",
        "setup": {
            "hidden_size": args.hidden, "num_attention_heads": args.heads, "attention_window": args.window,
            "batch_size": args.batch_size, "global_tokens": 1, "warmup": args.warmup, "repeats": args.repeats,
        },
        "method": {
            "time": "median wall time (and median process CPU time, *_cpu_ms) of forward + backward "
                    "(sum(output * fixed random grad).backward()), after warm-up, ours and longformer interleaved "
                    "in one process",
            "memory": "peak RSS increase of one forward + backward (VmHWM reset via /proc/self/clear_refs), "
                      "fresh process per measurement, MALLOC_MMAP_THRESHOLD_=65536",
            "ratios": "time_ratio = longformer_ms / ours_ms, cpu_time_ratio likewise with CPU times, "
                      "memory_ratio = longformer_peak_mib / ours_peak_mib (> 1: ours is faster / smaller; "
                      "null when a toy-size peak is below what RSS resolves)",
        },
        "environment": environment(load_at_start),
        "results": rows,
    }


TABLE_COLUMNS = {
    "length": "L", "longformer_padded_length": "L (Longformer, padded)", "ours_ms": "ours fwd+bwd ms",
    "longformer_ms": "Longformer fwd+bwd ms", "time_ratio": "time ratio", "cpu_time_ratio": "CPU-time ratio",
    "ours_peak_mib": "ours peak MiB",
    "longformer_peak_mib": "Longformer peak MiB", "memory_ratio": "memory ratio",
}


def parse_args(argv=None):
    parser = benchmark_parser(__doc__, "mirlm_attention", warmup=2, repeats=7)
    parser.add_argument("--lengths", type=int, nargs="+", default=[520, 2048, 8192])
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--window", type=int, default=40, help="full window 2w")
    parser.add_argument("--batch_size", type=int, default=1)
    parser.add_argument("--measure_memory", choices=IMPLEMENTATIONS, help=argparse.SUPPRESS)
    return parse_flags(parser, argv, quick=dict(lengths=[1000], hidden=64, heads=2, window=16, warmup=1, repeats=2))


def main(argv=None) -> dict:
    args = parse_args(argv)
    with torch_threads(args.threads):
        if args.measure_memory:  # child process of measure_memory_in_subprocess
            step, _, _ = build_step(args.measure_memory, args.lengths[0], args.hidden, args.heads, args.window, args.batch_size)
            print_peak_rss(step)
            return {}
        results = run(args)
    return report(results, args.output, TABLE_COLUMNS)


if __name__ == "__main__":
    main()
