"""
Batches bounded by a token budget (`max_tokens_per_batch`) instead of a protein count: real proteins run from 30 to
1,000 residues and a row with homologs to several thousand tokens, so a fixed batch size either wastes the short
ones or runs out of memory on the long ones.

A row costs `views x (its homologs + query, with the 4 special tokens of each sequence)`; a batch costs its rows
times its longest row (what padding makes of it). Rows are sorted by length and packed greedily once (the set of
batches is fixed, so an epoch always has the same number of steps); every epoch shuffles the batch order. A row that
alone exceeds the budget gets a batch of its own and a warning naming it: nothing is cut or dropped.
"""

import logging
from typing import Optional, Sequence

import numpy as np

logger = logging.getLogger("biohf.e1")
SPECIAL_TOKENS = 4  # <bos> 1 ... 2 <eos>


def row_tokens(sequence: str, homologs: Sequence[str], num_context: int) -> int:
    """Tokens of a row at most: the query and its `num_context` longest homologs (the collator may draw any of them)."""
    longest = sorted((len(h) for h in homologs or []), reverse=True)[:num_context]
    return len(sequence) + SPECIAL_TOKENS + sum(n + SPECIAL_TOKENS for n in longest)


def token_budget_batches(lengths: Sequence[int], max_tokens: int, views: int = 1, names: Optional[Sequence[str]] = None) -> list:
    """Lists of row indices; each batch's rows x longest row x `views` stays within `max_tokens` where it can."""
    if max_tokens <= 0:
        raise ValueError(f"max_tokens_per_batch must be positive, got {max_tokens}")
    order = np.argsort(np.asarray(lengths), kind="stable")
    batches, current, longest = [], [], 0
    for i in order.tolist():
        length = int(lengths[i])
        if length * views > max_tokens:
            name = names[i] if names is not None else f"row {i}"
            logger.warning("protein %s: %d tokens x %d views exceeds max_tokens_per_batch=%d; it gets a batch of its own "
                           "(not truncated)", name, length, views, max_tokens)
        if current and (len(current) + 1) * max(longest, length) * views > max_tokens:
            batches.append(current)
            current, longest = [], 0
        current.append(i)
        longest = max(longest, length)
    if current:
        batches.append(current)
    return batches


class TokenBudgetBatchSampler:
    """A torch batch sampler over fixed token-budget batches, in a new shuffled order every epoch (seeded)."""

    def __init__(self, lengths, max_tokens: int, views: int = 1, shuffle: bool = True, seed: int = 0, names=None):
        self.batches = token_budget_batches(lengths, max_tokens, views, names)
        self.shuffle, self.seed, self.epoch = shuffle, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self):
        order = np.arange(len(self.batches))
        if self.shuffle:
            np.random.default_rng(self.seed + self.epoch).shuffle(order)
            self.epoch += 1  # a fresh order next time even where nobody calls set_epoch
        for k in order.tolist():
            yield list(self.batches[k])
