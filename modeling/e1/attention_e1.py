"""E1 attention: masks and rotary tables built once per batch, SDPA (or compiled flex attention) per layer."""

import torch
import torch.nn.functional as F

try:  # optional: torch's flex attention (a GPU option, `attention_backend="flex"`)
    from torch.nn.attention.flex_attention import BlockMask, create_block_mask, flex_attention
except ImportError:  # older torch
    BlockMask = create_block_mask = flex_attention = None

_compiled_flex = None


def build_attention_masks(sequence_ids: torch.Tensor, attention_mask: torch.Tensor, backend: str = "sdpa") -> tuple:
    """
    (within, global) masks of a batch, True = may attend. Within-sequence: keys of the query token's own sequence
    (bidirectional). Global (block-causal): keys of its own and every earlier sequence. Padding keys are never
    attended to; a padding query attends to itself only (so no row is empty). SDPA: bool (B, 1, L, L); flex: BlockMasks.
    """
    real = attention_mask.bool()
    if backend == "flex":
        return _flex_block_masks(sequence_ids, real)
    length = sequence_ids.shape[1]
    eye = torch.eye(length, dtype=torch.bool, device=sequence_ids.device)
    query_seq, key_seq = sequence_ids[:, :, None], sequence_ids[:, None, :]
    key_ok, pad_self = real[:, None, :], (~real)[:, :, None] & eye
    within = (query_seq == key_seq) & key_ok & real[:, :, None] | pad_self
    global_ = (key_seq <= query_seq) & key_ok & real[:, :, None] | pad_self
    return within[:, None], global_[:, None]


def _flex_block_masks(sequence_ids: torch.Tensor, real: torch.Tensor) -> tuple:
    if create_block_mask is None:
        raise RuntimeError("attention_backend='flex' needs torch.nn.attention.flex_attention (torch >= 2.5)")
    batch, length = sequence_ids.shape

    def within(b, h, q, kv):
        return ((sequence_ids[b, q] == sequence_ids[b, kv]) & real[b, kv] & real[b, q]) | (q == kv)

    def global_(b, h, q, kv):
        return ((sequence_ids[b, kv] <= sequence_ids[b, q]) & real[b, kv] & real[b, q]) | (q == kv)

    device = sequence_ids.device
    return (create_block_mask(within, batch, None, length, length, device=device),
            create_block_mask(global_, batch, None, length, length, device=device))


def rotary_cos_sin(positions: torch.Tensor, head_dim: int, theta: float, dtype=None) -> tuple:
    """cos, sin (B, 1, L, head_dim) in float32 for rotate-half rotary embeddings at integer `positions` (B, L)."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, device=positions.device, dtype=torch.float32) / head_dim))
    freqs = positions.float()[..., None] * inv_freq
    emb = torch.cat([freqs, freqs], dim=-1)[:, None]
    return emb.cos(), emb.sin()


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask, config) -> torch.Tensor:
    """Scaled dot product (1/sqrt(head_dim)) with the softmax in float32; q, k, v (B, H, L, head_dim)."""
    dtype = q.dtype
    upcast = config.upcast_attention and dtype in (torch.float16, torch.bfloat16)
    if upcast:
        q, k, v = q.float(), k.float(), v.float()
    if BlockMask is not None and isinstance(mask, BlockMask):
        global _compiled_flex
        if _compiled_flex is None:
            _compiled_flex = torch.compile(flex_attention, dynamic=False)
        out = _compiled_flex(q, k, v, block_mask=mask)
    else:
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    return out.to(dtype)
