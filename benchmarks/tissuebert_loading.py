"""
Data loading throughput for TissueBERT: samples per second turned into region means from
- npz:    one `.npz` per sample (the notes' layout; compressed), read and aggregated one by one;
- HDF5:   one file, `methylation` (S, N, 150) chunked per sample (gzip level 1), read and aggregated per sample;
- cached: the region means computed once and saved as one `.npy` (S, N), memory-mapped and read whole.
All three give the same means (checked). The atlas is the embedded one (`demo`: 519 samples x 1,000 regions),
written to a temporary folder first (not timed). Each way is timed over all samples, interleaved, median of runs.

    python -m benchmarks.tissuebert_loading
    python -m benchmarks.tissuebert_loading --quick   # toy size, for the smoke test
"""
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.common import benchmark_parser, environment, interleaved_medians, parse_flags, run_and_report
from datasets_scripts.tissuebert import generate_atlas, read_hdf5, read_npz_folder, write_hdf5, write_npz_folder


def measure(size: str, warmup: int, repeats: int) -> dict:
    atlas = generate_atlas(size, seed=0)
    with tempfile.TemporaryDirectory(prefix="tissuebert-bench-") as tmp:
        tmp = Path(tmp)
        npz = write_npz_folder(atlas, tmp / "npz", progress=False)
        h5 = write_hdf5(atlas, tmp / "h5" / "atlas.h5", progress=False)
        reference = read_npz_folder(npz, progress=False).means
        np.save(tmp / "means.npy", reference)
        results = {}

        def cached():
            results["cached"] = np.array(np.load(tmp / "means.npy", mmap_mode="r"))

        steps = {"npz": lambda: results.__setitem__("npz", read_npz_folder(npz, progress=False).means),
                 "hdf5": lambda: results.__setitem__("hdf5", read_hdf5(h5, progress=False).means),
                 "cached": cached}
        times, cpu = interleaved_medians(steps, warmup, repeats)
        for name, means in results.items():
            if not np.array_equal(means, reference, equal_nan=True):
                raise AssertionError(f"{name} gave different region means")
        sizes = {"npz_mb": sum(p.stat().st_size for p in npz.glob("*.npz")) / 2**20, "hdf5_mb": h5.stat().st_size / 2**20,
                 "cached_mb": (tmp / "means.npy").stat().st_size / 2**20}
    samples = atlas.num_samples
    return {
        "atlas": size, "samples": samples, "regions": atlas.num_regions, **sizes,
        "npz_s": times["npz"], "hdf5_s": times["hdf5"], "cached_s": times["cached"],
        "npz_samples_per_s": samples / times["npz"], "hdf5_samples_per_s": samples / times["hdf5"],
        "cached_samples_per_s": samples / times["cached"],
        "hdf5_vs_npz": times["npz"] / times["hdf5"], "cached_vs_npz": times["npz"] / times["cached"],
        "npz_cpu_s": cpu["npz"], "hdf5_cpu_s": cpu["hdf5"], "cached_cpu_s": cpu["cached"],
    }


def run(args) -> dict:
    load_at_start = os.getloadavg()[0]
    row = measure(args.atlas, args.warmup, args.repeats)
    print(f"{args.atlas}: npz {row['npz_samples_per_s']:.0f}, HDF5 {row['hdf5_samples_per_s']:.0f}, "
          f"cached {row['cached_samples_per_s']:.0f} samples/s", file=sys.stderr)
    return {
        "benchmark": "tissuebert_loading",
        "what": "all samples of the atlas -> (samples, regions) region means, from per-sample npz files, one HDF5 "
                "file, or a cached .npy of the means",
        "setup": {"atlas": args.atlas, "warmup": args.warmup, "repeats": args.repeats},
        "method": "median wall time over the whole atlas, the three ways interleaved; files in a fresh temporary "
                  "folder (page cache warm after the warm-up round)",
        "environment": environment(load_at_start),
        "results": [row],
    }


TABLE_COLUMNS = {
    "atlas": "atlas", "samples": "samples", "regions": "regions", "npz_samples_per_s": "npz samples/s",
    "hdf5_samples_per_s": "HDF5 samples/s", "cached_samples_per_s": "cached samples/s",
    "hdf5_vs_npz": "HDF5 / npz", "cached_vs_npz": "cached / npz", "npz_mb": "npz MB", "hdf5_mb": "HDF5 MB",
}


def parse_args(argv=None):
    parser = benchmark_parser(__doc__, "tissuebert_loading", warmup=1, repeats=3)
    parser.add_argument("--atlas", choices=["tiny", "demo", "full"], default="demo")
    return parse_flags(parser, argv, quick=dict(atlas="tiny", warmup=0, repeats=1))


def main(argv=None) -> dict:
    return run_and_report(run, parse_args(argv), TABLE_COLUMNS)


if __name__ == "__main__":
    main()
