"""The effect-learnability diagnostic: its features carry the site and its neighbours; the report is complete."""

import numpy as np

from trainers.mutation2text.learnability import RESIDUES, effect_learnability, mutation_features


def test_features_hold_the_residues_around_the_site():
    wild_type = "MKCAACDEH"
    features = mutation_features(wild_type, "C3S", window=2).reshape(-1, len(RESIDUES))
    assert features.shape == (3 + 5, 20)
    assert features[0, RESIDUES.index("C")] == 1 and features[1, RESIDUES.index("S")] == 1
    for offset, residue in zip(range(-2, 3), "MKCAA"):
        assert features[3 + offset + 2, RESIDUES.index(residue)] == 1
    text_only = mutation_features(wild_type, "C3S", window=0).reshape(-1, len(RESIDUES))
    assert text_only.shape == (3, 20) and np.array_equal(text_only, features[:3])
    # beyond the N-terminus: no residue
    assert features.reshape(-1, 20)[3].sum() == 1 and mutation_features(wild_type, "M1A", 2).reshape(-1, 20)[3].sum() == 0


def test_report_on_the_tiny_data():
    report = effect_learnability("tiny", seed=0, window=3)
    assert report["n_train"] == 24 and report["n_test"] == 8
    assert all(0.0 <= report[k] <= 1.0 for k in ("text", "protein", "majority_class"))
