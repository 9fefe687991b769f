import numpy as np
import pytest

from trainers.mirlm.plots import plot_ism, plot_position_weights, plot_pr_curves

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def is_png(path):
    return path.exists() and path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 1000


def test_pr_curves(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    out = plot_pr_curves(labels, {"mirLM": labels + rng.normal(0, 0.3, 200), "seed-match": rng.random(200)},
                         tmp_path / "figs" / "pr.png")
    assert is_png(out)
    with pytest.raises(ValueError, match="both positive and negative"):
        plot_pr_curves(np.ones(5), {"x": np.ones(5)}, tmp_path / "bad.png")


def test_position_weight_heatmap_with_ragged_rows(tmp_path):
    weights = [np.full(50, 1 / 50), np.r_[np.zeros(20), np.ones(8) / 8, np.zeros(52)], np.full(30, 1 / 30)]
    out = plot_position_weights(weights, [0, 1, 0], tmp_path / "w.png", site_spans=[(-1, -1), (20, 27), (-1, -1)],
                                row_names=["neg-a", "pos", "neg-b"])
    assert is_png(out)
    with pytest.raises(ValueError, match="one weight row per label"):
        plot_position_weights(weights, [0, 1], tmp_path / "bad.png")


def test_ism_heatmap(tmp_path):
    sequence = "ACGT" * 40
    delta = np.random.default_rng(1).normal(0, 0.05, (len(sequence), 4))
    assert is_png(plot_ism(delta, sequence, tmp_path / "ism.png", site_span=(10, 17)))
    with pytest.raises(ValueError, match="shape"):
        plot_ism(delta[:, :3], sequence, tmp_path / "bad.png")
