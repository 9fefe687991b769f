"""The EUOS25 challenge's own layouts (hand-written fixtures in the published formats), the label-column checks that
close the silent all-NaN path, the rare-positive sampled mode, the policy for molecules RDKit cannot use, and the
resumable feature cache."""

import numpy as np
import pandas as pd
import pytest

from datasets_scripts.milmol import (build_milmol_dataset, build_summary, data_source, featurisation_report, featurize_cached,
                                     rare_positive_sample, read_euos25_task_files, read_molecules, read_smiles_table, task_of_file)
from datasets_scripts.milmol.readers import read_euos25
from modeling.milmol.tokenization_milmol import MILMolTokenizer

SMILES = ["CCO", "c1ccccc1O", "CCN", "c1ccc2ccccc2c1", "CC(=O)O", "c1ccncc1", "CCCCO", "c1ccc(N)cc1", "OCC(O)CO", "c1ccoc1"]
# the published headers differ from file to file; the task is only in the file name
LAYOUTS = {"transmittance340": ("N", "Transmittance (qualitative)"), "transmittance450": ("ID", "Transmittance"),
           "fluorescence340_450": ("ID", "Fluorescence"), "fluorescence480": ("ID", "Fluorescence")}
LABELS = {"transmittance340": [0, 1, 0, 1, 0, 0, 1, 0, 0, 0], "transmittance450": [0, 0, 0, 1, 0, 0, 0, 0, 0, 0],
          "fluorescence340_450": [0, 1, 0, 1, 0, 1, 0, 1, 0, 0], "fluorescence480": [0, 0, 0, 0, 0, 0, 0, 1, 0, 0]}


def write_task_files(folder, smiles=SMILES, ids=None):
    ids = ids or [str(2 * i + 1) for i in range(len(smiles))]
    paths = []
    for key, (id_column, label_column) in LAYOUTS.items():
        path = folder / f"euos25_challenge_train_{key}.csv"
        pd.DataFrame({id_column: ids, "SMILES": smiles, label_column: (LABELS[key] * 3)[: len(smiles)]}).to_csv(path, index=False)
        paths.append(path)
    return paths


def test_task_files_merge_on_the_id_with_their_differing_headers(tmp_path):
    spelled = list(SMILES)
    paths = write_task_files(tmp_path)
    frame = pd.read_csv(paths[1])
    frame.loc[3, "SMILES"] = "c2ccc1ccccc1c2"  # naphthalene with other ring-closure digits, as in the real files
    frame.to_csv(paths[1], index=False)
    table = read_euos25_task_files(reversed(paths))  # any order of the files
    assert table["ids"] == [str(2 * i + 1) for i in range(10)] and table["smiles"] == spelled
    assert table["tasks_found"] == ["Transmittance_340", "Transmittance_450", "Fluorescence_340_450", "Fluorescence_more_than_480"]
    np.testing.assert_array_equal(table["labels"][:, 0], LABELS["transmittance340"])
    np.testing.assert_array_equal(table["labels"][:, 3], LABELS["fluorescence480"])
    assert table["smiles_disagreements"] == 1 and not np.isnan(table["labels"]).any()


def test_task_from_the_file_name_or_a_clear_error(tmp_path):
    assert task_of_file("x/euos25_challenge_train_fluorescence340_450.csv") == "Fluorescence_340_450"
    assert task_of_file("Fluorescence_more_than_480.csv") == "Fluorescence_more_than_480"
    with pytest.raises(ValueError, match="cannot tell the task from the file name"):
        task_of_file("train_part1.csv")
    paths = write_task_files(tmp_path)
    with pytest.raises(ValueError, match="two training files for the same task"):
        read_euos25_task_files([paths[0], paths[0]])


def test_task_files_name_what_is_wrong(tmp_path):
    paths = write_task_files(tmp_path)
    pd.read_csv(paths[2]).rename(columns={"Fluorescence": "value"}).to_csv(paths[2], index=False)
    with pytest.raises(ValueError, match=r"expected one label column for Fluorescence_340_450.*\['ID', 'SMILES', 'value'\]"):
        read_euos25_task_files(paths)
    paths = write_task_files(tmp_path)
    frame = pd.read_csv(paths[0])
    frame.loc[4, "Transmittance (qualitative)"] = 3
    frame.to_csv(paths[0], index=False)
    with pytest.raises(ValueError, match=r"line 6, column 'Transmittance \(qualitative\)': label must be 0 or 1"):
        read_euos25_task_files(paths)
    paths = write_task_files(tmp_path)
    write_task_files(tmp_path / "..", ids=[str(i) for i in range(10)])
    with pytest.raises(ValueError, match="do not hold the same molecules"):
        read_euos25_task_files([paths[0], tmp_path / ".." / "euos25_challenge_train_transmittance450.csv"])
    other = pd.read_csv(paths[3])
    other.loc[0, "SMILES"] = "CCCC"
    other.to_csv(paths[3], index=False)
    with pytest.raises(ValueError, match="molecule id '1' has SMILES 'CCCC'.*not the same molecule"):
        read_euos25_task_files(paths)


def test_a_training_file_without_label_columns_is_an_error_naming_its_columns(tmp_path):
    # the case: one per-task file read as a SMILES table used to give every label NaN, weight 0, silently
    path = write_task_files(tmp_path)[0]
    with pytest.raises(ValueError, match=r"no label column found for training.*\['N', 'SMILES', 'Transmittance \(qualitative\)'\]"):
        read_smiles_table(path)
    empty = tmp_path / "empty_labels.csv"
    pd.DataFrame({"SMILES": ["CCO", "CCN"], "Transmittance_340": [None, None]}).to_csv(empty, index=False)
    with pytest.raises(ValueError, match=r"label column\(s\) \['Transmittance_340'\] hold no label"):
        read_smiles_table(empty)
    x2d = pd.DataFrame({"ID": ["a", "b"], "curated_SMILES": ["CCO", "CCN"], "f": [1.0, 2.0]})
    x3d = pd.DataFrame({"ID": ["a", "b"], "conf_id": [0, 0], "g": [1.0, 2.0]})
    x2d.to_csv(tmp_path / "t_2d.csv", index=False)
    x3d.to_csv(tmp_path / "t_3d.csv", index=False)
    with pytest.raises(ValueError, match=r"no label column found for training.*\['ID', 'curated_SMILES', 'f'\]"):
        read_euos25(tmp_path / "t_2d.csv", tmp_path / "t_3d.csv")


def test_leaderboard_layout_and_prediction_inputs(tmp_path):
    path = tmp_path / "euos25_challenge_test.csv"
    pd.DataFrame({"ID": ["t1", "t2"], "SMILES": ["CCO", "c1ccccc1"], "Transmittance(340)": [0, 1], "Transmittance(450)": [0, 0],
                  "Fluorescence(340/450)": [1, 0], "Fluorescence(>480)": [0, ""]}).to_csv(path, index=False)
    table = read_smiles_table(path)
    assert table["ids"] == ["t1", "t2"]
    np.testing.assert_array_equal(table["labels"][0], [0, 0, 1, 0])
    assert np.isnan(table["labels"][1, 3])
    assert read_molecules(path) == [("t1", "CCO"), ("t2", "c1ccccc1")]
    unlabelled = tmp_path / "test_unlabelled.csv"
    pd.DataFrame({"ID": ["t1"], "SMILES": ["CCO"]}).to_csv(unlabelled, index=False)
    assert read_molecules(unlabelled) == [("t1", "CCO")]
    smi = tmp_path / "in.smi"
    smi.write_text("# comment\nCCO ethanol\nc1ccccc1\n")
    assert read_molecules(smi) == [("ethanol", "CCO"), ("line3", "c1ccccc1")]


def test_data_source_finds_the_challenge_files(tmp_path):
    paths = write_task_files(tmp_path)
    assert data_source(str(tmp_path)) == ("euos25_tasks", sorted(paths))
    assert data_source([str(p) for p in paths])[0] == "euos25_tasks"
    assert data_source(str(paths[0]))[0] == "euos25_tasks"


def overlap(labels):
    return int(((labels[:, 1] == 1) & (labels[:, 2] == 1)).sum())


def test_rare_positive_sample_keeps_every_rare_positive():
    rng = np.random.default_rng(0)
    labels = np.zeros((1000, 3))
    labels[:, 0] = rng.random(1000) < 0.3
    labels[rng.choice(1000, 12, replace=False), 1] = 1  # 1.2 %: rare
    labels[rng.choice(1000, 30, replace=False), 2] = 1  # 3 %: rare
    rows, summary = rare_positive_sample(labels, 200, seed=1)
    assert len(rows) == 200 == len(set(rows)) and rows == sorted(rows)
    assert labels[rows, 1].sum() == 12 and labels[rows, 2].sum() == 30
    assert summary["rare_positives_kept"] == int(((labels[:, 1] == 1) | (labels[:, 2] == 1)).sum())
    assert summary["prevalence_sample"][1] > summary["prevalence_all"][1]
    weights = summary["inverse_probability_weight"]
    assert sorted(weights) == rows and summary["fill_probability"] == pytest.approx((200 - 42 + overlap(labels)) / (1000 - 42 + overlap(labels)))
    rare = (labels[:, 1] == 1) | (labels[:, 2] == 1)
    assert all(weights[i] == 1.0 for i in rows if rare[i]) and all(weights[i] == 1 / summary["fill_probability"] for i in rows if not rare[i])
    assert sum(weights.values()) == pytest.approx(1000)  # the weights restore the whole set's size
    assert rare_positive_sample(labels, 100, seed=1)[0] == sorted(set(rows) & set(rare_positive_sample(labels, 100, seed=1)[0]))  # nested
    with pytest.raises(ValueError, match=f"cannot keep the {summary['rare_positives_kept']} positives"):
        rare_positive_sample(labels, 20)


def test_molecules_rdkit_cannot_use_are_counted_and_reported(tmp_path):
    smiles = ["CCO", "C1CC", "CCCCCCCCCCCCCCCC", "c1ccccc1O", "CCN", "c1ccncc1", "CC(=O)O", "CCCl", "c1ccoc1", "OCCO"]
    path = tmp_path / "mols.csv"
    pd.DataFrame({"SMILES": smiles, "Transmittance_340": [0, 1, 1, 0, 1, 0, 0, 1, 0, 0]}).to_csv(path, index=False)
    featurizer = MILMolTokenizer(fingerprint_bits=32, num_conformers=2, max_atoms_3d=12)  # the C16 chain: 2D only
    splits = build_milmol_dataset(str(path), featurizer, split="random", cache_dir=tmp_path / "cache")
    assert splits["failed"]["smiles"] == ["C1CC"] and splits["notes"]["smiles"] == ["CCCCCCCCCCCCCCCC"]
    assert "more than max_atoms_3d=12" in splits["notes"]["note"][0]
    chain = next(r for name in ("train", "validation", "test") for r in splits[name] if r["smiles"] == "CCCCCCCCCCCCCCCC")
    assert sum(chain["conformer_mask"]) == 0 and len(chain["x2d"]) == featurizer.n_features_2d  # kept, 2D only
    assert build_summary(splits) | {} == {"source": "smiles", "sampling": None, "on_no_conformer": "2d_only",
                                          "excluded": 1, "two_d_only": 1, "fewer_conformers": 0}
    report = pd.read_csv(featurisation_report(splits, tmp_path / "report.csv"))
    assert report["outcome"].tolist() == ["excluded", "2D only"] and "does not parse" in report["reason"][0]
    excluded = build_milmol_dataset(str(path), featurizer, split="random", cache_dir=tmp_path / "cache", on_no_conformer="exclude")
    assert sorted(excluded["failed"]["smiles"]) == ["C1CC", "CCCCCCCCCCCCCCCC"] and "notes" not in excluded


def test_interrupted_featurisation_resumes_from_its_shards(tmp_path, monkeypatch):
    featurizer = MILMolTokenizer(fingerprint_bits=32, num_conformers=2)
    smiles = ["CCO", "CCN", "CCC", "c1ccccc1", "CCCl"]
    original = featurizer.iter_featurize

    def interrupted(molecules, **kwargs):
        for count, record in enumerate(original(molecules, **kwargs)):
            if count == 3:
                raise KeyboardInterrupt
            yield record

    monkeypatch.setattr(featurizer, "iter_featurize", interrupted)
    with pytest.raises(KeyboardInterrupt):
        featurize_cached(smiles, featurizer, cache_dir=tmp_path, progress=False, shard_size=2)
    seen = []

    def counting(molecules, **kwargs):
        molecules = list(molecules)
        seen.extend(molecules)
        return original(molecules, **kwargs)

    monkeypatch.setattr(featurizer, "iter_featurize", counting)
    records = featurize_cached(smiles + ["OCC"], featurizer, cache_dir=tmp_path, progress=False, shard_size=2)
    assert seen == ["CCC", "c1ccccc1", "CCCl"]  # the first shard (2 molecules) was kept; "OCC" is ethanol: cached
    assert [r["smiles"] for r in records] == smiles + ["OCC"] and records[-1]["canonical_smiles"] == "CCO"
    np.testing.assert_array_equal(records[-1]["x3d"], records[0]["x3d"])
