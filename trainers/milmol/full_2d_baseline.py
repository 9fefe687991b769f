"""
The 2D-only reference on every molecule of the EUOS25 training files: what the 2D logistic regression reaches when
it sees all 68,972 molecules rather than the sampled subset the conformer model is trained on (the 2D featurisation
is cheap: no conformer is embedded). Same reader, same 2D vector as milmol's (Morgan bits and descriptors of the
preset), a balanced scaffold split of all molecules (70 / 15 / 15, `--dataset_seed`), one class-balanced logistic
regression per task fitted on train, scored once on test (validation is not used: nothing is chosen).

    python -m trainers.milmol.full_2d_baseline --train_file DIR_OR_FILES --output outputs/milmol-euos25-2d-full.json
"""

import argparse
import json
from pathlib import Path

import numpy as np

from datasets_scripts.milmol import balanced_scaffold_split, featurize_cached, murcko_scaffold, read_euos25_task_files
from datasets_scripts.milmol.builder import data_source
from hf_models.presets import PRESETS
from modeling.milmol.configuration_milmol import TASK_NAMES
from modeling.milmol.tokenization_milmol import MILMolTokenizer
from trainers.milmol.baseline import Logistic2DBaseline
from trainers.milmol.metrics import task_metrics


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train_file", nargs="+", required=True)
    parser.add_argument("--preset", default="euos25", help="the milmol preset whose 2D settings to use")
    parser.add_argument("--dataset_seed", type=int, default=0)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--cache_dir", default=None)
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    kind, paths = data_source(args.train_file)
    if kind != "euos25_tasks":
        raise SystemExit(f"--train_file: expected the EUOS25 per-task training files, got {kind}")
    table = read_euos25_task_files(paths)
    preset = PRESETS["milmol"][args.preset]
    featurizer = MILMolTokenizer(fingerprint_bits=preset["fingerprint_bits"], num_conformers=1, max_atoms_3d=0)  # 2D only
    records = featurize_cached(table["smiles"], featurizer, cache_dir=args.cache_dir, num_proc=args.processes)
    keep = [i for i, r in enumerate(records) if not r["error"]]
    x2d = np.stack([records[i]["x2d"] for i in keep])
    labels = table["labels"][keep]
    split = balanced_scaffold_split([murcko_scaffold(table["smiles"][i]) for i in keep], labels, seed=args.dataset_seed)
    model = Logistic2DBaseline(seed=args.dataset_seed).fit(x2d[split["train"]], labels[split["train"]])
    report = {"what": "2D logistic regression on every molecule of the EUOS25 training files, scaffold split",
              "molecules": len(table["smiles"]), "excluded": len(table["smiles"]) - len(keep),
              "split_sizes": {name: len(indices) for name, indices in split.items()},
              "test_positives": dict(zip(TASK_NAMES, labels[split["test"]].sum(axis=0).astype(int).tolist())),
              "test": task_metrics(labels[split["test"]], model.predict_proba(x2d[split["test"]]), TASK_NAMES)}
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=2))
    print(json.dumps(report["test"], indent=2))
    return report


if __name__ == "__main__":
    main()
