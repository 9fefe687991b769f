"""E1 backbone: checkpoint names and shapes, attention pattern, padding invariance, rotary positions, MLM round trip."""

import pytest
import torch
from safetensors.torch import save_file

from hf_models import preset_config
from modeling.e1.attention_e1 import build_attention_masks, rotary_cos_sin
from modeling.e1.configuration_e1 import E1Config
from modeling.e1.modeling_e1 import E1ForContrastiveBinding, E1ForMaskedLM, E1Model, apply_rotary
from modeling.e1.tokenization_e1 import E1Tokenizer

SIZES = {"e1-150m": (768, 12, 2304, 20), "e1-300m": (1024, 16, 3072, 20), "e1-600m": (1280, 20, 3840, 30)}


def checkpoint_shapes(dim: int, ff: int, layers: int) -> dict:
    """The public checkpoints' parameter names and shapes, written out from the reference (torch (out, in) layout)."""
    shapes = {"model.embed_tokens.weight": (34, dim), "model.embed_seq_id.weight": (512, dim), "model.norm.weight": (dim,),
              "mlm_head.0.weight": (dim, dim), "mlm_head.0.bias": (dim,), "mlm_head.2.weight": (dim,),
              "mlm_head.2.bias": (dim,), "mlm_head.3.weight": (34, dim), "mlm_head.3.bias": (34,)}
    for k in range(layers):
        block = f"model.layers.{k}."
        shapes[block + "norm_attn_norm.input_layernorm.weight"] = (dim,)
        shapes[block + "norm_attn_norm.post_attention_layernorm.weight"] = (dim,)
        for proj in ("q_proj", "k_proj", "v_proj", "o_proj"):
            shapes[block + f"norm_attn_norm.self_attn.{proj}.weight"] = (dim, dim)
        shapes[block + "ffn.mlp.w1.weight"] = (ff, dim)
        shapes[block + "ffn.mlp.w3.weight"] = (ff, dim)
        shapes[block + "ffn.mlp.w2.weight"] = (dim, ff)
    return shapes


@pytest.mark.parametrize("preset", sorted(SIZES))
def test_public_sizes_have_the_checkpoint_names_and_shapes(preset):
    dim, heads, ff, layers = SIZES[preset]
    config = preset_config("e1", preset)
    assert (config.hidden_size, config.num_attention_heads, config.intermediate_size, config.num_hidden_layers) == SIZES[preset]
    with torch.device("meta"):
        model = E1ForMaskedLM(config)
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == checkpoint_shapes(dim, ff, layers)


def test_a_checkpoint_under_the_public_names_loads_without_missing_or_unexpected_keys(tmp_path):
    config = E1Config(hidden_size=32, num_attention_heads=2, intermediate_size=48, num_hidden_layers=3)
    generator = torch.Generator().manual_seed(1)
    state = {name: torch.randn(shape, generator=generator) * 0.05 for name, shape in checkpoint_shapes(32, 48, 3).items()}
    config.save_pretrained(tmp_path)
    save_file(state, str(tmp_path / "model.safetensors"))
    model, info = E1ForMaskedLM.from_pretrained(tmp_path, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    assert all(torch.equal(model.state_dict()[k], v) for k, v in state.items())
    binding, info = E1ForContrastiveBinding.from_pretrained(tmp_path, output_loading_info=True)
    assert not info["unexpected_keys"] and set(info["missing_keys"]) <= {"prototypes", "prototypes_initialized"}
    assert torch.equal(binding.model.embed_tokens.weight, state["model.embed_tokens.weight"])
    assert not bool(binding.prototypes_initialized) and binding.prototypes.abs().sum() == 0


def test_public_config_names_and_grouped_query_attention(tmp_path):
    """A config.json as the public checkpoints write it, with 2 k/v heads for 4 query heads, loads and runs."""
    import json

    public = {"model_type": "E1", "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 3, "num_attention_heads": 4,
              "num_key_value_heads": 2, "global_attention_every_n_layers": 3, "rope_theta_within_seq": 10000.0,
              "rope_theta_global": 500000.0, "clip_qkv": 8, "max_num_sequences": 512, "rms_norm_eps": 1e-5}
    (tmp_path / "config.json").write_text(json.dumps(public))
    config = E1Config.from_pretrained(tmp_path)
    assert (config.global_attention_every, config.rope_theta_within, config.qkv_clamp, config.num_key_value_heads) == (3, 1e4, 8, 2)
    shapes = checkpoint_shapes(32, 48, 3)
    for k in range(3):
        for proj in ("k_proj", "v_proj"):
            shapes[f"model.layers.{k}.norm_attn_norm.self_attn.{proj}.weight"] = (16, 32)  # 2 heads of 8
    generator = torch.Generator().manual_seed(0)
    save_file({n: torch.randn(s, generator=generator) * 0.05 for n, s in shapes.items()}, str(tmp_path / "model.safetensors"))
    model, info = E1ForMaskedLM.from_pretrained(tmp_path, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    batch = E1Tokenizer().encode_proteins(["MKVLAAG", "MC"], context=[["MKVL"], None])
    with torch.no_grad():
        logits = model.eval()(**batch).logits
    assert logits.shape == (2, batch["input_ids"].shape[1], 34) and torch.isfinite(logits).all()


def _config(**overrides):
    return E1Config(**{**dict(hidden_size=32, num_attention_heads=2, intermediate_size=48, num_hidden_layers=3,
                              max_num_sequences=16), **overrides})


def test_masks_against_the_definition():
    tok = E1Tokenizer()
    batch = tok.encode_proteins(["MKV", "W"], context=[["AC", "DE"], None])
    within, global_ = build_attention_masks(batch["sequence_ids"], batch["attention_mask"])
    seq, real = batch["sequence_ids"], batch["attention_mask"].bool()
    for b in range(2):
        for i in range(seq.shape[1]):
            for j in range(seq.shape[1]):
                if real[b, i]:
                    assert within[b, 0, i, j] == (bool(real[b, j]) and seq[b, i] == seq[b, j])
                    assert global_[b, 0, i, j] == (bool(real[b, j]) and seq[b, j] <= seq[b, i])
                else:
                    assert within[b, 0, i, j] == global_[b, 0, i, j] == (i == j)


def _perturb_sequence(batch, which: int):
    ids = batch["input_ids"].clone()
    target = (batch["sequence_ids"] == which) & (ids >= 8)
    ids[target] = 8 + (ids[target] - 8 + 5) % 26
    return {**batch, "input_ids": ids}


@pytest.mark.parametrize("every", [100, 1])  # 100: only within-sequence layers; 1: only global layers
def test_attention_pattern_through_the_whole_network(every):
    torch.manual_seed(0)
    model = E1Model(_config(global_attention_every=every)).eval()
    batch = dict(E1Tokenizer().encode_proteins("MKVLAAG", context=["ACDEFG", "HIKLMN"]))
    seq = batch["sequence_ids"][0]
    with torch.no_grad():
        base = model(**batch).last_hidden_state[0]
        changed_first = model(**_perturb_sequence(batch, 0)).last_hidden_state[0]
        changed_last = model(**_perturb_sequence(batch, 2)).last_hidden_state[0]
    later = seq > 0
    if every == 100:  # within-sequence only: changing sequence 0 never reaches sequences 1, 2
        torch.testing.assert_close(changed_first[later], base[later], rtol=0, atol=0)
    else:  # block-causal: earlier sequences reach later ones, a later one never reaches earlier ones
        assert (changed_first[later] - base[later]).abs().max() > 1e-4
    earlier = seq < 2
    torch.testing.assert_close(changed_last[earlier], base[earlier], rtol=0, atol=0)


def test_padding_changes_no_real_position():
    torch.manual_seed(0)
    model = E1ForMaskedLM(_config()).eval()
    tok = E1Tokenizer()
    queries, contexts = ["MKVLAAGHHW", "MC"], [["MKVLSAGHH", "MRVLAAG"], ["MCC"]]
    with torch.no_grad():
        together = tok.encode_proteins(queries, context=contexts)
        batched = model(**together).logits
        for i, (query, context) in enumerate(zip(queries, contexts)):
            alone = tok.encode_proteins(query, context=context)
            n = alone["input_ids"].shape[1]
            single = model(**alone).logits[0]
            assert (batched[i, :n] - single).abs().max() < 1e-5
            padded = tok.encode_proteins(query, context=context, pad_to_multiple_of=64)
            assert (model(**padded).logits[0, :n] - single).abs().max() < 1e-5


def test_rotary_scores_depend_on_the_offset_only():
    torch.manual_seed(0)
    q, k = torch.randn(1, 1, 1, 16), torch.randn(1, 1, 1, 16)

    def score(i, j, theta):
        cos_i, sin_i = rotary_cos_sin(torch.tensor([[i]]), 16, theta)
        cos_j, sin_j = rotary_cos_sin(torch.tensor([[j]]), 16, theta)
        return (apply_rotary(q, cos_i, sin_i) * apply_rotary(k, cos_j, sin_j)).sum()

    torch.testing.assert_close(score(3, 7, 1e4), score(103, 107, 1e4))
    torch.testing.assert_close(score(3, 7, 5e5), score(1003, 1007, 5e5), rtol=0, atol=1e-4)
    assert not torch.allclose(score(3, 7, 1e4), score(3, 8, 1e4))


@pytest.mark.parametrize("every, used", [(100, "within_seq_position_ids"), (1, "global_position_ids")])
def test_each_layer_kind_reads_its_own_positions(every, used):
    """Within-sequence layers rotate by within-sequence positions only; global layers by global positions only."""
    torch.manual_seed(0)
    model = E1Model(_config(global_attention_every=every)).eval()
    batch = dict(E1Tokenizer().encode_proteins("MKVLAAG", context=["ACDEFG"]))
    unused = "global_position_ids" if used == "within_seq_position_ids" else "within_seq_position_ids"
    with torch.no_grad():
        base = model(**batch).last_hidden_state
        shifted_unused = model(**{**batch, unused: batch[unused].flip(-1)}).last_hidden_state
        shifted_used = model(**{**batch, used: batch[used].flip(-1)}).last_hidden_state
    torch.testing.assert_close(shifted_unused, base, rtol=0, atol=0)
    assert (shifted_used - base).abs().max() > 1e-4


def test_layer_kinds_follow_the_reference():
    model = E1Model(_config(num_hidden_layers=7))
    assert [layer.is_global for layer in model.layers] == [False, False, True, False, False, True, False]


def test_qkv_are_clamped():
    torch.manual_seed(0)
    model = E1Model(_config(qkv_clamp=8.0)).eval()
    seen = {}
    model.layers[0].norm_attn_norm.self_attn.v_proj.register_forward_hook(lambda m, i, o: seen.setdefault("v", o))
    with torch.no_grad():
        model.layers[0].norm_attn_norm.self_attn.v_proj.weight.mul_(1000)
        batch = E1Tokenizer().encode_proteins("MKVLAAG")
        reference = model(**batch).last_hidden_state
        for layer in model.layers:
            layer.norm_attn_norm.self_attn.clamp = 1e9
        unclamped = model(**batch).last_hidden_state
    assert seen["v"].abs().max() > 8 and not torch.allclose(reference, unclamped)


def test_gradient_checkpointing_gives_the_same_gradients():
    torch.manual_seed(0)
    model = E1ForMaskedLM(_config()).train()
    batch = dict(E1Tokenizer().encode_proteins(["MKVLAAG", "MC"], context=[["MKVL"], None]))
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)

    def grads():
        model.zero_grad()
        model(**batch, labels=labels).loss.backward()
        return {n: p.grad.clone() for n, p in model.named_parameters()}

    plain = grads()
    model.gradient_checkpointing_enable()
    checkpointed = grads()
    for name in plain:
        torch.testing.assert_close(checkpointed[name], plain[name])


def test_bfloat16_matches_float32():
    torch.manual_seed(0)
    model = E1Model(_config()).eval()
    batch = E1Tokenizer().encode_proteins(["MKVLAAGHHW", "MC"], context=[["MKVLSAGHH"], None])
    with torch.no_grad():
        reference = model(**batch).last_hidden_state
        half = model.to(torch.bfloat16)(**batch).last_hidden_state
    assert half.dtype == torch.bfloat16
    real = batch["attention_mask"].bool()
    assert (half.float() - reference)[real].abs().max() < 0.1


def test_masked_lm_round_trip_on_the_tiny_preset(tmp_path):
    """A few steps on masked residues lower the MLM loss; save and reload give the same logits."""
    torch.manual_seed(0)
    model = E1ForMaskedLM(preset_config("e1", "tiny"))
    tok = E1Tokenizer()
    batch = dict(tok.encode_proteins(["MKVLAAGHHWCC"] * 4, context=[["MKVLSAGHHWCC"]] * 4))
    query = tok.query_residue_mask(batch["sequence_ids"], batch["within_seq_position_ids"], batch["attention_mask"])
    masked = query & (torch.rand(query.shape) < 0.5)
    labels = batch["input_ids"].masked_fill(~masked, -100)
    inputs = {**batch, "input_ids": batch["input_ids"].masked_fill(masked, tok.mask_token_id)}
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        loss = model(**inputs, labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    model.eval()
    model.save_pretrained(tmp_path)
    again = E1ForMaskedLM.from_pretrained(tmp_path).eval()
    with torch.no_grad():
        torch.testing.assert_close(again(**inputs).logits, model(**inputs).logits)


@pytest.mark.slow  # torch.compile of flex attention: about 4 minutes on 2 busy CPU cores
def test_flex_attention_path_equals_sdpa():
    torch.manual_seed(0)
    model = E1Model(_config()).eval()
    batch = E1Tokenizer().encode_proteins(["MKVLAAGHHW", "MC"], context=[["MKVLSAGHH", "MRVLAAG"], ["MCC"]])
    with torch.no_grad():
        reference = model(**batch).last_hidden_state
        model.config.attention_backend = "flex"
        flex = model(**batch).last_hidden_state
    real = batch["attention_mask"].bool()
    assert (flex - reference)[real].abs().max() < 1e-5
