import numpy as np

from trainers.mirlm.evaluation import choose_threshold


def _accuracy(labels, probs, threshold):
    return np.mean((probs >= threshold) == labels)


def test_choose_threshold_reaches_the_best_accuracy():
    rng = np.random.default_rng(0)
    for _ in range(20):
        labels = rng.integers(0, 2, 50)
        probs = np.clip(labels * 0.3 + rng.random(50) * 0.7, 0, 1)
        threshold = choose_threshold(labels, probs)
        best = max(_accuracy(labels, probs, t) for t in np.concatenate([probs, [1.1]]))
        assert _accuracy(labels, probs, threshold) == best


def test_choose_threshold_separable_case_lies_between_classes():
    labels = np.array([0, 0, 1, 1])
    probs = np.array([0.1, 0.2, 0.7, 0.9])
    assert 0.2 < choose_threshold(labels, probs) < 0.7
