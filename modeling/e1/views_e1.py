"""
Shared homolog context across the views of a protein.

In E1 a row is `homolog_1 ... homolog_n query`, and global layers are block-causal: a sequence sees only itself and
earlier sequences, so the homologs' hidden states never depend on the query. When every view of a protein carries
the SAME homologs (only the query's MLM mask differs), the context can be encoded once per protein and each view's
query attends to its cached keys/values: exact, and the backbone processes C + V sequences instead of V (C + 1).

`split_views` cuts (B, V, L) rows into the context of view 0 (B, Lc) and the queries (B*V, Lq) (or returns None when
the views' contexts differ); `merge_views` puts the hidden states back into the (B, V, L, D) row layout.
"""

from dataclasses import dataclass
from typing import Optional

import torch

KEYS = ("input_ids", "sequence_ids", "within_seq_position_ids", "global_position_ids")


@dataclass
class SplitViews:
    context: dict  # KEYS + attention_mask, (B, Lc): view 0's homologs (rows of proteins without homologs: padding only)
    query: dict  # KEYS + attention_mask, (B*V, Lq): each view's query, left-aligned
    context_length: torch.Tensor  # (B,) tokens of context before the query in every view of protein b
    num_views: int
    length: int  # L of the input rows


def split_views(views: dict) -> Optional[SplitViews]:
    """Context / query split of right-padded (B, V, L) rows, or None when some protein's views differ in context."""
    ids, seq, real = views["input_ids"], views["sequence_ids"], views["attention_mask"].bool()
    batch, num_views, length = ids.shape
    last = seq.masked_fill(~real, -1).amax(dim=-1, keepdim=True)
    is_context = real & (seq < last)
    context_length = is_context.sum(dim=-1)  # (B, V)
    if not bool((context_length == context_length[:, :1]).all()):
        return None
    for key in KEYS:  # the context tokens, ids and positions must be identical across views
        masked = views[key].masked_fill(~is_context, -1)
        if not bool((masked == masked[:, :1]).all()):
            return None
    context_length = context_length[:, 0]
    width_context = max(int(context_length.max()), 1)
    context = {key: views[key][:, 0, :width_context] for key in KEYS}
    context["attention_mask"] = is_context[:, 0, :width_context].long()

    query_length = (real & ~is_context).sum(dim=-1).flatten()  # (B*V,)
    width_query = int(query_length.max())
    offsets = torch.arange(width_query, device=ids.device)
    starts = context_length.repeat_interleave(num_views)  # (B*V,)
    index = (starts[:, None] + offsets).clamp(max=length - 1)
    query = {key: views[key].reshape(batch * num_views, length).gather(1, index) for key in KEYS}
    query["attention_mask"] = (offsets < query_length[:, None]).long()
    return SplitViews(context, query, context_length, num_views, length)


def query_global_mask(context_mask: torch.Tensor, query_mask: torch.Tensor, num_views: int) -> torch.Tensor:
    """
    (B*V, 1, Lq, Lc + Lq) bool mask of a global layer for the queries: real query tokens see every real context
    token of their protein and every real token of their own query; a padding query token sees itself only.
    """
    real_context = context_mask.bool().repeat_interleave(num_views, dim=0)  # (B*V, Lc)
    real_query = query_mask.bool()
    width = real_query.shape[1]
    eye = torch.eye(width, dtype=torch.bool, device=real_query.device)
    to_context = real_query[:, :, None] & real_context[:, None, :]
    to_query = real_query[:, :, None] & real_query[:, None, :] | (~real_query)[:, :, None] & eye
    return torch.cat([to_context, to_query], dim=-1)[:, None]


def merge_views(split: SplitViews, context_hidden: torch.Tensor, query_hidden: torch.Tensor) -> torch.Tensor:
    """(B, V, L, D) hidden states in the input row layout; padding positions are 0."""
    batch, width_context, dim = context_hidden.shape
    num_views, length = split.num_views, split.length
    width_query = query_hidden.shape[1]
    positions = torch.arange(length, device=context_hidden.device)
    starts = split.context_length.repeat_interleave(num_views)[:, None]  # (B*V, 1)
    in_query = positions - starts  # (B*V, L)
    query_real = split.query["attention_mask"].bool()
    from_query = query_hidden.gather(1, in_query.clamp(0, width_query - 1)[..., None].expand(-1, -1, dim))
    keep_query = (in_query >= 0) & (in_query < width_query)
    keep_query &= query_real.gather(1, in_query.clamp(0, width_query - 1))
    context_index = positions.clamp(max=width_context - 1)
    from_context = context_hidden[:, context_index].repeat_interleave(num_views, dim=0)  # (B*V, L, D)
    keep_context = (positions < starts) & split.context["attention_mask"].bool()[:, context_index].repeat_interleave(num_views, dim=0)
    zero = query_hidden.new_zeros(())
    merged = torch.where(keep_query[..., None], from_query, torch.where(keep_context[..., None], from_context, zero))
    return merged.view(batch, num_views, length, dim)
