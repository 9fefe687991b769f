"""Helpers shared by the benchmarks: interleaved timing, peak memory of a step, environment, JSON and tables."""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Dict, Optional

import torch
import transformers

RESULTS_DIR = Path(__file__).parent / "results"


def benchmark_parser(doc: str, name: str, warmup: int, repeats: int, threads: Optional[int] = None) -> argparse.ArgumentParser:
    """The options every benchmark has, with its defaults; the benchmark adds its own."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warmup", type=int, default=warmup, help="untimed rounds first")
    parser.add_argument("--repeats", type=int, default=repeats, help="timed rounds (medians are reported)")
    parser.add_argument("--threads", type=int, default=threads, help=f"torch threads (default: {threads or 'torch' + chr(39) + 's choice'})")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / f"{name}.json")
    parser.add_argument("--quick", action="store_true", help="toy size for the smoke test (not a measurement)")
    return parser


def parse_flags(parser: argparse.ArgumentParser, argv=None, quick: Optional[dict] = None) -> argparse.Namespace:
    """
    `parser.parse_args` with flags spelled with underscores, as everywhere in biohf (`--batch-size` is an alias of
    `--batch_size`); with `--quick`, the toy values in `quick` replace the parsed ones.
    """
    from trainers.arguments import underscore_flags

    args = parser.parse_args(underscore_flags(sys.argv[1:] if argv is None else argv))
    if args.quick:
        vars(args).update(quick or {})
    return args


def run_and_report(run: Callable[[argparse.Namespace], dict], args: argparse.Namespace, columns: Dict[str, str]) -> dict:
    """`run(args)` with `--threads` torch threads, then its results written to `--output` and printed as a table."""
    with torch_threads(args.threads):
        results = run(args)
    return report(results, args.output, columns)


def interleaved_medians(steps: Dict[str, Callable[[], object]], warmup: int, repeats: int) -> tuple:
    """
    Median wall time and median process CPU time (seconds) of each step, as two dicts. After `warmup` untimed
    rounds, every round runs each step once, in turn, so that slow drifts of the machine (other load, clock)
    hit all of them alike. With one torch thread the CPU time does not count time the process waited for a
    core, which makes it the steadier number on a shared machine.
    """
    for _ in range(warmup):
        for step in steps.values():
            step()
    wall = {name: [] for name in steps}
    cpu = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            step()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    median = statistics.median
    return {n: median(v) for n, v in wall.items()}, {n: median(v) for n, v in cpu.items()}


def train_and_inference_medians(model: torch.nn.Module, batch: dict, warmup: int, repeats: int) -> tuple:
    """`interleaved_medians` of a training step (`model(**batch).loss` forward + backward) and of inference (no grad)."""

    def train_step():
        model.train()
        model.zero_grad(set_to_none=True)
        model(**batch).loss.backward()

    def inference():
        model.eval()
        with torch.no_grad():
            model(**batch)

    return interleaved_medians({"train": train_step, "inference": inference}, warmup, repeats)


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as handle:
        return int(re.search(rf"^{field}:\s+(\d+) kB", handle.read(), re.M).group(1))


def peak_rss_increase_mib(step: Callable[[], object]) -> float:
    """
    Peak resident memory added by one call of `step`, in MiB (Linux): the kernel's high-water mark VmHWM is
    reset to the current RSS (`/proc/self/clear_refs` <- 5), `step` runs, and the result is VmHWM minus the RSS
    before. Run it in a fresh process started with a fixed `MALLOC_MMAP_THRESHOLD_` so that glibc maps every
    large tensor afresh and returns it on free (torch's CPU allocator does not cache): the high-water mark then
    counts what the step itself holds at its peak, not what earlier work left in the heap.
    """
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    before = _status_kib("VmRSS")
    step()
    return (_status_kib("VmHWM") - before) / 1024


# Environment for the fresh process of `peak_rss_increase_mib` (glibc reads it at start-up).
MEMORY_SUBPROCESS_ENV = {"MALLOC_MMAP_THRESHOLD_": str(64 * 1024)}
REPO_ROOT = Path(__file__).resolve().parents[1]


def peak_rss_in_subprocess(module: str, flags: list) -> float:
    """
    `peak_rss_increase_mib` of one step, measured in a fresh process: `python -m <module> <flags> --threads N` (N: this
    process's torch threads), which builds the step, calls `print_peak_rss(step)` and exits.
    """
    command = [sys.executable, "-m", module, *map(str, flags), "--threads", str(torch.get_num_threads())]
    done = subprocess.run(command, cwd=REPO_ROOT, env={**os.environ, **MEMORY_SUBPROCESS_ENV}, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"memory measurement failed ({' '.join(command)}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])["peak_rss_increase_mib"]


def print_peak_rss(step: Callable[[], object]) -> None:
    """The child side of `peak_rss_in_subprocess`: a first call of `step` (one-time allocations: thread pools, kernels,
    grads are not a step's cost), then the peak of the second, printed as JSON."""
    step()
    print(json.dumps({"peak_rss_increase_mib": peak_rss_increase_mib(step)}))


def environment(load_at_start: float) -> dict:
    """What the numbers were measured on; `load_at_start` is `os.getloadavg()[0]` when the run began."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = re.search(r"^model name\s*:\s*(.+)$", handle.read(), re.M).group(1)
    except (OSError, AttributeError):
        pass
    return {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        # Other work on the machine slows both sides of a ratio, not always alike: say how busy it was.
        "load_average_1min": {"start": round(load_at_start, 2), "end": round(os.getloadavg()[0], 2)},
    }


def write_json(path: Path, data: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def markdown_table(rows: list, columns: Dict[str, str]) -> str:
    """`columns` maps a row key to its header; floats get 3 significant digits (no exponent)."""

    def cell(value):
        if value is None:
            return "n/a"
        if not isinstance(value, float):
            return str(value)
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"

    lines = ["| " + " | ".join(columns.values()) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row[key]) for key in columns) + " |" for row in rows]
    return "\n".join(lines)


def report(results: dict, output, columns: Dict[str, str]) -> dict:
    """Write `results` as JSON to `output`, print its table, and return it."""
    write_json(output, results)
    print(markdown_table(results["results"], columns))
    print(f"\nwritten to {output}", file=sys.stderr)
    return results


@contextmanager
def torch_threads(count):
    """Run the block with `count` torch threads (None: leave it), then restore the previous number."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count or previous)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
