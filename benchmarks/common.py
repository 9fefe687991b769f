"""Helpers shared by the benchmarks: interleaved timing, peak memory of a step, environment, JSON and tables."""
import json
import os
import platform
import re
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Dict

import torch
import transformers

RESULTS_DIR = Path(__file__).parent / "results"


def parse_flags(parser, argv=None):
    """`parser.parse_args` with flags spelled with underscores, as everywhere in biohf; `--batch-size` is an alias."""
    from trainers.arguments import underscore_flags

    return parser.parse_args(underscore_flags(sys.argv[1:] if argv is None else argv))


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
