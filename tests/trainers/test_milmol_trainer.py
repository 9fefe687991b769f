"""milmol training pieces: sampler weights, metrics, the HPO space and objective, the baselines."""

import numpy as np
import optuna
import pytest
from datasets import Dataset

from modeling.milmol.configuration_milmol import MILMolConfig
from trainers.milmol.baseline import Logistic2DBaseline, mean_over_conformers
from trainers.milmol.hpo import config_overrides_from_params, hp_space, suggest_model_params
from trainers.milmol.metrics import hpo_score, task_metrics, top_conformer_hits
from trainers.milmol.trainer import sample_weights


def test_sample_weights_oversample_rare_task_positives_with_a_cap():
    labels = np.zeros((100, 2))
    labels[:40, 0] = 1  # common task (40 %)
    labels[[0, 50, 51], 1] = 1  # rare task (3 %)
    labels[99, 1] = np.nan
    weights = sample_weights(labels, rare_oversample_mult=50.0, rare_prev_thr=0.05, sample_weight_cap=8.0)
    assert weights[[0, 50, 51]].tolist() == [8.0, 8.0, 8.0]
    assert weights[1] == 1.0 and weights[99] == 1.0
    assert sample_weights(labels, 50.0, 0.01, 8.0).max() == 1.0  # no task under 1 %: nothing is rare


def test_task_metrics_macro_min_and_undefined_tasks():
    labels = np.array([[1, 0, 0], [0, 0, np.nan], [1, 0, 1], [0, 0, 0]], dtype=float)
    scores = np.array([[0.9, 0.1, 0.2], [0.2, 0.3, 0.9], [0.8, 0.2, 0.4], [0.7, 0.1, 0.3]])
    metrics = task_metrics(labels, scores, ["a", "b", "c"])
    assert metrics["ap_a"] == pytest.approx(1.0) and metrics["ap_b"] is None  # no positive for b
    assert metrics["ap_c"] == pytest.approx(1.0)  # the NaN row is ignored
    assert metrics["macro_ap"] == pytest.approx(1.0) and metrics["n_pos_a"] == 2
    assert hpo_score({"eval_macro_ap": 0.8, "eval_min_ap": 0.4}, 0.25, prefix="eval_") == pytest.approx(0.7)


def test_top_conformer_hit_rate_counts_positive_conformer_dependent_pairs():
    attention = np.array([[[0.1, 0.8, 0.1]], [[0.6, 0.3, 0.1]], [[0.9, 0.1, 0.0]]])
    mask = np.array([[1, 1, 1], [1, 1, 1], [1, 1, 0]])
    responsible = np.array([[0, 1, 0], [0, 1, 1], [1, 0, 0]])
    labels = np.array([[1.0], [1.0], [0.0]])
    result = top_conformer_hits(attention, mask, responsible, np.array([1, 2, 0]), labels, np.array([True, True, True]))
    assert result["top_conformer_pairs"] == 2  # molecule 2 is negative
    assert result["top_conformer_hit_rate"] == 0.5 and result["top_conformer_exact_rate"] == 0.5
    assert result["top_conformer_chance"] == pytest.approx((1 / 3 + 2 / 3) / 2)
    by_rule = top_conformer_hits(attention, mask, responsible, np.array([1, 2, 0]), labels, np.array([True, True, True]),
                                 np.array([[True], [False], [True]]))  # molecule 1's label does not rest on a conformer,
    assert by_rule["top_conformer_pairs"] == 2 and by_rule["top_conformer_hit_rate"] == 1.0  # molecule 2's (negative) does


def test_search_space_covers_the_seed_and_builds_valid_configs():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    for _ in range(8):
        trial = study.ask()
        try:
            suggested = suggest_model_params(trial, "seed")
        except optuna.TrialPruned:
            continue
        arguments = hp_space(trial, "seed")
        config = MILMolConfig(**suggested["config"])
        assert config.inst_hidden % config.attn_heads == 0
        assert 8e-5 <= arguments["learning_rate"] <= 8e-4 and arguments["gradient_accumulation_steps"] in (8, 16)
        assert 10 <= min(config.posw_clip) and max(config.posw_clip) <= 200 and len(config.gamma) == 4
        config_changes, trainer_options, argument_changes = config_overrides_from_params(trial.params)
        assert config_changes["lam"] == config.lam and set(trainer_options) == {"rare_oversample_mult", "rare_prev_thr",
                                                                                  "sample_weight_cap", "min_w"}
        assert argument_changes["per_device_train_batch_size"] in (128, 256, 512)
    assert {"mol_hidden", "posw_clip_t3", "gamma_t0", "lam_t2", "lam_floor", "lambda_aux_fluo", "rare_prev_thr",
            "min_w", "activation", "lr", "batch_size"} <= set(trial.params)


def test_baselines():
    rng = np.random.default_rng(0)
    x2d = rng.normal(size=(80, 5))
    labels = np.stack([(x2d[:, 0] > 0).astype(float), np.zeros(80)], axis=1)
    probs = Logistic2DBaseline().fit(x2d, labels).predict_proba(x2d)
    assert task_metrics(labels, probs, ["a", "b"])["ap_a"] > 0.95 and np.all(probs[:, 1] == 0.0)
    split = Dataset.from_dict({"x3d": [[[1.0, 2.0], [3.0, 4.0], [0.0, 0.0]]], "conformer_mask": [[1, 1, 0]]})
    single = mean_over_conformers(split)[0]
    assert single["x3d"][0] == [2.0, 3.0] and single["conformer_mask"] == [1, 0, 0]


def test_member_state_assembles_independent_networks_into_one_ensemble():
    import torch

    from hf_models import preset_config
    from modeling.milmol.modeling_milmol import MILMolForPropertyPrediction
    from trainers.milmol.training import member_state

    single_config = preset_config("milmol", "tiny", ensemble_size=1)
    members = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        members.append(MILMolForPropertyPrediction(single_config).eval())
    ensemble = MILMolForPropertyPrediction(preset_config("milmol", "tiny", ensemble_size=2)).eval()
    for index, member in enumerate(members):
        ensemble.load_state_dict(member_state(ensemble, member, index))
    x2d, x3d = torch.randn(3, single_config.n_features_2d), torch.randn(3, 2, single_config.n_features_3d)
    with torch.no_grad():
        outputs = [m(x2d, x3d) for m in members]
        combined = ensemble(x2d, x3d)
    assert not torch.allclose(outputs[0].logits, outputs[1].logits)
    torch.testing.assert_close(combined.logits, (outputs[0].logits + outputs[1].logits) / 2)
    torch.testing.assert_close(combined.aux_fluo, (outputs[0].aux_fluo + outputs[1].aux_fluo) / 2)


def test_within_bag_std_is_the_spread_around_each_bag_mean():
    from trainers.milmol.training import within_bag_std

    x3d = np.zeros((2, 3, 2))
    x3d[0, :2, 0] = [1.0, 3.0]  # bag 0: two conformers, feature 0 differs by +-1 around the mean
    x3d[1, :, 0] = [10.0, 10.0, 10.0]  # bag 1: three identical conformers (a large value, no spread)
    x3d[0, 2] = 99.0  # padding: ignored
    split = Dataset.from_dict({"x3d": x3d.tolist(), "conformer_mask": [[1, 1, 0], [1, 1, 1]]})
    std = within_bag_std(split)
    assert std[0] == pytest.approx(np.sqrt(2 / 5))  # squared deviations 1 + 1 + 0 + 0 + 0 over 5 conformers
    assert std[1] == 1.0  # no within-bag spread: left unscaled
