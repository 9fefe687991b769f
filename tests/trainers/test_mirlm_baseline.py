import numpy as np

from datasets_scripts.mirlm import build_mirlm_dataset
from trainers.mirlm.baseline import SITE_SCORES, SeedMatchBaseline

LET7A = "TGAGGTAGTAGGTTGTATAGTT"
SITES = {"8mer": "CTACCTCA", "7mer-m8": "CTACCTC", "7mer-A1": "TACCTCA", "6mer": "TACCTC", "offset-6mer": "CTACCT"}


def test_scores_follow_targetscan_efficacy_and_threshold_is_7mer_a1():
    baseline = SeedMatchBaseline()
    scores = [baseline.score("GG" + core + "GG", LET7A) for core in SITES.values()]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 5
    assert baseline.score("GGGGGGGGGG", LET7A) == 0.0
    # the best of two sites wins, and its span is predicted
    mrna = "TACCTCGGGGCTACCTCA"
    assert baseline.score(mrna, LET7A) == SITE_SCORES["8mer"]
    assert baseline.predict_span(mrna, LET7A) == (10, 17)
    assert baseline.predict_span("GGGG", LET7A) is None
    pred = baseline.predict(["GG" + SITES["7mer-A1"] + "GG", "GG" + SITES["6mer"] + "GG", "GGGG"], [LET7A] * 3)
    assert pred["binds"].tolist() == [True, False, False]
    assert pred["pred_start"].tolist() == [2, 2, -1] and pred["pred_end"].tolist() == [8, 7, -1]
    assert pred["pointer"].tolist() == [5, 4, -1]
    assert pred["site_type"] == ["7mer-A1", "6mer", "none"]


def test_baseline_is_good_but_blind_to_non_canonical_sites():
    test = build_mirlm_dataset(size="tiny", seed=0)["test"][:]
    metrics = SeedMatchBaseline().evaluate(test)
    assert 0.8 < metrics["auroc"] < 0.97  # canonical positives ranked first, non-canonical tied with negatives
    per_type = metrics["per_site_type"]
    assert per_type["non-canonical"]["accuracy"] == 0.0
    assert per_type["8mer"]["span_exact_match"] == 1.0 and per_type["8mer"]["accuracy"] == 1.0
    assert per_type["6mer"]["accuracy"] == 0.0  # below the decision threshold, yet ranked above negatives
    assert per_type["6mer"]["auroc"] == 1.0
    negatives = np.asarray(test["label"]) == 0
    assert metrics["n"] == len(test["label"]) and negatives.any()
    assert all(per_type[t]["accuracy"] == 1.0 for t in ("none", "near-mismatch", "near-wobble", "near-shifted") if t in per_type)
