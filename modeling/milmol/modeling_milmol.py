"""
milmol (the seed's MILTaskAttnMixerWithAux): a molecule's 2D vector and the bag of its conformers' 3D vectors
-> per-task embeddings -> 4 optical-property logits, auxiliary absorbance / fluorescence regressions, and per-task
attention over the conformers.

    x2d (B, F2) -> mol_enc -> proj2d (Linear + LN) -> e2d, repeated per task       (B, T, P)
    x3d (B, N, F3) -> inst_enc per conformer -> LN -> TaskAttentionPool -> proj3d -> e3d (B, T, P)
    concat(e2d, e3d) -> mixer -> z_tasks (B, T, H) -> per-task linear heads -> logits (B, T)
    mean_t z_tasks -> abs head (B, 2), fluo head (B, 4)

With `ensemble_size` K > 1 there are K such networks with their own heads, trained on their own losses; logits,
auxiliary outputs and attention maps are their means.
"""

from dataclasses import dataclass
from typing import Optional

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.utils import ModelOutput

from .configuration_milmol import MILMolConfig
from .layers_milmol import ResidualBlock, ResidualMLPEmbedder, TaskAttentionPool, ZeroInitLinear
from .losses_milmol import masked_regression_loss, multitask_focal_loss


@dataclass
class MILMolModelOutput(ModelOutput):
    """
    task_embeddings: (B, members, T, mixer_hidden) each member's per-task representation (the mixer's output).
    conformer_attention: (B, T, N) per-task attention over the conformers, the members' mean; 0 on padding, sums
        to 1 per task.
    """

    task_embeddings: Optional[torch.FloatTensor] = None
    conformer_attention: Optional[torch.FloatTensor] = None


@dataclass
class MILMolPropertyOutput(ModelOutput):
    """
    loss: mean_t(lam_t * focal_t) + lambda_aux_abs * abs MSE + lambda_aux_fluo * fluo MSE (terms with targets given),
        each member's own loss, averaged over the members (they train independently).
    logits: (B, T) classification logits, the members' mean (sigmoid = probability of the task's positive class).
    aux_abs: (B, 2) / aux_fluo: (B, 4) auxiliary regressions, standardised units (config.aux_*_mean / std undo it).
    conformer_attention: (B, T, N) as in `MILMolModelOutput`.
    task_embeddings: (B, members, T, H).
    per_task_loss: (T,) the focal loss of each task before lambda weighting, the members' mean (when labels are given).
    """

    loss: Optional[torch.FloatTensor] = None
    logits: Optional[torch.FloatTensor] = None
    aux_abs: Optional[torch.FloatTensor] = None
    aux_fluo: Optional[torch.FloatTensor] = None
    conformer_attention: Optional[torch.FloatTensor] = None
    task_embeddings: Optional[torch.FloatTensor] = None
    per_task_loss: Optional[torch.FloatTensor] = None


class MILMolPreTrainedModel(PreTrainedModel):
    config_class = MILMolConfig
    config: MILMolConfig
    base_model_prefix = "milmol"
    main_input_name = "x2d"
    supports_gradient_checkpointing = False
    accepts_loss_kwargs = False  # the loss is a per-batch mean: Trainer must not rescale it

    @torch.no_grad()
    def _init_weights(self, module):
        if isinstance(module, nn.MultiheadAttention):  # torch's own reset would overwrite loaded weights
            init.xavier_uniform_(module.in_proj_weight)
            init.zeros_(module.in_proj_bias)
            return
        if isinstance(module, ZeroInitLinear):  # the last residual block's FF2: the stack starts near identity
            init.zeros_(module.weight)
            init.zeros_(module.bias)
            return
        super()._init_weights(module)
        if isinstance(module, ResidualBlock):
            init.constant_(module.residual_scale, module.scale_init)
        elif isinstance(module, TaskAttentionPool):
            init.normal_(module.queries, std=self.config.initializer_range)
            init.constant_(module.log_temperature, float(torch.tensor(self.config.attn_temperature).log()))
        elif isinstance(module, MemberLinear):  # as nn.Linear gets from PreTrainedModel
            init.normal_(module.weight, std=self.config.initializer_range)
            init.zeros_(module.bias)
        elif isinstance(module, MILMolForPropertyPrediction):
            init.normal_(module.task_weight, std=self.config.initializer_range)
            init.zeros_(module.task_bias)


class MemberLinear(nn.Module):
    """One Linear layer per ensemble member: (B, members, in) -> (B, members, out)."""

    def __init__(self, members: int, in_features: int, out_features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(members, out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(members, out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bmi,moi->bmo", x, self.weight) + self.bias


def _embedder(config: MILMolConfig, in_dim: int, hidden: int, layers: int, dropout: float, gated: bool) -> ResidualMLPEmbedder:
    return ResidualMLPEmbedder(
        in_dim, hidden, layers, dropout, ffn_mult=config.ffn_mult, drop_path_rate=config.drop_path_rate,
        scale_init=config.layer_scale_init, warmup_blocks=config.layer_scale_warmup_blocks, gated=gated,
        activation=config.activation, eps=config.layer_norm_eps,
    )


class MILMolNetwork(nn.Module):
    """One network of the seed: the two encoders, the task-attention pool and the mixer (x2d, x3d, mask -> z_tasks, attention)."""

    def __init__(self, config: MILMolConfig):
        super().__init__()
        eps = config.layer_norm_eps
        self.mol_enc = _embedder(config, config.n_features_2d, config.mol_hidden, config.mol_layers, config.mol_dropout, config.encoder_gating)
        self.proj2d = nn.Sequential(nn.Linear(config.mol_hidden, config.proj_dim), nn.LayerNorm(config.proj_dim, eps=eps))
        self.num_tasks, self.use_conformers = config.num_tasks, config.use_conformers
        if not config.use_conformers:  # the 2D-only ablation: no conformer encoder, pool or 3D projection
            self.mixer = _embedder(config, config.proj_dim, config.mixer_hidden, config.mixer_layers, config.mixer_dropout, gated=False)
            return
        conformer_in = config.n_features_3d * (2 if config.conformer_contrast else 1)
        self.inst_enc = _embedder(config, conformer_in, config.inst_hidden, config.inst_layers, config.inst_dropout, config.encoder_gating)
        self.inst_norm = nn.LayerNorm(config.inst_hidden, eps=eps)
        self.pool = TaskAttentionPool(
            config.inst_hidden, config.num_tasks, config.attn_heads, config.attn_dropout,
            temperature=config.attn_temperature, learn_temperature=config.learn_attn_temperature,
            pool_source=config.pool_source, tie_mha_v=config.tie_mha_v, topk=config.attn_topk,
            mean_pool_blend=config.mean_pool_blend, eps=eps,
        )
        self.proj3d = nn.Sequential(nn.Linear(config.inst_hidden, config.proj_dim), nn.LayerNorm(config.proj_dim, eps=eps))
        self.mixer = _embedder(config, 2 * config.proj_dim, config.mixer_hidden, config.mixer_layers, config.mixer_dropout, gated=False)

    def forward(self, x2d: torch.Tensor, x3d: torch.Tensor, mask: torch.Tensor) -> tuple:
        """mask (B, N) bool; a molecule without conformers (a 2D-only record) pools nothing: its pooled state is 0,
        so its 3D embedding is proj3d's learned constant, and its attention row is 0."""
        e2d = self.proj2d(self.mol_enc(x2d)).unsqueeze(1).expand(-1, self.num_tasks, -1)
        if not self.use_conformers:
            return self.mixer(e2d), x3d.new_zeros(x3d.shape[0], self.num_tasks, x3d.shape[1])
        has_bag = mask.any(dim=1)
        safe_mask = mask.clone()
        safe_mask[:, 0] |= ~has_bag  # attention needs one key; what it pools for an empty bag is zeroed below
        instances = self.inst_norm(self.inst_enc(x3d))
        pooled, attention = self.pool(instances, safe_mask)
        present = has_bag[:, None, None].to(pooled.dtype)
        e3d = self.proj3d(pooled * present)
        return self.mixer(torch.cat([e2d, e3d], dim=-1)), attention * present


class MILMolModel(MILMolPreTrainedModel):
    """
    `ensemble_size` networks (`MILMolNetwork`: the two encoders, the task-attention pool and the mixer; 1 = the
    seed's). Inputs: `x2d` (B, F2), `x3d` (B, N, F3) and `conformer_mask` (B, N), 1 = a real conformer, 0 = padding
    (the seed's key-padding mask is its negation). A molecule without conformers (all-0 mask row: RDKit could not
    embed it) is predicted from its 2D vector and the learned "no conformer" 3D embedding. Output:
    `task_embeddings` (B, members, T, H) and `conformer_attention` (B, T, N), the members' mean.
    """

    def __init__(self, config: MILMolConfig):
        super().__init__(config)
        self.members = nn.ModuleList(MILMolNetwork(config) for _ in range(config.ensemble_size))
        self.post_init()

    def conformer_inputs(self, x3d: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """What the conformer encoders read: x3d, and with `conformer_contrast` each conformer's difference from its
        bag's mean in within-bag units concatenated to it (0 on padding)."""
        config = self.config
        if not config.conformer_contrast:
            return x3d
        weights = mask.unsqueeze(-1).to(x3d.dtype)
        bag_mean = (x3d * weights).sum(dim=1, keepdim=True) / weights.sum(dim=1, keepdim=True).clamp_min(1.0)
        scale = x3d.new_tensor(config.within_bag_std_3d) if config.within_bag_std_3d is not None else 1.0
        return torch.cat([x3d, (x3d - bag_mean) * weights / scale], dim=-1)

    def forward(self, x2d: torch.Tensor, x3d: torch.Tensor, conformer_mask: Optional[torch.Tensor] = None,
                return_dict: Optional[bool] = None, **kwargs) -> MILMolModelOutput:
        config = self.config
        if x2d.dim() != 2 or x2d.shape[-1] != config.n_features_2d:
            raise ValueError(f"x2d must be (batch, {config.n_features_2d}), got {tuple(x2d.shape)}")
        if x3d.dim() != 3 or x3d.shape[-1] != config.n_features_3d or x3d.shape[0] != x2d.shape[0]:
            raise ValueError(f"x3d must be (batch={x2d.shape[0]}, conformers, {config.n_features_3d}), got {tuple(x3d.shape)}")
        mask = torch.ones(x3d.shape[:2], dtype=torch.bool, device=x3d.device) if conformer_mask is None else conformer_mask.bool()
        if mask.shape != x3d.shape[:2]:
            raise ValueError(f"conformer_mask must be {tuple(x3d.shape[:2])}, got {tuple(mask.shape)}")
        x3d = self.conformer_inputs(x3d, mask)
        embeddings, attention = zip(*(member(x2d, x3d, mask) for member in self.members))
        return MILMolModelOutput(task_embeddings=torch.stack(embeddings, dim=1),
                                 conformer_attention=torch.stack(attention, dim=0).mean(dim=0))


class MILMolForPropertyPrediction(MILMolPreTrainedModel):
    """
    `MILMolModel` + per-task classification heads + auxiliary absorbance / fluorescence heads, and the seed's
    loss when targets are given:
        labels (B, T) 0/1 (NaN = missing), label_weights (B, T) sample/task weights (0 = missing; default 1);
        aux_abs (B, 2) / aux_fluo (B, 4) standardised targets with aux_abs_mask / aux_fluo_mask (B, K) and optional
        aux_abs_weights / aux_fluo_weights.
    """

    def __init__(self, config: MILMolConfig):
        super().__init__(config)
        self.milmol = MILMolModel(config)
        members = config.ensemble_size
        self.task_weight = nn.Parameter(torch.zeros(members, config.num_tasks, config.mixer_hidden))
        self.task_bias = nn.Parameter(torch.zeros(members, config.num_tasks))
        self.abs_head = MemberLinear(members, config.mixer_hidden, len(config.aux_abs_names))
        self.fluo_head = MemberLinear(members, config.mixer_hidden, len(config.aux_fluo_names))
        self.post_init()

    def loss_weights(self, device) -> dict:
        config = self.config
        pos_weight = torch.minimum(torch.tensor(config.pos_weight), torch.tensor(config.posw_clip))
        return {"pos_weight": pos_weight.to(device), "gamma": torch.tensor(config.gamma, device=device),
                "lam": torch.tensor(config.normalized_lam(), device=device)}

    def forward(self, x2d: torch.Tensor, x3d: torch.Tensor, conformer_mask: Optional[torch.Tensor] = None,
                labels: Optional[torch.Tensor] = None, label_weights: Optional[torch.Tensor] = None,
                aux_abs: Optional[torch.Tensor] = None, aux_abs_mask: Optional[torch.Tensor] = None,
                aux_abs_weights: Optional[torch.Tensor] = None, aux_fluo: Optional[torch.Tensor] = None,
                aux_fluo_mask: Optional[torch.Tensor] = None, aux_fluo_weights: Optional[torch.Tensor] = None,
                return_dict: Optional[bool] = None, **kwargs) -> MILMolPropertyOutput:
        base = self.milmol(x2d, x3d, conformer_mask)
        z = base.task_embeddings  # (B, members, T, H)
        member_logits = (z * self.task_weight).sum(dim=-1) + self.task_bias  # (B, members, T)
        z_aux = z.mean(dim=2)  # each member's mean task embedding (B, members, H)
        member_abs, member_fluo = self.abs_head(z_aux), self.fluo_head(z_aux)

        loss = per_task = None
        if labels is not None:
            weights = self.loss_weights(member_logits.device)
            labels = labels.to(member_logits.dtype)
            label_weights = torch.ones_like(labels) if label_weights is None else label_weights.to(member_logits.dtype)
            label_weights = label_weights * (~torch.isnan(labels)).to(member_logits.dtype)
            per_task = torch.stack([multitask_focal_loss(member_logits[:, m], labels, label_weights, weights["pos_weight"], weights["gamma"])
                                    for m in range(member_logits.shape[1])]).mean(dim=0)
            loss = (weights["lam"] * per_task).mean()
        for name, out, target, target_mask, target_weights in (("abs", member_abs, aux_abs, aux_abs_mask, aux_abs_weights),
                                                                 ("fluo", member_fluo, aux_fluo, aux_fluo_mask, aux_fluo_weights)):
            if target is None:
                continue
            mask = ~torch.isnan(target) if target_mask is None else target_mask.bool()
            term = torch.stack([masked_regression_loss(out[:, m], target, mask, target_weights, self.config.reg_loss_type)
                                for m in range(out.shape[1])]).mean()
            term = getattr(self.config, f"lambda_aux_{name}") * term
            loss = term if loss is None else loss + term
        return MILMolPropertyOutput(loss=loss, logits=member_logits.mean(dim=1), aux_abs=member_abs.mean(dim=1),
                                    aux_fluo=member_fluo.mean(dim=1), conformer_attention=base.conformer_attention,
                                    task_embeddings=z, per_task_loss=per_task)
