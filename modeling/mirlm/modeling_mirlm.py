"""mirLM: Longformer-style mRNA encoder with cross-attention to the miRNA and a multiple-instance binding head."""

from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.utils import ModelOutput

from .configuration_mirlm import MirLMConfig


@dataclass
class MirLMModelOutput(ModelOutput):
    """
    last_hidden_state: (B, Lm, H) mRNA token states after self- and cross-attention.
    mirna_last_hidden_state: (B, Li, H) miRNA encoder states.
    hidden_states: mRNA states after the embeddings and after every layer, when asked for.
    """

    last_hidden_state: Optional[torch.FloatTensor] = None
    mirna_last_hidden_state: Optional[torch.FloatTensor] = None
    hidden_states: Optional[tuple] = None


@dataclass
class MirLMTargetPredictionOutput(ModelOutput):
    """
    loss: bag_loss_weight * bag BCE + span_loss_weight * span cross-entropy on positives (when labels are given).
    binding_logit: (B,) multiple-instance (log-sum-exp) bag logit; sigmoid gives the binding probability.
    pos_weights: (B, Lm) softmax(pos_logits / tau) over the mRNA nucleotides: sums to 1, 0 on [MRNA_CLS] and padding.
    pos_logits: (B, Lm) per-position seed scores (the dtype's minimum on [MRNA_CLS] and padding).
    start_logits, end_logits: (B, Lm) seed-site span logits (token positions; nt = token - 1).
    hidden_states: as in `MirLMModelOutput`, when asked for.
    """

    # Typed output fields, alike in shape to the other families' outputs (not shared logic).
    loss: Optional[torch.FloatTensor] = None
    binding_logit: Optional[torch.FloatTensor] = None
    pos_weights: Optional[torch.FloatTensor] = None
    pos_logits: Optional[torch.FloatTensor] = None
    start_logits: Optional[torch.FloatTensor] = None
    end_logits: Optional[torch.FloatTensor] = None
    hidden_states: Optional[tuple] = None


def best_spans(start_logits: torch.Tensor, end_logits: torch.Tensor, max_span_length: int = 30) -> tuple:
    """
    Best (start, end) token positions per row: argmax of start + end logit over start <= end < start + max_span_length.
    Returns two (B,) long tensors.
    """
    length = start_logits.shape[-1]
    scores = torch.stack([
        F.pad(start_logits[:, : length - d] + end_logits[:, d:], (0, d), value=float("-inf"))
        for d in range(min(max_span_length, length))
    ], dim=1)  # (B, span length, start)
    best = scores.flatten(1).argmax(dim=1)
    start = best % length
    return start, start + best // length


def _split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """(B, L, H*D) -> (B, H, L, D)"""
    batch, length, _ = x.shape
    return x.view(batch, length, num_heads, -1).transpose(1, 2)


class MirLMSlidingWindowAttention(nn.Module):
    """
    Longformer self-attention, computed block-wise with SDPA.

    Every token attends to the tokens within `w = attention_window // 2` on each side and to the global tokens;
    global tokens attend to every token through their own projections (`query_global`, `key_global`,
    `value_global`), exactly as `transformers.LongformerSelfAttention` (same parameter names). Queries are cut
    into blocks of `w`; a block sees the keys of its own and its two neighbouring blocks (3w keys), so the
    cost grows linearly with the length and no padding to a multiple of the window is needed.
    """

    def __init__(self, config: MirLMConfig):
        super().__init__()
        hidden = config.hidden_size
        self.num_heads = config.num_attention_heads
        self.window = config.attention_window // 2
        self.dropout = config.attention_probs_dropout_prob
        self.query, self.key, self.value = (nn.Linear(hidden, hidden) for _ in range(3))
        self.query_global, self.key_global, self.value_global = (nn.Linear(hidden, hidden) for _ in range(3))

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor, global_attention_mask: torch.Tensor):
        """hidden_states (B, L, H); attention_mask (B, L) True = token; global_attention_mask (B, L) True = global."""
        batch, length, hidden = hidden_states.shape
        w, heads = self.window, self.num_heads
        dropout = self.dropout if self.training else 0.0
        is_global = global_attention_mask & attention_mask

        q = _split_heads(self.query(hidden_states), heads)
        k = _split_heads(self.key(hidden_states), heads)
        v = _split_heads(self.value(hidden_states), heads)

        # Global tokens of each sample, gathered into (B, G) with a validity mask (G = most in the batch).
        num_global = int(is_global.sum(dim=1).max())
        global_index = torch.argsort(is_global.int(), dim=1, descending=True, stable=True)[:, :num_global]
        global_valid = torch.gather(is_global, 1, global_index)

        # Local attention: query blocks of w, key blocks of 3w (previous, own and next block).
        blocks = -(-length // w)
        q_blocks = F.pad(q, (0, 0, 0, blocks * w - length)).view(batch, heads, blocks, w, -1)
        pad = (0, 0, w, blocks * w - length + w)
        k_blocks = F.pad(k, pad).unfold(2, 3 * w, w).transpose(-1, -2)
        v_blocks = F.pad(v, pad).unfold(2, 3 * w, w).transpose(-1, -2)
        # A windowed key must be a real token, not global (global keys are added once, below), within w.
        key_ok = F.pad(attention_mask & ~is_global, (w, blocks * w - length + w)).unfold(1, 3 * w, w)
        offset = torch.arange(3 * w, device=q.device)[None, :] - w - torch.arange(w, device=q.device)[:, None]
        mask = (offset.abs() <= w)[None, None] & key_ok[:, :, None, :]  # (B, blocks, w, 3w)

        if num_global:
            index = global_index[:, None, :, None].expand(-1, heads, -1, k.shape[-1])
            global_k = torch.gather(k, 2, index)[:, :, None].expand(-1, -1, blocks, -1, -1)
            global_v = torch.gather(v, 2, index)[:, :, None].expand(-1, -1, blocks, -1, -1)
            k_blocks = torch.cat([global_k, k_blocks], dim=3)
            v_blocks = torch.cat([global_v, v_blocks], dim=3)
            mask = torch.cat([global_valid[:, None, None, :].expand(-1, blocks, w, -1), mask], dim=3)
        # Rows with nothing to attend to (padding far from any token) would give NaN: let them see all, then zero.
        mask = mask | ~mask.any(dim=-1, keepdim=True)
        local = F.scaled_dot_product_attention(q_blocks, k_blocks, v_blocks, attn_mask=mask[:, None], dropout_p=dropout)
        output = local.reshape(batch, heads, blocks * w, -1)[:, :, :length]

        if num_global:
            # Global tokens attend to every real token with the global projections, and overwrite their rows.
            global_states = torch.gather(hidden_states, 1, global_index[:, :, None].expand(-1, -1, hidden))
            gq = _split_heads(self.query_global(global_states), heads)
            gk = _split_heads(self.key_global(hidden_states), heads)
            gv = _split_heads(self.value_global(hidden_states), heads)
            global_out = F.scaled_dot_product_attention(gq, gk, gv, attn_mask=attention_mask[:, None, None, :], dropout_p=dropout)
            keep = global_valid[:, None, :, None].to(global_out.dtype)
            index = global_index[:, None, :, None].expand(-1, heads, -1, output.shape[-1])
            current = torch.gather(output, 2, index)
            output = output.scatter(2, index, keep * global_out + (1 - keep) * current)

        output = output.transpose(1, 2).reshape(batch, length, hidden)
        return output * attention_mask[..., None].to(output.dtype)


class MirLMAttention(nn.Module):
    """
    Multi-head attention of `hidden_states` (queries) over `context` (keys/values) with a key padding mask.
    With `null_slot`, every query can also attend to a learned null key/value: attention to the context then
    no longer has to sum to one, so its weight says how well a query matches (a one-mismatch seed match can
    lose to the null slot where a full match wins) instead of only where it matches best.
    """

    def __init__(self, config: MirLMConfig, null_slot: bool = False):
        super().__init__()
        hidden = config.hidden_size
        self.num_heads = config.num_attention_heads
        self.dropout = config.attention_probs_dropout_prob
        self.query, self.key, self.value = (nn.Linear(hidden, hidden) for _ in range(3))
        self.null_key = nn.Parameter(torch.zeros(hidden)) if null_slot else None
        self.null_value = nn.Parameter(torch.zeros(hidden)) if null_slot else None

    def forward(self, hidden_states, context, context_mask, bias: Optional[torch.Tensor] = None):
        """`bias` (B, heads, Lq, Lk) is added to the attention scores (the pairing bias of cross-attention)."""
        batch, length, hidden = hidden_states.shape
        q = _split_heads(self.query(hidden_states), self.num_heads)
        k = _split_heads(self.key(context), self.num_heads)
        v = _split_heads(self.value(context), self.num_heads)
        mask = context_mask[:, None, None, :]
        if bias is not None:
            mask = bias.to(q.dtype).masked_fill(~mask, float("-inf"))
        if self.null_key is not None:
            null_k = self.null_key.view(1, self.num_heads, 1, -1).expand(batch, -1, 1, -1)
            null_v = self.null_value.view(1, self.num_heads, 1, -1).expand(batch, -1, 1, -1)
            k, v = torch.cat([null_k, k], dim=2), torch.cat([null_v, v], dim=2)
            null_mask = torch.zeros_like(mask[..., :1]) if mask.dtype != torch.bool else torch.ones_like(mask[..., :1])
            mask = torch.cat([null_mask.expand(*mask.shape[:-1], 1), mask], dim=-1)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0)
        return out.transpose(1, 2).reshape(batch, length, hidden)


class MirLMPairingBias(nn.Module):
    """
    Learned base-pairing score of the antiparallel duplex between mRNA i..i+k-1 and miRNA j..j-k+1, per head:
    bias[b, h, i, j] = sum_d score_{h,d}(mrna[i+d], mirna[j-d]). The score of a pair depends on its place d in
    the duplex, so a site can weigh its central pairs above its ends (a 6mer is a site, a seed match with a
    mismatch in its middle is not). A seed site of miRNA nt 2-8 scores highest at (site start, miRNA nt 8).
    The score table is learnt: nothing says which pairs match.
    """

    def __init__(self, config: MirLMConfig):
        super().__init__()
        self.window = config.pairing_window
        self.num_heads = config.num_attention_heads
        self.vocab_size = config.vocab_size
        self.pair_scores = nn.Embedding(config.vocab_size**2, config.pairing_window * config.num_attention_heads)

    def forward(self, input_ids: torch.Tensor, mirna_input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        pairs = self.pair_scores(input_ids[:, :, None] * self.vocab_size + mirna_input_ids[:, None, :])
        pairs = pairs * attention_mask[:, :, None, None].to(pairs.dtype)  # padding pairs with nothing
        batch, mrna_len, mirna_len, _ = pairs.shape
        pairs = pairs.view(batch, mrna_len, mirna_len, self.window, self.num_heads)
        duplex = pairs.new_zeros(batch, mrna_len, mirna_len, self.num_heads)
        for d in range(min(self.window, mrna_len, mirna_len)):
            duplex[:, : mrna_len - d, d:] += pairs[:, d:, : mirna_len - d, d]
        return duplex.permute(0, 3, 1, 2)


class MirLMFeedForward(nn.Module):
    def __init__(self, config: MirLMConfig):
        super().__init__()
        self.up = nn.Linear(config.hidden_size, config.intermediate_size)
        self.down = nn.Linear(config.intermediate_size, config.hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(F.gelu(self.up(x)))


class MirLMEmbeddings(nn.Module):
    """Shared nucleotide embeddings, a learned position embedding per stream, and an optional k-mer convolution."""

    def __init__(self, config: MirLMConfig):
        super().__init__()
        hidden, k = config.hidden_size, config.kmer_conv_size
        self.word_embeddings = nn.Embedding(config.vocab_size, hidden, padding_idx=config.pad_token_id)
        self.mrna_position_embeddings = nn.Embedding(config.mrna_max_len, hidden)
        self.mirna_position_embeddings = nn.Embedding(config.mirna_max_len, hidden)
        self.mrna_kmer_conv = nn.Conv1d(hidden, hidden, k, padding=k // 2) if k else None
        self.mirna_kmer_conv = nn.Conv1d(hidden, hidden, k, padding=k // 2) if k else None
        self.mrna_norm = nn.LayerNorm(hidden, eps=config.layer_norm_eps)
        self.mirna_norm = nn.LayerNorm(hidden, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def _embed(self, ids, mask, positions: nn.Embedding, conv: Optional[nn.Conv1d], norm: nn.LayerNorm):
        x = self.word_embeddings(ids) + positions(torch.arange(ids.shape[1], device=ids.device))[None]
        x = x * mask[..., None].to(x.dtype)
        if conv is not None:
            x = x + F.gelu(conv(x.transpose(1, 2)).transpose(1, 2))
        return self.dropout(norm(x))

    def forward(self, input_ids, attention_mask, mirna_input_ids, mirna_attention_mask):
        mrna = self._embed(input_ids, attention_mask, self.mrna_position_embeddings, self.mrna_kmer_conv, self.mrna_norm)
        mirna = self._embed(mirna_input_ids, mirna_attention_mask, self.mirna_position_embeddings, self.mirna_kmer_conv, self.mirna_norm)
        return mrna, mirna


class MirLMMirnaLayer(GradientCheckpointingLayer):
    """Pre-norm transformer layer of the miRNA encoder (full self-attention, the miRNA is short)."""

    def __init__(self, config: MirLMConfig):
        super().__init__()
        self.attention_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.attention = MirLMAttention(config)
        self.attention_output = nn.Linear(config.hidden_size, config.hidden_size)
        self.ffn_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.ffn = MirLMFeedForward(config)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states, attention_mask):
        x = self.attention_norm(hidden_states)
        hidden_states = hidden_states + self.dropout(self.attention_output(self.attention(x, x, attention_mask)))
        return hidden_states + self.dropout(self.ffn(self.ffn_norm(hidden_states)))


class MirLMLayer(GradientCheckpointingLayer):
    """Pre-norm mRNA layer: sliding-window self-attention, cross-attention to the miRNA, feed-forward."""

    def __init__(self, config: MirLMConfig):
        super().__init__()
        hidden, eps = config.hidden_size, config.layer_norm_eps
        self.self_attention_norm = nn.LayerNorm(hidden, eps=eps)
        self.self_attention = MirLMSlidingWindowAttention(config)
        self.self_attention_output = nn.Linear(hidden, hidden)
        self.cross_attention_norm = nn.LayerNorm(hidden, eps=eps)
        self.cross_attention = MirLMAttention(config, null_slot=True)
        self.cross_attention_output = nn.Linear(hidden, hidden)
        self.ffn_norm = nn.LayerNorm(hidden, eps=eps)
        self.ffn = MirLMFeedForward(config)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states, attention_mask, global_attention_mask, mirna_states, mirna_attention_mask, pairing_bias=None):
        x = self.self_attention(self.self_attention_norm(hidden_states), attention_mask, global_attention_mask)
        hidden_states = hidden_states + self.dropout(self.self_attention_output(x))
        x = self.cross_attention(self.cross_attention_norm(hidden_states), mirna_states, mirna_attention_mask, pairing_bias)
        hidden_states = hidden_states + self.dropout(self.cross_attention_output(x))
        return hidden_states + self.dropout(self.ffn(self.ffn_norm(hidden_states)))


class MirLMPreTrainedModel(PreTrainedModel):
    # The PreTrainedModel declarations transformers reads, repeated per family because each modeling folder ships alone as remote code.
    config_class = MirLMConfig
    base_model_prefix = "mirlm"
    main_input_name = "input_ids"
    supports_gradient_checkpointing = True
    _no_split_modules = ["MirLMLayer", "MirLMMirnaLayer"]
    _supports_sdpa = True

    def _init_weights(self, module):
        # Linear, Conv1d, Embedding (padding row zeroed) and LayerNorm: the library default, which goes through
        # transformers.initialization and so respects already-loaded weights. The null slot starts at zero.
        super()._init_weights(module)
        if isinstance(module, MirLMAttention) and module.null_key is not None:
            init.zeros_(module.null_key)
            init.zeros_(module.null_value)


class MirLMModel(MirLMPreTrainedModel):
    """
    Encodes an (mRNA, miRNA) pair. Inputs follow the Hugging Face conventions:
    `attention_mask` 1 = token, 0 = padding; `global_attention_mask` 1 = global attention (by default position 0,
    the `[MRNA_CLS]` token). The seed's single Longformer mask {-1 pad, 0 local, 1 global} is
    `global_attention_mask - (1 - attention_mask)`.
    """

    def __init__(self, config: MirLMConfig):
        super().__init__(config)
        self.embeddings = MirLMEmbeddings(config)
        self.mirna_layers = nn.ModuleList(MirLMMirnaLayer(config) for _ in range(config.mirna_num_layers))
        self.pairing_bias = MirLMPairingBias(config) if config.pairing_window else None
        self.layers = nn.ModuleList(MirLMLayer(config) for _ in range(config.num_hidden_layers))
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.gradient_checkpointing = False
        self.post_init()

    def get_input_embeddings(self):
        return self.embeddings.word_embeddings

    def set_input_embeddings(self, value):
        self.embeddings.word_embeddings = value

    def _check_inputs(self, input_ids, mirna_input_ids):
        if input_ids is None or mirna_input_ids is None:
            raise ValueError("mirLM needs both input_ids (mRNA) and mirna_input_ids (miRNA); see MirLMTokenizer.encode_pairs")
        for name, ids, limit in (("input_ids", input_ids, self.config.mrna_max_len),
                                 ("mirna_input_ids", mirna_input_ids, self.config.mirna_max_len)):
            if ids.dim() != 2:
                raise ValueError(f"{name} must be (batch, length), got shape {tuple(ids.shape)}")
            if ids.shape[1] > limit:
                raise ValueError(f"{name} has length {ids.shape[1]} > {limit} (config); the mirLM pipeline scans long mRNAs in windows")
        if input_ids.shape[0] != mirna_input_ids.shape[0]:
            raise ValueError(f"batch sizes differ: {input_ids.shape[0]} mRNAs, {mirna_input_ids.shape[0]} miRNAs")

    def forward(
        self,
        input_ids: Optional[torch.LongTensor] = None,
        attention_mask: Optional[torch.Tensor] = None,
        global_attention_mask: Optional[torch.Tensor] = None,
        mirna_input_ids: Optional[torch.LongTensor] = None,
        mirna_attention_mask: Optional[torch.Tensor] = None,
        output_hidden_states: Optional[bool] = None,
        return_dict: Optional[bool] = None,
    ) -> MirLMModelOutput:
        self._check_inputs(input_ids, mirna_input_ids)
        pad = self.config.pad_token_id
        attention_mask = (input_ids != pad) if attention_mask is None else attention_mask.bool()
        mirna_attention_mask = (mirna_input_ids != pad) if mirna_attention_mask is None else mirna_attention_mask.bool()
        if global_attention_mask is None:
            global_attention_mask = torch.zeros_like(attention_mask)
            global_attention_mask[:, 0] = True
        global_attention_mask = global_attention_mask.bool()

        hidden_states, mirna_states = self.embeddings(input_ids, attention_mask, mirna_input_ids, mirna_attention_mask)
        for layer in self.mirna_layers:
            mirna_states = layer(mirna_states, mirna_attention_mask)
        pairing_bias = None if self.pairing_bias is None else self.pairing_bias(input_ids, mirna_input_ids, attention_mask)
        all_hidden_states = (hidden_states,) if output_hidden_states else None
        for layer in self.layers:
            hidden_states = layer(hidden_states, attention_mask, global_attention_mask, mirna_states, mirna_attention_mask, pairing_bias)
            if output_hidden_states:
                all_hidden_states += (hidden_states,)
        return MirLMModelOutput(
            last_hidden_state=self.norm(hidden_states),
            mirna_last_hidden_state=mirna_states,
            hidden_states=all_hidden_states,
        )


class MirLMForTargetPrediction(MirLMPreTrainedModel):
    """
    mirLM with the multiple-instance binding head and the seed-site span head.

    Every mRNA nucleotide is an instance: a linear seed scorer gives `pos_logits`, log-sum-exp pooling with
    temperature tau (`config.mil_temperature`) gives the bag logit `tau * log(sum_i exp(s_i / tau))`, and
    `pos_weights = softmax(s / tau)` says which positions carry the prediction. `[MRNA_CLS]` and padding are
    not instances.
    """

    accepts_loss_kwargs = False  # the loss is a per-batch mean: Trainer must not rescale it

    def __init__(self, config: MirLMConfig):
        super().__init__(config)
        self.mirlm = MirLMModel(config)
        self.seed_scorer = nn.Linear(config.hidden_size, 1)
        self.span_head = nn.Linear(config.hidden_size, 2) if config.predict_span else None
        self.post_init()

    # The head takes the base model's inputs as explicit keywords (transformers' convention), plus its labels.
    def forward(
        self,
        input_ids: Optional[torch.LongTensor] = None,
        attention_mask: Optional[torch.Tensor] = None,
        global_attention_mask: Optional[torch.Tensor] = None,
        mirna_input_ids: Optional[torch.LongTensor] = None,
        mirna_attention_mask: Optional[torch.Tensor] = None,
        labels: Optional[torch.Tensor] = None,
        start_positions: Optional[torch.LongTensor] = None,
        end_positions: Optional[torch.LongTensor] = None,
        output_hidden_states: Optional[bool] = None,
        return_dict: Optional[bool] = None,
    ) -> MirLMTargetPredictionOutput:
        encoded = self.mirlm(
            input_ids, attention_mask, global_attention_mask, mirna_input_ids, mirna_attention_mask,
            output_hidden_states=output_hidden_states,
        )
        states = encoded.last_hidden_state
        instances = (input_ids != self.config.pad_token_id) if attention_mask is None else attention_mask.bool()
        instances = instances.clone()
        instances[:, 0] = False  # [MRNA_CLS]
        floor = torch.finfo(states.dtype).min

        tau = self.config.mil_temperature
        pos_logits = self.seed_scorer(states).squeeze(-1).masked_fill(~instances, floor)
        scaled = pos_logits.float() / tau
        binding_logit = (tau * torch.logsumexp(scaled, dim=-1)).to(states.dtype)
        pos_weights = torch.softmax(scaled, dim=-1).to(states.dtype) * instances

        start_logits = end_logits = None
        if self.span_head is not None:
            start_logits, end_logits = self.span_head(states).masked_fill(~instances[..., None], floor).unbind(-1)

        loss = None
        if labels is not None:
            loss = self.config.bag_loss_weight * F.binary_cross_entropy_with_logits(binding_logit.float(), labels.float())
            if self.span_head is not None and start_positions is not None and end_positions is not None:
                # Mean over the pairs that have a site; a batch without one adds an exact 0 that keeps the graph.
                with_site = max(int((start_positions != -100).sum()), 1)
                span = F.cross_entropy(start_logits.float(), start_positions, ignore_index=-100, reduction="sum")
                span = span + F.cross_entropy(end_logits.float(), end_positions, ignore_index=-100, reduction="sum")
                loss = loss + self.config.span_loss_weight * span / (2 * with_site)

        # A keyword list, alike in shape to config signatures elsewhere (not shared logic).
        return MirLMTargetPredictionOutput(
            loss=loss,
            binding_logit=binding_logit,
            pos_weights=pos_weights,
            pos_logits=pos_logits,
            start_logits=start_logits,
            end_logits=end_logits,
            hidden_states=encoded.hidden_states,
        )
