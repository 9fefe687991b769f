"""E1ForContrastiveBinding: batched views = per-view loop, losses against brute-force definitions, prototypes."""

import pytest
import torch
import torch.nn.functional as F

from datasets_scripts.e1.collator import E1ContrastiveCollator
from modeling.e1.configuration_e1 import E1Config
from modeling.e1.losses_e1 import nt_xent
from modeling.e1.modeling_e1 import E1ForContrastiveBinding
from modeling.e1.tokenization_e1 import E1Tokenizer
from modeling.e1.views_e1 import split_views

IONS = ["ZN", "CA"]


def _config(**overrides):
    return E1Config(**{**dict(hidden_size=32, num_attention_heads=2, intermediate_size=48, num_hidden_layers=3,
                              max_num_sequences=16, ions=IONS, max_contrastive_residues=10_000), **overrides})


def _rows():
    return [
        {"id": "a", "sequence": "MKCAVCGKHLAEHH", "homologs": ["MKCAICGRHLSEHH", "MRCAVCGKHIAEHH", "MKCSVCGKHLAQHH"],
         "labels_zn": [0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1], "labels_ca": [0] * 14},
        {"id": "b", "sequence": "DKDGDGTIEFEEW", "homologs": ["DKDGNGTIDFEEW"],
         "labels_zn": [-100] * 13, "labels_ca": [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0]},
    ]


def _batch(views=3, seed=0):
    return E1ContrastiveCollator(E1Tokenizer(), IONS, num_variants=views, mask_prob_min=0.1, mask_prob_max=0.3,
                                 num_context=2, seed=seed)(_rows())


def _initialised(config):
    torch.manual_seed(0)
    model = E1ForContrastiveBinding(config)
    model.prototypes.copy_(F.normalize(torch.randn(len(IONS), config.hidden_size), dim=-1))
    model.prototypes_initialized.fill_(True)
    return model


def test_collator_shapes_and_masks():
    batch = _batch()
    b, v, length = batch["input_ids"].shape
    assert (b, v) == (2, 3) and batch["binding_labels"].shape == (2, 3, length, 2)
    for i, row in enumerate(_rows()):
        for view in range(3):
            mask = batch["label_mask"][i, view]
            assert int(mask.sum()) == len(row["sequence"])
            labels = batch["binding_labels"][i, view][mask]
            assert labels[:, 0].tolist() == row["labels_zn"] and labels[:, 1].tolist() == row["labels_ca"]
            masked = batch["mlm_labels"][i, view] != -100
            assert bool((masked <= mask).all())  # only query residues are masked
            assert bool((batch["input_ids"][i, view][masked] == 5).all())
            assert torch.equal(batch["contrastive_label_mask"][i, view], mask & ~masked)
    assert (batch["binding_labels"][~batch["label_mask"]] == -100).all()
    contexts = {tuple(batch["sequence_ids"][0, view].unique().tolist()) for view in range(3)}
    assert contexts == {(0, 1, 2)}  # 2 homologs + the query in every view


def test_all_views_in_one_forward_equal_the_per_view_loop():
    batch = _batch()
    model = _initialised(_config()).train()
    results = {}
    for batched in (True, False):
        model.config.batch_views = batched
        model.zero_grad()
        out = model(**batch)
        out.loss.backward()
        results[batched] = (out, {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None})
    (one, grads_one), (loop, grads_loop) = results[True], results[False]
    for key in ("loss", "binding_logits", "loss_contrastive", "loss_prototype", "loss_bce", "loss_mlm", "pull_mask_ratio"):
        torch.testing.assert_close(one[key], loop[key], rtol=1e-5, atol=1e-6)
    assert grads_one.keys() == grads_loop.keys()
    for name in grads_one:
        torch.testing.assert_close(grads_one[name], grads_loop[name], rtol=1e-4, atol=1e-6)


def _shared_context_batch(views=3):
    rows = _rows() + [{"id": "c", "sequence": "MHHCPECGK", "homologs": [], "labels_zn": [0, 1, 1, 1, 0, 1, 0, 0, 0],
                       "labels_ca": [0] * 9}]
    return E1ContrastiveCollator(E1Tokenizer(), IONS, num_variants=views, mask_prob_min=0.1, mask_prob_max=0.3,
                                 num_context=2, resample_context_per_view=False, seed=1)(rows)


def _step(model, batch, **modes):
    for key, value in modes.items():
        setattr(model.config, key, value)
    model.zero_grad()
    out = model(**batch)
    out.loss.backward()
    return out, {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("kv_heads,checkpointing", [(2, False), (1, True)])
def test_shared_context_forward_equals_full_rows_and_the_per_view_loop(kv_heads, checkpointing):
    batch = _shared_context_batch()
    assert split_views({k: batch[k] for k in ("input_ids", "sequence_ids", "within_seq_position_ids",
                                                 "global_position_ids", "attention_mask")}) is not None
    model = _initialised(_config(num_key_value_heads=kv_heads)).train()
    if checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": True})
    shared = _step(model, batch, batch_views=True, share_view_context=True)
    full = _step(model, batch, batch_views=True, share_view_context=False)
    loop = _step(model, batch, batch_views=False)
    real = batch["attention_mask"].bool()[..., None].expand_as(shared[0].binding_logits)
    for other in (full, loop):
        torch.testing.assert_close(shared[0].binding_logits[real], other[0].binding_logits[real], rtol=1e-5, atol=1e-5)
        for key in ("loss", "loss_contrastive", "loss_prototype", "loss_bce", "loss_mlm"):
            torch.testing.assert_close(shared[0][key], other[0][key], rtol=1e-5, atol=1e-6)
        assert shared[1].keys() == other[1].keys()
        for name in shared[1]:
            torch.testing.assert_close(shared[1][name], other[1][name], rtol=1e-4, atol=1e-6)


def test_views_with_different_contexts_are_not_split():
    batch = _shared_context_batch()
    views = {k: batch[k].clone() for k in ("input_ids", "sequence_ids", "within_seq_position_ids", "global_position_ids",
                                            "attention_mask")}
    assert split_views(views) is not None
    views["input_ids"][0, 1, 3] = 9  # one homolog residue of protein a's second view differs
    assert split_views(views) is None
    split = split_views({k: batch[k] for k in views})
    assert split.context_length.tolist()[2] == 0  # protein c has no homologs: its context row is padding only
    assert int(split.context["attention_mask"][2].sum()) == 0
    assert split.query["input_ids"].shape[0] == 3 * 3


def _brute_nt_xent(embeddings, temperature):
    """embeddings: {residue: [vector per valid view]}; the textbook multi-positive NT-Xent, one anchor at a time."""
    items = [(r, F.normalize(e, dim=-1)) for r, views in embeddings.items() if len(views) >= 2 for e in views]
    losses = []
    for a, (owner, z) in enumerate(items):
        others = [(o, w) for b, (o, w) in enumerate(items) if b != a]
        denominator = torch.logsumexp(torch.stack([z @ w / temperature for _, w in others]), dim=0)
        positives = [z @ w / temperature - denominator for o, w in others if o == owner]
        losses.append(-torch.stack(positives).mean())
    return torch.stack(losses).mean()


def test_nt_xent_matches_the_definition():
    torch.manual_seed(0)
    hidden = torch.randn(2, 3, 6, 8)
    valid = torch.rand(2, 3, 6) > 0.3
    residue = torch.arange(6).expand(2, 3, 6) - 1  # positions 1..5 are residues 0..4
    valid[:, :, 0] = False
    loss = nt_xent(hidden, valid, residue, temperature=0.2, max_residues=100, training=False)
    embeddings = {}
    for b in range(2):
        for v in range(3):
            for pos in range(6):
                if valid[b, v, pos]:
                    embeddings.setdefault((b, int(residue[b, v, pos])), []).append(hidden[b, v, pos])
    torch.testing.assert_close(loss, _brute_nt_xent(embeddings, 0.2))
    assert nt_xent(hidden[:, :1], valid[:, :1], residue[:, :1], 0.2, 100, False) == 0  # one view: no contrastive term


def test_masked_positions_take_no_part_in_nt_xent_but_stay_in_bce():
    model = _initialised(_config()).eval()
    batch = _batch()
    with torch.no_grad():
        out = model(**batch)
        none = model(**{**batch, "contrastive_label_mask": torch.zeros_like(batch["contrastive_label_mask"])})
    assert out.loss_contrastive > 0 and none.loss_contrastive == 0
    torch.testing.assert_close(none.loss_bce, out.loss_bce)


def test_logits_bce_smoothing_and_prototype_margins_against_their_definitions():
    config = _config(label_smoothing=0.2, eps_pos=0.3, eps_neg=0.3)
    model = _initialised(config).train()
    batch = _batch(views=2)
    with torch.no_grad():
        out = model(**batch)
        hidden = model._encode(batch)[0]
    cos = F.normalize(hidden, dim=-1) @ model.prototypes.T  # (B, V, L, ions)
    torch.testing.assert_close(out.binding_logits, (cos - (-cos)) / config.scoring_temperature)

    labels, mask = batch["binding_labels"], batch["label_mask"]
    scores, targets, nll, violated = [], [], [], []
    for b in range(2):
        for ion in range(2):
            per_view = [out.binding_logits[b, v][mask[b, v], ion] for v in range(2)]
            y = labels[b, 0][mask[b, 0], ion]
            keep = y != -100
            scores.append(((per_view[0] + per_view[1]) / 2)[keep])
            targets.append(y[keep] * 0.8 + 0.1)
            for v in range(2):
                c = cos[b, v][mask[b, v], ion][keep]
                yv = y[keep]
                pair = torch.stack([c, -c], -1) / config.prototype_temperature
                logp = F.log_softmax(pair, -1)
                nll.append(torch.where(yv == 1, -logp[:, 0], -logp[:, 1]))
                violated.append(torch.where(yv == 1, c < 0.3, -c < 0.3))
    bce = F.binary_cross_entropy_with_logits(torch.cat(scores), torch.cat(targets))
    torch.testing.assert_close(out.loss_bce, bce)
    nll, violated = torch.cat(nll), torch.cat(violated)
    torch.testing.assert_close(out.loss_prototype, nll[violated].mean())
    torch.testing.assert_close(out.pull_mask_ratio, violated.float().mean())


def test_margins_switch_the_prototype_pull_on_and_off():
    batch = _batch(views=2)
    for eps, ratio in ((-1.5, 0.0), (1.5, 1.0)):
        model = _initialised(_config(eps_pos=eps, eps_neg=eps)).eval()
        with torch.no_grad():
            out = model(**batch)
        assert float(out.pull_mask_ratio) == ratio
        assert (float(out.loss_prototype) == 0.0) == (ratio == 0.0)


def test_mlm_is_averaged_per_view():
    model = _initialised(_config()).eval()
    batch = _batch()
    with torch.no_grad():
        out = model(**batch)
        hidden = model._encode(batch)[0]
        per_view = []
        for v in range(3):
            labels = batch["mlm_labels"][:, v]
            logits = model.mlm_head(hidden[:, v])
            per_view.append(F.cross_entropy(logits[labels != -100], labels[labels != -100]))
    torch.testing.assert_close(out.loss_mlm, torch.stack(per_view).mean())


def test_prototypes_are_centred_orthogonal_means_of_positive_embeddings():
    model = E1ForContrastiveBinding(_config(center_prototypes=True, orthogonal_prototypes=True)).eval()
    batch = E1ContrastiveCollator.for_evaluation(E1Tokenizer(), IONS, num_context=2)(_rows())
    sums = model.positive_embedding_sums(batch)
    model.set_prototypes(*sums)
    with torch.no_grad():
        hidden = F.normalize(model._encode(batch)[0], dim=-1)
    center = hidden[batch["label_mask"]].mean(0)
    zn = F.normalize(hidden[batch["binding_labels"][..., 0] == 1].mean(0) - center, dim=-1)
    ca = hidden[batch["binding_labels"][..., 1] == 1].mean(0) - center
    ca = F.normalize(ca - (ca @ zn) * zn, dim=-1)
    torch.testing.assert_close(model.prototypes, torch.stack([zn, ca]))
    assert abs(float(model.prototypes[0] @ model.prototypes[1])) < 1e-5
    assert sums[1].tolist() == [4.0, 6.0] and bool(model.prototypes_initialized)

    plain = E1ForContrastiveBinding(_config()).eval()  # the seed's default: the plain mean positive embedding
    plain.load_state_dict(model.state_dict())
    plain.set_prototypes(*sums)
    torch.testing.assert_close(plain.prototypes[1], F.normalize(hidden[batch["binding_labels"][..., 1] == 1].mean(0), dim=-1))
    with pytest.raises(ValueError, match="no binding residues of CA"):
        model.set_prototypes(sums[0], torch.tensor([4.0, 0.0]))


def test_single_view_inference_and_padding():
    model = _initialised(_config()).eval()
    tok = E1Tokenizer()
    with torch.no_grad():
        both = model(**tok.encode_proteins(["MKCAVCGKHLAEHH", "DKDG"], context=[["MKCAICGRHLSEHH"], None])).binding_logits
        alone = model(**tok.encode_proteins("DKDG")).binding_logits
    assert both.shape[-1] == 2 and (both[1, : alone.shape[1]] - alone[0]).abs().max() < 1e-5
