"""
mutation2text: a frozen protein encoder reads the wild type and the mutant; a gated cross-attention (the mutant
attends to the wild type; Idefics-style tanh gates initialised at 0) forms the delta representation, a Perceiver
resampler condenses it (with `site_context_window` > 0, read next to the wild-type context of the mutated site, which
the delta cancels) into `num_media_tokens` latents, a projector maps them to the LLM width, and they replace
the `<delta_P>` placeholder embeddings of the prompt (LLaVA-style `masked_scatter`) before the causal LM runs.

    Mutation2TextModel                       protein path + language model, returns last_hidden_state
    Mutation2TextForConditionalGeneration    + lm_head, loss on labels, GenerationMixin (KV cache)
"""

from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn
from transformers import AutoModel, EsmModel, GenerationMixin, PreTrainedModel
from transformers import initialization as init
from transformers.cache_utils import Cache
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.utils import ModelOutput

from .configuration_mutation2text import Mutation2TextConfig

PROTEIN_INPUTS = ("wild_type_input_ids", "mutant_input_ids", "wild_type_embeds", "mutant_embeds", "protein_attention_mask")


@dataclass
class Mutation2TextModelOutput(ModelOutput):
    """
    last_hidden_state: (batch, text length, LLM width), the language model's output.
    past_key_values: the language model's KV cache.
    protein_hidden_states: (batch, num_media_tokens, LLM width), the projected protein tokens that were merged.
    """

    last_hidden_state: Optional[torch.FloatTensor] = None
    past_key_values: Optional[Cache] = None
    hidden_states: Optional[tuple] = None
    attentions: Optional[tuple] = None
    protein_hidden_states: Optional[torch.FloatTensor] = None


@dataclass
class Mutation2TextCausalLMOutput(ModelOutput):
    """
    loss: mean cross-entropy over the label tokens (the answer).
    logits: (batch, length, vocab); None in training mode with labels, where only the answer positions are
        projected to compute the loss.
    """

    loss: Optional[torch.FloatTensor] = None
    logits: Optional[torch.FloatTensor] = None
    past_key_values: Optional[Cache] = None
    hidden_states: Optional[tuple] = None
    attentions: Optional[tuple] = None
    protein_hidden_states: Optional[torch.FloatTensor] = None


class Mutation2TextAttention(nn.Module):
    """Multi-head attention of `queries` over `context` (SDPA), with a key padding mask."""

    def __init__(self, width: int, num_heads: int, head_dim: int):
        super().__init__()
        self.num_heads, self.head_dim = num_heads, head_dim
        inner = num_heads * head_dim
        self.q_proj = nn.Linear(width, inner, bias=False)
        self.k_proj = nn.Linear(width, inner, bias=False)
        self.v_proj = nn.Linear(width, inner, bias=False)
        self.o_proj = nn.Linear(inner, width, bias=False)

    def forward(self, queries: torch.Tensor, context: torch.Tensor, context_mask: Optional[torch.Tensor],
                bias: Optional[torch.Tensor] = None) -> torch.Tensor:
        """`bias`: optional additive attention bias broadcastable to (batch, heads, queries, context)."""
        batch, n_queries, _ = queries.shape

        def heads(x):
            return x.view(batch, x.shape[1], self.num_heads, self.head_dim).transpose(1, 2)

        mask = None if context_mask is None else context_mask[:, None, None, :].bool()
        if bias is not None:
            bias = bias.to(queries.dtype)
            mask = bias if mask is None else bias.masked_fill(~mask, torch.finfo(queries.dtype).min)
        out = F.scaled_dot_product_attention(heads(self.q_proj(queries)), heads(self.k_proj(context)),
                                             heads(self.v_proj(context)), attn_mask=mask)
        return self.o_proj(out.transpose(1, 2).reshape(batch, n_queries, -1))


class Mutation2TextFeedForward(nn.Sequential):
    def __init__(self, width: int, intermediate: int, eps: float):
        super().__init__(nn.LayerNorm(width, eps=eps), nn.Linear(width, intermediate, bias=False), nn.GELU(),
                         nn.Linear(intermediate, width, bias=False))


class Mutation2TextGatedCrossAttentionLayer(GradientCheckpointingLayer):
    """
    Idefics' gated cross-attention block: x + tanh(a) * attn(x -> context); x + tanh(b) * ffn(x); a = b = 0 at init.
    With `gca_relative_window` w > 0, each head adds a learned bias per offset j - i in [-w, w] (offsets beyond
    share one "far" bias per side), so a residue can read its wild-type neighbours at given offsets (a motif).
    """

    def __init__(self, config: Mutation2TextConfig):
        super().__init__()
        width, heads = config.protein_config.hidden_size, config.gca_num_heads
        self.window = config.gca_relative_window
        self.query_norm = nn.LayerNorm(width, eps=config.layer_norm_eps)
        self.context_norm = nn.LayerNorm(width, eps=config.layer_norm_eps)
        self.cross_attention = Mutation2TextAttention(width, heads, width // heads)
        self.feed_forward = Mutation2TextFeedForward(width, config.gca_intermediate_size, config.layer_norm_eps)
        self.attention_gate = nn.Parameter(torch.zeros(1))
        self.feed_forward_gate = nn.Parameter(torch.zeros(1))
        self.relative_bias = nn.Parameter(torch.zeros(heads, 2 * self.window + 3)) if self.window else None

    def _bias(self, n_queries: int, n_context: int, device) -> Optional[torch.Tensor]:
        if self.relative_bias is None:
            return None
        offsets = torch.arange(n_context, device=device)[None, :] - torch.arange(n_queries, device=device)[:, None]
        buckets = offsets.clamp(-self.window - 1, self.window + 1) + self.window + 1
        return self.relative_bias[:, buckets].unsqueeze(0)  # (1, heads, queries, context)

    def forward(self, mutant: torch.Tensor, wild_type: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        bias = self._bias(mutant.shape[1], wild_type.shape[1], mutant.device)
        attended = self.cross_attention(self.query_norm(mutant), self.context_norm(wild_type), mask, bias)
        mutant = mutant + torch.tanh(self.attention_gate) * attended
        return mutant + torch.tanh(self.feed_forward_gate) * self.feed_forward(mutant)


class Mutation2TextSiteContext(nn.Module):
    """
    The wild-type context of the mutated site(s), for the resampler to read next to the delta: the wild-type read
    plus a learned embedding of each residue's offset from the nearest site (offsets in [-w, w]; beyond that one
    "far" embedding per side). Sites are the residues whose encoder states change most between wild type and
    mutant (>= half the largest change of the protein): the substituted residues, found the same way from ids or
    from precomputed embeddings.
    """

    def __init__(self, config: Mutation2TextConfig):
        super().__init__()
        self.window = config.site_context_window
        self.offset_embedding = nn.Embedding(2 * self.window + 3, config.protein_config.hidden_size)

    @staticmethod
    def site_offsets(wild_type_embeds: torch.Tensor, mutant_embeds: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(batch, length) signed offset of each residue from its nearest site (residue index - site index)."""
        change = (mutant_embeds - wild_type_embeds).float().norm(dim=-1) * mask
        sites = change >= 0.5 * change.amax(dim=1, keepdim=True)
        index = torch.arange(change.shape[1], device=change.device)
        offsets = index[None, :, None] - index[None, None, :]  # (1, residue, site)
        distance = offsets.abs().masked_fill(~sites[:, None, :], change.shape[1] + 1)
        nearest = distance.argmin(dim=-1)  # (batch, residue): the nearest site (the first of equally near ones)
        return index[None, :] - nearest

    def forward(self, wild_type_read, wild_type_embeds, mutant_embeds, mask) -> torch.Tensor:
        offsets = self.site_offsets(wild_type_embeds, mutant_embeds, mask)
        buckets = offsets.clamp(-self.window - 1, self.window + 1) + self.window + 1
        return (wild_type_read + self.offset_embedding(buckets)) * mask.unsqueeze(-1).to(wild_type_read.dtype)


class Mutation2TextResamplerLayer(GradientCheckpointingLayer):
    """Perceiver resampler block (Idefics): latents attend to [context; latents], then a feed-forward."""

    def __init__(self, config: Mutation2TextConfig):
        super().__init__()
        width = config.protein_config.hidden_size
        self.latent_norm = nn.LayerNorm(width, eps=config.layer_norm_eps)
        self.context_norm = nn.LayerNorm(width, eps=config.layer_norm_eps)
        self.attention = Mutation2TextAttention(width, config.resampler_num_heads, config.resampler_head_dim)
        self.feed_forward = Mutation2TextFeedForward(width, 4 * width, config.layer_norm_eps)

    def forward(self, latents: torch.Tensor, context: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        normed = self.latent_norm(latents)
        keys = torch.cat([self.context_norm(context), normed], dim=1)
        keys_mask = torch.cat([mask, mask.new_ones(mask.shape[0], latents.shape[1])], dim=1)
        latents = latents + self.attention(normed, keys, keys_mask)
        return latents + self.feed_forward(latents)


class Mutation2TextResampler(nn.Module):
    def __init__(self, config: Mutation2TextConfig):
        super().__init__()
        width = config.protein_config.hidden_size
        self.latents = nn.Parameter(torch.zeros(config.num_media_tokens, width))
        self.layers = nn.ModuleList(Mutation2TextResamplerLayer(config) for _ in range(config.resampler_depth))
        self.norm = nn.LayerNorm(width, eps=config.layer_norm_eps)

    def forward(self, context: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        latents = self.latents.unsqueeze(0).expand(context.shape[0], -1, -1)
        for layer in self.layers:
            latents = layer(latents, context, mask)
        return self.norm(latents)


class Mutation2TextProjector(nn.Module):
    def __init__(self, config: Mutation2TextConfig):
        super().__init__()
        width, text_width = config.protein_config.hidden_size, config.text_config.hidden_size
        self.linear_1 = nn.Linear(width, text_width)
        self.act = nn.GELU() if config.projector_type == "mlp2x_gelu" else None
        self.linear_2 = nn.Linear(text_width, text_width) if config.projector_type == "mlp2x_gelu" else None

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        hidden = self.linear_1(features)
        return hidden if self.linear_2 is None else self.linear_2(self.act(hidden))


class Mutation2TextProteinEncoder(EsmModel):
    """
    transformers' ESM-2 encoder without pooler. Its own (custom-code) class so that the renamings transformers
    applies to ESM checkpoints (legacy LayerNorm gamma/beta names, per-layer rotary keys) stay out of this
    model's checkpoint: the file holds exactly the module names. ESM-2 weights load into it by `load_state_dict`.
    """

    def __init__(self, config):
        super().__init__(config, add_pooling_layer=False)


def select_protein_states(encoder, layer: int, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """The encoder's states at `layer` (-1: the final output, else an index into its hidden states)."""
    output = encoder(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=layer != -1)
    return output.last_hidden_state if layer == -1 else output.hidden_states[layer]


class Mutation2TextPreTrainedModel(PreTrainedModel):
    config_class = Mutation2TextConfig
    base_model_prefix = "model"
    supports_gradient_checkpointing = True
    _no_split_modules = ["Mutation2TextGatedCrossAttentionLayer", "Mutation2TextResamplerLayer", "EsmLayer"]
    _skip_keys_device_placement = ["past_key_values"]
    _supports_sdpa = True
    accepts_loss_kwargs = False

    def _init_weights(self, module):
        super()._init_weights(module)
        if isinstance(module, Mutation2TextGatedCrossAttentionLayer):
            init.zeros_(module.attention_gate)
            init.zeros_(module.feed_forward_gate)
        elif isinstance(module, Mutation2TextResampler):
            init.normal_(module.latents, std=1.0)
        elif isinstance(module, Mutation2TextSiteContext):
            # as strong as the (layer-normed) residue states from the start, so latents can select offsets
            init.normal_(module.offset_embedding.weight, std=1.0)


class Mutation2TextModel(Mutation2TextPreTrainedModel):
    """Protein encoder -> gated cross-attention -> resampler -> projector, merged into the language model."""

    def __init__(self, config: Mutation2TextConfig):
        super().__init__(config)
        self.protein_encoder = Mutation2TextProteinEncoder(config.protein_config) if config.protein_encoder else None
        self.gated_cross_attention = nn.ModuleList(
            Mutation2TextGatedCrossAttentionLayer(config) for _ in range(config.gca_num_layers))
        self.site_context = Mutation2TextSiteContext(config) if config.site_context_window else None
        self.resampler = Mutation2TextResampler(config)
        self.projector = Mutation2TextProjector(config)
        self.language_model = AutoModel.from_config(config.text_config)
        self.post_init()

    def get_input_embeddings(self):
        return self.language_model.get_input_embeddings()

    def set_input_embeddings(self, value):
        self.language_model.set_input_embeddings(value)

    def encode_protein(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Per-residue states of the selected encoder layer, (batch, length, protein width)."""
        if self.protein_encoder is None:
            raise ValueError("this model has no protein encoder (protein_encoder=False): pass wild_type_embeds / "
                             "mutant_embeds, the precomputed per-residue embeddings")
        return select_protein_states(self.protein_encoder, self.config.mm_protein_select_layer, input_ids, attention_mask)

    def get_protein_features(self, wild_type_input_ids=None, mutant_input_ids=None, wild_type_embeds=None,
                             mutant_embeds=None, protein_attention_mask=None) -> torch.Tensor:
        """(batch, num_media_tokens, LLM width) from protein ids or precomputed per-residue embeddings."""
        if wild_type_embeds is None:
            if wild_type_input_ids is None or mutant_input_ids is None:
                raise ValueError("give wild_type_input_ids and mutant_input_ids, or wild_type_embeds and mutant_embeds")
            if wild_type_input_ids.shape != mutant_input_ids.shape:
                raise ValueError(f"wild type {tuple(wild_type_input_ids.shape)} and mutant "
                                 f"{tuple(mutant_input_ids.shape)} ids differ in shape (only substitutions)")
            if protein_attention_mask is None:
                protein_attention_mask = (wild_type_input_ids != self.config.protein_config.pad_token_id).long()
            both = self.encode_protein(torch.cat([wild_type_input_ids, mutant_input_ids]),
                                       torch.cat([protein_attention_mask, protein_attention_mask]))
            wild_type_embeds, mutant_embeds = both.chunk(2)
        elif mutant_embeds is None or wild_type_embeds.shape != mutant_embeds.shape:
            raise ValueError("wild_type_embeds and mutant_embeds must both be given, with the same shape")
        if wild_type_embeds.shape[-1] != self.config.protein_config.hidden_size:
            raise ValueError(f"protein embeddings have width {wild_type_embeds.shape[-1]}, the model expects "
                             f"{self.config.protein_config.hidden_size} (protein_config.hidden_size)")
        if protein_attention_mask is None:
            protein_attention_mask = wild_type_embeds.new_ones(wild_type_embeds.shape[:2], dtype=torch.long)
        dtype = self.resampler.latents.dtype
        wild_type_embeds, mutant_embeds = wild_type_embeds.to(dtype), mutant_embeds.to(dtype)
        # The delta: the mutant read against the wild type, minus the wild type read against itself, through the
        # same gated cross-attention; zero wherever residue and context are unchanged, mutant - wild type at init.
        both = torch.cat([mutant_embeds, wild_type_embeds])
        context, mask = torch.cat([wild_type_embeds, wild_type_embeds]), protein_attention_mask.repeat(2, 1)
        for layer in self.gated_cross_attention:
            both = layer(both, context, mask)
        mutant_read, wild_type_read = both.chunk(2)
        delta = (mutant_read - wild_type_read) * protein_attention_mask.unsqueeze(-1).to(dtype)
        context, context_mask = delta, protein_attention_mask
        if self.site_context is not None:  # the wild-type context of the site, which the delta cancels
            site = self.site_context(wild_type_read, wild_type_embeds, mutant_embeds, protein_attention_mask)
            context, context_mask = torch.cat([delta, site], 1), protein_attention_mask.repeat(1, 2)
        return self.projector(self.resampler(context, context_mask))

    def forward(self, input_ids=None, attention_mask=None, wild_type_input_ids=None, mutant_input_ids=None,
                wild_type_embeds=None, mutant_embeds=None, protein_attention_mask=None, position_ids=None,
                past_key_values=None, inputs_embeds=None, use_cache=None, **kwargs) -> Mutation2TextModelOutput:
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("give exactly one of input_ids and inputs_embeds")
        if inputs_embeds is None:
            inputs_embeds = self.get_input_embeddings()(input_ids)
        protein_features = None
        if wild_type_input_ids is not None or wild_type_embeds is not None:
            if input_ids is None:
                raise ValueError("protein inputs need input_ids (to find the <delta_P> placeholders)")
            protein_features = self.get_protein_features(wild_type_input_ids, mutant_input_ids, wild_type_embeds,
                                                         mutant_embeds, protein_attention_mask)
            placeholders = input_ids == self.config.delta_token_id
            expected = protein_features.shape[0] * protein_features.shape[1]
            if int(placeholders.sum()) != expected:
                raise ValueError(f"found {int(placeholders.sum())} {self.config.delta_token} placeholder tokens, expected "
                                 f"{expected} (num_media_tokens={self.config.num_media_tokens} per protein pair); "
                                 "encode prompts with Mutation2TextProcessor.encode_mutations")
            inputs_embeds = inputs_embeds.masked_scatter(placeholders.unsqueeze(-1),
                                                         protein_features.to(inputs_embeds.dtype))
        elif input_ids is not None and past_key_values is None and bool((input_ids == self.config.delta_token_id).any()):
            raise ValueError(f"the prompt has {self.config.delta_token} placeholders but no protein inputs were given")
        outputs = self.language_model(inputs_embeds=inputs_embeds, attention_mask=attention_mask,
                                      position_ids=position_ids, past_key_values=past_key_values,
                                      use_cache=use_cache, **kwargs)
        return Mutation2TextModelOutput(
            last_hidden_state=outputs.last_hidden_state,
            past_key_values=getattr(outputs, "past_key_values", None),
            hidden_states=getattr(outputs, "hidden_states", None),
            attentions=getattr(outputs, "attentions", None),
            protein_hidden_states=protein_features,
        )


class Mutation2TextForConditionalGeneration(Mutation2TextPreTrainedModel, GenerationMixin):
    """[`Mutation2TextModel`] + LM head: mutation descriptions by `generate()`, loss on the answer tokens."""

    def __init__(self, config: Mutation2TextConfig):
        super().__init__(config)
        self.model = Mutation2TextModel(config)
        self.lm_head = nn.Linear(config.text_config.hidden_size, config.text_config.vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self):
        return self.model.get_input_embeddings()

    def set_input_embeddings(self, value):
        self.model.set_input_embeddings(value)

    def get_output_embeddings(self):
        return self.lm_head

    def set_output_embeddings(self, value):
        self.lm_head = value

    def get_protein_features(self, **protein_inputs) -> torch.Tensor:
        return self.model.get_protein_features(**protein_inputs)

    def forward(self, input_ids=None, attention_mask=None, wild_type_input_ids=None, mutant_input_ids=None,
                wild_type_embeds=None, mutant_embeds=None, protein_attention_mask=None, position_ids=None,
                past_key_values=None, inputs_embeds=None, labels=None, use_cache=None, logits_to_keep=0,
                **kwargs) -> Mutation2TextCausalLMOutput:
        outputs = self.model(input_ids=input_ids, attention_mask=attention_mask,
                             wild_type_input_ids=wild_type_input_ids, mutant_input_ids=mutant_input_ids,
                             wild_type_embeds=wild_type_embeds, mutant_embeds=mutant_embeds,
                             protein_attention_mask=protein_attention_mask, position_ids=position_ids,
                             past_key_values=past_key_values, inputs_embeds=inputs_embeds, use_cache=use_cache,
                             **kwargs)
        hidden = outputs.last_hidden_state
        loss = logits = None
        if labels is not None and self.training:
            # Training: project only the positions that predict a label (the answer), never the prompt's logits.
            shifted = labels[:, 1:].to(hidden.device)
            keep = shifted != -100
            loss = F.cross_entropy(self.lm_head(hidden[:, :-1][keep]).float(), shifted[keep])
        else:
            if logits_to_keep:
                hidden = hidden[:, -logits_to_keep:] if isinstance(logits_to_keep, int) else hidden[:, logits_to_keep]
            logits = self.lm_head(hidden)
            if labels is not None:
                shifted = labels[:, 1:].to(logits.device)
                loss = F.cross_entropy(logits[:, :-1].float().reshape(-1, logits.shape[-1]), shifted.reshape(-1),
                                       ignore_index=-100)
        return Mutation2TextCausalLMOutput(loss=loss, logits=logits, past_key_values=outputs.past_key_values,
                                           hidden_states=outputs.hidden_states, attentions=outputs.attentions,
                                           protein_hidden_states=outputs.protein_hidden_states)

    def prepare_inputs_for_generation(self, input_ids, past_key_values=None, is_first_iteration=False, **kwargs):
        # The protein is read once, at prefill; later steps feed only new tokens and the KV cache.
        if not is_first_iteration and kwargs.get("use_cache", True):
            for name in PROTEIN_INPUTS:
                kwargs.pop(name, None)
        return super().prepare_inputs_for_generation(input_ids, past_key_values=past_key_values,
                                                     is_first_iteration=is_first_iteration, **kwargs)
