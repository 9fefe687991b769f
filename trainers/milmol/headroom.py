"""
What the conformers can add over the 2D vector on the embedded data, per scaffold split: the 2D logistic
regression baseline, and the same regression given an ORACLE flag "some conformer is in contact" (the rule's
`contact_mask`, which no model sees) next to the 2D vector; plus each held-out split's positives per task and its
conformer-dependent molecules. The gap between the two regressions is the headroom a model reading conformers has.

    python -m trainers.milmol.headroom --dataset_seeds 0 1 2 3 4 [--output headroom.json]
"""

import argparse
import json

import numpy as np

from datasets_scripts.milmol import build_milmol_dataset, make_featurizer
from hf_models import preset_config
from modeling.milmol.configuration_milmol import TASK_NAMES
from trainers.milmol.baseline import Logistic2DBaseline
from trainers.milmol.metrics import task_metrics

ORACLE_SCALE = 5.0  # the flag next to standardised features, large enough that the regression's penalty leaves it in


def _arrays(split) -> tuple:
    labels = np.asarray(split["labels"], dtype=np.float64)
    mask = np.asarray(split["conformer_mask"], dtype=bool)
    contact = (np.asarray(split["contact_mask"], dtype=bool) & mask).any(axis=1).astype(np.float64)[:, None]
    return np.asarray(split["x2d"], dtype=np.float64), labels, contact


def split_headroom(splits) -> dict:
    """Validation and test macro / worst-task AP of the 2D regression without and with the oracle contact flag."""
    x, y, contact = _arrays(splits["train"])
    plain = Logistic2DBaseline().fit(x, y)
    oracle = Logistic2DBaseline().fit(np.hstack([x, ORACLE_SCALE * contact]), y)
    out = {}
    for name in ("validation", "test"):
        xs, ys, cs = _arrays(splits[name])
        for kind, model, features in (("2d", plain, xs), ("2d+oracle_contact", oracle, np.hstack([xs, ORACLE_SCALE * cs]))):
            metrics = task_metrics(ys, model.predict_proba(features), TASK_NAMES)
            out[f"{name}_{kind}"] = {k: metrics[k] for k in ("macro_ap", "min_ap")}
        out[f"{name}_positives"] = dict(zip(TASK_NAMES, ys.sum(axis=0).astype(int).tolist()))
        out[f"{name}_conformer_dependent"] = int(np.sum(splits[name]["conformer_dependent"]))
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset_seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--size", default="demo", help="embedded data size (tiny / demo)")
    parser.add_argument("--output", default=None, help="write the report as JSON here")
    args = parser.parse_args(argv)
    config = preset_config("milmol", "demo")  # featurised as the demo preset is
    featurizer = make_featurizer(None, fingerprint_bits=config.fingerprint_bits, fingerprint_radius=config.fingerprint_radius,
                                 num_conformers=config.num_conformers)
    report = {}
    for seed in args.dataset_seeds:
        report[seed] = split_headroom(build_milmol_dataset(None, featurizer, size=args.size, seed=seed))
        print(seed, json.dumps(report[seed]), flush=True)
    per_split = list(report.values())
    for key in ("test_2d", "test_2d+oracle_contact", "validation_2d", "validation_2d+oracle_contact"):
        mean = {k: float(np.mean([r[key][k] for r in per_split])) for k in ("macro_ap", "min_ap")}
        report.setdefault("mean", {})[key] = mean
        print(f"mean {key}: macro AP {mean['macro_ap']:.3f}, worst-task AP {mean['min_ap']:.3f}")
    if args.output:
        with open(args.output, "w") as handle:
            json.dump(report, handle, indent=1)
    return report


if __name__ == "__main__":
    main()
