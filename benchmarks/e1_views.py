"""
E1ForContrastiveBinding training step, three ways on the same batch (every view of a protein with the same homologs,
as with `resample_context_per_view=False`), same weights, same loss:
  per_view_loop   the seed's loop, one backbone forward per view (`batch_views=False`);
  one_forward     all views in ONE backbone forward over B x V full rows (`share_view_context=False`);
  shared_context  one forward in which each protein's homologs are encoded once and every view's query attends to
                  their cached keys/values (`share_view_context=True`, the default).

Measured: median wall and CPU time of forward + backward (interleaved repeats after warm-up, both in one process),
and the peak resident memory one step adds (each in a fresh process, `benchmarks.common.peak_rss_increase_mib`).

    python -m benchmarks.e1_views             # demo preset, 8 proteins x 4 views, 3 homologs per view
    python -m benchmarks.e1_views --context 8 # more homologs: the shared context saves more
    python -m benchmarks.e1_views --quick     # tiny, for the smoke test
"""
import argparse
import os
import sys

import torch

from benchmarks.common import (benchmark_parser, environment, interleaved_medians, parse_flags,
                               peak_rss_in_subprocess, print_peak_rss, report, torch_threads)
from datasets_scripts.e1 import E1ContrastiveCollator, generate_proteins
from hf_models.presets import preset_config
from modeling.e1.modeling_e1 import E1ForContrastiveBinding
from modeling.e1.tokenization_e1 import E1Tokenizer

MODES = {
    "shared_context": {"batch_views": True, "share_view_context": True},
    "one_forward": {"batch_views": True, "share_view_context": False},
    "per_view_loop": {"batch_views": False},
}


def build_step(args, mode: dict):
    torch.manual_seed(0)
    config = preset_config("e1", args.preset, max_contrastive_residues=100_000)
    model = E1ForContrastiveBinding(config).train()
    model.prototypes.copy_(torch.nn.functional.normalize(torch.randn(len(config.ions), config.hidden_size), dim=-1))
    for key, value in mode.items():
        setattr(model.config, key, value)
    rows = generate_proteins(args.data_size, seed=0)[: args.batch_size]
    batch = E1ContrastiveCollator(E1Tokenizer(), config.ions, num_variants=args.views, num_context=args.context,
                                  resample_context_per_view=False, seed=0)(rows)

    def step():
        model.zero_grad(set_to_none=True)
        out = model(**batch)
        out.loss.backward()
        return out.loss.detach()

    return step, batch


def measure_memory_in_subprocess(mode: str, args) -> float:
    return peak_rss_in_subprocess("benchmarks.e1_views", [
        "--measure_memory", mode, "--preset", args.preset, "--data_size", args.data_size, "--batch_size", args.batch_size,
        "--views", args.views, "--context", args.context])


def run(args) -> dict:
    load_at_start = os.getloadavg()[0]
    steps, losses, batch = {}, {}, None
    for name, mode in MODES.items():
        steps[name], batch = build_step(args, mode)
        losses[name] = float(steps[name]())
    times, cpu = interleaved_medians(steps, args.warmup, args.repeats)
    memory = {mode: measure_memory_in_subprocess(mode, args) for mode in MODES}
    tokens = int(batch["attention_mask"].sum())
    loop = times["per_view_loop"]
    row = {
        "preset": args.preset, "proteins": args.batch_size, "views": args.views, "homologs_per_view": args.context,
        "tokens": tokens, "padded_length": int(batch["input_ids"].shape[-1]),
        **{f"{name}_ms": 1e3 * times[name] for name in MODES},
        **{f"{name}_speedup": loop / times[name] for name in MODES if name != "per_view_loop"},
        **{f"{name}_cpu_speedup": cpu["per_view_loop"] / cpu[name] for name in MODES if name != "per_view_loop"},
        **{f"{name}_tokens_per_s": tokens / times[name] for name in MODES},
        **{f"{name}_peak_mib": memory[name] for name in MODES},
        "max_loss_abs_diff": max(abs(losses[name] - losses["per_view_loop"]) for name in MODES),
    }
    return {
        "benchmark": "e1_views",
        "what": "E1ForContrastiveBinding training step (forward + backward, all four losses), CPU float32",
        "setup": {"preset": args.preset, "data": f"embedded generator ({args.data_size})", "warmup": args.warmup, "repeats": args.repeats},
        "method": {"time": "median wall / process CPU time of one step, the three modes interleaved in one process",
                   "memory": "peak RSS increase of one step, each mode in a fresh process (MALLOC_MMAP_THRESHOLD_ set)"},
        "environment": environment(load_at_start),
        "results": [row],
    }


def parse_args(argv=None):
    parser = benchmark_parser(__doc__, "e1_views", warmup=2, repeats=7, threads=1)
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--data_size", default="demo")
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--views", type=int, default=4)
    parser.add_argument("--context", type=int, default=3)
    parser.add_argument("--measure_memory", choices=list(MODES), help=argparse.SUPPRESS)
    return parse_flags(parser, argv, quick=dict(preset="tiny", data_size="tiny", batch_size=2, views=2, context=1,
                                                warmup=0, repeats=1))


def main(argv=None) -> dict:
    args = parse_args(argv)
    with torch_threads(args.threads):
        if args.measure_memory:
            step, _ = build_step(args, MODES[args.measure_memory])
            print_peak_rss(step)
            return {}
        results = run(args)
    return report(results, args.output, {
        "views": "views", "homologs_per_view": "homologs", "tokens": "tokens", "per_view_loop_ms": "per-view loop (ms)",
        "one_forward_ms": "one forward (ms)", "shared_context_ms": "shared context (ms)",
        "one_forward_speedup": "one forward speed-up", "shared_context_speedup": "shared context speed-up",
        "per_view_loop_peak_mib": "loop peak (MiB)", "one_forward_peak_mib": "one forward peak (MiB)",
        "shared_context_peak_mib": "shared context peak (MiB)",
    })


if __name__ == "__main__":
    main(sys.argv[1:])
