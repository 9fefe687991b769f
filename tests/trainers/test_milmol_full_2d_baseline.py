"""The 2D-only reference on every molecule of the EUOS25 files (hand-written fixtures in the published layouts)."""

import json

from tests.datasets_scripts.test_milmol_readers import write_task_files
from trainers.milmol.full_2d_baseline import main


def test_full_2d_baseline_scores_a_scaffold_test_split(tmp_path):
    smiles = ["CCO", "c1ccccc1O", "CCN", "c1ccc2ccccc2c1", "CC(=O)O", "c1ccncc1", "CCCCO", "c1ccc(N)cc1", "OCC(O)CO", "c1ccoc1",
              "CCOC(=O)C", "c1ccc(Cl)cc1", "CC(C)O", "c1ccc(C)cc1", "NCCO", "c1ccsc1", "CCCN", "Oc1ccc(O)cc1", "CC#N", "C1CC"]
    write_task_files(tmp_path, smiles=smiles)
    report = main(["--train_file", str(tmp_path), "--output", str(tmp_path / "out.json"), "--cache_dir", str(tmp_path / "cache")])
    assert report["molecules"] == 20 and report["excluded"] == 1  # "C1CC" does not parse
    assert sum(report["split_sizes"].values()) == 19 and report["test"]["n"] == report["split_sizes"]["test"]
    assert json.loads((tmp_path / "out.json").read_text())["test"] == report["test"]
