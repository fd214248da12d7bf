"""Token data for training and evaluation (part 2 of the exercise, docs/exercise.md).

The last ``val_fraction`` (10 %) of the text *by characters* is held out. Each split is
tokenised separately. Example ``i`` is ``tokens[i : i+block_size]`` with target
``tokens[i+1 : i+block_size+1]``. The validation loss is the mean cross-entropy over every
token of the validation split, scored in consecutive non-overlapping windows of
``block_size`` tokens (the last, shorter window included): deterministic and complete.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import torch

from genmod.gpt.tokenizer import encode


@dataclass
class Splits:
    train: torch.Tensor  # int64 token ids
    val: torch.Tensor
    split_char: int  # index of the first held-out character
    sha256: str  # of the whole text (the cache key's data part)


def split_text(text: str, val_fraction: float = 0.1) -> tuple[str, str, int]:
    """Cut at ``round(len(text) * (1 - val_fraction))`` characters."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction={val_fraction!r}: expected a number in (0, 1)")
    cut = round(len(text) * (1.0 - val_fraction))
    return text[:cut], text[cut:], cut


def make_splits(text: str, val_fraction: float = 0.1) -> Splits:
    tr, va, cut = split_text(text, val_fraction)
    return Splits(
        train=torch.tensor(encode(tr), dtype=torch.long),
        val=torch.tensor(encode(va), dtype=torch.long),
        split_char=cut,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def get_batch(
    tokens: torch.Tensor, batch_size: int, block_size: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch_size`` random examples (x, y) of ``block_size`` tokens (nanoGPT's get_batch)."""
    n = len(tokens) - block_size
    if n < 1:
        raise ValueError(f"only {len(tokens)} tokens for block_size={block_size}")
    ix = torch.randint(n, (batch_size,), generator=generator)
    offs = torch.arange(block_size)
    x = tokens[ix[:, None] + offs]
    y = tokens[ix[:, None] + offs + 1]
    return x, y


def eval_windows(tokens: torch.Tensor, block_size: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Consecutive non-overlapping windows covering every predictable token once.

    Window ``k`` has inputs ``tokens[k*B : k*B+B]`` and targets shifted by one; the last
    window is shorter. Together the targets are ``tokens[1:]`` exactly once each.
    """
    out = []
    n = len(tokens) - 1  # number of (input, target) pairs
    for s in range(0, n, block_size):
        e = min(s + block_size, n)
        out.append((tokens[s:e], tokens[s + 1 : e + 1]))
    return out


def unseen_fraction(splits: Splits) -> float:
    """Share of the validation targets whose token id never occurs in the training split."""
    seen = set(splits.train.tolist())
    targets = splits.val[1:].tolist()
    return sum(t not in seen for t in targets) / max(len(targets), 1)
