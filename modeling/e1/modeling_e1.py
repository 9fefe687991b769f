"""
E1: a retrieval-augmented protein language model (homologs + query in one row), with parameter names and shapes of
the public Profluent-Bio/E1-* checkpoints, and `E1ForContrastiveBinding`, per-residue metal-ion binding from
frozen per-ion prototypes trained with multi-view contrastive, prototype-alignment, BCE and MLM losses.
"""

from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.utils import ModelOutput

from .attention_e1 import attention, build_attention_masks, rotary_cos_sin
from .configuration_e1 import E1Config
from .losses_e1 import binding_losses, masked_lm_loss
from .tokenization_e1 import PREFIX, E1Tokenizer
from .views_e1 import KEYS as VIEW_KEYS
from .views_e1 import SplitViews, merge_views, query_global_mask, split_views


@dataclass
class E1ModelOutput(ModelOutput):
    """last_hidden_state (B, L, D) after the final RMSNorm; hidden_states: after the embeddings and every layer."""

    last_hidden_state: Optional[torch.FloatTensor] = None
    hidden_states: Optional[tuple] = None


@dataclass
class E1MaskedLMOutput(ModelOutput):
    """loss: cross-entropy on `labels` != -100; logits (B, L, 34)."""

    loss: Optional[torch.FloatTensor] = None
    logits: Optional[torch.FloatTensor] = None
    last_hidden_state: Optional[torch.FloatTensor] = None
    hidden_states: Optional[tuple] = None


@dataclass
class E1BindingOutput(ModelOutput):
    """
    loss: weighted sum of the four losses below (when `binding_labels` are given).
    binding_logits: (B, L, ions) or, for view inputs, (B, V, L, ions): (sim_pos - sim_neg) / scoring_temperature
        per token; sigmoid gives the binding probability. Only query residues carry meaning.
    loss_contrastive / loss_prototype / loss_bce / loss_mlm: the (unweighted) components.
    pull_mask_ratio: fraction of (residue, view, ion) entries whose prototype margin is violated (pulled).
    sim_pos / sim_neg: mean cosine similarity of labelled residues to the positive / negative prototypes.
    """

    # Typed output fields, alike in shape to the other families' outputs (not shared logic).
    loss: Optional[torch.FloatTensor] = None
    binding_logits: Optional[torch.FloatTensor] = None
    loss_contrastive: Optional[torch.FloatTensor] = None
    loss_prototype: Optional[torch.FloatTensor] = None
    loss_bce: Optional[torch.FloatTensor] = None
    loss_mlm: Optional[torch.FloatTensor] = None
    pull_mask_ratio: Optional[torch.FloatTensor] = None
    sim_pos: Optional[torch.FloatTensor] = None
    sim_neg: Optional[torch.FloatTensor] = None
    last_hidden_state: Optional[torch.FloatTensor] = None
    hidden_states: Optional[tuple] = None


class E1RMSNorm(nn.Module):
    """RMSNorm without bias, computed in float32."""

    def __init__(self, hidden_size: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


class E1Attention(nn.Module):
    """q, k, v (no bias) clamped to [-c, c] -> rotary -> masked scaled dot product -> o_proj."""

    def __init__(self, config: E1Config):
        super().__init__()
        dim = config.hidden_size
        self.num_heads, self.num_kv_heads = config.num_attention_heads, config.num_key_value_heads
        kv_dim = dim // self.num_heads * self.num_kv_heads
        self.clamp = config.qkv_clamp
        self.q_proj = nn.Linear(dim, dim, bias=False)
        self.k_proj = nn.Linear(dim, kv_dim, bias=False)
        self.v_proj = nn.Linear(dim, kv_dim, bias=False)
        self.o_proj = nn.Linear(dim, dim, bias=False)
        self.config = config

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask, prefix_k=None, prefix_v=None,
                return_kv: bool = False):
        """
        Attention of `x` over itself, after the cached keys/values `prefix_k`/`prefix_v` (B, kv_heads, P, head_dim)
        when given (then `mask` is (B, 1, L, P + L)). With `return_kv`, also this call's own rotated (k, v).
        """
        batch, length, dim = x.shape
        q, k, v = (proj(x).clamp(-self.clamp, self.clamp).view(batch, length, heads, -1).transpose(1, 2)
                   for proj, heads in ((self.q_proj, self.num_heads), (self.k_proj, self.num_kv_heads), (self.v_proj, self.num_kv_heads)))
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        own = (k, v)
        if prefix_k is not None:
            k, v = torch.cat([prefix_k, k], dim=2), torch.cat([prefix_v, v], dim=2)
        if self.num_kv_heads != self.num_heads:  # grouped-query attention: each k/v head serves a group of q heads
            k, v = (t.repeat_interleave(self.num_heads // self.num_kv_heads, dim=1) for t in (k, v))
        out = self.o_proj(attention(q, k, v, mask, self.config).transpose(1, 2).reshape(batch, length, dim))
        return (out, own) if return_kv else out


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate-half rotary embedding; cos/sin (B, 1, L, head_dim)."""
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return (x * cos + rotated * sin).to(x.dtype)


class E1NormAttnNorm(nn.Module):
    """Pre-norm attention with residual, then the feed-forward pre-norm (names as the public checkpoints)."""

    def __init__(self, config: E1Config):
        super().__init__()
        self.input_layernorm = E1RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.self_attn = E1Attention(config)
        self.post_attention_layernorm = E1RMSNorm(config.hidden_size, config.rms_norm_eps)

    def forward(self, x, cos, sin, mask, prefix_k=None, prefix_v=None) -> tuple:
        """(x after attention, its feed-forward pre-norm, the attention's own (k, v))."""
        attended, kv = self.self_attn(self.input_layernorm(x), cos, sin, mask, prefix_k, prefix_v, return_kv=True)
        x = x + attended
        return x, self.post_attention_layernorm(x), kv


class E1SwiGLU(nn.Module):
    def __init__(self, config: E1Config):
        super().__init__()
        self.w1 = nn.Linear(config.hidden_size, config.intermediate_size, bias=False)  # gate
        self.w3 = nn.Linear(config.hidden_size, config.intermediate_size, bias=False)  # up
        self.w2 = nn.Linear(config.intermediate_size, config.hidden_size, bias=False)  # down

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class E1FeedForward(nn.Module):
    def __init__(self, config: E1Config):
        super().__init__()
        self.mlp = E1SwiGLU(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(x)


class E1DecoderLayer(GradientCheckpointingLayer):
    """A within-sequence or a global (block-causal) layer; which one is `config.is_global_layer(index)`."""

    def __init__(self, config: E1Config, index: int):
        super().__init__()
        self.is_global = config.is_global_layer(index)
        self.norm_attn_norm = E1NormAttnNorm(config)
        self.ffn = E1FeedForward(config)

    def forward(self, hidden_states, within_rotary, global_rotary, within_mask, global_mask, prefix_k=None, prefix_v=None,
                return_kv: bool = False):
        """
        `prefix_k`/`prefix_v`: cached keys/values of earlier sequences that a global layer's tokens also attend to
        (`global_mask` then covers prefix + own tokens). With `return_kv`, also returns this layer's own (k, v).
        Tensors are positional so that gradient checkpointing sees them as inputs.
        """
        cos, sin = global_rotary if self.is_global else within_rotary
        hidden_states, normed, kv = self.norm_attn_norm(
            hidden_states, cos, sin, global_mask if self.is_global else within_mask, prefix_k, prefix_v)
        hidden_states = hidden_states + self.ffn(normed)
        return (hidden_states, *kv) if return_kv else hidden_states


class E1PreTrainedModel(PreTrainedModel):
    config_class = E1Config
    base_model_prefix = "model"
    supports_gradient_checkpointing = True
    _no_split_modules = ["E1DecoderLayer"]
    _supports_sdpa = True

    @torch.no_grad()
    def _init_weights(self, module):
        super()._init_weights(module)
        if isinstance(module, E1RMSNorm):
            init.ones_(module.weight)
        if isinstance(module, E1ForContrastiveBinding):
            init.zeros_(module.prototypes)
            init.zeros_(module.prototypes_initialized)


def default_positions(input_ids, sequence_ids, within_seq_position_ids, global_position_ids, attention_mask):
    """Fill in what was not given for a single-sequence batch (one sequence per row, positions 0..L-1)."""
    batch, length = input_ids.shape
    arange = torch.arange(length, device=input_ids.device).expand(batch, -1)
    if attention_mask is None:
        attention_mask = (input_ids != 0).long()
    if sequence_ids is None:
        sequence_ids = torch.zeros_like(input_ids)
    if within_seq_position_ids is None:
        if bool((sequence_ids != 0).any()):
            raise ValueError("give within_seq_position_ids for inputs with several sequences (E1Tokenizer.encode_proteins)")
        within_seq_position_ids = arange
    if global_position_ids is None:
        global_position_ids = arange
    return sequence_ids, within_seq_position_ids, global_position_ids, attention_mask


class E1Model(E1PreTrainedModel):
    """Token + sequence-id embeddings, `num_hidden_layers` pre-norm layers, final RMSNorm."""

    def __init__(self, config: E1Config):
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.embed_seq_id = nn.Embedding(config.max_num_sequences, config.hidden_size)
        self.layers = nn.ModuleList(E1DecoderLayer(config, i) for i in range(config.num_hidden_layers))
        self.norm = E1RMSNorm(config.hidden_size, config.rms_norm_eps)
        # post_init and the input-embedding accessors transformers expects, repeated per family because each modeling folder ships alone as remote code.
        self.gradient_checkpointing = False
        self.post_init()

    def get_input_embeddings(self):
        return self.embed_tokens

    def set_input_embeddings(self, value):
        self.embed_tokens = value

    def forward(
        self,
        input_ids: torch.LongTensor,
        sequence_ids: Optional[torch.LongTensor] = None,
        within_seq_position_ids: Optional[torch.LongTensor] = None,
        global_position_ids: Optional[torch.LongTensor] = None,
        attention_mask: Optional[torch.Tensor] = None,
        output_hidden_states: Optional[bool] = None,
        return_dict: Optional[bool] = None,
        **kwargs,
    ) -> E1ModelOutput:
        sequence_ids, within, global_positions, attention_mask = default_positions(
            input_ids, sequence_ids, within_seq_position_ids, global_position_ids, attention_mask)
        if int(sequence_ids.max()) >= self.config.max_num_sequences:
            raise ValueError(f"sequence id {int(sequence_ids.max())} >= max_num_sequences ({self.config.max_num_sequences})")
        hidden, within_rotary, global_rotary, within_mask, global_mask = self._layer_inputs(
            input_ids, sequence_ids, within, global_positions, attention_mask, self.config.attention_backend)
        all_hidden = (hidden,) if output_hidden_states else None
        for layer in self.layers:
            hidden = layer(hidden, within_rotary, global_rotary, within_mask, global_mask)
            if output_hidden_states:
                all_hidden += (hidden,)
        return E1ModelOutput(last_hidden_state=self.norm(hidden), hidden_states=all_hidden)

    def _layer_inputs(self, input_ids, sequence_ids, within_positions, global_positions, attention_mask, backend="sdpa"):
        """Embeddings, then the rotary tables and masks built once per batch and shared by every layer of their kind."""
        hidden = self.embed_tokens(input_ids) + self.embed_seq_id(sequence_ids)
        within_mask, global_mask = build_attention_masks(sequence_ids, attention_mask, backend)
        head_dim = self.config.hidden_size // self.config.num_attention_heads
        within_rotary = rotary_cos_sin(within_positions, head_dim, self.config.rope_theta_within, hidden.dtype)
        global_rotary = rotary_cos_sin(global_positions, head_dim, self.config.rope_theta_global, hidden.dtype)
        return hidden, within_rotary, global_rotary, within_mask, global_mask

    def forward_shared_context(self, split: SplitViews) -> torch.Tensor:
        """
        Final hidden states (B, V, L, D) of views that share their homolog context (`views_e1.split_views`): the
        context is encoded once per protein; in global layers every view's query attends to the context's cached
        keys/values and to itself. Equal to the forward of the full rows (block-causal: context never sees the query).
        """
        keys = (*VIEW_KEYS, "attention_mask")
        hidden_c, within_c, global_c, within_mask_c, global_mask_c = self._layer_inputs(*(split.context[k] for k in keys))
        hidden_q, within_q, global_q, within_mask_q, _ = self._layer_inputs(*(split.query[k] for k in keys))
        global_mask_q = query_global_mask(split.context["attention_mask"], split.query["attention_mask"], split.num_views)
        for layer in self.layers:
            if layer.is_global:
                hidden_c, k, v = layer(hidden_c, within_c, global_c, within_mask_c, global_mask_c, None, None, True)
                k, v = (t.repeat_interleave(split.num_views, dim=0) for t in (k, v))
                hidden_q = layer(hidden_q, within_q, global_q, within_mask_q, global_mask_q, k, v)
            else:
                hidden_c = layer(hidden_c, within_c, global_c, within_mask_c, global_mask_c)
                hidden_q = layer(hidden_q, within_q, global_q, within_mask_q, global_mask_q)
        return merge_views(split, self.norm(hidden_c), self.norm(hidden_q))


def mlm_head(config: E1Config) -> nn.Sequential:
    """Linear -> exact GELU -> LayerNorm -> Linear(dim, vocab): `mlm_head.0`, `.2`, `.3` as the checkpoints."""
    return nn.Sequential(
        nn.Linear(config.hidden_size, config.hidden_size), nn.GELU(),
        nn.LayerNorm(config.hidden_size, eps=config.mlm_layer_norm_eps), nn.Linear(config.hidden_size, config.vocab_size),
    )


class E1ForMaskedLM(E1PreTrainedModel):
    """E1 with its MLM head; loads `Profluent-Bio/E1-150m` / `-300m` / `-600m` unchanged."""

    _keys_to_ignore_on_load_unexpected = [r"^prototypes"]

    def __init__(self, config: E1Config):
        super().__init__(config)
        self.model = E1Model(config)
        self.mlm_head = mlm_head(config)
        self.post_init()

    def get_output_embeddings(self):
        return self.mlm_head[3]

    def forward(self, input_ids, sequence_ids=None, within_seq_position_ids=None, global_position_ids=None,
                attention_mask=None, labels=None, output_hidden_states=None, return_dict=None, **kwargs) -> E1MaskedLMOutput:
        out = self.model(input_ids, sequence_ids, within_seq_position_ids, global_position_ids, attention_mask,
                         output_hidden_states=output_hidden_states)
        logits = self.mlm_head(out.last_hidden_state)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.float().flatten(0, 1), labels.flatten(), ignore_index=-100)
        return E1MaskedLMOutput(loss=loss, logits=logits, last_hidden_state=out.last_hidden_state, hidden_states=out.hidden_states)


class E1ForContrastiveBinding(E1PreTrainedModel):
    """
    Per-residue metal-ion binding from the E1 hidden states of the query residues. Each ion has a frozen unit
    prototype p (the negative prototype is -p), set once by `initialize_prototypes` from the mean embedding of
    binding residues; a residue's logit is (cos(h, p) - cos(h, -p)) / scoring_temperature. No projector: the
    backbone (with LoRA, or fully) is what is trained. Inputs are one view (B, L) or several views (B, V, L) of
    the same proteins (different masks and homolog contexts); views go through the backbone in one forward.
    """

    _keys_to_ignore_on_load_missing = [r"^prototypes"]

    def __init__(self, config: E1Config):
        super().__init__(config)
        self.model = E1Model(config)
        self.mlm_head = mlm_head(config)
        self.register_buffer("prototypes", torch.zeros(len(config.ions), config.hidden_size))
        self.register_buffer("prototypes_initialized", torch.zeros((), dtype=torch.bool))
        self.post_init()

    @property
    def ions(self) -> list:
        return list(self.config.ions)

    def get_output_embeddings(self):
        return self.mlm_head[3]

    # -- prototypes -------------------------------------------------------------------------------------------
    @torch.no_grad()
    def positive_embedding_sums(self, batch: dict) -> tuple:
        """
        Sums of normalised query-residue embeddings: (ions, D) over residues labelled 1 per ion with (ions,) counts,
        and (D,) over every labelled query residue with its count (the centre). Add them up over batches.
        """
        hidden = self._encode(batch)[0].float()  # (B, V, L, D)
        labels = batch["binding_labels"]
        labels = labels if labels.dim() == 4 else labels[:, None]
        positive = (labels == 1).float()  # (B, V, L, ions)
        labelled = (labels != -100).any(dim=-1).float()  # (B, V, L)
        hidden = F.normalize(hidden, dim=-1)
        return (torch.einsum("bvli,bvld->id", positive, hidden), positive.sum(dim=(0, 1, 2)),
                torch.einsum("bvl,bvld->d", labelled, hidden), labelled.sum())

    @torch.no_grad()
    def set_prototypes(self, sums: torch.Tensor, counts: torch.Tensor, center_sum=None, center_count=None) -> None:
        """
        Prototype of an ion = its mean positive embedding, minus the mean embedding of all labelled residues when
        `center_prototypes` (and a centre is given), made orthogonal to the previous ions' prototypes when
        `orthogonal_prototypes` (Gram-Schmidt in `ions` order), normalised. An ion without positives is an error.
        """
        empty = [ion for ion, n in zip(self.ions, counts.tolist()) if n == 0]
        if empty:
            raise ValueError(f"no binding residues of {', '.join(empty)} in the batches used to initialise the prototypes; "
                             "use more batches (max_samples) or drop the ion")
        means = sums / counts[:, None]
        if self.config.center_prototypes and center_sum is not None and float(center_count) > 0:
            means = means - center_sum / center_count
        prototypes = []
        for mean in means:
            if self.config.orthogonal_prototypes:
                for previous in prototypes:
                    mean = mean - (mean @ previous) * previous
            prototypes.append(F.normalize(mean, dim=-1))
        self.prototypes.copy_(torch.stack(prototypes).to(self.prototypes.dtype))
        self.prototypes_initialized.fill_(True)

    # -- forward ----------------------------------------------------------------------------------------------
    def _encode(self, batch: dict, output_hidden_states: bool = False) -> tuple:
        """
        Hidden states (B, V, L, D) of all views: one backbone forward over the B*V rows (`batch_views`) or one forward
        per view; and the backbone output of the single forward (None for the per-view loop and for the shared-context
        forward, used with `share_view_context` when the views of every protein carry the same homologs).
        """
        keys = ("input_ids", "sequence_ids", "within_seq_position_ids", "global_position_ids", "attention_mask")
        views = {k: batch.get(k) for k in keys}
        two_d = views["input_ids"].dim() == 2
        views = {k: (None if v is None else (v[:, None] if two_d else v)) for k, v in views.items()}
        batch_size, num_views, length = views["input_ids"].shape
        shared = None
        if (self.config.batch_views and self.config.share_view_context and num_views > 1 and not output_hidden_states
                and self.config.attention_backend == "sdpa" and all(v is not None for v in views.values())):
            shared = split_views(views)
        if shared is not None:
            return self.model.forward_shared_context(shared), None
        if self.config.batch_views or num_views == 1:
            flat = {k: None if v is None else v.reshape(batch_size * num_views, length) for k, v in views.items()}
            out = self.model(**flat, output_hidden_states=output_hidden_states)
            hidden = out.last_hidden_state.view(batch_size, num_views, length, -1)
        else:
            out = None
            hidden = torch.stack([self.model(**{k: None if t is None else t[:, v] for k, t in views.items()}).last_hidden_state
                                  for v in range(num_views)], dim=1)
        return hidden, out

    # The head takes the base model's inputs as explicit keywords (transformers' convention), plus its labels.
    def forward(
        self,
        input_ids: torch.LongTensor,
        sequence_ids: Optional[torch.LongTensor] = None,
        within_seq_position_ids: Optional[torch.LongTensor] = None,
        global_position_ids: Optional[torch.LongTensor] = None,
        attention_mask: Optional[torch.Tensor] = None,
        mlm_labels: Optional[torch.LongTensor] = None,
        binding_labels: Optional[torch.Tensor] = None,
        label_mask: Optional[torch.Tensor] = None,
        contrastive_label_mask: Optional[torch.Tensor] = None,
        output_hidden_states: Optional[bool] = None,
        return_dict: Optional[bool] = None,
        **kwargs,
    ) -> E1BindingOutput:
        batch = {"input_ids": input_ids, "sequence_ids": sequence_ids, "within_seq_position_ids": within_seq_position_ids,
                 "global_position_ids": global_position_ids, "attention_mask": attention_mask}
        two_d = input_ids.dim() == 2
        hidden, encoded = self._encode(batch, output_hidden_states=bool(output_hidden_states))  # (B, V, L, D)
        prototypes = self.prototypes.to(hidden.dtype)
        sim_pos = torch.einsum("bvld,id->bvli", F.normalize(hidden, dim=-1), prototypes)  # cos(h, p); cos(h, -p) = -sim_pos
        logits = (2.0 * sim_pos) / self.config.scoring_temperature

        loss = components = None
        if binding_labels is not None:
            view = (lambda t: None if t is None else (t[:, None] if two_d else t))
            ids = view(input_ids)
            flat = default_positions(ids.flatten(0, 1), *(None if t is None else view(t).flatten(0, 1) for t in
                                     (sequence_ids, within_seq_position_ids, global_position_ids, attention_mask)))
            seq, within, _, mask = (t.view(ids.shape) for t in flat)
            if label_mask is None:
                label_mask = E1Tokenizer.query_residue_mask(flat[0], flat[1], flat[3]).view(ids.shape)
            components = binding_losses(
                hidden, sim_pos, logits, view(binding_labels), view(label_mask).bool(),
                None if contrastive_label_mask is None else view(contrastive_label_mask).bool(),
                residue_index=within - PREFIX, config=self.config, training=self.training,
            )
            mlm = masked_lm_loss(self.mlm_head, hidden, None if mlm_labels is None else view(mlm_labels))
            components["loss_mlm"] = mlm
            c = self.config
            loss = (c.unsupervised_weight * components["loss_contrastive"] + c.prototype_weight * components["loss_prototype"]
                    + c.bce_weight * components["loss_bce"] + c.mlm_weight * mlm)

        last_hidden = hidden[:, 0] if two_d else hidden
        return E1BindingOutput(
            loss=loss, binding_logits=logits[:, 0] if two_d else logits,
            last_hidden_state=last_hidden if output_hidden_states else None,
            hidden_states=encoded.hidden_states if (output_hidden_states and encoded is not None) else None,
            **(components or {}),
        )
