"""Losses of E1ForContrastiveBinding: NT-Xent across views, prototype alignment, BCE on prototype scores, MLM."""

import torch
import torch.nn.functional as F


def _zero(like: torch.Tensor) -> torch.Tensor:
    """An exact 0 that keeps the graph (DDP sees every parameter used)."""
    return like.sum() * 0.0


def per_residue(values: torch.Tensor, where: torch.Tensor, residue_index: torch.Tensor) -> tuple:
    """
    Scatter `values[b, v, l]` at the positions `where` (B, V, L) into (B, R, ...) by residue `residue_index[b, v, l]`,
    summed over views; also the number of views per residue (B, R). Views of a protein hold its query at different
    offsets (different homolog contexts), so residues are matched by their index inside the query.
    """
    b, v, l = where.nonzero(as_tuple=True)
    r = residue_index[b, v, l]
    num_residues = int(r.max()) + 1 if r.numel() else 1
    dense = values.new_zeros((where.shape[0], num_residues) + values.shape[3:])
    dense.index_put_((b, r), values[b, v, l].to(dense.dtype), accumulate=True)
    count = torch.zeros(where.shape[0], num_residues, device=values.device)
    count.index_put_((b, r), torch.ones_like(r, dtype=count.dtype), accumulate=True)
    return dense, count


def nt_xent(hidden: torch.Tensor, valid: torch.Tensor, residue_index: torch.Tensor, temperature: float,
            max_residues: int, training: bool) -> torch.Tensor:
    """
    Multi-view NT-Xent on normalised residue embeddings: the other views of the same residue are the positives,
    every other (residue, view) of the batch a negative; (residue, view) pairs with `valid` False (masked in that
    view) take no part. Residues present in fewer than 2 views are skipped; at most `max_residues` residues (a
    random subset in training). Zero with a single view.
    """
    batch, num_views = valid.shape[:2]
    if num_views < 2:
        return _zero(hidden)
    b, v, l = valid.nonzero(as_tuple=True)
    r = residue_index[b, v, l]
    num_residues = int(r.max()) + 1 if r.numel() else 1
    dense = hidden.new_zeros(batch, num_views, num_residues, hidden.shape[-1])
    dense[b, v, r] = F.normalize(hidden[b, v, l].float(), dim=-1).to(dense.dtype)
    present = torch.zeros(batch, num_views, num_residues, dtype=torch.bool, device=hidden.device)
    present[b, v, r] = True
    rows, cols = (present.sum(dim=1) >= 2).nonzero(as_tuple=True)
    if rows.numel() == 0:
        return _zero(hidden)
    if rows.numel() > max_residues:
        keep = torch.randperm(rows.numel(), device=rows.device)[:max_residues] if training else torch.arange(max_residues, device=rows.device)
        rows, cols = rows[keep], cols[keep]
    z = dense[rows, :, cols].float().flatten(0, 1)  # (n * V, D)
    ok = present[rows, :, cols].flatten()
    owner = torch.arange(rows.numel(), device=z.device).repeat_interleave(num_views)
    sim = z @ z.T / temperature
    not_self = ~torch.eye(len(z), dtype=torch.bool, device=z.device)
    candidates = not_self & ok[None, :] & ok[:, None]
    positives = candidates & (owner[:, None] == owner[None, :])
    log_prob = sim - torch.logsumexp(sim.masked_fill(~candidates, float("-inf")), dim=1, keepdim=True)
    num_pos = positives.sum(dim=1)
    anchors = num_pos > 0
    per_anchor = -(log_prob.masked_fill(~positives, 0.0).sum(dim=1)[anchors] / num_pos[anchors])
    return per_anchor.mean()


def binding_losses(hidden, sim_pos, logits, labels, label_mask, contrastive_mask, residue_index, config, training) -> dict:
    """
    hidden (B, V, L, D); sim_pos = cos(h, p) and logits (B, V, L, ions); labels (B, V, L, ions) 1/0, -100 unknown;
    label_mask (B, V, L): labelled query residues (masked tokens included: masking for MLM does not remove a residue
    from the prototype and BCE losses); contrastive_mask (B, V, L): residues taking part in NT-Xent (default:
    label_mask). Returns the unweighted components and the diagnostics.
    """
    known = label_mask[..., None] & (labels != -100)
    positive = labels == 1
    if not bool(known.any()):
        zero = _zero(hidden)
        return {"loss_contrastive": zero, "loss_prototype": zero, "loss_bce": zero,
                "pull_mask_ratio": zero.detach(), "sim_pos": zero.detach(), "sim_neg": zero.detach()}

    # Prototype alignment: two-way log-softmax over (p, -p), only where the margin is violated.
    sim = sim_pos.float()
    violated = known & torch.where(positive, sim < config.eps_pos, -sim < config.eps_neg)
    log_p = F.log_softmax(torch.stack([sim, -sim], dim=-1) / config.prototype_temperature, dim=-1)
    nll = -torch.where(positive, log_p[..., 0], log_p[..., 1])
    loss_prototype = (nll * violated).sum() / violated.sum().clamp(min=1)

    # BCE on the view-averaged score of every labelled residue, with label smoothing in training.
    summed, count = per_residue(logits.float(), label_mask, residue_index)
    residue_labels, _ = per_residue(labels.float(), label_mask, residue_index)
    residue_labels = residue_labels / count.clamp(min=1)[..., None]  # the same label in every view
    has = (count > 0)[..., None] & (residue_labels >= 0)
    score = summed / count.clamp(min=1)[..., None]
    target = residue_labels.clamp(0, 1)
    if training and config.label_smoothing:
        target = target * (1 - config.label_smoothing) + 0.5 * config.label_smoothing
    loss_bce = F.binary_cross_entropy_with_logits(score[has], target[has])

    contrastive = label_mask if contrastive_mask is None else contrastive_mask & label_mask
    loss_contrastive = nt_xent(hidden, contrastive, residue_index, config.contrastive_temperature,
                               config.max_contrastive_residues, training)
    mean_sim = sim[known].mean().detach()
    return {"loss_contrastive": loss_contrastive, "loss_prototype": loss_prototype, "loss_bce": loss_bce,
            "pull_mask_ratio": (violated.sum() / known.sum()).detach().float(), "sim_pos": mean_sim, "sim_neg": -mean_sim}


def masked_lm_loss(head, hidden: torch.Tensor, mlm_labels) -> torch.Tensor:
    """Cross-entropy of the MLM head on masked tokens, per view, averaged over the views that have any."""
    if mlm_labels is None or not bool((mlm_labels != -100).any()):
        return head(hidden[:, :, :1]).sum() * 0.0
    b, v, l = (mlm_labels != -100).nonzero(as_tuple=True)
    losses = F.cross_entropy(head(hidden[b, v, l]).float(), mlm_labels[b, v, l], reduction="none")
    num_views = mlm_labels.shape[1]
    per_view = torch.zeros(num_views, device=losses.device).index_add_(0, v, losses)
    count = torch.zeros(num_views, device=losses.device).index_add_(0, v, torch.ones_like(losses))
    has = count > 0
    return (per_view[has] / count[has]).mean()
