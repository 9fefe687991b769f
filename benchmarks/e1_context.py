"""
Cost of homolog context in E1: one query protein with 1 to 64 homologs in its row. Every layer attends over the whole
row (within-sequence layers through a block-diagonal mask, global layers block-causally), so attention grows with the
square of the row length while the feed-forward grows linearly.

Measured per context size: median wall / CPU time of an inference forward and of a forward + backward of
E1ForContrastiveBinding (interleaved repeats), with `--checkpointing` also with gradient checkpointing, and the peak
resident memory one forward + backward (and, with `--checkpointing`, one checkpointed step and one inference
forward) adds (fresh process).

    python -m benchmarks.e1_context             # demo preset, query and homologs of 80 residues, 1 4 16 64 homologs
    python -m benchmarks.e1_context --preset lmetalsite --length 1000 --homologs 0 4 16 --warmup 0 --repeats 1 \
        --checkpointing --output benchmarks/results/e1_context_1000.json   # real sizes: a 1,000-residue query
    python -m benchmarks.e1_context --quick     # tiny, for the smoke test
"""
import argparse
import os
import sys

import numpy as np
import torch

from benchmarks.common import (benchmark_parser, environment, interleaved_medians, parse_flags,
                               peak_rss_in_subprocess, print_peak_rss, report, torch_threads)
from datasets_scripts.e1.motifs import random_residues
from hf_models.presets import preset_config
from modeling.e1.modeling_e1 import E1ForContrastiveBinding
from modeling.e1.tokenization_e1 import E1Tokenizer



def build_steps(args, homologs: int, checkpointing: bool = False):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    # room for every homolog + the query in the sequence-id embedding (the demo preset has 64 rows)
    config = preset_config("e1", args.preset, max_num_sequences=max(512, max(args.homologs) + 1))
    model = E1ForContrastiveBinding(config).train()
    if checkpointing:
        model.gradient_checkpointing_enable()
    query = random_residues(rng, args.length)
    context = [random_residues(rng, args.length) for _ in range(homologs)]
    batch = dict(E1Tokenizer().encode_proteins(query, context=context))

    def train_step():
        model.zero_grad(set_to_none=True)
        model(**batch).binding_logits.square().mean().backward()

    def inference():
        with torch.no_grad():
            model(**batch)

    return train_step, inference, int(batch["input_ids"].shape[1])


def memory_in_subprocess(args, homologs: int, what: str = "train") -> float:
    return peak_rss_in_subprocess("benchmarks.e1_context", ["--measure_memory", homologs, "--preset", args.preset,
                                                            "--length", args.length, "--memory_of", what])


def run(args) -> dict:
    load_at_start = os.getloadavg()[0]
    steps, tokens = {}, {}
    for n in args.homologs:
        train, infer, tokens[n] = build_steps(args, n)
        steps[f"train_{n}"], steps[f"infer_{n}"] = train, infer
        if args.checkpointing:
            steps[f"ckpt_{n}"] = build_steps(args, n, checkpointing=True)[0]
    times, cpu = interleaved_medians(steps, args.warmup, args.repeats)
    rows = []
    base = args.homologs[0]
    for n in args.homologs:
        rows.append({
            "homologs": n, "tokens": tokens[n],
            "inference_ms": 1e3 * times[f"infer_{n}"], "train_step_ms": 1e3 * times[f"train_{n}"],
            "inference_cpu_ms": 1e3 * cpu[f"infer_{n}"], "train_step_cpu_ms": 1e3 * cpu[f"train_{n}"],
            "train_ms_per_token": 1e3 * times[f"train_{n}"] / tokens[n],
            "train_time_vs_first": times[f"train_{n}"] / times[f"train_{base}"],
            "peak_mib": memory_in_subprocess(args, n),
        })
        if args.checkpointing:
            rows[-1].update({"train_step_checkpointed_ms": 1e3 * times[f"ckpt_{n}"],
                             "checkpointed_time_vs_plain": times[f"ckpt_{n}"] / times[f"train_{n}"],
                             "peak_checkpointed_mib": memory_in_subprocess(args, n, "checkpointed"),
                             "peak_inference_mib": memory_in_subprocess(args, n, "inference")})
    return {
        "benchmark": "e1_context",
        "what": "E1ForContrastiveBinding on one query with N homologs in its row (SDPA, CPU float32)",
        "setup": {"preset": args.preset, "max_num_sequences": 512, "residues_per_sequence": args.length, "warmup": args.warmup, "repeats": args.repeats},
        "method": {"time": "median wall / process CPU time, all sizes interleaved in one process",
                   "memory": "peak RSS increase of one forward + backward, each size in a fresh process"},
        "environment": environment(load_at_start),
        "results": rows,
    }


def parse_args(argv=None):
    parser = benchmark_parser(__doc__, "e1_context", warmup=1, repeats=5, threads=1)
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--length", type=int, default=80)
    parser.add_argument("--homologs", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--checkpointing", action="store_true", help="also time and measure train steps with gradient checkpointing")
    parser.add_argument("--measure_memory", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--memory_of", default="train", help=argparse.SUPPRESS)
    return parse_flags(parser, argv, quick=dict(preset="tiny", length=20, homologs=[1, 4], warmup=0, repeats=1))


def main(argv=None) -> dict:
    args = parse_args(argv)
    with torch_threads(args.threads):
        if args.measure_memory is not None:
            train, infer, _ = build_steps(args, args.measure_memory, checkpointing=args.memory_of == "checkpointed")
            print_peak_rss(infer if args.memory_of == "inference" else train)
            return {}
        results = run(args)
    columns = {
        "homologs": "homologs", "tokens": "tokens", "inference_ms": "inference (ms)", "train_step_ms": "train step (ms)",
        "train_ms_per_token": "train ms / token", "train_time_vs_first": "train time vs first", "peak_mib": "peak (MiB)",
    }
    if args.checkpointing:
        columns.update({"train_step_checkpointed_ms": "checkpointed step (ms)", "checkpointed_time_vs_plain": "checkpointed / plain time",
                        "peak_checkpointed_mib": "checkpointed peak (MiB)", "peak_inference_mib": "inference peak (MiB)"})
    return report(results, args.output, columns)


if __name__ == "__main__":
    main(sys.argv[1:])
