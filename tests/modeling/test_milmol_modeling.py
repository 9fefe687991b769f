"""milmol config checks, network shapes and invariances, attention maps and the seed's losses."""

import pytest
import torch

from hf_models import preset_config
from modeling.milmol.configuration_milmol import MILMolConfig
from modeling.milmol.layers_milmol import ResidualMLPEmbedder, TaskAttentionPool
from modeling.milmol.losses_milmol import masked_regression_loss, multitask_focal_loss
from modeling.milmol.modeling_milmol import MILMolForPropertyPrediction, MILMolModel


def _batch(config, sizes=(3, 1, 2), seed=0):
    generator = torch.Generator().manual_seed(seed)
    width = max(sizes)
    x3d = torch.randn(len(sizes), width, config.n_features_3d, generator=generator)
    mask = torch.zeros(len(sizes), width, dtype=torch.long)
    for i, n in enumerate(sizes):
        mask[i, :n] = 1
        x3d[i, n:] = 0
    return {"x2d": torch.randn(len(sizes), config.n_features_2d, generator=generator), "x3d": x3d, "conformer_mask": mask}


@pytest.fixture
def config():
    return preset_config("milmol", "tiny", mol_dropout=0.0, inst_dropout=0.0, attn_dropout=0.0, mixer_dropout=0.0,
                         drop_path_rate=0.0)


def test_config_rejects_what_the_seed_rules_out():
    with pytest.raises(ValueError, match=r"inst_hidden \(30\) must be divisible by attn_heads \(8\)"):
        MILMolConfig(inst_hidden=30, attn_heads=8)
    with pytest.raises(ValueError, match="attn_topk"):
        MILMolConfig(pool_source="attn_out", tie_mha_v=False, attn_topk=2)
    with pytest.raises(ValueError, match="activation"):
        MILMolConfig(activation="Tanh")
    with pytest.raises(ValueError, match="gamma needs one value per task"):
        MILMolConfig(gamma=[1.0, 2.0])
    with pytest.raises(ValueError, match="lam_floor"):
        MILMolConfig(lam_floor=1.5)


def test_lambda_normalisation_follows_the_seed():
    config = MILMolConfig(lam=[0.25, 1.0, 1.0, 3.0], lam_floor=0.5, lam_ceil=1.5)
    # mean 1.3125 -> [0.19, 0.76, 0.76, 2.29] -> clipped [0.5, 0.76, 0.76, 1.5] -> mean-normalised
    raw = [0.25 / 1.3125, 1 / 1.3125, 1 / 1.3125, 3 / 1.3125]
    clipped = [min(max(v, 0.5), 1.5) for v in raw]
    expected = [v / (sum(clipped) / 4) for v in clipped]
    assert config.normalized_lam() == pytest.approx(expected)
    assert sum(config.normalized_lam()) / 4 == pytest.approx(1.0)


def test_shapes_and_attention_maps(config):
    model = MILMolForPropertyPrediction(config).eval()
    batch = _batch(config)
    out = model(**batch)
    assert out.logits.shape == (3, 4) and out.aux_abs.shape == (3, 2) and out.aux_fluo.shape == (3, 4)
    attention = out.conformer_attention
    assert attention.shape == (3, 4, 3)
    torch.testing.assert_close(attention.sum(-1), torch.ones(3, 4))
    assert torch.all(attention[batch["conformer_mask"][:, None, :].expand_as(attention) == 0] == 0)
    assert torch.all(attention[1, :, 0] == 1)  # a bag of one conformer


def test_padding_does_not_change_predictions(config):
    model = MILMolForPropertyPrediction(config).eval()
    batch = _batch(config, sizes=(2, 2))
    padded = {k: v.clone() for k, v in batch.items()}
    padded["x3d"] = torch.cat([batch["x3d"], torch.randn(2, 3, config.n_features_3d)], dim=1)  # garbage in padding
    padded["conformer_mask"] = torch.cat([batch["conformer_mask"], torch.zeros(2, 3, dtype=torch.long)], dim=1)
    with torch.no_grad():
        torch.testing.assert_close(model(**batch).logits, model(**padded).logits)


def test_conformer_order_does_not_matter(config):
    model = MILMolForPropertyPrediction(config).eval()
    batch = _batch(config, sizes=(3,))
    permuted = dict(batch, x3d=batch["x3d"][:, [2, 0, 1]])
    with torch.no_grad():
        a, b = model(**batch), model(**permuted)
    torch.testing.assert_close(a.logits, b.logits)
    torch.testing.assert_close(a.conformer_attention[..., [2, 0, 1]], b.conformer_attention)


@pytest.mark.parametrize("options", [
    dict(pool_source="inputs", tie_mha_v=False),
    dict(pool_source="attn_out", tie_mha_v=False, mean_pool_blend=0.3),
    dict(attn_topk=1, learn_attn_temperature=True, attn_temperature=0.5),
    dict(encoder_gating=False, activation="Mish", mean_pool_blend=0.5),
])
def test_pool_options_run_and_train(options):
    config = preset_config("milmol", "tiny", **options)
    model = MILMolForPropertyPrediction(config).train()
    batch = _batch(config)
    out = model(**batch, labels=torch.tensor([[1.0, 0, 0, 1]] * 3))
    out.loss.backward()
    assert torch.isfinite(out.loss)
    assert model.milmol.members[0].pool.queries.grad is not None and model.milmol.members[0].pool.queries.grad.abs().sum() > 0
    if options.get("learn_attn_temperature"):
        assert model.milmol.members[0].pool.log_temperature.grad is not None


def test_topk_pools_only_the_top_conformers():
    pool = TaskAttentionPool(8, 2, 2, 0.0, temperature=1.0, learn_temperature=False, pool_source="inputs",
                             tie_mha_v=False, topk=1, mean_pool_blend=0.0, eps=1e-5).eval()
    torch.nn.init.normal_(pool.queries, std=1.0)
    x = torch.randn(1, 4, 8)
    mask = torch.ones(1, 4, dtype=torch.bool)
    pooled, attention = pool(x, mask)
    top = attention.argmax(-1)[0]
    expected = torch.stack([pool.value(x[0, top[t]]) for t in range(2)])
    torch.testing.assert_close(pooled[0], expected)


@pytest.mark.parametrize("topk,trained", [(1, False), (2, True), (0, True)])
def test_topk_attention_gets_gradient_only_when_it_keeps_several(topk, trained):
    # top-1 renormalises its one weight to 1, so the loss cannot move the queries / keys (the config's docstring says so)
    torch.manual_seed(0)
    pool = TaskAttentionPool(8, 2, 2, 0.0, temperature=1.0, learn_temperature=False, pool_source="inputs",
                             tie_mha_v=False, topk=topk, mean_pool_blend=0.0, eps=1e-5)
    torch.nn.init.normal_(pool.queries, std=1.0)
    pooled, _ = pool(torch.randn(3, 4, 8), torch.ones(3, 4, dtype=torch.bool))
    pooled.pow(2).sum().backward()
    assert (pool.queries.grad.abs().max() > 1e-6) == trained


def test_embedder_starts_near_identity_and_drops_paths():
    embedder = ResidualMLPEmbedder(6, 6, 3, 0.0, ffn_mult=2.0, drop_path_rate=0.5, scale_init=0.1, warmup_blocks=2,
                                   gated=True, activation="GELU", eps=1e-5)
    scales = [float(b.residual_scale[0].detach()) for b in embedder.blocks]
    assert scales == pytest.approx([0.1 / 3, 0.2 / 3, 0.1])  # warm-up of the first blocks
    assert [b.drop_path_rate for b in embedder.blocks] == pytest.approx([0.0, 0.25, 0.5])  # linear over depth
    for block in embedder.blocks:  # what the model's _init_weights does to the last block only
        torch.nn.init.zeros_(block.ffn.fc2.weight), torch.nn.init.zeros_(block.ffn.fc2.bias)
    embedder.eval()
    x = torch.randn(4, 6)
    torch.testing.assert_close(embedder(x), embedder.input_norm(x))


def test_last_ff2_is_zero_initialised(config):
    model = MILMolForPropertyPrediction(config)
    for embedder in (model.milmol.members[0].mol_enc, model.milmol.members[0].inst_enc, model.milmol.members[0].mixer):
        assert torch.count_nonzero(embedder.blocks[-1].ffn.fc2.weight) == 0
        assert torch.count_nonzero(embedder.blocks[0].ffn.fc1.weight) > 0


def test_focal_loss_matches_the_formula():
    logits = torch.tensor([[2.0, -1.0], [0.5, 0.0], [-3.0, 1.0]])
    labels = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    weights = torch.tensor([[1.0, 1.0], [2.0, 0.0], [1.0, 1.0]])
    pos_weight, gamma = torch.tensor([3.0, 1.0]), torch.tensor([2.0, 0.0])
    got = multitask_focal_loss(logits, labels, weights, pos_weight, gamma)
    expected = []
    for t in range(2):
        total = norm = 0.0
        for b in range(3):
            p = torch.sigmoid(logits[b, t])
            y = labels[b, t]
            bce = -(pos_weight[t] * y * torch.log(p) + (1 - y) * torch.log(1 - p))
            p_t = p if y == 1 else 1 - p
            total += weights[b, t] * (1 - p_t) ** gamma[t] * bce
            norm += weights[b, t]
        expected.append(total / norm)
    torch.testing.assert_close(got, torch.stack(expected))


def test_regression_loss_ignores_missing_targets():
    predictions = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    targets = torch.tensor([[0.0, float("nan")], [1.0, 4.0]])
    mask = ~torch.isnan(targets)
    assert masked_regression_loss(predictions, targets, mask).item() == pytest.approx((1 + 4 + 0) / 3)
    weighted = masked_regression_loss(predictions, targets, mask, torch.tensor([[2.0, 1.0], [1.0, 1.0]]))
    assert weighted.item() == pytest.approx((2 * 1 + 4 + 0) / 4)


def test_loss_combines_terms_and_clips_pos_weight(config):
    config.pos_weight, config.posw_clip = [500.0, 2.0, 2.0, 2.0], [10.0, 50.0, 50.0, 50.0]
    model = MILMolForPropertyPrediction(config).eval()
    assert model.loss_weights("cpu")["pos_weight"].tolist() == [10.0, 2.0, 2.0, 2.0]
    batch = _batch(config)
    labels = torch.tensor([[1.0, 0, float("nan"), 0], [0, 1, 0, 0], [1, 1, 1, 0]])
    aux_abs, aux_fluo = torch.randn(3, 2), torch.full((3, 4), float("nan"))
    with torch.no_grad():
        out = model(**batch, labels=labels, aux_abs=aux_abs, aux_fluo=aux_fluo)
        lam = torch.tensor(config.normalized_lam())
        expected = (lam * out.per_task_loss).mean() + config.lambda_aux_abs * ((out.aux_abs - aux_abs) ** 2).mean()
    torch.testing.assert_close(out.loss, expected)  # all-missing fluorescence targets add nothing


def test_base_model_and_errors(config):
    base = MILMolModel(config).eval()
    batch = _batch(config)
    out = base(**batch)
    assert out.task_embeddings.shape == (3, config.ensemble_size, 4, config.mixer_hidden)
    with pytest.raises(ValueError, match="conformer_mask must be"):
        base(**dict(batch, conformer_mask=batch["conformer_mask"][:, :2]))
    with pytest.raises(ValueError, match="x2d must be"):
        base(**dict(batch, x2d=batch["x2d"][:, :5]))


def test_ensemble_is_the_mean_of_independent_members(config):
    with pytest.raises(ValueError, match="ensemble_size must be a positive integer"):
        MILMolConfig(ensemble_size=0)
    single_config = MILMolConfig(**{**config.to_dict(), "ensemble_size": 1})
    ensemble_config = MILMolConfig(**{**config.to_dict(), "ensemble_size": 3})
    ensemble = MILMolForPropertyPrediction(ensemble_config).eval()
    first, second = (dict(m.named_parameters()) for m in (ensemble.milmol.members[0], ensemble.milmol.members[1]))
    assert not torch.equal(first["pool.queries"], second["pool.queries"])  # members start from different weights
    batch = _batch(config)
    labels = torch.tensor([[1.0, 0, 1, 0], [0, 1, 0, 0], [1, 1, 1, 0]])
    aux_abs = torch.randn(3, 2)
    members = []
    for m in range(3):  # member m alone, as a single network with its own weights
        alone = MILMolForPropertyPrediction(single_config).eval()
        state = {"task_weight": ensemble.task_weight[m : m + 1], "task_bias": ensemble.task_bias[m : m + 1]}
        for head in ("abs_head", "fluo_head"):
            state[f"{head}.weight"] = getattr(ensemble, head).weight[m : m + 1]
            state[f"{head}.bias"] = getattr(ensemble, head).bias[m : m + 1]
        state.update({f"milmol.members.0.{k}": v for k, v in ensemble.milmol.members[m].state_dict().items()})
        alone.load_state_dict(state)
        with torch.no_grad():
            members.append(alone(**batch, labels=labels, aux_abs=aux_abs))
    with torch.no_grad():
        out = ensemble(**batch, labels=labels, aux_abs=aux_abs)
    torch.testing.assert_close(out.logits, torch.stack([o.logits for o in members]).mean(0))
    torch.testing.assert_close(out.aux_abs, torch.stack([o.aux_abs for o in members]).mean(0))
    torch.testing.assert_close(out.conformer_attention, torch.stack([o.conformer_attention for o in members]).mean(0))
    torch.testing.assert_close(out.loss, torch.stack([o.loss for o in members]).mean())  # each member its own loss
    assert not torch.allclose(members[0].logits, members[1].logits)
    assert out.task_embeddings.shape == (3, 3, 4, config.mixer_hidden)


def test_conformer_contrast_feeds_each_conformer_with_its_scaled_difference_from_the_bag(config):
    with pytest.raises(ValueError, match="within_bag_std_3d"):
        MILMolConfig(**{**config.to_dict(), "within_bag_std_3d": [1.0, 2.0]})
    scale = torch.linspace(0.5, 2.0, config.n_features_3d)
    contrast = MILMolConfig(**{**config.to_dict(), "conformer_contrast": True, "within_bag_std_3d": scale.tolist()})
    model = MILMolForPropertyPrediction(contrast).eval()
    seen = []
    model.milmol.members[0].inst_enc.register_forward_hook(lambda module, args, output: seen.append(args[0]))
    batch = _batch(contrast, sizes=(3, 1, 2))
    batch["x3d"][2, 1] = batch["x3d"][2, 0]  # a bag of two identical conformers
    with torch.no_grad():
        out = model(**batch)
    inputs = seen[0]
    assert inputs.shape[-1] == 2 * contrast.n_features_3d
    torch.testing.assert_close(inputs[..., : contrast.n_features_3d], batch["x3d"])
    expected = (batch["x3d"][0, :3] - batch["x3d"][0, :3].mean(0)) / scale
    torch.testing.assert_close(inputs[0, :3, contrast.n_features_3d :], expected)
    assert inputs[1, 0, contrast.n_features_3d :].abs().max() == 0  # a bag of one has nothing to contrast
    assert inputs[2, :2, contrast.n_features_3d :].abs().max() < 1e-6
    padded = dict(batch, x3d=batch["x3d"].clone())
    padded["x3d"][1, 1:] = 5.0  # garbage in padding changes neither the bag means nor the predictions
    with torch.no_grad():
        torch.testing.assert_close(model(**padded).logits, out.logits)


def test_a_molecule_without_conformers_is_predicted_from_2d(config):
    # a 2D-only record (RDKit could not embed it): all-0 mask row -> finite outputs, zero attention, no effect on others
    model = MILMolForPropertyPrediction(config).eval()
    batch = _batch(config, sizes=(2, 3))
    empty = {k: v.clone() for k, v in batch.items()}
    empty["conformer_mask"][0] = 0
    empty["x3d"][0] = 0
    with torch.no_grad():
        out, reference = model(**empty), model(**batch)
    assert torch.isfinite(out.logits).all() and torch.all(out.conformer_attention[0] == 0)
    torch.testing.assert_close(out.logits[1], reference.logits[1])
    other = {k: v.clone() for k, v in empty.items()}
    other["x3d"][0] = torch.randn_like(other["x3d"][0])  # whatever sits in an empty bag is never read
    with torch.no_grad():
        torch.testing.assert_close(model(**other).logits, out.logits)
    contrast = MILMolForPropertyPrediction(preset_config("milmol", "tiny", conformer_contrast=True)).eval()
    with torch.no_grad():
        assert torch.isfinite(contrast(**empty).logits).all()


def test_without_conformers_the_3d_branch_is_gone(config):
    model = MILMolForPropertyPrediction(MILMolConfig(**{**config.to_dict(), "use_conformers": False})).eval()
    names = [name for name, _ in model.named_parameters()]
    assert not any(part in name for name in names for part in ("inst_enc", "pool", "proj3d"))
    batch = _batch(config)
    changed = {**batch, "x3d": torch.randn_like(batch["x3d"])}
    with torch.no_grad():
        torch.testing.assert_close(model(**batch).logits, model(**changed).logits)  # conformers are not read
