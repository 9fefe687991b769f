"""Configuration of milmol, the multiple-instance task-attention network over a molecule and its conformers."""

from transformers import PretrainedConfig

from .features_milmol import DESCRIPTORS_2D, DESCRIPTORS_3D, feature_names_3d

TASK_NAMES = ("Transmittance_340", "Transmittance_450", "Fluorescence_340_450", "Fluorescence_more_than_480")
AUX_ABS_NAMES = ("Transmittance_340_quantitative", "Transmittance_450_quantitative")
# The seed expands the fluorescence base columns (wl_pred_nm, qy_pred) "to 4 outputs aligned with the task
# structure": here each base column once per fluorescence task, masked to the molecules positive for that task
# (an emission wavelength / quantum yield is only defined for a molecule that emits in that band).
AUX_FLUO_NAMES = ("wl_pred_nm@Fluorescence_340_450", "qy_pred@Fluorescence_340_450",
                  "wl_pred_nm@Fluorescence_more_than_480", "qy_pred@Fluorescence_more_than_480")
ACTIVATIONS = ("GELU", "SiLU", "Mish", "ReLU", "LeakyReLU")
POOL_SOURCES = ("inputs", "normed_inputs", "attn_out")


class MILMolConfig(PretrainedConfig):
    r"""
    Configuration for [`MILMolModel`] and [`MILMolForPropertyPrediction`]. Defaults are a mid-point of the
    seed's search space (shared/seeds/mil-task-attention-molecules.md, section 4); the presets pick sizes.

    Inputs:
        n_features_2d: length F2 of the molecule (2D) vector. Default: the RDKit featurizer's
            `len(DESCRIPTORS_2D) + fingerprint_bits`.
        n_features_3d: length F3 of the per-conformer (3D) vector. Default: the featurizer's 3D length.
        fingerprint_bits / fingerprint_radius / num_conformers: the featurizer settings the model was built for
            (the tokenizer is created from them; the processor config saved with the model is the record).
    Architecture (seed names):
        mol_hidden, mol_layers, mol_dropout: 2D molecule encoder (residual SwiGLU MLP) width, depth, dropout.
        inst_hidden, inst_layers, inst_dropout: per-conformer encoder.
        proj_dim: width both branches are projected to (Linear + LayerNorm) before fusion.
        attn_heads, attn_dropout: TaskAttentionPool heads (must divide inst_hidden) and attention dropout.
        mixer_hidden, mixer_layers, mixer_dropout: the fusion mixer over concat(e2d, e3d) per task.
        activation: the mixer's nonlinearity (and the encoders' when `encoder_gating` is off).
        encoder_gating: SwiGLU gated feed-forward in the encoders (seed: on).
        ffn_mult: feed-forward width of a residual block, in multiples of its hidden width.
        drop_path_rate: stochastic depth; block i of L drops its residual branch with rate * i / (L - 1).
        layer_scale_init: initial learnable residual scale; `layer_scale_warmup_blocks` first blocks start
            smaller (block i at layer_scale_init * (i + 1) / (warmup + 1)), the warm-up of the seed's V3 embedder.
        attn_temperature: query temperature (queries scaled by 1 / temperature; < 1 sharpens the attention);
            `learn_attn_temperature` makes it a learned scalar (stored as log).
        pool_source: what the attention weights pool: "inputs" (encoder states), "normed_inputs" (after the
            pre-attention LayerNorm) or "attn_out" (the MHA output itself, one vector per task).
        tie_mha_v: pool with the MHA's own value projection (else a separate Linear).
        attn_topk: keep only the k most-attended conformers per task (0 = all); not with pool_source="attn_out".
            The kept weights are renormalised, so k = 1 pools one conformer with weight 1: the loss then gives the
            queries and keys no gradient (the choice stays at its initialisation); k >= 2 trains them.
        mean_pool_blend: pooled = (1 - b) * attention pool + b * mean pool over valid conformers.
        conformer_contrast: feed the conformer encoder, next to each conformer's 3D vector, its difference from the
            mean of its bag divided by `within_bag_std_3d` (per feature, the training split's within-bag standard
            deviation; set by training, 1 when unset), so what sets a conformer apart from its own molecule is on
            the scale of the input rather than a few % of the between-molecule spread.
        use_conformers: the 3D branch (conformer encoder, task-attention pool, 3D projection); False = the same
            model on the 2D vector alone (the ablation that asks whether the conformer bag helps).
        ensemble_size: independent copies of the whole network (encoders, pool, mixer, heads); the prediction is
            the mean of their logits / auxiliary outputs and `conformer_attention` the mean of their attention maps
            (1 = the seed's single network). biohf trains them one after the other, each with its own seed, early
            stopping and best checkpoint; a forward with labels returns the mean of their own losses. At a few
            hundred molecules one network's held-out AP moves by several points with its initialisation alone; the
            mean of a few is the variance reduction.
    Losses (seed section 3):
        pos_weight: per-task BCE positive weight (negatives / positives of the training fold; set by training).
        posw_clip: per-task upper bound applied to pos_weight.
        gamma: per-task focal exponent.
        lam, lam_floor, lam_ceil: raw per-task loss multipliers, normalised by their mean, clipped to
            [floor, ceil], normalised by their mean again.
        lambda_aux_abs, lambda_aux_fluo, reg_loss_type: auxiliary regression weights and criterion ("mse").
        decision_thresholds: per-task probability threshold of a positive call (the pipeline's `predicted`); set by
            training to the best-F1 threshold on the validation split (0.5 when unset). At 0.2 % prevalence with
            `pos_weight` the probabilities are not calibrated, so 0.5 is rarely the right cut.
        aux_abs_mean/std, aux_fluo_mean/std: train-fold statistics the auxiliary targets were standardised with
            (the pipeline reports predictions in the original units).
    Names: task_names (classification), aux_abs_names, aux_fluo_names; their lengths set the head counts.
    """

    model_type = "milmol"
    keys_to_ignore_at_inference = ["task_embeddings", "per_task_loss"]

    def __init__(
        self,
        n_features_2d=None,
        n_features_3d=None,
        fingerprint_bits: int = 1024,
        fingerprint_radius: int = 2,
        num_conformers: int = 10,
        mol_hidden: int = 1024,
        mol_layers: int = 3,
        mol_dropout: float = 0.15,
        inst_hidden: int = 512,
        inst_layers: int = 4,
        inst_dropout: float = 0.1,
        proj_dim: int = 512,
        attn_heads: int = 8,
        attn_dropout: float = 0.1,
        mixer_hidden: int = 512,
        mixer_layers: int = 3,
        mixer_dropout: float = 0.1,
        activation: str = "GELU",
        encoder_gating: bool = True,
        ffn_mult: float = 2.0,
        drop_path_rate: float = 0.1,
        layer_scale_init: float = 0.1,
        layer_scale_warmup_blocks: int = 1,
        attn_temperature: float = 1.0,
        learn_attn_temperature: bool = False,
        pool_source: str = "normed_inputs",
        tie_mha_v: bool = True,
        attn_topk: int = 0,
        mean_pool_blend: float = 0.0,
        ensemble_size: int = 1,
        use_conformers: bool = True,
        conformer_contrast: bool = False,
        within_bag_std_3d=None,
        task_names=TASK_NAMES,
        aux_abs_names=AUX_ABS_NAMES,
        aux_fluo_names=AUX_FLUO_NAMES,
        pos_weight=None,
        posw_clip=None,
        gamma=None,
        lam=None,
        decision_thresholds=None,
        lam_floor: float = 0.5,
        lam_ceil: float = 2.0,
        lambda_aux_abs: float = 0.2,
        lambda_aux_fluo: float = 0.2,
        reg_loss_type: str = "mse",
        aux_abs_mean=None,
        aux_abs_std=None,
        aux_fluo_mean=None,
        aux_fluo_std=None,
        layer_norm_eps: float = 1e-5,
        initializer_range: float = 0.02,
        **kwargs,
    ):
        task_names, aux_abs_names, aux_fluo_names = list(task_names), list(aux_abs_names), list(aux_fluo_names)
        n_tasks = len(task_names)
        if n_features_2d is None:
            n_features_2d = len(DESCRIPTORS_2D) + fingerprint_bits
        if n_features_3d is None:
            n_features_3d = len(feature_names_3d(DESCRIPTORS_3D))

        def per_task(name, value, default):
            value = [float(default)] * n_tasks if value is None else [float(v) for v in value]
            if len(value) != n_tasks:
                raise ValueError(f"{name} needs one value per task ({n_tasks}: {task_names}), got {len(value)}")
            return value

        pos_weight = per_task("pos_weight", pos_weight, 1.0)
        posw_clip = per_task("posw_clip", posw_clip, 50.0)
        gamma = per_task("gamma", gamma, 2.0)
        lam = per_task("lam", lam, 1.0)
        decision_thresholds = per_task("decision_thresholds", decision_thresholds, 0.5)
        problems = []
        if n_tasks < 1:
            problems.append("task_names must name at least one classification task")
        for name, value in (("n_features_2d", n_features_2d), ("n_features_3d", n_features_3d),
                            ("mol_hidden", mol_hidden), ("inst_hidden", inst_hidden), ("proj_dim", proj_dim),
                            ("mixer_hidden", mixer_hidden), ("attn_heads", attn_heads),
                            ("num_conformers", num_conformers), ("ensemble_size", ensemble_size)):
            if int(value) < 1:
                problems.append(f"{name} must be a positive integer, got {value}")
        for name, value in (("mol_layers", mol_layers), ("inst_layers", inst_layers), ("mixer_layers", mixer_layers),
                            ("attn_topk", attn_topk), ("layer_scale_warmup_blocks", layer_scale_warmup_blocks)):
            if int(value) < 0:
                problems.append(f"{name} must be >= 0, got {value}")
        if inst_hidden % attn_heads:
            problems.append(f"inst_hidden ({inst_hidden}) must be divisible by attn_heads ({attn_heads}): "
                            "the task-attention pool splits the conformer embedding across heads")
        for name, value in (("mol_dropout", mol_dropout), ("inst_dropout", inst_dropout), ("attn_dropout", attn_dropout),
                            ("mixer_dropout", mixer_dropout), ("drop_path_rate", drop_path_rate),
                            ("mean_pool_blend", mean_pool_blend)):
            if not 0.0 <= value < 1.0 and not (name == "mean_pool_blend" and value == 1.0):
                problems.append(f"{name} must be in [0, 1), got {value}")
        if activation not in ACTIVATIONS:
            problems.append(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        if pool_source not in POOL_SOURCES:
            problems.append(f"pool_source must be one of {POOL_SOURCES}, got {pool_source!r}")
        if within_bag_std_3d is not None and (len(within_bag_std_3d) != int(n_features_3d) or min(within_bag_std_3d) <= 0):
            problems.append(f"within_bag_std_3d needs {n_features_3d} positive values")
        if attn_topk and pool_source == "attn_out":
            problems.append("attn_topk pools with the averaged attention weights; pool_source='attn_out' uses the MHA "
                            "output (per-head weights) instead: use 'inputs' or 'normed_inputs' with top-k")
        if tie_mha_v and pool_source == "attn_out":
            problems.append("tie_mha_v chooses the value projection of an attention-weight pool; with "
                            "pool_source='attn_out' the MHA applies its own: set tie_mha_v=False")
        if attn_temperature <= 0:
            problems.append(f"attn_temperature must be positive, got {attn_temperature}")
        if ffn_mult <= 0:
            problems.append(f"ffn_mult must be positive, got {ffn_mult}")
        if not 0 < lam_floor <= 1.0 <= lam_ceil:
            problems.append(f"need 0 < lam_floor <= 1 <= lam_ceil (weights are mean-normalised), got {lam_floor}, {lam_ceil}")
        if any(v <= 0 for v in posw_clip + lam + pos_weight) or any(v < 0 for v in gamma):
            problems.append("posw_clip, lam and pos_weight must be positive and gamma >= 0")
        if reg_loss_type != "mse":
            problems.append(f"reg_loss_type: only 'mse' is in the seed's space, got {reg_loss_type!r}")
        for name, value, names in (("aux_abs_mean", aux_abs_mean, aux_abs_names), ("aux_abs_std", aux_abs_std, aux_abs_names),
                                   ("aux_fluo_mean", aux_fluo_mean, aux_fluo_names), ("aux_fluo_std", aux_fluo_std, aux_fluo_names)):
            if value is not None and len(value) != len(names):
                problems.append(f"{name} needs {len(names)} values, got {len(value)}")
        if problems:
            raise ValueError("invalid MILMolConfig:\n  - " + "\n  - ".join(problems))

        self.n_features_2d, self.n_features_3d = int(n_features_2d), int(n_features_3d)
        self.fingerprint_bits, self.fingerprint_radius, self.num_conformers = fingerprint_bits, fingerprint_radius, num_conformers
        self.mol_hidden, self.mol_layers, self.mol_dropout = mol_hidden, mol_layers, mol_dropout
        self.inst_hidden, self.inst_layers, self.inst_dropout = inst_hidden, inst_layers, inst_dropout
        self.proj_dim = proj_dim
        self.attn_heads, self.attn_dropout = attn_heads, attn_dropout
        self.mixer_hidden, self.mixer_layers, self.mixer_dropout = mixer_hidden, mixer_layers, mixer_dropout
        self.activation, self.encoder_gating, self.ffn_mult = activation, encoder_gating, ffn_mult
        self.drop_path_rate, self.layer_scale_init, self.layer_scale_warmup_blocks = drop_path_rate, layer_scale_init, layer_scale_warmup_blocks
        self.attn_temperature, self.learn_attn_temperature = attn_temperature, learn_attn_temperature
        self.pool_source, self.tie_mha_v, self.attn_topk, self.mean_pool_blend = pool_source, tie_mha_v, attn_topk, mean_pool_blend
        self.ensemble_size, self.use_conformers = int(ensemble_size), bool(use_conformers)
        self.conformer_contrast = conformer_contrast
        self.within_bag_std_3d = None if within_bag_std_3d is None else [float(v) for v in within_bag_std_3d]
        self.task_names, self.aux_abs_names, self.aux_fluo_names = task_names, aux_abs_names, aux_fluo_names
        self.pos_weight, self.posw_clip, self.gamma, self.lam = pos_weight, posw_clip, gamma, lam
        self.decision_thresholds = decision_thresholds
        self.lam_floor, self.lam_ceil = lam_floor, lam_ceil
        self.lambda_aux_abs, self.lambda_aux_fluo, self.reg_loss_type = lambda_aux_abs, lambda_aux_fluo, reg_loss_type
        self.aux_abs_mean = list(aux_abs_mean) if aux_abs_mean is not None else [0.0] * len(aux_abs_names)
        self.aux_abs_std = list(aux_abs_std) if aux_abs_std is not None else [1.0] * len(aux_abs_names)
        self.aux_fluo_mean = list(aux_fluo_mean) if aux_fluo_mean is not None else [0.0] * len(aux_fluo_names)
        self.aux_fluo_std = list(aux_fluo_std) if aux_fluo_std is not None else [1.0] * len(aux_fluo_names)
        self.layer_norm_eps, self.initializer_range = layer_norm_eps, initializer_range
        kwargs.setdefault("tie_word_embeddings", False)
        super().__init__(**kwargs)

    @property
    def num_tasks(self) -> int:
        return len(self.task_names)

    def normalized_lam(self) -> list:
        """The seed's lambda processing: mean-normalise, clip to [lam_floor, lam_ceil], mean-normalise again."""
        mean = sum(self.lam) / len(self.lam)
        clipped = [min(max(v / mean, self.lam_floor), self.lam_ceil) for v in self.lam]
        mean = sum(clipped) / len(clipped)
        return [v / mean for v in clipped]
