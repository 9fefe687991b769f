"""
milmol featurisation speed: SMILES -> 2D vector + bag of ETKDG conformers with 3D descriptors, in molecules per
second, with 1 process, with 2 processes, and from the feature cache (a second run over the same molecules).

Molecules: the first `--molecules` of the embedded list (datasets_scripts/milmol/molecules.tsv: dyes, drugs,
aromatics), featurised at the demo preset's settings (Morgan 256 bits, 8 conformers). Each timed path starts from
nothing (a fresh temporary cache for the uncached paths); the cached path reads a cache filled before timing.
Outputs of the three paths are checked equal first.

    python -m benchmarks.milmol_featurize             # 120 molecules
    python -m benchmarks.milmol_featurize --quick     # 6 molecules, for the smoke test
"""
import os
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.common import benchmark_parser, environment, interleaved_medians, parse_flags, run_and_report
from datasets_scripts.milmol import embedded_molecules, featurize_cached
from hf_models.presets import PRESETS
from modeling.milmol.tokenization_milmol import MILMolTokenizer


def run(args) -> dict:
    load_at_start = os.getloadavg()[0]
    demo = PRESETS["milmol"]["demo"]
    featurizer = MILMolTokenizer(fingerprint_bits=demo["fingerprint_bits"], num_conformers=demo["num_conformers"])
    smiles = [row[2] for row in embedded_molecules("demo")[: args.molecules]]
    warm = Path(tempfile.mkdtemp(prefix="milmol-bench-cache-"))
    reference = featurize_cached(smiles, featurizer, cache_dir=warm, num_proc=2, progress=False)

    def fresh(processes):
        return lambda: featurize_cached(smiles, featurizer, cache_dir=tempfile.mkdtemp(prefix="milmol-bench-"),
                                        num_proc=processes, progress=False)

    paths = {"1_process": fresh(1), "2_processes": fresh(2),
             "cached": lambda: featurize_cached(smiles, featurizer, cache_dir=warm, progress=False)}
    for name, path in paths.items():
        for a, b in zip(path(), reference):
            if a["error"] != b["error"] or (a["x3d"] is not None and not np.array_equal(a["x3d"], b["x3d"])):
                raise AssertionError(f"{name} featurises {a['smiles']} differently")
    times, cpu = interleaved_medians(paths, args.warmup, args.repeats)
    row = {"molecules": len(smiles), "conformers_per_molecule": featurizer.num_conformers,
           **{f"{name}_mol_per_s": len(smiles) / seconds for name, seconds in times.items()},
           "speedup_2_vs_1": times["1_process"] / times["2_processes"],
           "speedup_cached_vs_1": times["1_process"] / times["cached"],
           "failed": sum(bool(r["error"]) for r in reference)}
    return {
        "benchmark": "milmol_featurize",
        "what": "RDKit featurisation of SMILES (2D descriptors + Morgan bits; ETKDGv3 conformers, 3D shape/AUTOCORR3D/RDF "
                "descriptors) through featurize_cached: 1 vs 2 worker processes, and a run served from the cache",
        "setup": {"molecules": len(smiles), "fingerprint_bits": featurizer.fingerprint_bits,
                  "num_conformers": featurizer.num_conformers, "warmup": args.warmup, "repeats": args.repeats},
        "method": "median wall time, the three paths interleaved in one process; outputs checked equal first",
        "environment": environment(load_at_start),
        "results": [row],
    }


TABLE_COLUMNS = {"molecules": "molecules", "conformers_per_molecule": "conformers",
                 "1_process_mol_per_s": "1 process mol/s", "2_processes_mol_per_s": "2 processes mol/s",
                 "cached_mol_per_s": "cached mol/s", "speedup_2_vs_1": "speed-up 2 vs 1",
                 "speedup_cached_vs_1": "speed-up cached vs 1"}


def parse_args(argv=None):
    parser = benchmark_parser(__doc__, "milmol_featurize", warmup=0, repeats=3, threads=1)
    parser.add_argument("--molecules", type=int, default=120)
    return parse_flags(parser, argv, quick=dict(molecules=6, warmup=0, repeats=1))


def main(argv=None) -> dict:
    return run_and_report(run, parse_args(argv), TABLE_COLUMNS)


if __name__ == "__main__":
    main()
