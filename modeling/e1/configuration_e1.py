"""Configuration of E1 (Profluent's retrieval-augmented protein LM) and its contrastive metal-binding head."""

from transformers import PretrainedConfig

DEFAULT_IONS = ("ZN", "CA", "MG")


class E1Config(PretrainedConfig):
    r"""
    Configuration for [`E1Model`], [`E1ForMaskedLM`] and [`E1ForContrastiveBinding`]. Defaults are E1-150m
    (dim 768, 12 heads, feed-forward 2304, 20 layers); E1-300m is (1024, 16, 3072, 20), E1-600m (1280, 20, 3840, 30).

    Backbone (must match the public checkpoints):
        vocab_size: 34 (see `E1Tokenizer`). pad/bos/eos/mask token ids: 0, 1, 2, 5 (`?`).
        hidden_size / num_attention_heads / intermediate_size / num_hidden_layers: transformer size.
        num_key_value_heads: heads of k and v (grouped-query attention when fewer than num_attention_heads; default:
            as many). The public config.json names `global_attention_every_n_layers`, `rope_theta_within_seq` and
            `clip_qkv` are read as `global_attention_every`, `rope_theta_within` and `qkv_clamp`.
        max_num_sequences: rows of the sequence-id embedding (512): at most this many sequences (homologs + query).
        global_attention_every: layer i (0-based) is global when (i + 1) % this == 0 (3), else within-sequence.
        rope_theta_within / rope_theta_global: rotary bases of within-sequence (10,000, within-sequence
            positions) and global layers (500,000, global positions).
        qkv_clamp: q, k and v are clamped to [-qkv_clamp, qkv_clamp] after projection (8).
        rms_norm_eps: RMSNorm epsilon (not published; 1e-5). mlm_layer_norm_eps: LayerNorm of the MLM head.
        upcast_attention: in half precision, compute attention (scores, float32 softmax) in float32.
        attention_backend: "sdpa" (default) or "flex" (torch flex_attention with block masks, compiled; a GPU
            option: `compile_flex_attention` of the seed).

    Contrastive binding (`E1ForContrastiveBinding`):
        ions: the metal ions with a frozen unit prototype each (negative prototype = -positive).
        contrastive_temperature: NT-Xent temperature across views.
        unsupervised_weight / prototype_weight / bce_weight / mlm_weight: loss weights.
        eps_pos / eps_neg: prototype margins: a binding residue is pulled while cos(h, p) < eps_pos, a
            non-binding one while cos(h, -p) < eps_neg.
        prototype_temperature: temperature of the two-way log-softmax of the prototype alignment loss.
        scoring_temperature: logit = (sim_pos - sim_neg) / scoring_temperature (BCE, probabilities, metrics).
        label_smoothing: BCE targets y(1 - s) + s/2 during training.
        max_contrastive_residues: NT-Xent on at most this many residues per batch (random subset; memory).
        batch_views: run all views of a batch through one backbone forward (False: one forward per view).
        share_view_context: with `batch_views`, when every view of a protein has the same homologs (context not
            resampled per view), encode the homologs once per protein and let each view's query attend to their
            cached keys/values in global layers (exact, since context never attends to the query; SDPA backend only).
        center_prototypes: subtract the mean embedding of all labelled residues from each ion's mean positive
            embedding before normalising (off by default, as in the seed; one demo run with it on was not better).
        orthogonal_prototypes: make the ions' prototypes orthogonal (Gram-Schmidt in `ions` order; off by default).
        decision_thresholds: per-ion probability threshold (set from out-of-fold predictions by training).
    """

    model_type = "e1"
    keys_to_ignore_at_inference = [
        "hidden_states", "last_hidden_state", "loss_contrastive", "loss_prototype", "loss_bce", "loss_mlm",
        "pull_mask_ratio", "sim_pos", "sim_neg",
    ]

    # The config's hyper-parameters with their defaults: alike in shape to other configs' signatures, not shared logic.
    def __init__(
        self,
        vocab_size: int = 34,
        hidden_size: int = 768,
        num_attention_heads: int = 12,
        num_key_value_heads: int = None,
        intermediate_size: int = 2304,
        num_hidden_layers: int = 20,
        max_num_sequences: int = 512,
        global_attention_every: int = 3,
        rope_theta_within: float = 10_000.0,
        rope_theta_global: float = 500_000.0,
        qkv_clamp: float = 8.0,
        rms_norm_eps: float = 1e-5,
        mlm_layer_norm_eps: float = 1e-5,
        initializer_range: float = 0.02,
        upcast_attention: bool = True,
        attention_backend: str = "sdpa",
        pad_token_id: int = 0,
        bos_token_id: int = 1,
        eos_token_id: int = 2,
        mask_token_id: int = 5,
        ions=DEFAULT_IONS,
        contrastive_temperature: float = 0.1,
        unsupervised_weight: float = 0.5,
        prototype_weight: float = 1.0,
        bce_weight: float = 1.0,
        mlm_weight: float = 0.1,
        eps_pos: float = 0.3,
        eps_neg: float = 0.3,
        prototype_temperature: float = 0.1,
        scoring_temperature: float = 0.1,
        label_smoothing: float = 0.0,
        max_contrastive_residues: int = 2048,
        batch_views: bool = True,
        share_view_context: bool = True,
        center_prototypes: bool = False,
        orthogonal_prototypes: bool = False,
        decision_thresholds: dict = None,
        **kwargs,
    ):
        # The public checkpoints' config.json spells some fields differently: read those names too.
        global_attention_every = kwargs.pop("global_attention_every_n_layers", global_attention_every)
        rope_theta_within = kwargs.pop("rope_theta_within_seq", rope_theta_within)
        clip_qkv = kwargs.pop("clip_qkv", None)
        qkv_clamp = qkv_clamp if clip_qkv is None else clip_qkv
        num_key_value_heads = num_key_value_heads or num_attention_heads
        if num_attention_heads % num_key_value_heads:
            raise ValueError(f"num_attention_heads ({num_attention_heads}) must be a multiple of num_key_value_heads ({num_key_value_heads})")
        if hidden_size % num_attention_heads or (hidden_size // num_attention_heads) % 2:
            raise ValueError(f"hidden_size ({hidden_size}) must split into {num_attention_heads} heads of even size (rotary)")
        if attention_backend not in ("sdpa", "flex"):
            raise ValueError(f"attention_backend must be 'sdpa' or 'flex', got {attention_backend!r}")
        if global_attention_every < 1:
            raise ValueError(f"global_attention_every must be >= 1, got {global_attention_every}")
        ions = [str(ion).upper() for ion in ions]
        if not ions or len(set(ions)) != len(ions):
            raise ValueError(f"ions must be a non-empty list of distinct names, got {ions}")
        for name, value in (("contrastive_temperature", contrastive_temperature), ("scoring_temperature", scoring_temperature),
                            ("prototype_temperature", prototype_temperature)):
            if value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_attention_heads = num_attention_heads
        self.num_key_value_heads = num_key_value_heads
        self.intermediate_size = intermediate_size
        self.num_hidden_layers = num_hidden_layers
        self.max_num_sequences = max_num_sequences
        self.global_attention_every = global_attention_every
        self.rope_theta_within = rope_theta_within
        self.rope_theta_global = rope_theta_global
        self.qkv_clamp = qkv_clamp
        self.rms_norm_eps = rms_norm_eps
        self.mlm_layer_norm_eps = mlm_layer_norm_eps
        self.initializer_range = initializer_range
        self.upcast_attention = upcast_attention
        self.attention_backend = attention_backend
        self.mask_token_id = mask_token_id
        self.ions = ions
        self.contrastive_temperature = contrastive_temperature
        self.unsupervised_weight = unsupervised_weight
        self.prototype_weight = prototype_weight
        self.bce_weight = bce_weight
        self.mlm_weight = mlm_weight
        self.eps_pos = eps_pos
        self.eps_neg = eps_neg
        self.prototype_temperature = prototype_temperature
        self.scoring_temperature = scoring_temperature
        self.label_smoothing = label_smoothing
        self.max_contrastive_residues = max_contrastive_residues
        self.batch_views = batch_views
        self.share_view_context = share_view_context
        self.center_prototypes = center_prototypes
        self.orthogonal_prototypes = orthogonal_prototypes
        thresholds = {ion: 0.5 for ion in ions}
        thresholds.update({str(k).upper(): float(v) for k, v in (decision_thresholds or {}).items()})
        self.decision_thresholds = thresholds
        kwargs.setdefault("tie_word_embeddings", False)
        super().__init__(pad_token_id=pad_token_id, bos_token_id=bos_token_id, eos_token_id=eos_token_id, **kwargs)

    def is_global_layer(self, index: int) -> bool:
        """Layer `index` (0-based) attends block-causally across sequences; the others within their sequence."""
        return (index + 1) % self.global_attention_every == 0
