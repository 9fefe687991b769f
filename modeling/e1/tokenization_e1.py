"""
E1 tokenizer: one token per amino acid over the public 34-token vocabulary, with homolog context.

A protein is encoded as `<bos> 1 SEQUENCE 2 <eos>`. With homolog context the homologs come first and the query
last, each encoded the same way, all in one row. Per token the model gets `input_ids`, `sequence_ids` (0, 1, ...
per sequence of the row), `within_seq_position_ids`, `global_position_ids` and `attention_mask`.
"""

import json
import os
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import torch
from transformers import BatchEncoding, PreTrainedTokenizer

SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>", "<bos_glm>", "<eos_span>", "?", "1", "2")
LETTERS = tuple(chr(c) for c in range(ord("A"), ord("Z") + 1))
VOCAB = {token: i for i, token in enumerate(SPECIAL_TOKENS + LETTERS)}  # 34 tokens, ids as the public E1
MAX_SEQUENCES = 512  # rows of the sequence-id embedding
PREFIX = 2  # `<bos> 1` before the first residue: residue r of a sequence sits at within-sequence position r + 2

# Byte -> token id: A-Z and a-z (case folded) to their letter, every other byte to X.
_BYTE_TO_ID = np.full(256, VOCAB["X"], dtype=np.int64)
for _letter in LETTERS:
    _BYTE_TO_ID[ord(_letter)] = _BYTE_TO_ID[ord(_letter.lower())] = VOCAB[_letter]
_BYTE_TO_ID[ord("?")] = VOCAB["?"]  # the mask token, written in the sequence as in the public E1 API

Context = Union[None, str, os.PathLike, Sequence[str]]


def read_a3m(path, query: Optional[str] = None) -> list:
    """
    Homologs of an `.a3m` (or aligned FASTA) file as unaligned sequences: gaps (`-`, `.`) removed, insertion
    states (lower case) kept and upper-cased. The first record is dropped when it is the query itself.
    """
    sequences, current = [], None
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith(">"):
                current = []
                sequences.append(current)
            elif current is None:
                raise ValueError(f"{path}: sequence data before the first '>' header")
            else:
                current.append(line)
    homologs = ["".join(parts).replace("-", "").replace(".", "").upper() for parts in sequences]
    if query is not None and homologs and homologs[0] == query.upper():
        homologs = homologs[1:]
    return [h for h in homologs if h]


def parse_context(context: Context, query: Optional[str] = None) -> list:
    """A list of homologs from a list, a comma-separated string, or a path to an `.a3m` / FASTA file."""
    if context is None:
        return []
    if isinstance(context, os.PathLike) or (isinstance(context, str) and context.endswith((".a3m", ".fasta", ".fa"))):
        if not Path(context).is_file():
            raise ValueError(f"context file not found: {context}")
        return read_a3m(context, query)
    if isinstance(context, str):
        return [part.strip() for part in context.split(",") if part.strip()]
    if isinstance(context, (list, tuple)):
        for i, item in enumerate(context):
            if not isinstance(item, str):
                raise ValueError(f"context sequence #{i} must be a string, got {type(item).__name__}")
        return list(context)
    raise ValueError(f"context must be a list of sequences, a comma-separated string or an .a3m path, got {type(context).__name__}")


class E1Tokenizer(PreTrainedTokenizer):
    """
    Character tokenizer of E1: `<pad>`0 `<bos>`1 `<eos>`2 `<bos_glm>`3 `<eos_span>`4 `?`5 (mask) `1`6 `2`7, then
    `A`..`Z` as 8..33. Lower case is folded to upper case; any other character outside A-Z becomes `X`.

    `encode_proteins(queries, context=...)` builds the model inputs of a batch (query last, homologs before it);
    nothing is cut: an empty sequence or more than 512 sequences in a row is an error naming the row.
    """

    vocab_files_names = {"vocab_file": "vocab.json"}
    model_input_names = ["input_ids", "sequence_ids", "within_seq_position_ids", "global_position_ids", "attention_mask"]

    def __init__(self, vocab_file: Optional[str] = None, **kwargs):
        if vocab_file is not None:
            with open(vocab_file, encoding="utf-8") as handle:
                saved = json.load(handle)
            if saved != VOCAB:
                raise ValueError(f"{vocab_file} does not hold the E1 vocabulary {VOCAB}; got {saved}")
        self.vocab = dict(VOCAB)
        self.ids_to_tokens = {i: t for t, i in self.vocab.items()}
        for name, token in (("pad_token", "<pad>"), ("bos_token", "<bos>"), ("eos_token", "<eos>"), ("mask_token", "?")):
            kwargs.setdefault(name, token)
        kwargs.setdefault("extra_special_tokens", ["<bos_glm>", "<eos_span>", "1", "2"])
        kwargs.setdefault("padding_side", "right")
        super().__init__(**kwargs)

    # -- vocabulary -------------------------------------------------------------------------------------
    # The dict-vocabulary methods of a PreTrainedTokenizer, repeated per family because each modeling folder ships alone as remote code.
    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def get_vocab(self) -> dict:
        return dict(self.vocab)

    def _convert_token_to_id(self, token: str) -> int:
        return self.vocab.get(token, self.vocab["X"])

    def _convert_id_to_token(self, index: int) -> str:
        return self.ids_to_tokens.get(index, "X")

    def convert_tokens_to_string(self, tokens) -> str:
        return "".join(tokens)

    def save_vocabulary(self, save_directory: str, filename_prefix: Optional[str] = None):
        path = os.path.join(save_directory, (filename_prefix + "-" if filename_prefix else "") + "vocab.json")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(self.vocab, handle, indent=1)
        return (path,)

    def _tokenize(self, text: str, **kwargs) -> list:
        return [self.ids_to_tokens[i] for i in self.residue_ids(text)]

    def build_inputs_with_special_tokens(self, token_ids_0, token_ids_1=None):
        if token_ids_1 is not None:
            raise ValueError("E1 encodes homologs and query in one row: use encode_proteins(query, context=...)")
        return [self.bos_token_id, self.vocab["1"], *token_ids_0, self.vocab["2"], self.eos_token_id]

    # -- encoding ---------------------------------------------------------------------------------------
    @staticmethod
    def residue_ids(sequence: str, what: str = "sequence") -> np.ndarray:
        """Token ids of the residues of `sequence` (case folded, `?` the mask, other non-letters -> X); `ValueError` if empty."""
        if not isinstance(sequence, str):
            raise ValueError(f"{what} must be a string, got {type(sequence).__name__}")
        sequence = "".join(sequence.split())
        if not sequence:
            raise ValueError(f"{what} is empty")
        return _BYTE_TO_ID[np.frombuffer(sequence.encode("utf-8"), dtype=np.uint8)] if sequence.isascii() else \
            np.array([_BYTE_TO_ID[ord(c)] if ord(c) < 128 else VOCAB["X"] for c in sequence], dtype=np.int64)

    def encode_row(self, query: str, context: Context = None, what: str = "query") -> dict:
        """numpy arrays of one row: the homologs of `context` (in order) then `query`."""
        homologs = parse_context(context, query if isinstance(query, str) else None)
        if len(homologs) + 1 > MAX_SEQUENCES:
            raise ValueError(f"{what}: {len(homologs)} homologs + the query is more than the {MAX_SEQUENCES} sequences E1 takes; "
                             "pass fewer homologs")
        parts = [self.residue_ids(h, f"{what}: context sequence #{i}") for i, h in enumerate(homologs)]
        parts.append(self.residue_ids(query, what))
        ids, seq_ids, within = [], [], []
        for index, residues in enumerate(parts):
            tokens = np.concatenate([[self.bos_token_id, 6], residues, [7, self.eos_token_id]])
            ids.append(tokens)
            seq_ids.append(np.full(len(tokens), index, dtype=np.int64))
            within.append(np.arange(len(tokens), dtype=np.int64))
        ids = np.concatenate(ids).astype(np.int64)
        return {"input_ids": ids, "sequence_ids": np.concatenate(seq_ids), "within_seq_position_ids": np.concatenate(within),
                "global_position_ids": np.arange(len(ids), dtype=np.int64), "query_length": len(parts[-1])}

    def pad_rows(self, rows: list, pad_to_multiple_of: Optional[int] = None) -> dict:
        """Right-pad rows of `encode_row` to the longest (padding: id 0, sequence id 0, positions 0, mask 0)."""
        width = max(len(r["input_ids"]) for r in rows)
        if pad_to_multiple_of:
            width = -(-width // pad_to_multiple_of) * pad_to_multiple_of
        out = {key: np.zeros((len(rows), width), dtype=np.int64) for key in self.model_input_names}
        for i, row in enumerate(rows):
            n = len(row["input_ids"])
            for key in self.model_input_names[:-1]:
                out[key][i, :n] = row[key]
            out["attention_mask"][i, :n] = 1
        return out

    def encode_proteins(
        self,
        queries: Union[str, Sequence[str]],
        context: Union[Context, Sequence[Context]] = None,
        pad_to_multiple_of: Optional[int] = None,
        return_tensors: Optional[str] = "pt",
    ) -> BatchEncoding:
        """
        Encode a batch of query proteins, each with optional homolog context. `context` is one context for a
        single query, or a list with one context per query; a context is a list of sequences, a comma-separated
        string, or a path to an `.a3m` file.
        """
        single = isinstance(queries, str)
        queries = [queries] if single else list(queries)
        if not queries:
            raise ValueError("encode_proteins needs at least one query")
        if single:
            contexts = [context]
        elif context is None:
            contexts = [None] * len(queries)
        elif isinstance(context, (list, tuple)) and len(context) == len(queries):
            contexts = list(context)  # one context per query
        else:
            raise ValueError(f"with {len(queries)} queries, give context as a list of {len(queries)} contexts (each a list "
                             "of sequences, a comma-separated string, an .a3m path or None)")
        rows = [self.encode_row(q, c, f"query #{i}") for i, (q, c) in enumerate(zip(queries, contexts))]
        data = self.pad_rows(rows, pad_to_multiple_of)
        if return_tensors == "pt":
            return BatchEncoding({key: torch.from_numpy(value) for key, value in data.items()})
        return BatchEncoding(data, tensor_type=return_tensors)

    @staticmethod
    def query_residue_mask(sequence_ids: torch.Tensor, within_seq_position_ids: torch.Tensor,
                           attention_mask: torch.Tensor) -> torch.Tensor:
        """(B, L) True at the residues of each row's query (its last sequence), not at its `<bos> 1` / `2 <eos>`."""
        real = attention_mask.bool()
        last = sequence_ids.masked_fill(~real, -1).amax(dim=1, keepdim=True)
        is_query = (sequence_ids == last) & real
        query_tokens = is_query.sum(dim=1, keepdim=True)
        return is_query & (within_seq_position_ids >= PREFIX) & (within_seq_position_ids < query_tokens - 2)
