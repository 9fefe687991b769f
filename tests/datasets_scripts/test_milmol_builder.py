"""milmol DatasetDict: embedded build, feature cache, error records, SMILES and EUOS25 readers, scaffold splits."""

import numpy as np
import pandas as pd
import pytest

from datasets_scripts.milmol import (balanced_scaffold_split, build_milmol_dataset, embedded_molecules, featurize_cached, make_featurizer,
                                     scaffold_folds, scaffold_split)
from datasets_scripts.milmol.readers import read_euos25
from modeling.milmol.tokenization_milmol import MILMolTokenizer


@pytest.fixture(scope="module")
def featurizer():
    return MILMolTokenizer(fingerprint_bits=32, num_conformers=3)


@pytest.fixture(scope="module")
def tiny(featurizer, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return build_milmol_dataset(None, featurizer, size="tiny", cache_dir=cache), cache


def test_embedded_molecules_are_real_and_unique():
    rows = embedded_molecules("demo")
    assert len(rows) == 1491 and len({r[2] for r in rows}) == len(rows)
    assert ["aspirin", "drug", "CC(=O)Oc1ccccc1C(=O)O"] in rows
    assert sum(r[1].startswith("bichromophore") for r in rows) == 336 + 567  # the flexible dyads whose labels need a conformer


def test_tiny_build_columns_and_disjoint_scaffolds(tiny, featurizer):
    splits, _ = tiny
    assert set(splits) >= {"train", "validation", "test"}
    row = splits["train"][0]
    assert len(row["x2d"]) == featurizer.n_features_2d and np.asarray(row["x3d"]).shape == (3, featurizer.n_features_3d)
    assert sum(row["conformer_mask"]) >= 1 and len(row["labels"]) == 4 and len(row["aux_fluo"]) == 4
    scaffolds = {name: set(splits[name]["scaffold"]) for name in ("train", "validation", "test")}
    assert not scaffolds["train"] & scaffolds["test"] and not scaffolds["validation"] & scaffolds["test"]
    total = sum(len(splits[n]) for n in ("train", "validation", "test")) + (len(splits["failed"]) if "failed" in splits else 0)
    assert total == 60
    for r in splits["train"]:
        responsible, contact = np.asarray(r["responsible_mask"]), np.asarray(r["contact_mask"])
        assert np.all(responsible <= contact) and np.all(contact <= np.asarray(r["conformer_mask"]))
        assert (r["responsible_conformer"] >= 0) == bool(responsible.any()) == any(r["dependent_tasks"])
        if r["responsible_conformer"] >= 0:
            assert responsible[r["responsible_conformer"]] == 1


def test_fluorescence_targets_follow_the_fluorescence_tasks(tiny):
    splits, _ = tiny
    for r in splits["train"]:
        labels, fluo = r["labels"], np.asarray(r["aux_fluo"], dtype=float)
        assert np.isnan(fluo[0]) == (labels[2] != 1) and np.isnan(fluo[2]) == (labels[3] != 1)


def test_second_featurisation_comes_from_the_cache(tiny, featurizer, monkeypatch):
    _, cache = tiny
    smiles = [m[2] for m in embedded_molecules("tiny")]
    first = featurize_cached(smiles[:5], featurizer, cache_dir=cache, progress=False)

    def refuse(*args, **kwargs):
        raise AssertionError("featurised again despite the cache")

    monkeypatch.setattr(featurizer, "iter_featurize", refuse)
    again = featurize_cached(smiles[:5], featurizer, cache_dir=cache, progress=False)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a["x3d"], b["x3d"])
        np.testing.assert_array_equal(a["coordinates"], b["coordinates"])


def test_smiles_table_keeps_failures_visible(tmp_path, featurizer):
    table = pd.DataFrame({"smiles": ["CCO", "c1ccccc1O", "C1CC", "c1ccc2ccccc2c1", "CCN", "CC(=O)O", "c1ccncc1", "CCCC"],
                          "Transmittance_340": [0, 0, 1, 1, 0, 0, 0, 0], "Fluorescence_340_450": [0, 1, 0, 1, 0, None, 0, 0]})
    path = tmp_path / "mols.csv"
    table.to_csv(path, index=False)
    splits = build_milmol_dataset(str(path), featurizer, split="random", cache_dir=tmp_path / "cache")
    assert splits["failed"]["smiles"] == ["C1CC"] and "does not parse" in splits["failed"]["error"][0]
    rows = [r for name in ("train", "validation", "test") for r in splits[name]]
    assert len(rows) == 7
    ethanol = next(r for r in rows if r["smiles"] == "CCO")
    assert ethanol["labels"][0] == 0 and np.isnan(ethanol["labels"][1])  # a column the table lacks is missing


def _euos25(tmp_path, bad_label=False):
    ids = [f"m{i}" for i in range(6)]
    smiles = ["CCO", "c1ccccc1", "CCN", "c1ccccc1O", "CCCl", "c1ccncc1"]
    x2d = pd.DataFrame({"ID": ids, "curated_SMILES": smiles, "split": ["train"] * 5 + ["test"], "f_a": np.arange(6.0), "f_b": 1.0,
                        "Transmittance_340": [0, 1, 0, 2 if bad_label else 1, 0, None], "weight": [1, 2, 1, 1, 1, 1]})
    x3d = pd.DataFrame({"ID": [i for i in ids for _ in range(2)], "conf_id": [0, 1] * 6, "smiles": [s for s in smiles for _ in range(2)],
                        "split": "train", "g": np.arange(12.0)})
    x2d.to_csv(tmp_path / "euos_2d.csv", index=False)
    x3d.to_csv(tmp_path / "euos_3d.csv", index=False)
    return tmp_path / "euos_2d.csv", tmp_path / "euos_3d.csv"


def test_euos25_reader_layout_and_leaderboard(tmp_path):
    path_2d, path_3d = _euos25(tmp_path)
    table = read_euos25(path_2d, path_3d)
    assert table["feature_names_2d"] == ["f_a", "f_b"] and table["feature_names_3d"] == ["g"]
    assert table["x3d"][1].tolist() == [[2.0], [3.0]] and table["label_weights"][1, 0] == 2.0
    featurizer = make_featurizer(f"{path_2d},{path_3d}")
    assert featurizer.feature_source == "precomputed" and featurizer.n_features_3d == 1
    splits = build_milmol_dataset(str(tmp_path), featurizer, split="random", fractions=(0.6, 0.2, 0.2))
    assert splits["leaderboard"]["id"] == ["m5"]


def test_euos25_reader_names_bad_input(tmp_path):
    path_2d, path_3d = _euos25(tmp_path, bad_label=True)
    with pytest.raises(ValueError, match="row 3 has 2.0 in Transmittance_340"):
        read_euos25(path_2d, path_3d)
    pd.read_csv(path_3d).query("ID != 'm2'").to_csv(path_3d, index=False)
    with pytest.raises(ValueError, match="no conformer rows for 1 molecule"):
        read_euos25(path_2d, path_3d)


def test_scaffold_split_and_folds_keep_scaffolds_together():
    scaffolds = ["a"] * 30 + ["b"] * 5 + ["c"] * 5 + [f"s{i}" for i in range(60)]
    split = scaffold_split(scaffolds, (0.7, 0.15, 0.15), seed=1)
    assert sorted(sum(split.values(), [])) == list(range(100))
    owner = {}
    for name, indices in split.items():
        for i in indices:
            assert owner.setdefault(scaffolds[i], name) == name
    assert all(i in split["train"] for i in range(30))  # the big scaffold stays in training
    folds = scaffold_folds(scaffolds, k=3)
    validation = sorted(i for _, fold in folds for i in fold)
    assert validation == list(range(100))
    for train, fold in folds:
        assert not {scaffolds[i] for i in train} & {scaffolds[i] for i in fold}


def test_balanced_split_holds_out_most_of_the_expected_rare_positives():
    rng = np.random.default_rng(0)
    scaffolds = [f"s{i // 2}" for i in range(400)]
    labels = np.zeros((400, 2))
    labels[rng.choice(400, 200, replace=False), 0] = 1
    labels[:24, 1] = 1  # a rare task (6 %) whose positives sit in 12 scaffolds
    split = balanced_scaffold_split(scaffolds, labels, seed=0)
    for name in ("validation", "test"):
        held = labels[split[name]]
        assert held[:, 1].sum() >= max(2, np.floor(0.6 * 0.06 * len(held)))
    plain = [scaffold_split(scaffolds, seed=s) for s in range(20)]  # without the balance many splits hold fewer
    assert any(labels[p["test"], 1].sum() < np.floor(0.6 * 0.06 * len(p["test"])) for p in plain)
    assert len({tuple(balanced_scaffold_split(scaffolds, labels, seed=s)["test"]) for s in range(5)}) == 5  # distinct splits
