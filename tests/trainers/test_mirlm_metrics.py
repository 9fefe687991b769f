import json

import pytest

from trainers.mirlm.metrics import flatten_metrics, mirlm_metrics


def example():
    return dict(
        labels=[1, 1, 1, 0, 0, 0],
        probs=[0.9, 0.8, 0.3, 0.4, 0.2, 0.1],
        threshold=0.5,
        site_types=["8mer", "8mer", "non-canonical", "none", "none", "near-mismatch"],
        true_start=[10, 20, 5, -1, -1, -1],
        true_end=[17, 27, 12, -1, -1, -1],
        pred_start=[10, 22, -1, 3, -1, -1],
        pred_end=[17, 29, -1, 9, -1, -1],
        pointer=[14, 30, 0, 5, 7, 8],
    )


def test_overall_metrics_by_hand():
    m = mirlm_metrics(**example())
    # ranking: positives 0.9, 0.8, 0.3 vs negatives 0.4, 0.2, 0.1 -> 8 of 9 pairs ordered
    assert m["auroc"] == pytest.approx(8 / 9)
    assert m["average_precision"] == pytest.approx((1 + 1 + 3 / 4) / 3)
    assert m["accuracy"] == pytest.approx(5 / 6)  # only the 0.3 positive is wrong
    # spans over the 3 positives: exact, shifted by 2 (overlap 6 / union 10), nothing predicted
    assert m["span_exact_match"] == pytest.approx(1 / 3)
    assert m["span_overlap"] == pytest.approx((1 + 6 / 10 + 0) / 3)
    assert m["pointing_accuracy"] == pytest.approx(1 / 3)  # 14 in [10, 17]; 30 and 0 miss
    assert m["n"] == 6
    json.dumps(m)  # no NaN: undefined entries are omitted


def test_per_site_type_contrasts_single_class_types_with_the_other_class():
    per = mirlm_metrics(**example())["per_site_type"]
    assert per["8mer"]["auroc"] == 1.0 and per["8mer"]["accuracy"] == 1.0 and per["8mer"]["n"] == 2
    assert per["non-canonical"]["auroc"] == pytest.approx(2 / 3)  # 0.3 vs 0.4, 0.2, 0.1
    assert per["non-canonical"]["span_overlap"] == 0.0
    assert per["none"]["auroc"] == pytest.approx(5 / 6)  # 0.4, 0.2 vs all positives
    assert per["none"]["accuracy"] == 1.0
    assert "span_overlap" not in per["none"]  # no positive sites in a negative type


def test_mixed_type_uses_its_own_rows_and_single_class_overall_omits_ranking():
    per = mirlm_metrics([1, 0, 1], [0.9, 0.1, 0.2], 0.5, ["unknown"] * 3)["per_site_type"]
    assert per["unknown"]["auroc"] == 1.0
    only_positive = mirlm_metrics([1, 1], [0.2, 0.9], 0.5)
    assert "auroc" not in only_positive and only_positive["accuracy"] == 0.5
    assert "span_exact_match" not in only_positive  # no span inputs given


def test_flatten_and_validation():
    flat = flatten_metrics(mirlm_metrics(**example()), prefix="eval_")
    assert flat["eval_per_site_type/8mer/auroc"] == 1.0 and "eval_auroc" in flat
    assert all(not isinstance(v, dict) for v in flat.values())
    with pytest.raises(ValueError, match="equal length"):
        mirlm_metrics([1, 0], [0.5])
    with pytest.raises(ValueError, match="0 or 1"):
        mirlm_metrics([2, 0], [0.5, 0.1])
    with pytest.raises(ValueError, match="true_start must have one entry per row"):
        mirlm_metrics([1, 0], [0.5, 0.1], true_start=[1], true_end=[2, 3])
    with pytest.raises(ValueError, match="both pred_start and pred_end"):
        mirlm_metrics([1, 0], [0.5, 0.1], true_start=[1, -1], true_end=[2, -1], pred_start=[1, 1])
