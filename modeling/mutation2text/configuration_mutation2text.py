"""Configuration of mutation2text: protein encoder + gated cross-attention + resampler + projector + causal LM."""

from transformers import AutoConfig, EsmConfig, PretrainedConfig
from transformers.configuration_utils import SubConfigSpec

# A small ESM-2-shaped encoder (the ESM-2 alphabet of 33 tokens, rotary positions); real runs name a checkpoint.
DEFAULT_PROTEIN_CONFIG = dict(
    vocab_size=33, pad_token_id=1, mask_token_id=32, hidden_size=320, num_hidden_layers=6, num_attention_heads=20,
    intermediate_size=1280, max_position_embeddings=1026, position_embedding_type="rotary", token_dropout=True,
    emb_layer_norm_before=False, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
)


def _sub_config(value, default_type: str, defaults=None):
    if isinstance(value, PretrainedConfig):
        return value
    value = {**(defaults or {}), **(value or {})}
    model_type = value.pop("model_type", default_type)
    return AutoConfig.for_model(model_type, **value)


class Mutation2TextConfig(PretrainedConfig):
    r"""
    Configuration for [`Mutation2TextModel`] and [`Mutation2TextForConditionalGeneration`].

    Args:
        protein_config: the protein encoder (`EsmConfig` or its dict; default: a 6-layer ESM-2-shaped encoder, the
            size of `facebook/esm2_t6_8M_UR50D`).
        text_config: the language model (any causal-LM config or its dict with `model_type`; default Llama).
        protein_encoder: whether the model holds the encoder. False: only precomputed per-residue embeddings
            (`wild_type_embeds` / `mutant_embeds`, e.g. from ESM3 / ESM C) are accepted.
        mm_protein_select_layer: which encoder states feed the gated cross-attention: -1 = the final output
            (after ESM's last layer norm), otherwise an index into the encoder's hidden states (0 = embeddings).
        gca_num_layers / gca_num_heads / gca_intermediate_size: the gated cross-attention in which the mutant
            attends to the wild type (Idefics-style tanh gates, initialised at 0). The delta representation is
            its output for the mutant minus its output for the wild type (both attending to the wild type): zero
            where residue and context are unchanged, mutant minus wild-type states at initialisation.
        gca_relative_window: w > 0 adds a learned per-head bias for every offset in [-w, w] to that attention,
            so a residue reads its neighbours at given offsets (a motif); 0 = content-based attention only.
        site_context_window: w > 0 lets the resampler read the wild-type context of the mutated site next to the
            delta: its context is [delta; wild-type read + a learned embedding of each residue's offset from the
            nearest mutated site, offsets in [-w, w] (beyond: one "far" embedding per side)], so a latent can ask
            "which residue sits 3 after the site" (a motif) - context the delta cancels. The sites are the residues
            whose encoder states change most (>= half the largest change). 0 = the resampler reads the delta only.
        resampler_depth / resampler_num_heads / resampler_head_dim: the Perceiver resampler condensing the delta
            (and the site context) into `num_media_tokens` latents (protein width).
        num_media_tokens: how many LLM positions one `<delta_P>` placeholder expands to.
        projector_type: "mlp2x_gelu" (Linear-GELU-Linear, LLaVA-1.5) or "linear", protein width -> LLM width.
        delta_token: the placeholder token; `delta_token_id` its id in the LLM tokenizer (set by the processor).
        protein_max_length: the longest protein in residues the processor accepts (ESM-2: 1022).
    """

    model_type = "mutation2text"
    sub_configs_defaults = {
        "protein_config": SubConfigSpec(EsmConfig),
        "text_config": SubConfigSpec(AutoConfig, model_type="llama"),
    }
    keys_to_ignore_at_inference = ["past_key_values", "hidden_states", "attentions", "protein_hidden_states"]

    # The config's hyper-parameters with their defaults: alike in shape to other configs' signatures, not shared logic.
    def __init__(
        self,
        protein_config=None,
        text_config=None,
        protein_encoder: bool = True,
        mm_protein_select_layer: int = -1,
        gca_num_layers: int = 1,
        gca_num_heads: int = 4,
        gca_intermediate_size: int = None,
        gca_relative_window: int = 0,
        site_context_window: int = 0,
        resampler_depth: int = 2,
        resampler_num_heads: int = 4,
        resampler_head_dim: int = 64,
        num_media_tokens: int = 16,
        projector_type: str = "mlp2x_gelu",
        delta_token: str = "<delta_P>",
        delta_token_id: int = None,
        protein_max_length: int = 1022,
        layer_norm_eps: float = 1e-5,
        initializer_range: float = 0.02,
        **kwargs,
    ):
        self.protein_config = _sub_config(protein_config, "esm", DEFAULT_PROTEIN_CONFIG)
        self.text_config = _sub_config(text_config, "llama")
        if not isinstance(self.protein_config, EsmConfig):
            raise ValueError(f"protein_config must be an EsmConfig, got {type(self.protein_config).__name__}")
        width = self.protein_config.hidden_size
        if width % gca_num_heads:
            raise ValueError(f"the protein width {width} must be divisible by gca_num_heads ({gca_num_heads})")
        layers = self.protein_config.num_hidden_layers
        if not -1 <= mm_protein_select_layer <= layers:
            raise ValueError(f"mm_protein_select_layer must be -1 or in 0..{layers}, got {mm_protein_select_layer}")
        if projector_type not in ("mlp2x_gelu", "linear"):
            raise ValueError(f"projector_type must be 'mlp2x_gelu' or 'linear', got {projector_type!r}")
        if num_media_tokens < 1 or min(resampler_depth, gca_num_layers, gca_relative_window, site_context_window) < 0:
            raise ValueError("num_media_tokens must be >= 1; resampler_depth, gca_num_layers, gca_relative_window, "
                             "site_context_window >= 0")
        if protein_max_length + 2 > self.protein_config.max_position_embeddings and protein_encoder \
                and self.protein_config.position_embedding_type != "rotary":
            raise ValueError("protein_max_length + 2 exceeds the encoder's max_position_embeddings")
        self.protein_encoder = protein_encoder
        self.mm_protein_select_layer = mm_protein_select_layer
        self.gca_num_layers = gca_num_layers
        self.gca_num_heads = gca_num_heads
        self.gca_intermediate_size = gca_intermediate_size or 4 * width
        self.gca_relative_window = gca_relative_window
        self.site_context_window = site_context_window
        self.resampler_depth = resampler_depth
        self.resampler_num_heads = resampler_num_heads
        self.resampler_head_dim = resampler_head_dim
        self.num_media_tokens = num_media_tokens
        self.projector_type = projector_type
        self.delta_token = delta_token
        self.delta_token_id = delta_token_id
        self.protein_max_length = protein_max_length
        self.layer_norm_eps = layer_norm_eps
        self.initializer_range = initializer_range
        # The LM head is its own matrix (a tied LLM's embeddings are copied into it): adapters merge and the
        # export reloads with exactly the file's tensors.
        kwargs["tie_word_embeddings"] = False
        for name in ("pad_token_id", "bos_token_id", "eos_token_id"):
            kwargs.setdefault(name, getattr(self.text_config, name, None))
        super().__init__(**kwargs)

    def get_text_config(self, decoder=None, encoder=None):
        return self.text_config
