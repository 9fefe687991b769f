"""milmol's training objective (seed section 3): per-task focal BCE and masked, weighted auxiliary regression."""

import torch
import torch.nn.functional as F


def multitask_focal_loss(logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor, pos_weight: torch.Tensor,
                         gamma: torch.Tensor) -> torch.Tensor:
    """
    Per-task focal BCE, shape (T,). logits / labels / weights: (B, T), weight 0 = no label; pos_weight and
    gamma: (T,) (pos_weight already clipped). Element loss = (1 - p_t) ** gamma_t * BCE(pos_weight_t); a task's
    loss is the weighted mean over its labelled samples (0 when it has none in the batch).
    """
    labels = torch.nan_to_num(labels.to(logits.dtype), nan=0.0)
    bce = F.binary_cross_entropy_with_logits(logits, labels, pos_weight=pos_weight, reduction="none")
    prob = torch.sigmoid(logits)
    p_t = labels * prob + (1.0 - labels) * (1.0 - prob)
    focal = (1.0 - p_t).clamp_min(0.0).pow(gamma) * bce
    return (weights * focal).sum(dim=0) / weights.sum(dim=0).clamp_min(1e-8)


def masked_regression_loss(predictions: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor,
                           weights=None, loss_type: str = "mse") -> torch.Tensor:
    """
    Weighted MSE over the labelled entries only: sum(m * w * (y_hat - y)^2) / max(sum(m * w), 1). `mask` (B, K)
    marks labelled entries (missing targets may be NaN there: they are never read), `weights` (B, K) or (K,).
    """
    if loss_type != "mse":
        raise ValueError(f"unknown regression loss {loss_type!r}; the seed's space has only 'mse'")
    mask = mask.to(predictions.dtype)
    if weights is not None:
        mask = mask * weights.to(predictions.dtype)
    targets = torch.where(mask > 0, targets.to(predictions.dtype), predictions.detach())
    return (mask * (predictions - targets).pow(2)).sum() / mask.sum().clamp_min(1.0)
