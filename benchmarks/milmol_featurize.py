"""
milmol featurisation at the scale of the EUOS25 training set (68,972 molecules): molecules per second of
SMILES -> 2D vector + bag of ETKDG conformers with 3D descriptors, and what the whole set would take.

Two tables, measured in one process on the same molecules (a random sample of `--molecules` SMILES of
`--smiles_file`, seed 0; the embedded molecules without one):
1. parallelism at the real-data preset's settings (`euos25`: Morgan 1024 bits, 4 conformers): 1 thread; RDKit's own
   threads for one molecule's conformers (`numThreads=2`); 2 worker processes (molecules in parallel); and a run
   served from the feature cache. Outputs are checked equal first (RDKit's threads give the same conformers).
2. what the settings cost, 1 thread: 2D only (no conformer embedded), 1, 4 and 8 conformers; CPU ms per molecule.
Projection of the whole training set: 68,972 / the measured rate of each path (wall, under the machine's load at
the time, in the JSON), and from CPU time alone (CPU s per molecule x 68,972 / 2 cores: an idle 2-core machine with
2 processes, assuming they scale; the measured 2-process speed-up says how far they did).

    python -m benchmarks.milmol_featurize --smiles_file euos25_challenge_train_transmittance340.csv
    python -m benchmarks.milmol_featurize --quick     # 6 embedded molecules, for the smoke test
"""
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import benchmark_parser, environment, interleaved_medians, parse_flags, run_and_report
from datasets_scripts.milmol import embedded_molecules, featurize_cached
from hf_models.presets import PRESETS
from modeling.milmol.tokenization_milmol import MILMolTokenizer

TRAINING_SET = 68_972
GOAL_HOURS = 2.0


def sample_smiles(path, count: int) -> list:
    if path is None:
        return [row[2] for row in embedded_molecules("demo")[:count]]
    smiles = pd.read_csv(path)["SMILES"].astype(str)
    return smiles.sample(min(count, len(smiles)), random_state=0).tolist()


def run(args) -> dict:
    load_at_start = os.getloadavg()[0]
    preset = PRESETS["milmol"]["euos25"]
    featurizer = MILMolTokenizer(fingerprint_bits=preset["fingerprint_bits"], num_conformers=preset["num_conformers"])
    smiles = sample_smiles(args.smiles_file, args.molecules)
    warm = Path(tempfile.mkdtemp(prefix="milmol-bench-cache-"))
    reference = featurize_cached(smiles, featurizer, cache_dir=warm, progress=False)

    def fresh(processes, threads, tokenizer=featurizer):
        return lambda: featurize_cached(smiles, tokenizer, use_cache=False, num_proc=processes, threads=threads, progress=False)

    paths = {"1_thread": fresh(1, 1), "rdkit_2_threads": fresh(1, 2), "2_processes": fresh(2, 1),
             "cached": lambda: featurize_cached(smiles, featurizer, cache_dir=warm, progress=False)}
    for name, path in paths.items():
        for a, b in zip(path(), reference):
            if a["error"] != b["error"] or (a["x3d"] is not None and not np.array_equal(a["x3d"], b["x3d"])):
                raise AssertionError(f"{name} featurises {a['smiles']} differently")
    times, cpu = interleaved_medians(paths, args.warmup, args.repeats)
    shutil.rmtree(warm)
    n = len(smiles)
    parallel = {"molecules": n, "conformers_per_molecule": featurizer.num_conformers,
                **{f"{name}_mol_per_s": n / seconds for name, seconds in times.items()},
                "1_thread_cpu_ms_per_mol": 1000 * cpu["1_thread"] / n,
                "speedup_rdkit_2_threads_vs_1": times["1_thread"] / times["rdkit_2_threads"],
                "speedup_2_processes_vs_1": times["1_thread"] / times["2_processes"],
                "speedup_cached_vs_1": times["1_thread"] / times["cached"],
                "excluded": sum(bool(r["error"]) for r in reference),
                "two_d_only": sum(bool(r["error"] is None and r["num_conformers"] == 0) for r in reference),
                "fewer_conformers": sum(bool(r["error"] is None and 0 < r["num_conformers"] < featurizer.num_conformers) for r in reference)}
    best = max(("1_thread", "rdkit_2_threads", "2_processes"), key=lambda name: parallel[f"{name}_mol_per_s"])
    projection = {"training_set_molecules": TRAINING_SET, "fastest_path": best,
                  "wall_hours_at_measured_rate": {name: TRAINING_SET / parallel[f"{name}_mol_per_s"] / 3600
                                                  for name in ("1_thread", "rdkit_2_threads", "2_processes")},
                  "hours_from_cpu_time_on_2_idle_cores": TRAINING_SET * cpu["1_thread"] / n / 2 / 3600, "goal_hours": GOAL_HOURS}

    settings = {"2D only": MILMolTokenizer(fingerprint_bits=preset["fingerprint_bits"], num_conformers=1, max_atoms_3d=0)}
    for count in args.conformer_counts:
        settings[f"{count} conformers"] = MILMolTokenizer(fingerprint_bits=preset["fingerprint_bits"], num_conformers=count)
    setting_times, setting_cpu = interleaved_medians({name: fresh(1, 1, tok) for name, tok in settings.items()}, 0, args.repeats)
    costs = [{"setting": name, "cpu_ms_per_mol": 1000 * setting_cpu[name] / n, "mol_per_s": n / setting_times[name],
              "hours_from_cpu_time_on_2_idle_cores": TRAINING_SET * setting_cpu[name] / n / 2 / 3600} for name in settings]
    return {
        "benchmark": "milmol_featurize",
        "what": "RDKit featurisation of EUOS25 SMILES (46 2D descriptors + Morgan bits; ETKDGv3 conformers with 3D "
                "shape/AUTOCORR3D/RDF descriptors): 1 thread vs RDKit's numThreads=2 vs 2 processes vs the cache, the cost of "
                "the conformer count, and the projected time of the 68,972-molecule training set",
        "setup": {"molecules": n, "smiles_file": Path(args.smiles_file).name if args.smiles_file else "embedded molecules",
                  "fingerprint_bits": featurizer.fingerprint_bits, "num_conformers": featurizer.num_conformers,
                  "embed_timeout_s": featurizer.embed_timeout_s, "max_atoms_3d": featurizer.max_atoms_3d,
                  "warmup": args.warmup, "repeats": args.repeats},
        "method": "median wall time and process CPU time (workers' CPU is not counted for 2 processes), the paths interleaved "
                  "in one process; outputs checked equal first",
        "environment": environment(load_at_start),
        "results": [parallel], "projection": projection, "settings_cost": costs,
    }


TABLE_COLUMNS = {"molecules": "molecules", "conformers_per_molecule": "conformers",
                 "1_thread_mol_per_s": "1 thread mol/s", "rdkit_2_threads_mol_per_s": "RDKit 2 threads mol/s",
                 "2_processes_mol_per_s": "2 processes mol/s", "cached_mol_per_s": "cached mol/s",
                 "speedup_rdkit_2_threads_vs_1": "speed-up RDKit 2 threads", "speedup_2_processes_vs_1": "speed-up 2 processes",
                 "1_thread_cpu_ms_per_mol": "CPU ms/mol (1 thread)"}


def parse_args(argv=None):
    parser = benchmark_parser(__doc__, "milmol_featurize", warmup=0, repeats=1, threads=1)
    parser.add_argument("--smiles_file", default=None, help="a CSV with a SMILES column (an EUOS25 training file)")
    parser.add_argument("--molecules", type=int, default=48)
    parser.add_argument("--conformer_counts", type=int, nargs="+", default=[1, 4, 8])
    return parse_flags(parser, argv, quick=dict(smiles_file=None, molecules=6, warmup=0, repeats=1, conformer_counts=[2]))


def main(argv=None) -> dict:
    results = run_and_report(run, parse_args(argv), TABLE_COLUMNS)
    projection = results["projection"]
    print(f"whole training set ({TRAINING_SET} molecules): " + ", ".join(
        f"{name} {hours:.2f} h" for name, hours in projection["wall_hours_at_measured_rate"].items())
        + f" at the measured rates; {projection['hours_from_cpu_time_on_2_idle_cores']:.2f} h from CPU time on 2 idle cores"
        + f" (goal {GOAL_HOURS:g} h)")
    for row in results["settings_cost"]:
        print(f"  {row['setting']}: {row['cpu_ms_per_mol']:.1f} CPU ms/mol -> {row['hours_from_cpu_time_on_2_idle_cores']:.2f} h on 2 idle cores")
    return results


if __name__ == "__main__":
    main()
