"""Building blocks of milmol: the residual (SwiGLU) MLP embedder and the task-attention pool over conformers."""

import torch
import torch.nn.functional as F
from torch import nn

ACTIVATION_CLASSES = {"GELU": nn.GELU, "SiLU": nn.SiLU, "Mish": nn.Mish, "ReLU": nn.ReLU, "LeakyReLU": nn.LeakyReLU}


def drop_path(x: torch.Tensor, rate: float, training: bool) -> torch.Tensor:
    """Stochastic depth: zero a sample's residual branch with probability `rate` (first dim = sample), rescale the rest."""
    if rate == 0.0 or not training:
        return x
    keep = 1.0 - rate
    mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
    return x * mask / keep


class ZeroInitLinear(nn.Linear):
    """A Linear layer whose weight and bias start at zero (`_init_weights` of the model does it)."""


class FeedForward(nn.Module):
    """SwiGLU (W2(silu(W_gate x) * W_up x)) when `gated`, else W2(act(W1 x)); dropout before W2."""

    def __init__(self, dim: int, hidden: int, dropout: float, gated: bool, activation: str, zero_init: bool = False):
        super().__init__()
        self.gated = gated
        self.fc1 = nn.Linear(dim, 2 * hidden if gated else hidden)
        self.act = nn.SiLU() if gated else ACTIVATION_CLASSES[activation]()
        self.dropout = nn.Dropout(dropout)
        self.fc2 = (ZeroInitLinear if zero_init else nn.Linear)(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.gated:
            gate, up = self.fc1(x).chunk(2, dim=-1)
            hidden = self.act(gate) * up
        else:
            hidden = self.act(self.fc1(x))
        return self.fc2(self.dropout(hidden))


class ResidualBlock(nn.Module):
    """Pre-norm residual block: x + drop_path(scale * dropout(FFN(LN(x)))), `scale` a learned per-channel vector."""

    def __init__(self, dim: int, ffn_hidden: int, dropout: float, drop_path_rate: float, scale_init: float,
                 gated: bool, activation: str, eps: float, zero_init: bool = False):
        super().__init__()
        self.norm = nn.LayerNorm(dim, eps=eps)
        self.ffn = FeedForward(dim, ffn_hidden, dropout, gated, activation, zero_init)
        self.residual_dropout = nn.Dropout(dropout)
        self.drop_path_rate = drop_path_rate
        self.scale_init = scale_init
        self.residual_scale = nn.Parameter(torch.full((dim,), scale_init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch = self.residual_dropout(self.ffn(self.norm(x))) * self.residual_scale
        return x + drop_path(branch, self.drop_path_rate, self.training)


class ResidualMLPEmbedder(nn.Module):
    """
    The seed's V3 embedder: input LayerNorm, projection to `hidden` (identity when the widths match), then
    `layers` pre-norm residual blocks of constant width. Stochastic depth grows linearly over depth
    (0 at the first block, `drop_path_rate` at the last); the residual scales start at `scale_init`, the first
    `warmup_blocks` smaller (block i at scale_init * (i + 1) / (warmup_blocks + 1)); the last block's FF2 starts
    at zero, so the stack starts as the identity on top of the projection.
    """

    def __init__(self, in_dim: int, hidden: int, layers: int, dropout: float, *, ffn_mult: float, drop_path_rate: float,
                 scale_init: float, warmup_blocks: int, gated: bool, activation: str, eps: float):
        super().__init__()
        self.input_norm = nn.LayerNorm(in_dim, eps=eps)
        self.input_proj = nn.Linear(in_dim, hidden) if in_dim != hidden else nn.Identity()
        ffn_hidden = max(1, int(round(hidden * ffn_mult)))
        self.blocks = nn.ModuleList(
            ResidualBlock(
                hidden, ffn_hidden, dropout,
                drop_path_rate * i / (layers - 1) if layers > 1 else 0.0,
                scale_init * (i + 1) / (warmup_blocks + 1) if i < warmup_blocks else scale_init,
                gated, activation, eps, zero_init=i == layers - 1,
            )
            for i in range(layers)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.input_proj(self.input_norm(x))
        for block in self.blocks:
            x = block(x)
        return x


class TaskAttentionPool(nn.Module):
    """
    One learned query per task attends over the conformers of a bag (multi-head, pre-norm). The per-head weights
    are averaged, padding is set to 0 and each task's weights renormalised to sum to 1 over the valid conformers;
    these are the returned attention maps (B, tasks, N) and, for pool_source "inputs" / "normed_inputs", the
    weights of the pool (optionally restricted to the top-k conformers per task and blended with the mean pool).
    """

    def __init__(self, dim: int, num_tasks: int, heads: int, dropout: float, *, temperature: float,
                 learn_temperature: bool, pool_source: str, tie_mha_v: bool, topk: int, mean_pool_blend: float, eps: float):
        super().__init__()
        self.queries = nn.Parameter(torch.zeros(1, num_tasks, dim))
        self.norm = nn.LayerNorm(dim, eps=eps)
        self.mha = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        # shape (1,), not (): DeepSpeed broadcasts every parameter as bytes, which a 0-dim tensor cannot be viewed as
        self.log_temperature = nn.Parameter(torch.full((1,), float(temperature)).log(), requires_grad=learn_temperature)
        self.pool_source, self.tie_mha_v, self.topk, self.mean_pool_blend = pool_source, tie_mha_v, topk, mean_pool_blend
        self.value = nn.Linear(dim, dim) if pool_source != "attn_out" and not tie_mha_v else None

    def values(self, source: torch.Tensor) -> torch.Tensor:
        if self.value is not None:
            return self.value(source)
        if self.pool_source == "attn_out":
            return source
        dim = source.shape[-1]
        return F.linear(source, self.mha.in_proj_weight[2 * dim :], self.mha.in_proj_bias[2 * dim :])

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple:
        """x: (B, N, D) conformer states; mask: (B, N) bool, True = a real conformer. Returns (pooled (B, T, D), attn (B, T, N))."""
        normed = self.norm(x)
        queries = self.queries.expand(x.shape[0], -1, -1) / self.log_temperature.exp()
        attn_out, weights = self.mha(queries, normed, normed, key_padding_mask=~mask, need_weights=True,
                                     average_attn_weights=False)
        valid = mask[:, None, :].to(weights.dtype)
        attn = weights.mean(dim=1) * valid
        attn = attn / attn.sum(dim=-1, keepdim=True).clamp_min(1e-12)
        source = x if self.pool_source == "inputs" else normed
        if self.pool_source == "attn_out":
            pooled = attn_out
            values = self.values(normed)
        else:
            values = self.values(source)
            weights_for_pool = attn
            if self.topk and self.topk < attn.shape[-1]:
                kth = attn.topk(self.topk, dim=-1).values[..., -1:]
                weights_for_pool = torch.where(attn >= kth, attn, torch.zeros_like(attn))
                weights_for_pool = weights_for_pool / weights_for_pool.sum(dim=-1, keepdim=True).clamp_min(1e-12)
            pooled = weights_for_pool @ values
        if self.mean_pool_blend:
            mean = (valid.transpose(1, 2) * values).sum(dim=1, keepdim=True) / valid.sum(dim=-1, keepdim=True).clamp_min(1.0)
            pooled = (1.0 - self.mean_pool_blend) * pooled + self.mean_pool_blend * mean
        return pooled, attn
