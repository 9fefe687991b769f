"""Configuration of mirLM, the miRNA–mRNA target model (single source of truth for every hyper-parameter)."""

from transformers import PretrainedConfig


class MirLMConfig(PretrainedConfig):
    r"""
    Configuration for [`MirLMModel`] and [`MirLMForTargetPrediction`]. Defaults are the seed design:
    embed 1024, 8 heads, 4 layers, feed-forward 4096, sliding window 2w = 40, MIL temperature 0.1.

    Args:
        vocab_size: size of the character vocabulary of [`MirLMTokenizer`] (13).
        pad_token_id / bos_token_id: ids of `[PAD]` (4) and `[BOS]` (2), as in the tokenizer.
        mrna_cls_token_id: id of the global token `[MRNA_CLS]` (7). The seed gives it both 7 and 12; the
            tokenizer puts it at 7, right after the seven generic special tokens, and that is what we use.
        mrna_max_len: mRNA window in tokens, *including* `[MRNA_CLS]` (520, i.e. at most 519 nt).
        mirna_max_len: longest miRNA in tokens (30: miRNAs and isomiRs are 15-30 nt; miRBench's CLASH files hold
            17-26 nt). It sizes the miRNA position embeddings, so a saved model keeps the value it was trained with
            (repositories saved with 24 load as 24).
        hidden_size / num_attention_heads / num_hidden_layers / intermediate_size: transformer size.
        mirna_num_layers: self-attention layers of the miRNA encoder.
        attention_window: full sliding window 2w of the mRNA self-attention (each token sees w = 20 on each
            side), as `LongformerConfig.attention_window`. Must be even.
        kmer_conv_size: width of a convolution over the embeddings (residual, GELU) that gives every position its
            k-mer context before attention (0 disables it). Not in the seed; it makes seed matching
            learnable in minutes on a CPU. Odd.
        pairing_window: length k of the antiparallel duplex scored by the pairing bias of the cross-attention
            (0 disables it). Each head learns a score for every (mRNA base, miRNA base) pair; the bias of mRNA
            position i attending to miRNA position j is the summed score of mRNA i..i+k-1 against miRNA
            j..j-k+1, i.e. of the duplex a seed site forms. Not in the seed; it makes complementarity, not
            sequence identity, the easy thing to learn. 7 covers a 7mer seed match.
        hidden_dropout_prob / attention_probs_dropout_prob / layer_norm_eps / initializer_range: usual.
        mil_temperature: temperature tau of the log-sum-exp pooling; `TemperatureAnnealingCallback` anneals
            it 0.2 -> 0.05 during training (seed) and leaves the final value here for inference.
        bag_loss_weight: weight of the bag (binding) BCE loss (the seed's alpha1).
        span_loss_weight: weight of the seed-site span loss on positives (the seed's alpha2).
        predict_span: whether the span head is trained and returned.
        decision_threshold: probability threshold for "binds", chosen on the validation split by training.
    """

    model_type = "mirlm"
    keys_to_ignore_at_inference = ["pos_logits", "hidden_states"]  # Trainer's evaluation keeps the rest

    def __init__(
        self,
        vocab_size: int = 13,
        pad_token_id: int = 4,
        bos_token_id: int = 2,
        mrna_cls_token_id: int = 7,
        mrna_max_len: int = 520,
        mirna_max_len: int = 30,
        hidden_size: int = 1024,
        num_attention_heads: int = 8,
        num_hidden_layers: int = 4,
        intermediate_size: int = 4096,
        mirna_num_layers: int = 1,
        attention_window: int = 40,
        kmer_conv_size: int = 0,
        pairing_window: int = 0,
        hidden_dropout_prob: float = 0.1,
        attention_probs_dropout_prob: float = 0.1,
        layer_norm_eps: float = 1e-5,
        initializer_range: float = 0.02,
        mil_temperature: float = 0.1,
        bag_loss_weight: float = 1.0,
        span_loss_weight: float = 1.0,
        predict_span: bool = True,
        decision_threshold: float = 0.5,
        **kwargs,
    ):
        if hidden_size % num_attention_heads:
            raise ValueError(f"hidden_size ({hidden_size}) must be divisible by num_attention_heads ({num_attention_heads})")
        if attention_window < 2 or attention_window % 2:
            raise ValueError(f"attention_window must be a positive even number (the full window 2w), got {attention_window}")
        if kmer_conv_size < 0 or (kmer_conv_size and kmer_conv_size % 2 == 0):
            raise ValueError(f"kmer_conv_size must be 0 (off) or odd, got {kmer_conv_size}")
        if pairing_window < 0:
            raise ValueError(f"pairing_window must be >= 0, got {pairing_window}")
        if not 0.0 < mil_temperature:
            raise ValueError(f"mil_temperature must be positive, got {mil_temperature}")
        self.vocab_size = vocab_size
        self.mrna_cls_token_id = mrna_cls_token_id
        self.mrna_max_len = mrna_max_len
        self.mirna_max_len = mirna_max_len
        self.hidden_size = hidden_size
        self.num_attention_heads = num_attention_heads
        self.num_hidden_layers = num_hidden_layers
        self.intermediate_size = intermediate_size
        self.mirna_num_layers = mirna_num_layers
        self.attention_window = attention_window
        self.kmer_conv_size = kmer_conv_size
        self.pairing_window = pairing_window
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.layer_norm_eps = layer_norm_eps
        self.initializer_range = initializer_range
        self.mil_temperature = mil_temperature
        self.bag_loss_weight = bag_loss_weight
        self.span_loss_weight = span_loss_weight
        self.predict_span = predict_span
        self.decision_threshold = decision_threshold
        kwargs.setdefault("tie_word_embeddings", False)
        super().__init__(pad_token_id=pad_token_id, bos_token_id=bos_token_id, **kwargs)
