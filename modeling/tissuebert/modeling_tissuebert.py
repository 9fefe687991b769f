"""
TissueBERT: tissue of origin of a DNA-methylation sample.

Three models share one config and one tokenizer (see `TissueBERTConfig.model_kind`):
- `TissueBERTForRegionClassification`, the original: one 150-bp region in, one tissue out. Trained with the
  sample's label on every region it fails (most regions carry no tissue signal); kept to show that.
- `TissueBERTForSampleClassification`, the working model: all regions of a sample -> per-region mean methylation
  -> projection -> MLP.
- `TissueBERTForRegionAttention`: every region a token, attention pooling across regions; handles missing regions
  and returns per-region attention.
- `TissueBERTForMixtureDeconvolution`: the proportion of every tissue in a mixed sample, a least-squares fit to
  the reference atlas it holds, shrunk towards a learned softmax prior.
`TissueBERTForSequenceClassification` is what a repository holds and the Auto classes load: it builds the model
named by `config.model_kind` and forwards to it.
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

from .configuration_tissuebert import TissueBERTConfig

MISSING_STATE = 2  # methylation state of a position without a call


@dataclass
class TissueBERTOutput(ModelOutput):
    """
    loss: cross-entropy (with `config.label_smoothing`) when `labels` are given; for the mixture model the L1
        error of the proportions plus `config.prior_loss_weight` x the soft cross-entropy of its prior.
    logits: (B, num_labels) tissue logits (per region for the region-level model; the mixture model's are
        log-proportions, so their softmax is `proportions`).
    proportions: (B, num_labels) mixture model only: the share of every tissue (non-negative, sum 1).
    region_attention: (B, num_regions) attention over regions, mean over pooling heads; 0 on missing regions
        (region-attention model only).
    hidden_states: the region transformer's states after the embeddings and every layer, when asked for.
    """

    loss: Optional[torch.FloatTensor] = None
    logits: Optional[torch.FloatTensor] = None
    proportions: Optional[torch.FloatTensor] = None
    region_attention: Optional[torch.FloatTensor] = None
    hidden_states: Optional[tuple] = None


class TissueBERTLayer(GradientCheckpointingLayer):
    """Pre-norm transformer layer (SDPA self-attention over the tokens where `mask` is True, then a GELU MLP)."""

    def __init__(self, size: int, heads: int, intermediate: int, dropout: float, attention_dropout: float, eps: float):
        super().__init__()
        self.heads = heads
        self.attention_dropout = attention_dropout
        self.attention_norm = nn.LayerNorm(size, eps=eps)
        self.qkv = nn.Linear(size, 3 * size)
        self.attention_output = nn.Linear(size, size)
        self.ffn_norm = nn.LayerNorm(size, eps=eps)
        self.ffn = nn.Sequential(nn.Linear(size, intermediate), nn.GELU(), nn.Linear(intermediate, size))
        self.dropout = nn.Dropout(dropout)

    def forward(self, hidden_states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch, length, size = hidden_states.shape
        q, k, v = self.qkv(self.attention_norm(hidden_states)).view(batch, length, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, None, :],
                                                  dropout_p=self.attention_dropout if self.training else 0.0)
        hidden_states = hidden_states + self.dropout(self.attention_output(attended.transpose(1, 2).reshape(batch, length, size)))
        return hidden_states + self.dropout(self.ffn(self.ffn_norm(hidden_states)))


class TissueBERTPreTrainedModel(PreTrainedModel):
    # The PreTrainedModel declarations transformers reads, repeated per family because each modeling folder ships alone as remote code.
    config_class = TissueBERTConfig
    base_model_prefix = "tissuebert"
    main_input_name = "region_means"
    supports_gradient_checkpointing = True
    _no_split_modules = ["TissueBERTLayer"]
    _supports_sdpa = True

    def _init_weights(self, module):
        # Linear, Embedding (padding row zeroed), LayerNorm, BatchNorm: the library default (transformers.initialization,
        # which respects loaded weights). The learned fill of a missing region starts at 0.5; pooling queries as Linear.
        super()._init_weights(module)
        if isinstance(module, (TissueBERTForSampleClassification, TissueBERTForMixtureDeconvolution)):
            init.constant_(module.missing_fill, 0.5)
        if isinstance(module, TissueBERTForMixtureDeconvolution):
            init.constant_(module.reference, 0.5)  # replaced by the atlas before training (`set_reference`)
            init.zeros_(module.region_log_weights)
        if isinstance(module, TissueBERTForRegionAttention):
            init.normal_(module.pool_queries, mean=0.0, std=self.config.initializer_range)
            init.constant_(module.region_centers, 0.5)

    def _loss(self, logits: torch.Tensor, labels: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        if labels is None:
            return None
        return F.cross_entropy(logits.float(), labels.long(), label_smoothing=self.config.label_smoothing)

    def _sample_inputs(self, methylation, region_means, region_coverage, region_mask) -> tuple:
        """
        `(means, coverage, present)`, each (B, num_regions), from raw states `methylation` (B, N, L) or from
        `region_means` (B, N) with NaN for missing regions. Missing regions have mean 0 and `present` False;
        `region_mask` (1 = use) hides more; during training `config.region_dropout` hides a random fraction.
        """
        n = self.config.num_regions
        if (methylation is None) == (region_means is None):
            raise ValueError("give either methylation (batch, num_regions, region_length) states or region_means (batch, num_regions)")
        if methylation is not None:
            if methylation.dim() != 3 or methylation.shape[1:] != (n, self.config.region_length):
                raise ValueError(f"methylation must be (batch, {n}, {self.config.region_length}), got {tuple(methylation.shape)}")
            counts = (methylation != MISSING_STATE).sum(-1).float()
            means = (methylation == 1).sum(-1).float() / counts.clamp(min=1)
            present = counts > 0
            coverage = counts if region_coverage is None else region_coverage.float()
        else:
            if region_means.dim() != 2 or region_means.shape[1] != n:
                raise ValueError(f"region_means must be (batch, {n}), got {tuple(region_means.shape)}")
            present = ~torch.isnan(region_means)
            means = torch.nan_to_num(region_means.float(), nan=0.0)
            coverage = present.float() if region_coverage is None else region_coverage.float()
        if region_mask is not None:
            present = present & region_mask.bool()
        if self.training and self.config.region_dropout > 0:
            present = present & (torch.rand(present.shape, device=present.device) >= self.config.region_dropout)
        empty = ~present.any(dim=1)
        if empty.any():
            raise ValueError(f"sample(s) {empty.nonzero().flatten().tolist()} have no region with a methylation call")
        return means.masked_fill(~present, 0.0), coverage.masked_fill(~present, 0.0), present


class TissueBERTForRegionClassification(TissueBERTPreTrainedModel):
    """
    The original TissueBERT: DNA 3-mer, methylation-state (0 / 1 / 2) and position embeddings summed, a transformer
    over the `region_length` positions of ONE region, mean pooling, a linear tissue classifier. Inputs `input_ids`
    and `methylation`, both (B, region_length); one prediction per region.
    """

    main_input_name = "input_ids"
    accepts_loss_kwargs = False

    def __init__(self, config: TissueBERTConfig):
        super().__init__(config)
        self.dna_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.methylation_embeddings = nn.Embedding(3, config.hidden_size)
        self.position_embeddings = nn.Embedding(config.region_length, config.hidden_size)
        self.embedding_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.layers = nn.ModuleList(
            TissueBERTLayer(config.hidden_size, config.num_attention_heads, config.intermediate_size, config.hidden_dropout_prob,
                            config.attention_probs_dropout_prob, config.layer_norm_eps)
            for _ in range(config.num_hidden_layers))
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        # post_init and the input-embedding accessors transformers expects, repeated per family because each modeling folder ships alone as remote code.
        self.gradient_checkpointing = False
        self.post_init()

    def get_input_embeddings(self):
        return self.dna_embeddings

    def set_input_embeddings(self, value):
        self.dna_embeddings = value

    def forward(self, input_ids=None, methylation=None, labels=None, output_hidden_states=None, return_dict=None) -> TissueBERTOutput:
        length = self.config.region_length
        if input_ids is None or methylation is None:
            raise ValueError("the region-level model needs input_ids and methylation of regions, both (batch, "
                             f"{length}); see TissueBERTTokenizer.encode_regions")
        if input_ids.dim() != 2 or input_ids.shape[1] != length or methylation.shape != input_ids.shape:
            raise ValueError(f"input_ids {tuple(input_ids.shape)} and methylation {tuple(methylation.shape)} must both be (batch, {length})")
        positions = torch.arange(length, device=input_ids.device)
        hidden_states = self.dna_embeddings(input_ids) + self.methylation_embeddings(methylation.long()) + self.position_embeddings(positions)
        hidden_states = self.dropout(self.embedding_norm(hidden_states))
        mask = torch.ones(input_ids.shape, dtype=torch.bool, device=input_ids.device)
        all_hidden_states = (hidden_states,) if output_hidden_states else None
        for layer in self.layers:
            hidden_states = layer(hidden_states, mask)
            if output_hidden_states:
                all_hidden_states += (hidden_states,)
        logits = self.classifier(self.norm(hidden_states).mean(dim=1))
        return TissueBERTOutput(loss=self._loss(logits, labels), logits=logits, hidden_states=all_hidden_states)


class TissueBERTForSampleClassification(TissueBERTPreTrainedModel):
    """
    The working model of the design notes: a whole sample in, one tissue out. Per-region mean methylation over the
    valid calls (state 2 masked); a region without any call is missing and takes a learned per-region value
    (`missing_fill`), never 0. Then per-region standardisation (BatchNorm, not in the notes: the baseline's
    scaler, it makes the MLP match it), `Linear(num_regions -> projection_size)` and the MLP
    `projection_size -> mlp_hidden_sizes... -> num_labels`, each step BatchNorm + ReLU + dropout + Linear.
    Inputs: `methylation` (B, num_regions, region_length) states, or `region_means` (B, num_regions), NaN = missing.
    """

    accepts_loss_kwargs = False

    def __init__(self, config: TissueBERTConfig):
        super().__init__(config)
        self.missing_fill = nn.Parameter(torch.empty(config.num_regions))
        self.input_norm = nn.BatchNorm1d(config.num_regions)  # standardises each region (as the baseline's scaler)
        self.input_projection = nn.Linear(config.num_regions, config.projection_size)
        sizes = [config.projection_size, *config.mlp_hidden_sizes, config.num_labels]
        blocks = []
        for size_in, size_out in zip(sizes[:-1], sizes[1:]):
            blocks += [nn.BatchNorm1d(size_in), nn.ReLU(), nn.Dropout(config.mlp_dropout), nn.Linear(size_in, size_out)]
        self.network = nn.Sequential(*blocks)
        self.post_init()

    def forward(self, methylation=None, region_means=None, region_coverage=None, region_mask=None, labels=None,
                return_dict=None) -> TissueBERTOutput:
        means, _, present = self._sample_inputs(methylation, region_means, region_coverage, region_mask)
        features = torch.where(present, means, self.missing_fill.to(means.dtype))
        logits = self.network(self.input_projection(self.input_norm(features)))
        return TissueBERTOutput(loss=self._loss(logits, labels), logits=logits)


class TissueBERTForRegionAttention(TissueBERTPreTrainedModel):
    """
    Regions as tokens. Region r of a sample becomes `e_r + v_r * (m_r - mu_r) + W log(c_r / mean c)`: a learned
    region embedding `e_r` (which region), a learned per-region direction `v_r` scaled by its mean methylation `m_r`
    around a learned centre `mu_r`, and its coverage relative to the sample's mean coverage. Optional transformer
    layers across regions, then `region_attention_heads` learned queries score the tokens and pool what they say
    (the token minus `e_r`) with a softmax over the PRESENT regions only: a missing region is left out, not imputed,
    and the pooled vector stays an average over the regions that have data. An MLP classifies it.
    `region_attention` (B, N) is the pooling attention averaged over queries: which regions the call rests on.
    """

    accepts_loss_kwargs = False

    def __init__(self, config: TissueBERTConfig):
        super().__init__(config)
        size, heads = config.region_embedding_size, config.region_attention_heads
        self.region_embeddings = nn.Embedding(config.num_regions, size)
        self.value_embeddings = nn.Embedding(config.num_regions, size)
        self.region_centers = nn.Parameter(torch.empty(config.num_regions))
        self.coverage_projection = nn.Linear(1, size)
        self.layers = nn.ModuleList(
            TissueBERTLayer(size, heads, 4 * size, config.mlp_dropout, config.attention_probs_dropout_prob, config.layer_norm_eps)
            for _ in range(config.region_attention_layers))
        self.pool_queries = nn.Parameter(torch.empty(heads, size))
        self.pool_keys = nn.Linear(size, size)
        self.pool_norm = nn.LayerNorm(heads * size, eps=config.layer_norm_eps)
        self.classifier = nn.Sequential(nn.Linear(heads * size, config.projection_size), nn.GELU(),
                                        nn.Dropout(config.mlp_dropout), nn.Linear(config.projection_size, config.num_labels))
        self.gradient_checkpointing = False
        self.post_init()

    def forward(self, methylation=None, region_means=None, region_coverage=None, region_mask=None, labels=None,
                output_hidden_states=None, return_dict=None) -> TissueBERTOutput:
        means, coverage, present = self._sample_inputs(methylation, region_means, region_coverage, region_mask)
        mean_coverage = coverage.sum(1, keepdim=True) / present.sum(1, keepdim=True)
        relative = torch.log((coverage / mean_coverage.clamp(min=1e-6)).clamp(min=1e-3)).masked_fill(~present, 0.0)
        centered = (means - self.region_centers).masked_fill(~present, 0.0)
        identity = self.region_embeddings.weight
        tokens = identity + self.value_embeddings.weight * centered[..., None] + self.coverage_projection(relative[..., None])
        all_hidden_states = (tokens,) if output_hidden_states else None
        for layer in self.layers:
            tokens = layer(tokens, present)
            if output_hidden_states:
                all_hidden_states += (tokens,)
        scores = torch.einsum("hd,bnd->bhn", self.pool_queries, self.pool_keys(tokens)) / tokens.shape[-1] ** 0.5
        attention = torch.softmax(scores.float().masked_fill(~present[:, None, :], float("-inf")), dim=-1).to(tokens.dtype)
        pooled = torch.einsum("bhn,bnd->bhd", attention, tokens - identity).flatten(1)  # what the regions say, not which
        logits = self.classifier(self.pool_norm(pooled))
        return TissueBERTOutput(loss=self._loss(logits, labels), logits=logits, region_attention=attention.mean(dim=1),
                                hidden_states=all_hidden_states)


def mlp_blocks(sizes: list, dropout: float) -> nn.Sequential:
    """BatchNorm + ReLU + dropout + Linear between each pair of `sizes`."""
    blocks = []
    for size_in, size_out in zip(sizes[:-1], sizes[1:]):
        blocks += [nn.BatchNorm1d(size_in), nn.ReLU(), nn.Dropout(dropout), nn.Linear(size_in, size_out)]
    return nn.Sequential(*blocks)


class TissueBERTForMixtureDeconvolution(TissueBERTPreTrainedModel):
    """
    Tissue proportions of a mixed sample. The model holds the reference atlas `reference` (regions x tissues, the
    profiles it was trained from; frozen) and fits the sample's region means `x` to it:

        p = argmin_{p >= 0}  sum_r w_r (x_r - R_r p)^2  +  sum_t lambda_t (p_t - prior_t)^2,    renormalised to sum 1

    (p >= 0 as NNLS keeps it: tissues that come out negative are fixed at 0 and the fit repeated), with `w_r` a
    learned per-region weight times the region's coverage (0 where missing), `prior` the softmax of an MLP on the
    region means (the sample-level MLP) and `lambda` (one per tissue: a Gaussian prior's precision) the residual
    variance of the unconstrained fit divided by the effective number of regions, times a per-sample, per-tissue
    precision the MLP also outputs (around `exp(config.prior_log_precision)`). A
    noiseless mixture of the atlas has zero residual, so it is recovered exactly; a noisy, low-depth one is
    pulled towards the prior the network learned from simulated mixtures. Labels are proportions (B, num_labels).
    """

    accepts_loss_kwargs = False

    def __init__(self, config: TissueBERTConfig):
        super().__init__(config)
        self.reference = nn.Parameter(torch.empty(config.num_regions, config.num_labels), requires_grad=False)
        self.region_log_weights = nn.Parameter(torch.empty(config.num_regions))
        self.missing_fill = nn.Parameter(torch.empty(config.num_regions))
        self.input_norm = nn.BatchNorm1d(config.num_regions)
        self.input_projection = nn.Linear(config.num_regions, config.projection_size)
        # Outputs: the prior's logits and the log prior precision of every tissue.
        self.network = mlp_blocks([config.projection_size, *config.mlp_hidden_sizes, 2 * config.num_labels], config.mlp_dropout)
        self.post_init()

    @torch.no_grad()
    def set_reference(self, profiles) -> None:
        """The atlas (num_regions, num_labels) beta values this model deconvolves against."""
        profiles = torch.as_tensor(profiles, dtype=self.reference.dtype)
        if profiles.shape != self.reference.shape or torch.isnan(profiles).any():
            raise ValueError(f"the reference must be {tuple(self.reference.shape)} beta values without NaN, got "
                             f"{tuple(profiles.shape)}{' with NaN' if torch.isnan(profiles).any() else ''}")
        self.reference.copy_(profiles)

    def _nonnegative_solve(self, system: torch.Tensor, rhs: torch.Tensor) -> torch.Tensor:
        """
        `system p = rhs` (B, T, T) with p >= 0, as NNLS does it: solve, fix the tissues that came out negative at 0
        (their rows and columns replaced by the identity), solve again; at most `config.nonnegative_iterations` rounds.
        """
        eye = torch.eye(system.shape[-1], dtype=system.dtype, device=system.device).expand_as(system)
        active = torch.ones_like(rhs, dtype=torch.bool)
        for _ in range(max(self.config.nonnegative_iterations, 1)):
            both = active[:, :, None] & active[:, None, :]
            solution = torch.linalg.solve(torch.where(both, system, eye), torch.where(active, rhs, 0.0))
            negative = active & (solution < 0)
            if not negative.any():
                break
            active = active & ~negative
        return solution.clamp(min=0)

    def forward(self, methylation=None, region_means=None, region_coverage=None, region_mask=None, labels=None,
                return_dict=None) -> TissueBERTOutput:
        means, coverage, present = self._sample_inputs(methylation, region_means, region_coverage, region_mask)
        out = self.network(self.input_projection(self.input_norm(torch.where(present, means, self.missing_fill.to(means.dtype)))))
        tissues = self.config.num_labels
        prior_logits = out[:, :tissues].float()
        log_precision = out[:, tissues:].double() + self.config.prior_log_precision
        prior = torch.softmax(prior_logits, dim=-1).double()
        # The fit in float64: (B, T, T) normal equations of the weighted least squares, weights summing to 1.
        weights = torch.exp(self.region_log_weights).double() * coverage.double() * present
        weights = weights / weights.sum(dim=1, keepdim=True)
        reference, x = self.reference.double(), means.double()
        gram = torch.einsum("bn,nt,nu->btu", weights, reference, reference)
        moment = torch.einsum("bn,nt,bn->bt", weights, reference, x)
        eye = torch.eye(gram.shape[-1], dtype=gram.dtype, device=gram.device)
        unshrunk = torch.linalg.solve(gram + 1e-10 * eye, moment)
        residual = (weights * (x - unshrunk @ reference.T) ** 2).sum(dim=1)
        effective_regions = 1.0 / (weights ** 2).sum(dim=1)
        shrinkage = (residual / effective_regions)[:, None] * torch.exp(log_precision.clamp(-30, 30))  # (B, T)
        fitted = self._nonnegative_solve(gram + torch.diag_embed(shrinkage), moment + shrinkage * prior)
        total = fitted.sum(dim=-1, keepdim=True)
        proportions = torch.where(total > 1e-9, fitted / total.clamp(min=1e-9), prior).to(means.dtype)
        loss = None
        if labels is not None:
            labels = labels.to(proportions.dtype)
            if labels.shape != proportions.shape:
                raise ValueError(f"mixture labels must be proportions {tuple(proportions.shape)}, got {tuple(labels.shape)}")
            loss = (proportions - labels).abs().sum(-1).mean() \
                + self.config.prior_loss_weight * -(labels * torch.log_softmax(prior_logits, dim=-1)).sum(-1).mean()
        return TissueBERTOutput(loss=loss, logits=torch.log(proportions.clamp(min=1e-8)), proportions=proportions)


MODEL_CLASSES = {
    "sample": TissueBERTForSampleClassification,
    "region_attention": TissueBERTForRegionAttention,
    "region": TissueBERTForRegionClassification,
    "mixture": TissueBERTForMixtureDeconvolution,
}


class TissueBERTForSequenceClassification(TissueBERTPreTrainedModel):
    """
    What a TissueBERT repository holds: the model `config.model_kind` names (`MODEL_CLASSES`), under `tissuebert.`.
    Sample-level kinds take `methylation` (B, N, L) or `region_means` (B, N) [+ `region_coverage`, `region_mask`];
    the region-level kind takes `input_ids` and `methylation` (B, L) of single regions. `input_ids` are ignored by
    the sample-level kinds (the DNA of a region is the same in every sample).
    """

    accepts_loss_kwargs = False

    def __init__(self, config: TissueBERTConfig):
        super().__init__(config)
        self.tissuebert = MODEL_CLASSES[config.model_kind](config)
        self.post_init()

    def forward(self, input_ids=None, methylation=None, region_means=None, region_coverage=None, region_mask=None,
                labels=None, output_hidden_states=None, return_dict=None) -> TissueBERTOutput:
        if self.config.model_kind == "region":
            if region_means is not None:
                raise ValueError("this repository holds the region-level model: give input_ids and methylation of regions "
                                 "(TissueBERTTokenizer.encode_regions), not region_means")
            return self.tissuebert(input_ids=input_ids, methylation=methylation, labels=labels, output_hidden_states=output_hidden_states)
        kwargs = {"output_hidden_states": output_hidden_states} if self.config.model_kind == "region_attention" else {}
        return self.tissuebert(methylation=methylation, region_means=region_means, region_coverage=region_coverage,
                               region_mask=region_mask, labels=labels, **kwargs)
