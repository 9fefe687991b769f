"""The NNLS baseline and the mixture metrics, by hand."""
import numpy as np
import pytest

from trainers.tissuebert.deconvolution import minor_tissues, mixture_metrics, nnls_proportions, real_mixture_report


def test_nnls_recovers_a_mixture_and_skips_missing_probes():
    reference = np.random.default_rng(0).random((30, 4))
    truth = np.array([[0.6, 0.3, 0.1, 0.0], [0.0, 1.0, 0.0, 0.0]])
    means = truth @ reference.T
    means[0, :5] = np.nan  # missing probes are left out, not read as 0
    np.testing.assert_allclose(nnls_proportions(reference, means), truth, atol=1e-8)
    with pytest.raises(ValueError, match="sample 0: no region"):
        nnls_proportions(reference, np.full((1, 30), np.nan))


def test_mixture_metrics_by_hand():
    truth = np.array([[0.8, 0.0, 0.15, 0.05], [0.5, 0.5, 0.0, 0.0]])
    predicted = np.array([[0.8, 0.02, 0.18, 0.0], [0.6, 0.4, 0.0, 0.0]])
    m = mixture_metrics(truth, predicted, background=[0])
    assert m["mae"] == pytest.approx((0.02 + 0.03 + 0.05 + 0.1 + 0.1) / 8)
    assert m["max_error"] == pytest.approx(0.1)
    # minors: sample 0 tissues 2, 3 (0 is the background and the largest); sample 1 tissue 1 (0 is the largest)
    assert minor_tissues(truth, [0]).sum() == 3 and m["minor_recall"] == pytest.approx(2 / 3)
    assert m["false_tissues"] == pytest.approx(0.5)  # tissue 1 in sample 0 called at 2%
    report = real_mixture_report(["a", "b"], truth, predicted, truth, ["t0", "t1", "t2", "t3"])
    assert report["samples"][0]["model"]["missed"] == ["t3"] and report["samples"][0]["model"]["false"] == ["t1"]
    assert report["nnls"]["mae"] == 0.0
