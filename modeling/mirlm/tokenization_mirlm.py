"""Character tokenizer for mirLM: nucleotides of an (mRNA, miRNA) pair, with the `[MRNA_CLS]` global token."""

import json
import os
from typing import Optional, Sequence, Union

import numpy as np
import torch
from transformers import BatchEncoding, PreTrainedTokenizer

# The vocabulary, in id order. `[MRNA_CLS]` sits at 7, right after the seven generic special tokens (the
# seed's tokenizer says 7, its data pipeline says 12: 7 is the one source of truth here and in the config).
SPECIAL_TOKENS = ("[CLS]", "[SEP]", "[BOS]", "[MASK]", "[PAD]", "[RESERVED]", "[UNK]", "[MRNA_CLS]")
NUCLEOTIDES = ("A", "T", "C", "G", "N")
VOCAB = {token: i for i, token in enumerate(SPECIAL_TOKENS + NUCLEOTIDES)}

# IUPAC ambiguity codes become N; RNA U becomes T; case is folded.
AMBIGUITY_CODES = "RYSWKMBDHV"
_CANONICAL = {c: c for c in "ACGTN"} | {"U": "T"} | {c: "N" for c in AMBIGUITY_CODES}
CHAR_TO_BASE = _CANONICAL | {c.lower(): b for c, b in _CANONICAL.items()}

# Byte -> token id lookup table for the vectorised path (-1 marks an invalid byte).
_BYTE_TO_ID = np.full(256, -1, dtype=np.int64)
for _char, _base in CHAR_TO_BASE.items():
    _BYTE_TO_ID[ord(_char)] = VOCAB[_base]

Sequences = Union[str, Sequence[str]]


class MirLMTokenizer(PreTrainedTokenizer):
    """
    One token per nucleotide over `A T C G N` plus the special tokens
    `[CLS] [SEP] [BOS] [MASK] [PAD] [RESERVED] [UNK] [MRNA_CLS]` (ids 0-7).

    `encode_pairs(mrna, mirna)` builds the model inputs of a batch: `[MRNA_CLS]` is prepended to every mRNA
    (position 0, global attention), seed-site spans are shifted by +1 accordingly, the mRNA is padded to
    `mrna_max_len` tokens (counting `[MRNA_CLS]`) and the miRNA to `mirna_max_len`. Sequences that do not
    fit raise `ValueError`; nothing is cut silently. The batch path is a byte lookup table and gives the
    same ids as the per-character `tokenize` path.
    """

    vocab_files_names = {"vocab_file": "vocab.json"}
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(self, vocab_file: Optional[str] = None, mrna_max_len: int = 520, mirna_max_len: int = 30, **kwargs):
        if vocab_file is not None:
            with open(vocab_file, encoding="utf-8") as handle:
                saved = json.load(handle)
            if saved != VOCAB:
                raise ValueError(f"{vocab_file} does not hold the mirLM vocabulary {VOCAB}; got {saved}")
        self.vocab = dict(VOCAB)
        self.ids_to_tokens = {i: t for t, i in self.vocab.items()}
        self.mrna_max_len = mrna_max_len
        self.mirna_max_len = mirna_max_len
        for name, token in (("cls_token", "[CLS]"), ("sep_token", "[SEP]"), ("bos_token", "[BOS]"),
                            ("mask_token", "[MASK]"), ("pad_token", "[PAD]"), ("unk_token", "[UNK]")):
            kwargs.setdefault(name, token)
        kwargs.setdefault("extra_special_tokens", ["[RESERVED]", "[MRNA_CLS]"])
        kwargs.setdefault("model_max_length", mrna_max_len)
        kwargs.setdefault("padding_side", "right")
        super().__init__(mrna_max_len=mrna_max_len, mirna_max_len=mirna_max_len, **kwargs)

    # -- vocabulary -------------------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @property
    def mrna_cls_token_id(self) -> int:
        return self.vocab["[MRNA_CLS]"]

    def get_vocab(self) -> dict:
        return dict(self.vocab)

    def _convert_token_to_id(self, token: str) -> int:
        return self.vocab.get(token, self.vocab["[UNK]"])

    def _convert_id_to_token(self, index: int) -> str:
        return self.ids_to_tokens.get(index, "[UNK]")

    def convert_tokens_to_string(self, tokens) -> str:
        return "".join(tokens)

    def save_vocabulary(self, save_directory: str, filename_prefix: Optional[str] = None):
        path = os.path.join(save_directory, (filename_prefix + "-" if filename_prefix else "") + "vocab.json")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(self.vocab, handle, indent=1)
        return (path,)

    # -- per-character path -----------------------------------------------------------------------------
    @staticmethod
    def normalize(seq: str, what: str = "sequence") -> str:
        """Return `seq` over `ACGTN` (U->T, case folded, IUPAC codes -> N); `ValueError` names a bad character."""
        if not isinstance(seq, str):
            raise ValueError(f"{what} must be a string, got {type(seq).__name__}")
        out = []
        for position, char in enumerate(seq):
            base = CHAR_TO_BASE.get(char)
            if base is None:
                raise ValueError(f"{what}: invalid character {char!r} at position {position} (allowed: A C G T/U N, IUPAC codes)")
            out.append(base)
        return "".join(out)

    def _tokenize(self, text: str, **kwargs) -> list:
        return list(self.normalize(text))

    def build_inputs_with_special_tokens(self, token_ids_0, token_ids_1=None):
        """An mRNA gets `[MRNA_CLS]` in front; pairs are not concatenated (the miRNA is a second stream)."""
        if token_ids_1 is not None:
            raise ValueError("mirLM encodes mRNA and miRNA as two streams: use encode_pairs(mrna, mirna)")
        return [self.mrna_cls_token_id] + list(token_ids_0)

    # -- vectorised batch path --------------------------------------------------------------------------
    def _ids_matrix(self, seqs: list, width: int, what: str) -> tuple:
        """Encode `seqs` into a (B, width) id matrix padded with [PAD] and the (B,) lengths."""
        try:
            flat = np.frombuffer("".join(seqs).encode("ascii"), dtype=np.uint8)
        except UnicodeEncodeError:
            for i, seq in enumerate(seqs):  # find and report the offending sequence
                self.normalize(seq, f"{what} #{i}")
            raise
        ids = _BYTE_TO_ID[flat]
        lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
        if (ids < 0).any():
            bad = int(np.argmax(ids < 0))
            i = int(np.searchsorted(np.cumsum(lengths), bad, side="right"))
            self.normalize(seqs[i], f"{what} #{i}")  # raises with the position
        matrix = np.full((len(seqs), width), self.pad_token_id, dtype=np.int64)
        matrix[np.arange(width)[None, :] < lengths[:, None]] = ids
        return matrix, lengths

    def encode_pairs(
        self,
        mrna: Sequences,
        mirna: Sequences,
        site_start=None,
        site_end=None,
        padding: str = "max_length",
        pad_to_multiple_of: Optional[int] = None,
        return_tensors: Optional[str] = "pt",
    ) -> BatchEncoding:
        """
        Encode (mRNA, miRNA) pairs for `MirLMForTargetPrediction`.

        `mirna` may be one string for every mRNA. `site_start`/`site_end` are 0-based inclusive nucleotide
        coordinates of the seed site on the mRNA (negative = no site); they come back as token positions
        `start_positions`/`end_positions` (+1 for `[MRNA_CLS]`, -100 where there is no site).
        `padding="max_length"` pads to `mrna_max_len`/`mirna_max_len`, `"longest"` to the batch's longest.
        """
        mrnas = [mrna] if isinstance(mrna, str) else list(mrna)
        mirnas = [mirna] * len(mrnas) if isinstance(mirna, str) else list(mirna)
        if len(mrnas) != len(mirnas):
            raise ValueError(f"got {len(mrnas)} mRNAs but {len(mirnas)} miRNAs")
        if not mrnas:
            raise ValueError("encode_pairs needs at least one (mRNA, miRNA) pair")
        if padding not in ("max_length", "longest"):
            raise ValueError(f"padding must be 'max_length' or 'longest', got {padding!r}")
        for what, seqs, limit in (("mRNA", mrnas, self.mrna_max_len - 1), ("miRNA", mirnas, self.mirna_max_len)):
            for i, seq in enumerate(seqs):
                if not isinstance(seq, str) or not seq:
                    raise ValueError(f"{what} #{i} is empty or not a string")
                if len(seq) > limit:
                    hint = " (scan long transcripts in windows with the mirLM pipeline)" if what == "mRNA" else ""
                    raise ValueError(f"{what} #{i} has {len(seq)} nt, more than the {limit} this model takes{hint}")

        def width(longest: int, limit: int) -> int:
            if padding == "max_length":
                return limit
            if pad_to_multiple_of:
                longest = -(-longest // pad_to_multiple_of) * pad_to_multiple_of
            return min(longest, limit)

        mrna_width = width(max(map(len, mrnas)) + 1, self.mrna_max_len)
        mirna_width = width(max(map(len, mirnas)), self.mirna_max_len)
        body, mrna_lengths = self._ids_matrix(mrnas, mrna_width - 1, "mRNA")
        input_ids = np.concatenate([np.full((len(mrnas), 1), self.mrna_cls_token_id, dtype=np.int64), body], axis=1)
        attention_mask = (np.arange(mrna_width)[None, :] <= mrna_lengths[:, None]).astype(np.int64)
        global_attention_mask = np.zeros_like(attention_mask)
        global_attention_mask[:, 0] = 1
        mirna_ids, mirna_lengths = self._ids_matrix(mirnas, mirna_width, "miRNA")
        data = {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "global_attention_mask": global_attention_mask,
            "mirna_input_ids": mirna_ids,
            "mirna_attention_mask": (np.arange(mirna_width)[None, :] < mirna_lengths[:, None]).astype(np.int64),
        }
        if (site_start is None) != (site_end is None):
            raise ValueError("give both site_start and site_end, or neither")
        if site_start is not None:
            starts = np.atleast_1d(np.asarray(site_start, dtype=np.int64))
            ends = np.atleast_1d(np.asarray(site_end, dtype=np.int64))
            if starts.shape != (len(mrnas),) or ends.shape != (len(mrnas),):
                raise ValueError(f"site_start/site_end must have one entry per pair ({len(mrnas)})")
            has_site = starts >= 0
            bad = has_site & ((ends < starts) | (ends >= mrna_lengths))
            if bad.any():
                i = int(np.argmax(bad))
                raise ValueError(f"site of pair #{i} [{starts[i]}, {ends[i]}] is not inside its {mrna_lengths[i]}-nt mRNA")
            data["start_positions"] = np.where(has_site, starts + 1, -100)
            data["end_positions"] = np.where(has_site, ends + 1, -100)
        if return_tensors == "pt":  # zero-copy; BatchEncoding's own conversion copies row by row
            return BatchEncoding({key: torch.from_numpy(value) for key, value in data.items()})
        return BatchEncoding(data, tensor_type=return_tensors)
