"""Configuration of TissueBERT, tissue of origin from DNA methylation (single source of truth for every hyper-parameter)."""

from typing import Optional

from transformers import PretrainedConfig

# The 22 tissue classes of the default (embedded) atlas, in label-id order. A real atlas brings its own
# `id2label`; these names are only the default.
TISSUES = (
    "Adipocytes", "Bladder", "Blood", "Bone", "Breast", "Colon", "Endothelium", "Epidermis", "Esophagus", "Gastric",
    "Head-Neck", "Heart", "Kidney", "Liver", "Lung", "Neuron", "Oligodendrocytes", "Pancreas", "Prostate",
    "Skeletal-Muscle", "Small-Intestine", "Thyroid",
)

MODEL_KINDS = ("sample", "region_attention", "region", "mixture")


class TissueBERTConfig(PretrainedConfig):
    r"""
    Configuration shared by the four TissueBERT models. `model_kind` says which one a repository holds:

    - `"sample"` ([`TissueBERTForSampleClassification`], the working model of the design notes): per-region mean
      methylation of a whole sample -> linear projection `num_regions -> projection_size` -> MLP
      (`mlp_hidden_sizes`, BatchNorm + ReLU + dropout) -> `num_labels` tissues.
    - `"region_attention"` ([`TissueBERTForRegionAttention`], the notes' "future work"): every region is a token
      (its mean methylation, its coverage, a learned region embedding); optional transformer layers across
      regions; attention pooling with `region_attention_heads` learned queries; missing regions are masked out.
    - `"region"` ([`TissueBERTForRegionClassification`], the original model, kept to show why it fails): DNA
      3-mer, methylation-state and position embeddings summed, a transformer over one 150-bp region, one
      prediction per region.
    - `"mixture"` ([`TissueBERTForMixtureDeconvolution`]): the proportion of every tissue in a mixed sample
      (cell-free DNA, a contaminated biopsy). It holds the reference atlas it was trained from (`reference`,
      regions x tissues, in the weights); an MLP on the region means gives a softmax prior over the tissues and
      a shrinkage strength; the proportions are the weighted least-squares fit of the sample to the atlas,
      shrunk towards that prior by the fit's own residual (an exact mixture of the atlas is recovered exactly).

    Args:
        model_kind: `"sample"`, `"region_attention"` or `"region"` (see above).
        num_regions: regions per sample (the notes' chr1 subset: 4,381; the genome: 51,089).
        region_length: bp per region = DNA tokens and methylation states per region (150).
        vocab_size / pad_token_id / cls_token_id: the 3-mer vocabulary of [`TissueBERTTokenizer`] (69 = 64 3-mers +
            5 special tokens; `[PAD]` 0, `[CLS]` 2).
        hidden_size / num_attention_heads / num_hidden_layers / intermediate_size: the region transformer.
        hidden_dropout_prob / attention_probs_dropout_prob: its dropouts.
        projection_size / mlp_hidden_sizes / mlp_dropout: the sample-level MLP (notes: 512; 512 -> 1024; dropout).
        region_embedding_size: width of a region token (region-attention model).
        region_attention_heads: learned pooling queries; each gives one attention distribution over regions.
        region_attention_layers: transformer layers across region tokens before pooling (0 = pooling only).
        region_dropout: during training, the fraction of present regions hidden at random from the sample-level
            and region-attention models (robustness to missing regions). 0 disables.
        label_smoothing: cross-entropy label smoothing (notes: 0.1).
        prior_loss_weight: mixture model: weight of the soft cross-entropy of its prior next to the L1 error of
            its proportions.
        nonnegative_iterations: mixture model: rounds of the non-negative fit (solve, fix negative tissues at 0).
        prior_log_precision: mixture model: the log precision of its prior at initialisation (6: a prior standard
            deviation of 0.05 in units of the fit's noise; the network learns it per sample and tissue).
        min_region_overlap: the smallest fraction of the model's regions a sample given by probe id (an Illumina
            beta matrix, a GEO series matrix) must have; fewer is an error saying how many it has.
        simulation: the parameters of the simulation the training samples were drawn with (`biohf train
            tissuebert --train_file ATLAS --simulate N`), or None for measured samples.
        regions: optional region names ("chr1:10468-10618"), one per region, for reports and the pipeline.
        region_cpg_ranges: optional `[startCpG, endCpG)` (0-based CpG indices, wgbstools convention) per region,
            so the pipeline can aggregate a wgbstools `.beta` file without a BED file.
    """

    model_type = "tissuebert"
    keys_to_ignore_at_inference = ["region_attention", "hidden_states"]

    def __init__(
        self,
        model_kind: str = "sample",
        num_regions: int = 4381,
        region_length: int = 150,
        vocab_size: int = 69,
        pad_token_id: int = 0,
        cls_token_id: int = 2,
        hidden_size: int = 512,
        num_attention_heads: int = 8,
        num_hidden_layers: int = 4,
        intermediate_size: int = 2048,
        hidden_dropout_prob: float = 0.1,
        attention_probs_dropout_prob: float = 0.1,
        projection_size: int = 512,
        mlp_hidden_sizes: tuple = (512, 1024),
        mlp_dropout: float = 0.1,
        region_embedding_size: int = 64,
        region_attention_heads: int = 4,
        region_attention_layers: int = 0,
        region_dropout: float = 0.0,
        label_smoothing: float = 0.1,
        prior_loss_weight: float = 1.0,
        nonnegative_iterations: int = 8,
        prior_log_precision: float = 6.0,
        min_region_overlap: float = 0.5,
        simulation: Optional[dict] = None,
        layer_norm_eps: float = 1e-5,
        initializer_range: float = 0.02,
        regions: Optional[list] = None,
        region_cpg_ranges: Optional[list] = None,
        **kwargs,
    ):
        if model_kind not in MODEL_KINDS:
            raise ValueError(f"model_kind must be one of {MODEL_KINDS}, got {model_kind!r}")
        if num_regions < 1 or region_length < 3:
            raise ValueError(f"num_regions must be >= 1 and region_length >= 3, got {num_regions}, {region_length}")
        if hidden_size % num_attention_heads:
            raise ValueError(f"hidden_size ({hidden_size}) must be divisible by num_attention_heads ({num_attention_heads})")
        if region_attention_layers and region_embedding_size % region_attention_heads:
            raise ValueError(f"region_embedding_size ({region_embedding_size}) must be divisible by region_attention_heads "
                             f"({region_attention_heads}) when region_attention_layers > 0")
        if not 0.0 < min_region_overlap <= 1.0:
            raise ValueError(f"min_region_overlap must be in (0, 1], got {min_region_overlap}")
        if not 0.0 <= region_dropout < 1.0:
            raise ValueError(f"region_dropout must be in [0, 1), got {region_dropout}")
        for name, values in (("regions", regions), ("region_cpg_ranges", region_cpg_ranges)):
            if values is not None and len(values) != num_regions:
                raise ValueError(f"{name} has {len(values)} entries but num_regions is {num_regions}")
        if "id2label" not in kwargs and "num_labels" not in kwargs:
            kwargs["id2label"] = dict(enumerate(TISSUES))
        self.model_kind = model_kind
        self.num_regions = num_regions
        self.region_length = region_length
        self.vocab_size = vocab_size
        self.cls_token_id = cls_token_id
        self.hidden_size = hidden_size
        self.num_attention_heads = num_attention_heads
        self.num_hidden_layers = num_hidden_layers
        self.intermediate_size = intermediate_size
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.projection_size = projection_size
        self.mlp_hidden_sizes = list(mlp_hidden_sizes)
        self.mlp_dropout = mlp_dropout
        self.region_embedding_size = region_embedding_size
        self.region_attention_heads = region_attention_heads
        self.region_attention_layers = region_attention_layers
        self.region_dropout = region_dropout
        self.label_smoothing = label_smoothing
        self.prior_loss_weight = prior_loss_weight
        self.nonnegative_iterations = nonnegative_iterations
        self.prior_log_precision = prior_log_precision
        self.min_region_overlap = min_region_overlap
        self.simulation = dict(simulation) if simulation is not None else None
        self.layer_norm_eps = layer_norm_eps
        self.initializer_range = initializer_range
        self.regions = list(regions) if regions is not None else None
        self.region_cpg_ranges = [list(map(int, r)) for r in region_cpg_ranges] if region_cpg_ranges is not None else None
        kwargs.setdefault("tie_word_embeddings", False)
        super().__init__(pad_token_id=pad_token_id, **kwargs)
