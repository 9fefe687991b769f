"""
Cost of homolog context in E1: one query protein with 1 to 64 homologs in its row. Every layer attends over the whole
row (within-sequence layers through a block-diagonal mask, global layers block-causally), so attention grows with the
square of the row length while the feed-forward grows linearly.

Measured per context size: median wall / CPU time of an inference forward and of a forward + backward of
E1ForContrastiveBinding (interleaved repeats), with and without gradient checkpointing, and the peak resident memory
one forward + backward adds (fresh process) and one inference forward adds.

    python -m benchmarks.e1_context             # demo preset, query and homologs of 80 residues, 1 4 16 64 homologs
    python -m benchmarks.e1_context --preset lmetalsite --length 1000 --homologs 0 4 16 --repeats 2 \
        --output benchmarks/results/e1_context_1000.json   # real sizes: a 1,000-residue query
    python -m benchmarks.e1_context --quick     # tiny, for the smoke test
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import MEMORY_SUBPROCESS_ENV, RESULTS_DIR, environment, interleaved_medians, peak_rss_increase_mib, report, torch_threads
from datasets_scripts.e1.motifs import random_residues
from hf_models.presets import preset_config
from modeling.e1.modeling_e1 import E1ForContrastiveBinding
from modeling.e1.tokenization_e1 import E1Tokenizer

REPO_ROOT = Path(__file__).resolve().parents[1]


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
    command = [sys.executable, "-m", "benchmarks.e1_context", "--measure-memory", str(homologs), "--preset", args.preset,
               "--length", str(args.length), "--threads", str(torch.get_num_threads()), "--memory-of", what]
    done = subprocess.run(command, cwd=REPO_ROOT, env={**os.environ, **MEMORY_SUBPROCESS_ENV}, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"memory measurement failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])["peak_rss_increase_mib"]


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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--length", type=int, default=80)
    parser.add_argument("--homologs", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", default=str(RESULTS_DIR / "e1_context.json"))
    parser.add_argument("--checkpointing", action="store_true", help="also time and measure train steps with gradient checkpointing")
    parser.add_argument("--measure-memory", dest="measure_memory", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--memory-of", dest="memory_of", default="train", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.preset, args.length, args.homologs, args.warmup, args.repeats = "tiny", 20, [1, 4], 0, 1
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    with torch_threads(args.threads):
        if args.measure_memory is not None:
            train, infer, _ = build_steps(args, args.measure_memory, checkpointing=args.memory_of == "checkpointed")
            step = infer if args.memory_of == "inference" else train
            step()
            print(json.dumps({"peak_rss_increase_mib": peak_rss_increase_mib(step)}))
            return {}
        results = run(args)
    columns = {
        "homologs": "homologs", "tokens": "tokens", "inference_ms": "inference (ms)", "train_step_ms": "train step (ms)",
        "train_ms_per_token": "train ms / token", "train_time_vs_first": "train time vs first", "peak_mib": "peak (MiB)",
        "train_step_checkpointed_ms": "checkpointed step (ms)", "checkpointed_time_vs_plain": "checkpointed / plain time",
        "peak_checkpointed_mib": "checkpointed peak (MiB)", "peak_inference_mib": "inference peak (MiB)",
    }
    if not args.checkpointing:
        columns = {k: v for k, v in columns.items() if "checkpointed" not in k and "inference_mib" not in k}
    return report(results, args.output, columns)


if __name__ == "__main__":
    main(sys.argv[1:])
