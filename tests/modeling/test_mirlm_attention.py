"""
MirLMSlidingWindowAttention equals transformers' LongformerSelfAttention and a dense masked reference;
gradient checkpointing of MirLMForTargetPrediction leaves the gradients unchanged.
"""
import math
import warnings

import pytest
import torch
import torch.nn.functional as F
from transformers import LongformerConfig
from transformers.models.longformer.modeling_longformer import LongformerSelfAttention

from modeling.mirlm.configuration_mirlm import MirLMConfig
from modeling.mirlm.modeling_mirlm import MirLMForTargetPrediction, MirLMSlidingWindowAttention
from modeling.mirlm.tokenization_mirlm import MirLMTokenizer

HIDDEN, HEADS = 32, 4
ATOL = 1e-5


def make_attention(window: int) -> tuple:
    """Our attention and LongformerSelfAttention with the same weights and full window 2w = `window`."""
    ours = MirLMSlidingWindowAttention(
        MirLMConfig(hidden_size=HIDDEN, num_attention_heads=HEADS, attention_window=window, attention_probs_dropout_prob=0.0)
    ).eval()
    longformer = LongformerSelfAttention(
        LongformerConfig(hidden_size=HIDDEN, num_attention_heads=HEADS, attention_window=[window], attention_probs_dropout_prob=0.0),
        layer_id=0,
    ).eval()
    longformer.load_state_dict(ours.state_dict())
    return ours, longformer


def make_masks(lengths: list, total: int, global_positions: list) -> tuple:
    """(B, total) attention mask from the lengths and global mask from per-sample global positions."""
    attention_mask = torch.arange(total)[None, :] < torch.tensor(lengths)[:, None]
    global_mask = torch.zeros(len(lengths), total, dtype=torch.bool)
    for row, positions in enumerate(global_positions):
        global_mask[row, positions] = True
    return attention_mask, global_mask


def longformer_forward(longformer, hidden_states, attention_mask, global_mask, window: int) -> torch.Tensor:
    """Run LongformerSelfAttention as LongformerModel does: pad to a multiple of the window, {-10000, 0, +10000} mask."""
    batch, length, _ = hidden_states.shape
    pad = (window - length % window) % window
    padded = F.pad(hidden_states, (0, 0, 0, pad))
    merged = F.pad(attention_mask.long() * (global_mask.long() + 1), (0, pad))  # 0 pad, 1 local, 2 global
    mask = torch.zeros(batch, length + pad)
    mask[merged == 0] = -10000.0
    mask[merged == 2] = 10000.0
    is_index_global_attn = mask > 0
    out = longformer(
        padded,
        attention_mask=mask,
        is_index_masked=mask < 0,
        is_index_global_attn=is_index_global_attn,
        is_global_attn=bool(is_index_global_attn.any()),
    )[0]
    return out[:, :length]


def dense_reference(attention, hidden_states, attention_mask, global_mask) -> torch.Tensor:
    """
    Full (L x L) attention with a mask: a local query sees real keys within w or global; a global query sees
    every real key, through the *_global projections; padding rows are 0.
    """
    batch, length, hidden = hidden_states.shape
    w, heads = attention.window, attention.num_heads
    scale = 1.0 / math.sqrt(hidden // heads)
    is_global = global_mask & attention_mask

    def attend(query, key, value, allowed):
        q, k, v = (t.view(batch, length, heads, -1).transpose(1, 2) for t in (query, key, value))
        scores = (q @ k.transpose(-1, -2)) * scale
        scores = scores.masked_fill(~allowed[:, None], float("-inf"))
        return (scores.softmax(-1) @ v).transpose(1, 2).reshape(batch, length, hidden)

    position = torch.arange(length)
    band = (position[:, None] - position[None, :]).abs() <= w
    allowed = attention_mask[:, None, :] & (band[None] | is_global[:, None, :])
    allowed = allowed | ~attention_mask[:, :, None]  # padding rows: anything (zeroed below), avoids NaN
    x = hidden_states
    local = attend(attention.query(x), attention.key(x), attention.value(x), allowed)
    all_real = attention_mask[:, None, :].expand(-1, length, -1)
    glob = attend(attention.query_global(x), attention.key_global(x), attention.value_global(x), all_real)
    out = torch.where(is_global[..., None], glob, local)
    return torch.where(attention_mask[..., None], out, torch.zeros_like(out))


CASES = {
    # name: (lengths, total length, full window 2w, global positions per sample)
    "odd_length": ([37], 37, 8, [[0]]),
    "multiple_of_window": ([48], 48, 8, [[0]]),
    "shorter_than_window": ([5], 5, 16, [[0]]),
    "shorter_than_one_side": ([3, 2], 3, 40, [[0], [0]]),
    "small_window": ([19], 19, 4, [[0]]),
    "smallest_window": ([19], 19, 2, [[0]]),  # w = 1: LongformerSelfAttention's chunking cannot run it
    "padding": ([37, 20, 3], 37, 8, [[0], [0], [0]]),
    "several_global": ([41], 41, 8, [[0, 11, 30, 40]]),
    "adjacent_global": ([23], 23, 6, [[0, 1, 2]]),
    "different_global_counts": ([29, 29, 17], 29, 8, [[0], [0, 5, 17, 28], []]),
    "global_on_padding_ignored": ([30, 12], 30, 8, [[0], [0, 20]]),
    "no_global": ([33, 25], 33, 10, [[], []]),
    "mirlm_window": ([130, 77], 130, 40, [[0], [0]]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_matches_longformer_and_dense_reference(case):
    lengths, total, window, global_positions = CASES[case]
    ours, longformer = make_attention(window)
    x = torch.randn(len(lengths), total, HIDDEN)
    attention_mask, global_mask = make_masks(lengths, total, global_positions)
    with torch.no_grad():
        got = ours(x, attention_mask, global_mask)
        dense = dense_reference(ours, x, attention_mask, global_mask)
    torch.testing.assert_close(got, dense, atol=ATOL, rtol=0)
    assert torch.equal(got[~attention_mask], torch.zeros_like(got[~attention_mask]))
    if window > 2:
        with torch.no_grad():
            hf = longformer_forward(longformer, x, attention_mask, global_mask, window)
        # LongformerSelfAttention leaves junk in padding rows (LongformerModel ignores them): compare real rows.
        real = attention_mask[..., None]
        torch.testing.assert_close(got * real, hf * real, atol=ATOL, rtol=0)


def test_padding_content_is_ignored():
    ours, _ = make_attention(8)
    x = torch.randn(2, 40, HIDDEN)
    attention_mask, global_mask = make_masks([40, 25], 40, [[0], [0, 24]])
    noisy = x.clone()
    noisy[1, 25:] = 1e3 * torch.randn(15, HIDDEN)
    with torch.no_grad():
        torch.testing.assert_close(ours(x, attention_mask, global_mask), ours(noisy, attention_mask, global_mask), atol=ATOL, rtol=0)
        # And a sample is unaffected by the batch it is in (its own padding length).
        alone = ours(x[1:, :25], attention_mask[1:, :25], global_mask[1:, :25])
        torch.testing.assert_close(ours(x, attention_mask, global_mask)[1:, :25], alone, atol=ATOL, rtol=0)


def test_gradients_match_the_dense_reference():
    ours, _ = make_attention(8)
    attention_mask, global_mask = make_masks([37, 20], 37, [[0, 9], [0]])
    x = torch.randn(2, 37, HIDDEN, requires_grad=True)
    upstream = torch.randn(2, 37, HIDDEN)

    def grads(fn):
        ours.zero_grad()
        x.grad = None
        (fn(ours, x, attention_mask, global_mask) * upstream).sum().backward()
        return [x.grad.clone()] + [p.grad.clone() for p in ours.parameters()]

    for got, expected in zip(grads(lambda m, *a: m(*a)), grads(dense_reference)):
        torch.testing.assert_close(got, expected, atol=ATOL, rtol=1e-4)


# -- gradient checkpointing --------------------------------------------------------------------------------
@pytest.mark.parametrize("enable", ["activation_checkpointing_enable", "gradient_checkpointing_enable"])
def test_gradient_checkpointing_gives_the_same_gradients(enable):
    config = MirLMConfig(
        hidden_size=32, num_attention_heads=4, num_hidden_layers=2, intermediate_size=64, attention_window=8,
        kmer_conv_size=5, pairing_window=5, mirna_num_layers=1, mrna_max_len=64, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
    )
    model = MirLMForTargetPrediction(config).train()
    batch = MirLMTokenizer(mrna_max_len=64).encode_pairs(
        ["ACGTTGCAAGCTAGCTAGGCATCGATCGGATC", "GGCATTACGGA"], "UAGCUUAUCAGACUGAUGUUGA",
        site_start=[4, -1], site_end=[10, -1], padding="longest",
    )
    batch["labels"] = torch.tensor([1.0, 0.0])

    def loss_and_grads():
        model.zero_grad()
        loss = model(**batch).loss
        loss.backward()
        return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    plain_loss, plain = loss_and_grads()
    calls = []
    hook = model.mirlm.layers[0].self_attention.register_forward_hook(lambda *_: calls.append(1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # gradient_checkpointing_enable is the deprecated alias
        getattr(model, enable)()
    assert all(layer.gradient_checkpointing for layer in model.mirlm.layers)
    checkpointed_loss, checkpointed = loss_and_grads()
    hook.remove()
    assert len(calls) == 2, "the layer was not recomputed in the backward pass: checkpointing is off"
    torch.testing.assert_close(checkpointed_loss, plain_loss, atol=0, rtol=0)
    assert checkpointed.keys() == plain.keys() and len(plain) == len(list(model.parameters()))
    for name in plain:
        torch.testing.assert_close(checkpointed[name], plain[name], atol=1e-6, rtol=1e-5, msg=name)

