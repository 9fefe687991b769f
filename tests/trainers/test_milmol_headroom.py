"""trainers.milmol.headroom: the 2D regression with and without the oracle contact flag, per held-out split."""

import numpy as np

from datasets_scripts.milmol import build_milmol_dataset
from modeling.milmol.tokenization_milmol import MILMolTokenizer
from trainers.milmol.headroom import split_headroom


def test_headroom_report_per_held_out_split(tmp_path):
    splits = build_milmol_dataset(None, MILMolTokenizer(fingerprint_bits=32, num_conformers=3), size="tiny", cache_dir=tmp_path)
    report = split_headroom(splits)
    for name in ("validation", "test"):
        labels = np.asarray(splits[name]["labels"])
        assert list(report[f"{name}_positives"].values()) == labels.sum(axis=0).astype(int).tolist()
        assert report[f"{name}_conformer_dependent"] == int(np.sum(splits[name]["conformer_dependent"]))
        for kind in ("2d", "2d+oracle_contact"):
            assert 0.0 <= report[f"{name}_{kind}"]["min_ap"] <= report[f"{name}_{kind}"]["macro_ap"] <= 1.0
