"""
Tokenizer for TissueBERT: 150-bp region DNA as overlapping 3-mers, per-CpG methylation states, and whole samples
as per-region mean methylation.
"""

import itertools
import json
import os
from typing import Optional

import numpy as np
import torch
from transformers import BatchEncoding, PreTrainedTokenizer

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
KMER_SIZE = 3
KMERS = tuple("".join(letters) for letters in itertools.product("ACGT", repeat=KMER_SIZE))
VOCAB = {token: i for i, token in enumerate(SPECIAL_TOKENS + KMERS)}  # 5 + 64 = 69, the design notes' vocabulary

# Methylation state of a position: 0 unmethylated CpG call, 1 methylated CpG call, 2 no call (not a CpG, or missing).
UNMETHYLATED, METHYLATED, MISSING = 0, 1, 2

# Byte -> base code (0-3 for A C G T, 4 for N and IUPAC ambiguity codes, -1 invalid); U reads as T.
_BASE_CODE = np.full(256, -1, dtype=np.int64)
for _code, _bases in enumerate(("Aa", "Cc", "Gg", "TtUu", "NnRrYySsWwKkMmBbDdHhVv")):
    for _char in _bases:
        _BASE_CODE[ord(_char)] = _code


def region_means(methylation: np.ndarray) -> tuple:
    """
    Mean methylation and number of valid calls per region from states `(..., regions, positions)` in {0, 1, 2}.
    Returns `(means, counts)`; `means` is NaN where a region has no valid call (missing, never 0).
    """
    methylation = np.asarray(methylation)
    counts = (methylation != MISSING).sum(axis=-1)
    methylated = (methylation == METHYLATED).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, methylated / np.maximum(counts, 1), np.nan)
    return means.astype(np.float32), counts.astype(np.float32)


def _describe(value) -> str:
    """A short description of a wrong input for an error message: its type and the start of its repr."""
    text = repr(value)
    return f"{type(value).__name__} {text[:60] + '...' if len(text) > 60 else text}"


def _numeric(value, what: str, allowed: str) -> np.ndarray:
    """`value` as an array of real numbers; text, None, dicts, bools, ragged nesting or complex numbers are an error."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if value is None or isinstance(value, (str, bytes, dict, set, bool, np.bool_)):
        raise TypeError(f"{what}: expected {allowed}, got {_describe(value)}")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:  # ragged nesting, or objects numpy cannot hold
        raise ValueError(f"{what}: expected {allowed} as a rectangular array of numbers ({error})") from None
    if array.dtype.kind == "c":
        raise ValueError(f"{what}: complex numbers are not methylation values; expected {allowed}")
    if array.dtype.kind not in "iuf" or (isinstance(value, (list, tuple)) and any(isinstance(v, (bool, np.bool_)) for v in _flat(value))):
        raise TypeError(f"{what}: expected {allowed}, got an array of {'bool' if array.dtype.kind in 'iuf' else array.dtype} "
                        f"({_describe(value)})")
    return array


def _flat(values):
    """The scalars of nested lists / tuples (to find a bool that numpy would have read as 0 or 1)."""
    for value in values:
        if isinstance(value, (list, tuple)):
            yield from _flat(value)
        else:
            yield value


class TissueBERTTokenizer(PreTrainedTokenizer):
    """
    Vocabulary: `[PAD] [UNK] [CLS] [SEP] [MASK]` (ids 0-4) and the 64 DNA 3-mers `AAA ... TTT` (ids 5-68).

    - `encode_regions(sequences, methylation)`: regions of exactly `region_length` bp. Position *i* gets the
      3-mer starting at *i* (so a CpG's C and its 3-mer `CGx` share a position); the last two positions, which
      start no full 3-mer, are `[PAD]`; a 3-mer with N (or an IUPAC code) is `[UNK]`. `methylation` gives the
      state of every position (0 unmethylated, 1 methylated, 2 no call). Returns `input_ids`, `methylation`.
    - `encode_samples(samples)`: whole samples for the sample-level and region-attention models. A sample is
      an array of `num_regions` mean methylation values (NaN / None = missing region), an array
      `(num_regions, region_length)` of states, or a dict with `region_means` (and `region_coverage`).
      Returns `region_means`, `region_coverage` (valid calls or reads per region) and `region_mask` (1 = data).
    Nothing is cut or padded silently: a wrong length or a bad value is an error naming the sample and position.
    """

    vocab_files_names = {"vocab_file": "vocab.json"}
    model_input_names = ["input_ids", "methylation"]

    def __init__(self, vocab_file: Optional[str] = None, region_length: int = 150, num_regions: int = 4381, **kwargs):
        if vocab_file is not None:
            with open(vocab_file, encoding="utf-8") as handle:
                saved = json.load(handle)
            if saved != VOCAB:
                raise ValueError(f"{vocab_file} does not hold the TissueBERT 3-mer vocabulary")
        self.vocab = dict(VOCAB)
        self.ids_to_tokens = {i: t for t, i in self.vocab.items()}
        self.region_length = region_length
        self.num_regions = num_regions
        for name, token in (("pad_token", "[PAD]"), ("unk_token", "[UNK]"), ("cls_token", "[CLS]"),
                            ("sep_token", "[SEP]"), ("mask_token", "[MASK]")):
            kwargs.setdefault(name, token)
        kwargs.setdefault("model_max_length", region_length)
        super().__init__(region_length=region_length, num_regions=num_regions, **kwargs)

    # -- vocabulary -------------------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def get_vocab(self) -> dict:
        return dict(self.vocab)

    def _convert_token_to_id(self, token: str) -> int:
        return self.vocab.get(token, self.vocab["[UNK]"])

    def _convert_id_to_token(self, index: int) -> str:
        return self.ids_to_tokens.get(index, "[UNK]")

    def convert_tokens_to_string(self, tokens) -> str:
        return " ".join(tokens)

    def save_vocabulary(self, save_directory: str, filename_prefix: Optional[str] = None):
        path = os.path.join(save_directory, (filename_prefix + "-" if filename_prefix else "") + "vocab.json")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(self.vocab, handle, indent=1)
        return (path,)

    def __call__(self, text=None, text_pair=None, *args, **kwargs):
        """Plain `tok(dna)`: a DNA string or a non-empty list of them (anything else is a TypeError saying so)."""
        for name, value in (("text", text), ("text_pair", text_pair)):
            if value is None and name == "text_pair":
                continue
            batch = list(value) if isinstance(value, (list, tuple)) else [value]
            if not batch or not all(isinstance(v, str) for v in batch):
                raise TypeError(f"TissueBERT tokenizer {name}: expected a DNA string or a non-empty list of DNA strings, "
                                f"got {_describe(value)}")
        return super().__call__(text, text_pair, *args, **kwargs)

    def tokenize(self, text, **kwargs) -> list:
        """Overlapping 3-mers of `text`; special-token text such as `[MASK]` is not DNA and is an error, never a token."""
        return self._tokenize(text)

    def _tokenize(self, text: str, **kwargs) -> list:
        """Overlapping 3-mers of `text` (one per start position with a full 3-mer)."""
        if isinstance(text, str) and len(text) < KMER_SIZE:
            raise ValueError(f"sequence {text!r}: {len(text)} bp holds no {KMER_SIZE}-mer (at least {KMER_SIZE} bases needed)")
        ids = self.kmer_ids(text)
        return [self.ids_to_tokens[int(i)] for i in ids[: len(text) - KMER_SIZE + 1]]

    # -- DNA ----------------------------------------------------------------------------------------------
    def kmer_ids(self, sequence: str, what: str = "sequence") -> np.ndarray:
        """Token ids of `sequence`, one per position: the 3-mer starting there, `[PAD]` for the last two."""
        if not isinstance(sequence, str):
            raise TypeError(f"{what} must be a DNA string, got {_describe(sequence)}")
        try:
            codes = _BASE_CODE[np.frombuffer(sequence.encode("ascii"), dtype=np.uint8)]
        except UnicodeEncodeError:
            codes = np.array([_BASE_CODE[ord(c)] if ord(c) < 256 else -1 for c in sequence], dtype=np.int64)
        if (codes < 0).any():
            position = int(np.argmax(codes < 0))
            raise ValueError(f"{what}: invalid character {sequence[position]!r} at position {position} (allowed: A C G T/U N, IUPAC codes)")
        ids = np.full(len(sequence), self.vocab["[PAD]"], dtype=np.int64)
        n = len(sequence) - KMER_SIZE + 1
        if n > 0:
            windows = np.stack([codes[k : k + n] for k in range(KMER_SIZE)], axis=1)
            index = windows[:, 0] * 16 + windows[:, 1] * 4 + windows[:, 2]
            ids[:n] = np.where((windows == 4).any(axis=1), self.vocab["[UNK]"], index + len(SPECIAL_TOKENS))
        return ids

    def check_states(self, states: np.ndarray, what: str) -> np.ndarray:
        states = _numeric(states, what, "methylation states (0, 1, 2)")
        bad = ~np.isin(states, (UNMETHYLATED, METHYLATED, MISSING))
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"{what}: methylation state {states[where].item()!r} at {where}; states are 0, 1 or 2 (no call)")
        return states.astype(np.int64)

    def encode_regions(self, sequences, methylation, return_tensors: Optional[str] = "pt") -> BatchEncoding:
        """Regions for `TissueBERTForRegionClassification`: `input_ids` and `methylation`, both (R, region_length)."""
        if not isinstance(sequences, (str, list, tuple)):
            raise TypeError(f"encode_regions: sequences must be a DNA string or a list of them, got {_describe(sequences)}")
        sequences = [sequences] if isinstance(sequences, str) else list(sequences)
        if not sequences:
            raise ValueError("encode_regions needs at least one region")
        for i, seq in enumerate(sequences):
            if not isinstance(seq, str):
                raise TypeError(f"region #{i} must be a {self.region_length}-bp DNA string, got {_describe(seq)}")
            if len(seq) != self.region_length:
                raise ValueError(f"region #{i} must be a {self.region_length}-bp string, got {len(seq)} bp")
        input_ids = np.stack([self.kmer_ids(seq, f"region #{i}") for i, seq in enumerate(sequences)])
        states = _numeric(methylation, "methylation", "methylation states (0, 1, 2)")
        if states.ndim == 1:
            states = states[None]
        if states.shape != input_ids.shape:
            raise ValueError(f"methylation has shape {states.shape}, expected {input_ids.shape} (one state per position)")
        data = {"input_ids": input_ids, "methylation": self.check_states(states, "methylation")}
        return BatchEncoding(data, tensor_type=return_tensors)

    # -- samples -------------------------------------------------------------------------------------------
    def sample_features(self, sample, what: str = "sample") -> tuple:
        """`(means, coverage)` float32 arrays of length `num_regions` for one sample (see the class docstring)."""
        coverage = None
        if isinstance(sample, dict):
            if "region_means" not in sample or set(sample) - {"region_means", "region_coverage"}:
                raise ValueError(f"{what}: a dict sample has the keys 'region_means' and optionally 'region_coverage', "
                                 f"got {sorted(map(str, sample))}")
            coverage = sample.get("region_coverage")
            sample = sample["region_means"]
        if isinstance(sample, (list, tuple)) and not any(isinstance(v, (list, tuple, np.ndarray, torch.Tensor)) for v in sample):
            sample = [np.nan if v is None else v for v in sample]  # None = a missing region
        allowed = (f"{self.num_regions} region means in [0, 1] (NaN = missing) or ({self.num_regions}, "
                   f"{self.region_length}) methylation states 0/1/2")
        array = _numeric(sample, what, allowed)
        if array.ndim == 2:
            if array.shape != (self.num_regions, self.region_length):
                raise ValueError(f"{what}: methylation states of shape {array.shape}, expected "
                                 f"({self.num_regions}, {self.region_length})")
            means, counts = region_means(self.check_states(array, what))
            present = ~np.isnan(means)
        else:
            if array.ndim != 1 or array.shape[0] != self.num_regions:
                hint = " (a plain list of numbers is several samples: give one sample as an np.ndarray)" if array.ndim == 0 else ""
                raise ValueError(f"{what}: expected {allowed}, got shape {array.shape}{hint}")
            present = ~np.isnan(array)
            outside = present & ~((array >= 0) & (array <= 1))  # also +-inf; checked before float32 rounds 1 + 1e-16 to 1
            if outside.any():
                position = int(np.argmax(outside))
                raise ValueError(f"{what}: mean methylation {array[position]} of region {position} is outside [0, 1] "
                                 "(NaN = missing)")
            means = array.astype(np.float32)
            counts = present.astype(np.float32)
        if coverage is not None:
            counts = _numeric(coverage, f"{what}: region_coverage", f"{self.num_regions} finite non-negative numbers")
            with np.errstate(over="ignore"):
                counts = counts.astype(np.float32)
            if counts.shape != means.shape or not np.isfinite(counts).all() or (counts < 0).any():
                raise ValueError(f"{what}: region_coverage must be {self.num_regions} finite non-negative numbers, got "
                                 f"shape {counts.shape}" + ("" if counts.shape != means.shape else
                                                            f" with {int((~np.isfinite(counts) | (counts < 0)).sum())} bad value(s)"))
        return means, np.where(present, counts, 0).astype(np.float32)

    def encode_samples(self, samples, return_tensors: Optional[str] = "pt", names=None) -> BatchEncoding:
        """
        Samples for the sample-level and region-attention models: `region_means` (B, N) (0 where missing),
        `region_coverage` (B, N) and `region_mask` (B, N) (1 = the region has data, 0 = missing). `names` (one per
        sample, e.g. the file it came from) name the samples in errors; default "sample #i".
        """
        if isinstance(samples, (np.ndarray, torch.Tensor, dict)):
            samples = [samples]
        if not isinstance(samples, (list, tuple)):
            raise TypeError(f"encode_samples: expected a list of samples (arrays or dicts), or one array / dict, got "
                            f"{_describe(samples)}")
        if not len(samples):
            raise ValueError("encode_samples needs at least one sample, got an empty list")
        names = names or [f"sample #{i}" for i in range(len(samples))]
        features = [self.sample_features(sample, name) for sample, name in zip(samples, names)]
        means = np.stack([m for m, _ in features])
        present = ~np.isnan(means)
        data = {"region_means": np.where(present, means, 0.0).astype(np.float32),
                "region_coverage": np.stack([c for _, c in features]), "region_mask": present.astype(np.int64)}
        return BatchEncoding(data, tensor_type=return_tensors)
