"""milmol featurizer: fixed feature order, error records, determinism, padding, save/load of its settings."""

import numpy as np
import pytest

from modeling.milmol import tokenization_milmol
from modeling.milmol.features_milmol import DESCRIPTORS_2D, feature_names_3d, signed_log1p
from modeling.milmol.tokenization_milmol import MILMolTokenizer


@pytest.fixture(scope="module")
def featurizer():
    return MILMolTokenizer(fingerprint_bits=64, num_conformers=4)


def test_feature_layout_is_documented_order(featurizer):
    assert featurizer.feature_names_2d[: len(DESCRIPTORS_2D)] == list(DESCRIPTORS_2D)
    assert featurizer.feature_names_2d[len(DESCRIPTORS_2D)] == "morgan_0" and featurizer.n_features_2d == len(DESCRIPTORS_2D) + 64
    assert featurizer.feature_names_3d == feature_names_3d(featurizer.descriptors_3d)
    assert featurizer.feature_names_3d[:3] == ["PMI1", "PMI2", "PMI3"] and "AUTOCORR3D_0" in featurizer.feature_names_3d


def test_descriptor_values_land_where_named(featurizer):
    from rdkit import Chem
    from rdkit.Chem import Descriptors

    record = featurizer.featurize("c1ccccc1O")[0]
    mol = Chem.MolFromSmiles("Oc1ccccc1")
    for name in ("MolWt", "TPSA", "NumHDonors", "fr_phenol"):
        index = featurizer.feature_names_2d.index(name)
        assert record["x2d"][index] == pytest.approx(signed_log1p(getattr(Descriptors, name)(mol)), rel=1e-6)


def test_error_records_never_crash_the_batch(featurizer):
    records = featurizer.featurize(["CCO", "C1CC", "", "c1ccccc1N(=O)=O=O", "CCN"])
    assert [r["error"] is None for r in records] == [True, False, False, False, True]
    assert records[1]["error"] == "SMILES does not parse" and records[2]["error"] == "empty SMILES"
    assert "sanitisation failed" in records[3]["error"]
    with pytest.raises(ValueError, match=r"\(1, 'C1CC', 'SMILES does not parse'\)"):
        featurizer.pad(records)


def test_conformer_bags_are_seeded_and_parallel_equals_serial(featurizer):
    smiles = ["CCCCO", "c1ccc(cc1)-c1ccccc1", "CC(=O)Oc1ccccc1C(=O)O"]
    serial = featurizer.featurize(smiles, return_coordinates=True)
    again = featurizer.featurize(smiles, num_proc=2, return_coordinates=True)
    for a, b in zip(serial, again):
        assert a["num_conformers"] == 4 and a["x3d"].shape == (4, featurizer.n_features_3d)
        np.testing.assert_array_equal(a["x3d"], b["x3d"])
        np.testing.assert_array_equal(a["coordinates"], b["coordinates"])
    assert serial[1]["coordinates"].shape == (4, 12, 3)  # heavy atoms only
    other_seed = MILMolTokenizer(fingerprint_bits=64, num_conformers=4, conformer_seed=7).featurize(smiles[:1])[0]
    assert not np.array_equal(other_seed["x3d"], serial[0]["x3d"])


def test_pad_masks_and_refuses_oversized_bags(featurizer):
    records = featurizer.featurize(["C", "CCCCCCO"])
    batch = featurizer.pad(records)
    n_small = records[0]["num_conformers"]
    assert batch["conformer_mask"][0].sum() == n_small and batch["conformer_mask"][1].sum() == 4
    assert batch["x3d"][0, n_small:].abs().sum() == 0
    with pytest.raises(ValueError, match="conformer bags must hold"):
        featurizer.pad(records, max_conformers=2)


def test_settings_round_trip(tmp_path):
    featurizer = MILMolTokenizer(fingerprint_bits=32, num_conformers=2, conformer_seed=3, mmff_relax=True,
                                 descriptors_3d=["PBF", "NPR1", "WHIM"])
    featurizer.save_pretrained(tmp_path)
    loaded = MILMolTokenizer.from_pretrained(tmp_path)
    assert loaded.settings == featurizer.settings and loaded.feature_names_3d == featurizer.feature_names_3d
    assert loaded.n_features_3d == 2 + 114
    np.testing.assert_array_equal(loaded.featurize("CCO")[0]["x3d"], featurizer.featurize("CCO")[0]["x3d"])


def test_precomputed_models_refuse_smiles_and_missing_rdkit_is_explained(monkeypatch):
    precomputed = MILMolTokenizer(feature_source="precomputed", feature_names_2d=["a", "b"], feature_names_3d=["c"])
    with pytest.raises(ValueError, match="precomputed feature tables"):
        precomputed.featurize("CCO")
    batch = precomputed.pad([{"x2d": [1.0, 2.0], "x3d": [[0.5], [0.25]]}])
    assert batch["x3d"].shape == (1, 2, 1)
    monkeypatch.setattr(tokenization_milmol, "Chem", None)
    with pytest.raises(ImportError, match="pip install rdkit"):
        MILMolTokenizer(fingerprint_bits=8).featurize("CCO")


def test_pipeline_reports_errors_and_precomputed_inputs(tmp_path):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    import hf_models
    from hf_models import export_untrained

    del hf_models
    folder = export_untrained("milmol", "tiny", tmp_path / "repo")
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    featurizer = AutoTokenizer.from_pretrained(folder)
    predict = pipeline("molecule-optical-properties", model=model, tokenizer=featurizer)
    good, bad = predict(["c1ccc2ccccc2c1", "C1CC"])
    assert bad["error"] == "SMILES does not parse" and bad["probabilities"] is None
    record = featurizer.featurize("c1ccc2ccccc2c1")[0]
    again = predict({"smiles": "naphthalene", "x2d": record["x2d"], "x3d": record["x3d"]})
    assert again["probabilities"] == good["probabilities"]
    with torch.no_grad():
        direct = torch.sigmoid(model(**featurizer.encode_molecules(["c1ccc2ccccc2c1"])).logits)[0].tolist()
    assert list(good["probabilities"].values()) == direct
    assert good["conformer_attention"].shape == (4, record["num_conformers"])
    with pytest.raises(ValueError, match="one molecule at a time"):
        predict(["CCO", "CCN"], batch_size=2)
