"""Mutation2Text model: zero-initialised gates, placeholder merge, precomputed embeddings, select layer, loss, KV cache."""

import pytest
import torch

import hf_models  # noqa: F401  (registers the Auto classes)
from hf_models import preset_config
from modeling.mutation2text.modeling_mutation2text import (
    Mutation2TextForConditionalGeneration, Mutation2TextGatedCrossAttentionLayer, Mutation2TextModel,
)
from modeling.mutation2text.processing_mutation2text import Mutation2TextProcessor

WILD_TYPES = ["MKTAYIAKQRQISFVKSHFSRQ", "MSKCPECGKSFSQ"]


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    config = preset_config("mutation2text", "tiny")
    processor = Mutation2TextProcessor(num_media_tokens=config.num_media_tokens)
    assert processor.delta_token_id == config.delta_token_id and len(processor) == config.text_config.vocab_size
    model = Mutation2TextForConditionalGeneration(config).eval()
    return config, processor, model


def test_gates_start_closed_so_the_delta_is_the_encoder_difference(setup):
    config, processor, model = setup
    for layer in model.model.gated_cross_attention:
        assert layer.attention_gate.item() == 0.0 and layer.feed_forward_gate.item() == 0.0
    layer = Mutation2TextGatedCrossAttentionLayer(config)
    layer.attention_gate.data.zero_(), layer.feed_forward_gate.data.zero_()
    mutant, wild_type = torch.randn(2, 7, 16), torch.randn(2, 7, 16)
    assert torch.equal(layer(mutant, wild_type, torch.ones(2, 7, dtype=torch.long)), mutant)
    layer.attention_gate.data.fill_(0.5)
    assert not torch.allclose(layer(mutant, wild_type, torch.ones(2, 7, dtype=torch.long)), mutant)


def test_protein_features_merge_at_the_placeholders(setup):
    config, processor, model = setup
    batch = processor.encode_mutations(WILD_TYPES, mutation=["K2A", "C4S"])
    with torch.no_grad():
        out = model.model(**batch)
        plain = model.get_input_embeddings()(batch["input_ids"])
    features = out.protein_hidden_states
    assert features.shape == (2, config.num_media_tokens, config.text_config.hidden_size)
    placeholders = batch["input_ids"] == config.delta_token_id
    # the same merge by hand gives the same language-model output
    merged = plain.clone()
    merged[placeholders] = features.reshape(-1, features.shape[-1])
    with torch.no_grad():
        by_hand = model.model.language_model(inputs_embeds=merged, attention_mask=batch["attention_mask"])
    torch.testing.assert_close(out.last_hidden_state, by_hand.last_hidden_state)


def test_the_mutation_changes_the_output(setup):
    _, processor, model = setup
    a = processor.encode_mutations(WILD_TYPES[0], mutation="K2A")
    b = processor.encode_mutations(WILD_TYPES[0], mutation="K2A")
    b["mutant_input_ids"] = a["wild_type_input_ids"].clone()  # no change in the protein: delta = 0
    site_context, model.model.site_context = model.model.site_context, None
    with torch.no_grad():
        assert not torch.allclose(model(**a).logits, model(**b).logits)
        zero = model.get_protein_features(wild_type_input_ids=b["wild_type_input_ids"],
                                          mutant_input_ids=b["mutant_input_ids"],
                                          protein_attention_mask=b["protein_attention_mask"])
    # identical sequences give a zero delta, with open gates too: without the site context the resampler sees only
    # zeros (the site context is the subject of test_the_site_context_reads_what_the_delta_cancels)
    with torch.no_grad():
        again = model.get_protein_features(wild_type_embeds=torch.zeros(1, 24, 16), mutant_embeds=torch.zeros(1, 24, 16))
        torch.testing.assert_close(zero, again)
        layer = model.model.gated_cross_attention[0]
        layer.attention_gate.fill_(0.7), layer.feed_forward_gate.fill_(0.3), layer.relative_bias.normal_()
        try:
            opened = model.get_protein_features(wild_type_input_ids=b["wild_type_input_ids"],
                                                mutant_input_ids=b["mutant_input_ids"],
                                                protein_attention_mask=b["protein_attention_mask"])
        finally:
            layer.attention_gate.zero_(), layer.feed_forward_gate.zero_(), layer.relative_bias.zero_()
            model.model.site_context = site_context
    torch.testing.assert_close(opened, again)


def test_site_offsets_count_from_the_nearest_changed_residue():
    from modeling.mutation2text.modeling_mutation2text import Mutation2TextSiteContext

    torch.manual_seed(0)
    wild_type = torch.randn(2, 16, 8)
    mutant = wild_type + 0.01 * torch.randn(2, 16, 8)  # the encoder spreads a change a little everywhere
    mutant[0, 5] += 3.0  # one substitution at index 5
    mutant[1, 3] += 3.0  # two, at 3 and 12 (the second protein is 14 long: 2 positions of padding)
    mutant[1, 12] += 2.0
    mask = torch.ones(2, 16, dtype=torch.long)
    mask[1, 14:] = 0
    offsets = Mutation2TextSiteContext.site_offsets(wild_type, mutant, mask)
    assert offsets[0].tolist() == [i - 5 for i in range(16)]
    assert offsets[1, :14].tolist() == [i - 3 for i in range(8)] + [i - 12 for i in range(8, 14)]


def test_the_site_context_reads_what_the_delta_cancels():
    """Same substitution, different wild-type neighbour: equal deltas; only the site context tells them apart."""
    torch.manual_seed(0)
    wild_type = torch.randn(1, 12, 16)
    other = wild_type.clone()
    other[0, 8] = torch.randn(16)  # another residue 3 after the site
    change = torch.zeros(1, 12, 16)
    change[0, 5] = torch.randn(16) * 3  # the substitution at index 5, the same in both
    features = {}
    for window in (0, 4):
        model = Mutation2TextModel(preset_config("mutation2text", "tiny", site_context_window=window)).eval()
        with torch.no_grad():
            features[window] = [model.get_protein_features(wild_type_embeds=w, mutant_embeds=w + change)
                                for w in (wild_type, other)]
    def relative_change(pair):
        return float((pair[0] - pair[1]).norm() / pair[0].norm())

    assert relative_change(features[0]) < 1e-5  # the delta cancels the neighbour
    assert relative_change(features[4]) > 1e-4  # small weights at init, but not the float noise of the above
    assert features[4][0].shape == features[0][0].shape


def test_precomputed_embeddings_equal_the_encoder_path(setup):
    _, processor, model = setup
    batch = processor.encode_mutations(WILD_TYPES, mutation=["K2A;R10G", "C4S"])
    inner = model.model
    with torch.no_grad():
        wild_type = inner.encode_protein(batch["wild_type_input_ids"], batch["protein_attention_mask"])
        mutant = inner.encode_protein(batch["mutant_input_ids"], batch["protein_attention_mask"])
        from_ids = model(**batch).logits
        text = {k: batch[k] for k in ("input_ids", "attention_mask", "protein_attention_mask")}
        from_embeds = model(**text, wild_type_embeds=wild_type, mutant_embeds=mutant).logits
    torch.testing.assert_close(from_ids, from_embeds)
    with pytest.raises(ValueError, match="width 8, the model expects 16"):
        model(**text, wild_type_embeds=wild_type[..., :8], mutant_embeds=mutant[..., :8])


def test_select_layer_picks_the_encoder_hidden_state(setup):
    config, processor, _ = setup
    batch = processor.encode_mutations(WILD_TYPES[0], mutation="K2A")
    torch.manual_seed(1)
    first = Mutation2TextModel(preset_config("mutation2text", "tiny", mm_protein_select_layer=0)).eval()
    with torch.no_grad():
        states = first.encode_protein(batch["wild_type_input_ids"], batch["protein_attention_mask"])
        embeddings = first.protein_encoder.embeddings(input_ids=batch["wild_type_input_ids"],
                                                      attention_mask=batch["protein_attention_mask"])
        last = first.protein_encoder(input_ids=batch["wild_type_input_ids"]).last_hidden_state
    torch.testing.assert_close(states, embeddings)
    assert not torch.allclose(states, last)
    with pytest.raises(ValueError, match="mm_protein_select_layer"):
        preset_config("mutation2text", "tiny", mm_protein_select_layer=5)


def test_placeholder_count_must_match(setup):
    _, processor, model = setup
    batch = processor.encode_mutations(WILD_TYPES[0], mutation="K2A")
    broken = dict(batch, input_ids=batch["input_ids"].clone())
    broken["input_ids"][0, (batch["input_ids"][0] == processor.delta_token_id).nonzero()[0]] = 5
    with pytest.raises(ValueError, match="placeholder tokens, expected 4"):
        model(**broken)
    text_only = {k: batch[k] for k in ("input_ids", "attention_mask")}
    with pytest.raises(ValueError, match="no protein inputs"):
        model(**text_only)


def test_loss_counts_only_the_answer(setup):
    _, processor, model = setup
    batch = processor.encode_mutations(WILD_TYPES, mutation=["K2A", "C4S"], answer=["Lys to Ala.", "Cys to Ser, zinc lost."])
    out = model(**batch)
    logits, labels = out.logits[:, :-1], batch["labels"][:, 1:]
    keep = labels != -100
    expected = torch.nn.functional.cross_entropy(logits[keep], labels[keep])
    torch.testing.assert_close(out.loss, expected)
    model.train()  # training: only the answer positions are projected; the same loss
    try:
        trained = model(**batch)
    finally:
        model.eval()
    assert trained.logits is None
    torch.testing.assert_close(trained.loss, expected)
    trained.loss.backward()
    gate = model.model.gated_cross_attention[0].attention_gate
    assert gate.grad is not None and gate.grad.abs().item() > 0  # closed gates still learn
    model.zero_grad()


def test_generate_with_and_without_cache_agree(setup):
    _, processor, model = setup
    batch = processor.encode_mutations(WILD_TYPES, mutation=["K2A", "C4S"])
    with torch.no_grad():
        cached = model.generate(**batch, max_new_tokens=6, do_sample=False, min_new_tokens=6)
        uncached = model.generate(**batch, max_new_tokens=6, do_sample=False, min_new_tokens=6, use_cache=False)
    assert cached.shape == (2, batch["input_ids"].shape[1] + 6)
    assert torch.equal(cached, uncached)


def test_encoderless_model_takes_embeddings_only():
    config = preset_config("mutation2text", "tiny", protein_encoder=False)
    model = Mutation2TextForConditionalGeneration(config).eval()
    assert model.model.protein_encoder is None
    processor = Mutation2TextProcessor(num_media_tokens=config.num_media_tokens)
    batch = processor.encode_mutations(WILD_TYPES[0], mutation="K2A", with_protein_ids=False)
    assert "wild_type_input_ids" not in batch
    with torch.no_grad():
        out = model(**batch, wild_type_embeds=torch.randn(1, 24, 16), mutant_embeds=torch.randn(1, 24, 16))
    assert out.logits.shape[:2] == batch["input_ids"].shape
    with pytest.raises(ValueError, match="no protein encoder"):
        model(**processor.encode_mutations(WILD_TYPES[0], mutation="K2A"))
