"""MirLMModel / MirLMForTargetPrediction: shapes, MIL pooling, loss arithmetic, padding invariance, errors, save/load, learning."""
import random

import pytest
import torch
import torch.nn.functional as F

from modeling.mirlm.configuration_mirlm import MirLMConfig
from modeling.mirlm.modeling_mirlm import MirLMForTargetPrediction, MirLMModel
from modeling.mirlm.tokenization_mirlm import MirLMTokenizer

MAX_LEN = 96
LET7 = "UGAGGUAGUAGGUUGUAUAGUU"  # hsa-let-7a-5p; seed (nt 2-8) GAGGUAG, 7mer-m8 site on the mRNA: CTACCTC
MIR21 = "UAGCUUAUCAGACUGAUGUUGA"


def tiny_config(**overrides) -> MirLMConfig:
    values = dict(
        hidden_size=32, num_attention_heads=4, num_hidden_layers=2, intermediate_size=64, attention_window=8,
        kmer_conv_size=5, pairing_window=5, mrna_max_len=MAX_LEN, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    return MirLMConfig(**{**values, **overrides})


@pytest.fixture(scope="module")
def tok():
    return MirLMTokenizer(mrna_max_len=MAX_LEN)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return MirLMForTargetPrediction(tiny_config()).eval()


@pytest.fixture(scope="module")
def batch(tok):
    mrnas = ["ACGTACCTCAGGATTACAGGCTACCTCAAGTC", "GGCAT", "TTGACCCTACCTCAGGGAAACCCTTTGGGTTTAAACCCGGGTTTAAACC"]
    return tok.encode_pairs(mrnas, [LET7, MIR21, LET7[:20]], site_start=[3, -1, 7], site_end=[9, -1, 13], padding="longest")


def instance_mask(batch) -> torch.Tensor:
    """MIL instances: real mRNA nucleotides (not [MRNA_CLS], not padding)."""
    mask = batch["attention_mask"].bool().clone()
    mask[:, 0] = False
    return mask


def random_mrna(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("ACGT") for _ in range(length))


# -- outputs -----------------------------------------------------------------------------------------------
def test_output_shapes(model, batch):
    batch_size, length = batch["input_ids"].shape
    with torch.no_grad():
        out = model(**batch, output_hidden_states=True)
    for name in ("pos_weights", "pos_logits", "start_logits", "end_logits"):
        assert out[name].shape == (batch_size, length), name
    assert out.binding_logit.shape == (batch_size,)
    assert out.loss is None
    assert len(out.hidden_states) == model.config.num_hidden_layers + 1
    assert all(h.shape == (batch_size, length, 32) for h in out.hidden_states)
    assert all(torch.isfinite(out[name]).all() for name in ("binding_logit", "pos_weights"))


def test_base_model_outputs(batch):
    base = MirLMModel(tiny_config()).eval()
    inputs = {k: v for k, v in batch.items() if k not in ("start_positions", "end_positions")}
    with torch.no_grad():
        out = base(**inputs)
    assert out.last_hidden_state.shape == (*batch["input_ids"].shape, 32)
    assert out.mirna_last_hidden_state.shape == (*batch["mirna_input_ids"].shape, 32)
    assert out.hidden_states is None


def test_default_masks_match_the_tokenizer_masks(model, batch):
    with torch.no_grad():
        explicit = model(**batch)
        implicit = model(input_ids=batch["input_ids"], mirna_input_ids=batch["mirna_input_ids"])
    torch.testing.assert_close(implicit.binding_logit, explicit.binding_logit, atol=0, rtol=0)


def test_without_span_head(batch):
    model = MirLMForTargetPrediction(tiny_config(predict_span=False)).eval()
    assert model.span_head is None
    with torch.no_grad():
        out = model(**batch, labels=torch.tensor([1.0, 0.0, 1.0]))
    assert out.start_logits is None and out.end_logits is None
    expected = F.binary_cross_entropy_with_logits(out.binding_logit, torch.tensor([1.0, 0.0, 1.0]))
    torch.testing.assert_close(out.loss, expected)


# -- multiple-instance pooling ----------------------------------------------------------------------------
def test_pos_weights_are_a_distribution_over_the_nucleotides(model, batch):
    with torch.no_grad():
        out = model(**batch)
    instances = instance_mask(batch)
    torch.testing.assert_close(out.pos_weights.sum(-1), torch.ones(3), atol=1e-6, rtol=0)
    assert torch.equal(out.pos_weights[~instances], torch.zeros(int((~instances).sum())))  # exactly 0
    assert torch.equal(out.pos_weights[:, 0], torch.zeros(3))  # [MRNA_CLS] is not an instance
    assert (out.pos_weights[instances] > 0).all()
    floor = torch.finfo(out.pos_logits.dtype).min
    assert (out.pos_logits[~instances] == floor).all() and (out.start_logits[~instances] == floor).all()
    tau = model.config.mil_temperature
    for row in range(3):
        expected = torch.softmax(out.pos_logits[row, instances[row]].double() / tau, dim=0)
        torch.testing.assert_close(out.pos_weights[row, instances[row]].double(), expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize("tau", [0.05, 0.1, 1.0, 3.0])
def test_binding_logit_is_temperature_log_sum_exp(batch, tau):
    model = MirLMForTargetPrediction(tiny_config(mil_temperature=tau)).eval()
    with torch.no_grad():
        out = model(**batch)
    instances = instance_mask(batch)
    for row in range(3):
        scores = out.pos_logits[row, instances[row]].double()
        expected = tau * torch.logsumexp(scores / tau, dim=0)
        torch.testing.assert_close(out.binding_logit[row].double(), expected, atol=1e-5, rtol=0)
        # Between the max instance score and max + tau * log(#instances).
        assert scores.max() - 1e-6 <= out.binding_logit[row] <= scores.max() + tau * torch.log(torch.tensor(float(len(scores)))) + 1e-6


# -- loss --------------------------------------------------------------------------------------------------
def manual_loss(out, batch, labels, bag_weight: float, span_weight: float) -> torch.Tensor:
    """bag_weight * mean BCE + span_weight * mean over pairs with a site of (CE(start) + CE(end)) / 2."""
    logit = out.binding_logit.double()
    y = labels.double()
    bag = (F.softplus(logit) - y * logit).mean()  # -[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))]
    instances = instance_mask(batch)
    span_terms = []
    for row in range(len(y)):
        start, end = int(batch["start_positions"][row]), int(batch["end_positions"][row])
        if start == -100:
            continue
        valid = instances[row]
        ce = [
            -(logits[row, pos].double() - torch.logsumexp(logits[row, valid].double(), dim=0))
            for logits, pos in ((out.start_logits, start), (out.end_logits, end))
        ]
        span_terms.append((ce[0] + ce[1]) / 2)
    span = torch.stack(span_terms).mean() if span_terms else torch.zeros((), dtype=torch.float64)
    return bag_weight * bag + span_weight * span


@pytest.mark.parametrize("bag_weight, span_weight", [(1.0, 1.0), (0.3, 2.5), (2.0, 0.0)])
def test_loss_is_weighted_bag_bce_plus_span_cross_entropy(batch, bag_weight, span_weight):
    model = MirLMForTargetPrediction(tiny_config(bag_loss_weight=bag_weight, span_loss_weight=span_weight)).eval()
    labels = torch.tensor([1.0, 0.0, 1.0])
    with torch.no_grad():
        out = model(**batch, labels=labels)
    expected = manual_loss(out, batch, labels, bag_weight, span_weight)
    torch.testing.assert_close(out.loss.double(), expected, atol=1e-5, rtol=1e-6)


def test_loss_without_span_positions_is_the_bag_loss(model, batch):
    inputs = {k: v for k, v in batch.items() if k not in ("start_positions", "end_positions")}
    labels = torch.tensor([1.0, 0.0, 1.0])
    with torch.no_grad():
        out = model(**inputs, labels=labels)
    torch.testing.assert_close(out.loss, F.binary_cross_entropy_with_logits(out.binding_logit, labels))


def test_batch_without_positives_backpropagates(tok):
    model = MirLMForTargetPrediction(tiny_config()).train()
    batch = tok.encode_pairs(["ACGTAGGATTACA", "GGCAT"], LET7, site_start=[-1, -1], site_end=[-1, -1], padding="longest")
    labels = torch.zeros(2)
    out = model(**batch, labels=labels)
    assert torch.isfinite(out.loss)
    torch.testing.assert_close(out.loss, F.binary_cross_entropy_with_logits(out.binding_logit, labels))
    out.loss.backward()
    grads = {n: p.grad for n, p in model.named_parameters()}
    assert all(g is not None and torch.isfinite(g).all() for g in grads.values())
    assert grads["seed_scorer.weight"].abs().sum() > 0
    assert torch.equal(grads["span_head.weight"], torch.zeros_like(grads["span_head.weight"]))  # no site, no span signal


# -- padding invariance ------------------------------------------------------------------------------------
@pytest.mark.parametrize("pairing_window", [0, 5])
def test_padding_does_not_change_the_prediction(tok, pairing_window):
    model = MirLMForTargetPrediction(tiny_config(pairing_window=pairing_window)).eval()
    if pairing_window:  # trained pair scores are O(1), not the init's 0.02: make a padding leak visible
        torch.nn.init.normal_(model.mirlm.pairing_bias.pair_scores.weight, std=1.0)
    mrna, mirna = "GGATTACACTACCTCAAGTCCGATCGGATACGTTAGC", LET7
    padded = {
        "alone_longest": tok.encode_pairs(mrna, mirna, padding="longest"),
        "alone_multiple": tok.encode_pairs(mrna, mirna, padding="longest", pad_to_multiple_of=16),
        "max_length": tok.encode_pairs(mrna, mirna, padding="max_length"),
        "in_a_batch": tok.encode_pairs([mrna, "A" * 90], [mirna, "ACGU"], padding="longest"),
        "batch_short_mirna": tok.encode_pairs([mrna, "ACGTAGTCGA" * 9], [mirna, "UAGCUUAUCAGACUGAUGUUGAAU"], padding="longest"),
    }
    n = len(mrna) + 1
    with torch.no_grad():
        outs = {name: model(**enc) for name, enc in padded.items()}
    reference = outs.pop("alone_longest")
    for name, out in outs.items():
        torch.testing.assert_close(out.binding_logit[0], reference.binding_logit[0], atol=1e-5, rtol=0, msg=name)
        torch.testing.assert_close(out.pos_weights[0, :n], reference.pos_weights[0, :n], atol=1e-5, rtol=0, msg=name)
        torch.testing.assert_close(out.start_logits[0, :n], reference.start_logits[0, :n], atol=1e-5, rtol=0, msg=name)


# -- errors ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"hidden_size": 30, "num_attention_heads": 4}, "divisible"),
        ({"attention_window": 7}, "even"),
        ({"attention_window": 0}, "even"),
        ({"kmer_conv_size": 4}, "odd"),
        ({"kmer_conv_size": -1}, "odd"),
        ({"mil_temperature": 0.0}, "positive"),
        ({"mil_temperature": -0.1}, "positive"),
        ({"pairing_window": -1}, "pairing_window"),
    ],
)
def test_config_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MirLMConfig(**kwargs)


def test_config_defaults_are_the_seed_design():
    config = MirLMConfig()
    assert (config.hidden_size, config.num_attention_heads, config.num_hidden_layers, config.intermediate_size) == (1024, 8, 4, 4096)
    assert (config.attention_window, config.mil_temperature, config.mrna_max_len, config.mirna_max_len) == (40, 0.1, 520, 30)
    assert (config.bag_loss_weight, config.span_loss_weight, config.model_type) == (1.0, 1.0, "mirlm")


def test_too_long_inputs_raise(model, tok):
    ok = tok.encode_pairs("ACGT", LET7, padding="longest")
    too_long_mrna = torch.full((1, MAX_LEN + 1), 8)
    with pytest.raises(ValueError, match=f"input_ids has length {MAX_LEN + 1} > {MAX_LEN}"):
        model(input_ids=too_long_mrna, mirna_input_ids=ok["mirna_input_ids"])
    with pytest.raises(ValueError, match="mirna_input_ids has length 31 > 30"):
        model(input_ids=ok["input_ids"], mirna_input_ids=torch.full((1, 31), 8))


def test_malformed_inputs_raise(model, tok):
    ok = tok.encode_pairs(["ACGT", "ACG"], LET7, padding="longest")
    with pytest.raises(ValueError, match="needs both"):
        model(input_ids=ok["input_ids"])
    with pytest.raises(ValueError, match=r"\(batch, length\)"):
        model(input_ids=ok["input_ids"][0], mirna_input_ids=ok["mirna_input_ids"])
    with pytest.raises(ValueError, match="batch sizes differ"):
        model(input_ids=ok["input_ids"], mirna_input_ids=ok["mirna_input_ids"][:1])


# -- save / load -------------------------------------------------------------------------------------------
def test_a_repository_saved_with_the_old_24_nt_limit_keeps_it(tmp_path):
    """Repositories written before the limit became a config default of 30 store 24: they load as 24, and take isomiRs of up to 24 nt."""
    torch.manual_seed(0)
    old = MirLMForTargetPrediction(tiny_config(mirna_max_len=24)).eval()
    old.save_pretrained(tmp_path)
    MirLMTokenizer(mrna_max_len=MAX_LEN, mirna_max_len=24).save_pretrained(tmp_path)
    loaded = MirLMForTargetPrediction.from_pretrained(tmp_path).eval()
    tokenizer = MirLMTokenizer.from_pretrained(tmp_path)
    assert loaded.config.mirna_max_len == tokenizer.mirna_max_len == 24
    assert loaded.mirlm.embeddings.mirna_position_embeddings.weight.shape[0] == 24
    batch = tokenizer.encode_pairs("ACGTACCTCAGGATT", "TGAGGTAGTAGGTTGTATAGTTAA")  # 24 nt: fits
    with torch.no_grad():
        assert torch.equal(loaded(**batch).binding_logit, old(**batch).binding_logit)
    with pytest.raises(ValueError, match="miRNA #0 has 25 nt, more than the 24"):
        tokenizer.encode_pairs("ACGTACCTCAGGATT", "TGAGGTAGTAGGTTGTATAGTTAAA")


def test_save_pretrained_round_trip(model, batch, tmp_path):
    model.save_pretrained(tmp_path)
    files = {p.name for p in tmp_path.iterdir()}
    assert "model.safetensors" in files and "config.json" in files
    assert not any(name.endswith(".bin") for name in files)
    loaded, info = MirLMForTargetPrediction.from_pretrained(tmp_path, output_loading_info=True)
    loaded.eval()
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    saved_config = {k: v for k, v in loaded.config.to_dict().items() if k != "_name_or_path"}
    assert saved_config == {k: v for k, v in model.config.to_dict().items() if k != "_name_or_path"}
    expected, got = model.state_dict(), loaded.state_dict()
    assert expected.keys() == got.keys()
    assert all(torch.equal(expected[k], got[k]) for k in expected)
    names = ("binding_logit", "pos_weights", "pos_logits", "start_logits", "end_logits")
    with torch.no_grad():
        original, reloaded = model(**batch), loaded(**batch)
        again = MirLMForTargetPrediction.from_pretrained(tmp_path).eval()(**batch)
    for name in names:
        # Two loads of the same file are bit-identical.
        assert torch.equal(reloaded[name], again[name]), name
        # Loaded weights are views into the safetensors buffer, not 64-byte aligned like fresh tensors, so the
        # BLAS kernel for the 1-output seed scorer may round differently in the last bit.
        torch.testing.assert_close(reloaded[name], original[name], atol=1e-6, rtol=0, msg=name)
    for parameter in loaded.parameters():  # re-allocate (aligned): now bit-identical to the original
        parameter.data = parameter.data.clone()
    with torch.no_grad():
        realigned = loaded(**batch)
    for name in names:
        assert torch.equal(realigned[name], original[name]), name


# -- learning ----------------------------------------------------------------------------------------------
def planted_batch(tok, rng: random.Random, size: int):
    """Half the pairs carry the let-7 7mer-m8 site CTACCTC at a random place; the others carry no site."""
    site = "CTACCTC"
    mrnas, labels, starts = [], [], []
    for i in range(size):
        mrna = random_mrna(rng, 40)
        while site in mrna:
            mrna = random_mrna(rng, 40)
        if i % 2 == 0:
            start = rng.randrange(0, 40 - len(site))
            mrna = mrna[:start] + site + mrna[start + len(site):]
        else:
            start = -1
        mrnas.append(mrna)
        labels.append(float(start >= 0))
        starts.append(start)
    ends = [s + len(site) - 1 if s >= 0 else -1 for s in starts]
    enc = tok.encode_pairs(mrnas, LET7, site_start=starts, site_end=ends, padding="longest")
    enc["labels"] = torch.tensor(labels)
    return enc


def test_a_few_steps_learn_a_planted_site(tok):
    torch.manual_seed(0)
    rng = random.Random(0)
    model = MirLMForTargetPrediction(
        tiny_config(num_hidden_layers=1, num_attention_heads=2, kmer_conv_size=7, mil_temperature=0.5)
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    held_out = planted_batch(tok, random.Random(1), 64)

    def held_out_metrics():
        model.eval()
        with torch.no_grad():
            out = model(**held_out)
        bag = F.binary_cross_entropy_with_logits(out.binding_logit, held_out["labels"])
        accuracy = ((out.binding_logit > 0).float() == held_out["labels"]).float().mean()
        return float(out.loss), float(bag), float(accuracy)

    before = held_out_metrics()
    model.train()
    for _ in range(80):
        loss = model(**planted_batch(tok, rng, 32)).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    after = held_out_metrics()
    assert after[0] < 0.6 * before[0], (before, after)  # total loss
    assert after[1] < 0.5 * before[1], (before, after)  # the bag (binding) part alone
    assert after[2] >= 0.8, (before, after)  # held-out binding accuracy (chance: 0.5)
