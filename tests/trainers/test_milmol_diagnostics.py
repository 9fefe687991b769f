"""milmol attention diagnostics: sharpness numbers, the uniform-attention ablation, the responsible-conformer probe."""

import numpy as np
import torch

from hf_models import preset_config
from modeling.milmol.modeling_milmol import MILMolForPropertyPrediction
from trainers.milmol.diagnostics import attention_sharpness, probe, uniform_attention


def test_attention_sharpness_tells_flat_from_picking():
    mask = np.array([[1, 1, 1, 1], [1, 1, 0, 0]])
    responsible = np.array([[1, 0, 0, 0], [0, 1, 0, 0]])
    dependent, mixed = np.array([[True], [True]]), np.array([True, True])
    flat = np.array([[[0.25, 0.25, 0.25, 0.25]], [[0.5, 0.5, 0.0, 0.0]]])
    picking = np.array([[[1.0, 0.0, 0.0, 0.0]], [[0.0, 1.0, 0.0, 0.0]]])
    a, b = attention_sharpness(flat, mask, responsible, dependent, mixed), attention_sharpness(picking, mask, responsible, dependent, mixed)
    assert abs(a["normalised_entropy"] - 1.0) < 1e-9
    assert b["normalised_entropy"] == 0.0 and b["weight_on_responsible"] == 1.0 and b["weight_on_others"] == 0.0
    assert abs(a["weight_on_responsible"] - 0.375) < 1e-9 and abs(a["uniform_weight"] - 0.375) < 1e-9


def test_uniform_attention_ablation_is_uniform_and_restored():
    model = MILMolForPropertyPrediction(preset_config("milmol", "tiny", attn_dropout=0.0)).eval()
    for member in model.milmol.members:
        torch.nn.init.normal_(member.pool.queries, std=3.0)  # a sharp, non-uniform attention
    config = model.config
    x2d, x3d = torch.randn(2, config.n_features_2d), torch.randn(2, 3, config.n_features_3d)
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    with torch.no_grad():
        before = model(x2d, x3d, mask)
        with uniform_attention(model):
            flat = model(x2d, x3d, mask)
        after = model(x2d, x3d, mask)
    expected = torch.tensor([[1 / 3] * 3, [0.5, 0.5, 0.0]])
    torch.testing.assert_close(flat.conformer_attention, expected[:, None, :].expand(-1, 4, -1))
    assert not torch.allclose(before.conformer_attention, flat.conformer_attention)
    torch.testing.assert_close(before.logits, after.logits)  # the learned attention is back


def test_probe_finds_a_planted_direction():
    rng = np.random.default_rng(0)

    def rows(n_bags):
        features, labels, groups = [], [], []
        for g in range(n_bags):
            y = np.zeros(6)
            y[rng.integers(6)] = 1
            x = rng.normal(size=(6, 5))
            x[:, 0] += 3 * y
            features.append(x), labels.append(y), groups.append(np.full(6, g))
        x = np.concatenate(features)
        return x, x, np.concatenate(labels), np.concatenate(groups)

    result = probe(rows(40), rows(20), 0)
    assert result["roc_auc"] > 0.9 and result["top_is_responsible"] > 0.8 and abs(result["chance"] - 1 / 6) < 1e-9
